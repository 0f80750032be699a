//! Pacing within the store's API quota. Every app on a store shares one window of requests
//! (150 per 30 s on Standard and Plus plans); BigCommerce reports what is left on every
//! answer. The pacer believes those headers, spends at most a configured share of each
//! window, and makes callers wait for the next window, or refuses them when the wait would
//! not fit their budget or too many are waiting already. What other apps spent since the
//! store last answered is unknown, so when that answer is not fresh, one request goes alone
//! and the others wait for the store's new account instead of bursting on an old one.
//!
//! Several replicas spend one store's window, and each learns what the others spent only
//! from the store's next answer. The headers alone let them overshoot: measured with the
//! sandbox, three replicas under load pushed a window spent down to 90 of 150 (reserve 75)
//! to 1 left, each bursting before its first answer and each spending the whole room above
//! the reserve that its own last reading showed. So, when [`Spenders`] says there are `N`
//! replicas, a replica goes alone until the store's first answer, and between two answers
//! sends at most `1/N` of the room above the reserve that the last one showed; together
//! they spend the room once.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::management::rate_limit::RateLimitHeaders;

/// Paces one store's Management API requests.
pub struct QuotaPacer {
    share: f64,
    max_waiting: usize,
    spenders: Spenders,
    state: Mutex<QuotaState>,
    /// Wakes callers waiting for an answer in flight.
    answered: Notify,
}

/// How many replicas spend each store's quota (at least one), shared by every pacer of a
/// replica and kept current by `replicas`. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Spenders(Arc<AtomicU32>);

impl Spenders {
    /// One replica, until told otherwise.
    pub fn new() -> Self {
        Self(Arc::new(AtomicU32::new(1)))
    }

    /// There are `count` replicas now (taken as at least one).
    pub fn set(&self, count: u32) {
        self.0.store(count.max(1), Ordering::Relaxed);
    }

    /// How many replicas there are.
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed).max(1)
    }
}

impl Default for Spenders {
    fn default() -> Self {
        Self::new()
    }
}

/// How long the store's last account of its window is taken as current.
pub const FRESHNESS: Duration = Duration::from_secs(1);

/// The right to send one request; dropping it (once the answer is read) lets callers that
/// wait for a fresh account go on.
pub struct QuotaPermit<'a> {
    pacer: &'a QuotaPacer,
}

/// A caller's place in the queue for the next window; dropping it leaves the queue.
struct QueueSlot<'a> {
    pacer: &'a QuotaPacer,
}

/// The store's window as last reported, corrected by what was sent since.
#[derive(Debug, Default)]
struct QuotaState {
    quota: Option<u32>,
    /// Requests the store has left, by its last answer, less those sent since.
    left: Option<u32>,
    reset_at: Option<Instant>,
    /// Requests this service sent in the current window.
    spent: u32,
    waiting: usize,
    /// When the store last reported its window.
    observed_at: Option<Instant>,
    /// Requests sent and not yet answered.
    in_flight: u32,
    /// Requests sent since the store's last account that it may not have counted.
    since_account: u32,
    /// An answer came without the rate-limit headers (not BigCommerce): nothing to pace by.
    unreported: bool,
}

/// What the store's quota looks like now, for readiness and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaSnapshot {
    pub quota: Option<u32>,
    pub left: Option<u32>,
}

/// Whether a request may go now.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    Send,
    WaitUntil(Instant),
    /// The store's account is not fresh and a request is out that will renew it.
    WaitForAnswer,
}

impl QuotaPacer {
    /// `share` is the part of each window this service may spend (0 < share ≤ 1);
    /// `max_waiting` bounds the callers queued for the next window.
    pub fn new(share: f64, max_waiting: usize) -> Self {
        Self {
            share: share.clamp(0.01, 1.0),
            max_waiting,
            spenders: Spenders::new(),
            state: Mutex::new(QuotaState::default()),
            answered: Notify::new(),
        }
    }

    /// The same pacer, sharing the store's room with the replicas `spenders` counts.
    #[must_use]
    pub fn with_spenders(self, spenders: Spenders) -> Self {
        Self { spenders, ..self }
    }

    /// Waits until a request fits the share, or fails with how long until it would: when
    /// that is past `deadline` or the queue is full. Hold the permit until the answer's
    /// headers are observed.
    pub async fn acquire(&self, deadline: Instant) -> Result<QuotaPermit<'_>, Duration> {
        // The caller's place in the queue, given back when this future ends in any way:
        // answered, refused, or dropped mid-wait (a client that disconnects, a timeout
        // around the call). Without the guard, a dropped waiter would keep its slot for good.
        let mut slot: Option<QueueSlot<'_>> = None;
        loop {
            // Registered before the state is read, so no answer between the two is missed.
            let answered = self.answered.notified();
            let now = Instant::now();
            let decision = {
                let mut state = self.lock();
                let decision = state.decide(self.share, self.spenders.get(), now);
                let queue_full = slot.is_none() && state.waiting >= self.max_waiting;
                match decision {
                    Decision::Send => state.record_send(),
                    Decision::WaitUntil(until) => {
                        let wait = until.saturating_duration_since(now);
                        if until > deadline || queue_full {
                            return Err(wait.max(Duration::from_millis(1)));
                        }
                    }
                    Decision::WaitForAnswer => {
                        if now >= deadline || queue_full {
                            return Err(FRESHNESS);
                        }
                    }
                }
                if decision != Decision::Send && slot.is_none() {
                    state.waiting += 1;
                    slot = Some(QueueSlot { pacer: self });
                }
                decision
            };
            match decision {
                Decision::Send => return Ok(QuotaPermit { pacer: self }),
                // A little past the reset, so the store has started its new window.
                Decision::WaitUntil(until) => {
                    tokio::time::sleep_until(until + Duration::from_millis(20)).await;
                }
                Decision::WaitForAnswer => {
                    let _ = tokio::time::timeout_at(deadline, answered).await;
                }
            }
        }
    }

    /// Takes in the store's own account of its window from an answer's rate-limit headers
    /// (a reset further away than any real window was already capped when they were read:
    /// believing it would pause the service for as long as it says, possibly forever).
    pub fn observe(&self, headers: &RateLimitHeaders) {
        let (Some(left), Some(reset_in)) = (headers.requests_left, headers.reset_in) else {
            return;
        };
        let reset_at = Instant::now() + reset_in;
        self.lock().observe(headers.quota, left, reset_at);
        self.answered.notify_waiters();
    }

    /// An answer came without the store's account (not BigCommerce, or a proxy's error):
    /// with nothing to pace by, requests stop waiting for the first account.
    pub fn observe_unreported(&self) {
        self.lock().unreported = true;
        self.answered.notify_waiters();
    }

    /// The last known quota and requests left.
    pub fn snapshot(&self) -> QuotaSnapshot {
        let state = self.lock();
        QuotaSnapshot {
            quota: state.quota,
            left: state.left,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QuotaState> {
        // The state is a few numbers, valid after any panic; a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for QuotaPermit<'_> {
    fn drop(&mut self) {
        let mut state = self.pacer.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        drop(state);
        self.pacer.answered.notify_waiters();
    }
}

impl Drop for QueueSlot<'_> {
    fn drop(&mut self) {
        let mut state = self.pacer.lock();
        state.waiting = state.waiting.saturating_sub(1);
    }
}

impl QuotaState {
    fn decide(&mut self, share: f64, spenders: u32, now: Instant) -> Decision {
        let Some(quota) = self.quota else {
            // Nothing reported yet (or not a BigCommerce answer): nothing to pace by. With
            // other replicas spending too, one request goes first and its answer tells.
            if spenders > 1 && !self.unreported && self.in_flight > 0 {
                return Decision::WaitForAnswer;
            }
            return Decision::Send;
        };
        if self.reset_at.is_some_and(|reset_at| now >= reset_at) {
            // A new window: the store's next answer tells what other apps spent in it.
            self.left = None;
            self.spent = 0;
            self.reset_at = None;
            self.observed_at = None;
        }
        if let Some(reset_at) = self.reset_at {
            // Within a window the count only falls, so even an old reading of it holds.
            let budget = ((f64::from(quota) * share).floor() as u32).max(1);
            let reserve = quota.saturating_sub(budget);
            let left = self.left.unwrap_or(quota);
            if self.spent >= budget || left <= reserve {
                return Decision::WaitUntil(reset_at);
            }
            if spenders > 1 {
                // This replica's part of the room the store's last account showed, less one
                // request of each other replica that account may not have counted yet, and
                // shared as if each other replica spent its part twice (its allowance renews
                // with each of its answers, which this account may not show).
                let room = (left + self.since_account)
                    .saturating_sub(reserve)
                    .saturating_sub(spenders - 1)
                    / (2 * spenders - 1);
                if room == 0 {
                    return Decision::WaitUntil(reset_at);
                }
                if self.since_account >= room {
                    return if self.in_flight > 0 {
                        Decision::WaitForAnswer
                    } else {
                        Decision::WaitUntil(reset_at)
                    };
                }
            }
        }
        let fresh = self
            .observed_at
            .is_some_and(|observed_at| now.duration_since(observed_at) < FRESHNESS);
        if fresh || self.in_flight == 0 {
            Decision::Send
        } else {
            Decision::WaitForAnswer
        }
    }

    fn record_send(&mut self) {
        self.spent = self.spent.saturating_add(1);
        self.since_account = self.since_account.saturating_add(1);
        self.left = self.left.map(|left| left.saturating_sub(1));
        self.in_flight = self.in_flight.saturating_add(1);
    }

    fn observe(&mut self, quota: Option<u32>, left: u32, reset_at: Instant) {
        let new_window = self
            .reset_at
            .is_none_or(|current| reset_at > current + Duration::from_millis(500));
        if quota.is_some() {
            self.quota = quota;
        } else if self.quota.is_none() {
            self.quota = Some(left);
        }
        if new_window {
            self.left = Some(left);
        } else {
            // Answers overtake each other: within a window, the lowest count is the truth.
            self.left = Some(self.left.map_or(left, |known| known.min(left)));
        }
        self.reset_at = Some(reset_at);
        self.observed_at = Some(Instant::now());
        // The answer's own request is counted; the others still out may not be.
        self.since_account = self.in_flight.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn headers(left: u32, quota: u32, reset_ms: u64) -> RateLimitHeaders {
        RateLimitHeaders {
            requests_left: Some(left),
            quota: Some(quota),
            reset_in: Some(Duration::from_millis(reset_ms)),
            ..RateLimitHeaders::default()
        }
    }

    #[tokio::test]
    async fn without_headers_nothing_is_paced() {
        let pacer = QuotaPacer::new(0.5, 4);

        for _ in 0..100 {
            assert_eq!(pacer.acquire(Instant::now()).await.map(drop), Ok(()));
        }
    }

    fn spenders(count: u32) -> Spenders {
        let spenders = Spenders::new();
        spenders.set(count);
        spenders
    }

    /// How many requests `pacer` lets go at once now (150 at most), holding every permit.
    async fn sendable_now(pacer: &QuotaPacer) -> usize {
        let mut held = Vec::new();
        while held.len() < 150 {
            match pacer.acquire(Instant::now()).await {
                Ok(permit) => held.push(permit),
                Err(_) => break,
            }
        }
        held.len()
    }

    #[tokio::test]
    async fn with_other_replicas_a_replica_spends_only_its_part_of_the_room() {
        let alone = QuotaPacer::new(0.5, 4);
        let one_of_three = QuotaPacer::new(0.5, 4).with_spenders(spenders(3));
        for pacer in [&alone, &one_of_three] {
            pacer.observe(&headers(90, 150, 20000));
        }

        // 15 above the reserve of 75: alone it spends them all; one of three keeps a
        // request for each other replica and shares the rest as (15 - 2) / 5.
        assert_eq!(sendable_now(&alone).await, 15);
        assert_eq!(sendable_now(&one_of_three).await, 2);
    }

    #[tokio::test]
    async fn with_other_replicas_the_first_request_goes_alone_until_an_answer_tells() {
        let pacer = QuotaPacer::new(0.5, 4).with_spenders(spenders(3));
        let alone = QuotaPacer::new(0.5, 4);

        let before_any_answer = sendable_now(&pacer).await;
        pacer.observe_unreported();
        let without_headers = sendable_now(&pacer).await;

        assert_eq!(before_any_answer, 1);
        assert_eq!(without_headers, 150, "not BigCommerce: nothing to pace by");
        assert_eq!(sendable_now(&alone).await, 150, "one replica: unchanged");
    }

    #[tokio::test]
    async fn the_store_is_never_pushed_below_the_reserved_share() {
        let pacer = QuotaPacer::new(0.5, 4);
        pacer.observe(&headers(100, 150, 20000));
        let deadline = Instant::now() + Duration::from_secs(1);

        let mut sent = 0;
        while pacer.acquire(deadline).await.is_ok() {
            sent += 1;
            assert!(sent <= 100, "unbounded");
        }

        assert_eq!(sent, 25, "100 left, 75 reserved for other apps");
        assert_eq!(pacer.snapshot().left, Some(75));
    }

    #[tokio::test]
    async fn own_spending_stays_within_the_share_even_when_the_store_has_room() {
        let pacer = QuotaPacer::new(0.5, 4);
        pacer.observe(&headers(150, 150, 20000));
        let deadline = Instant::now() + Duration::from_secs(1);

        let mut sent = 0;
        while pacer.acquire(deadline).await.is_ok() {
            sent += 1;
            assert!(sent <= 150, "unbounded");
        }

        assert_eq!(sent, 75);
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_waits_for_the_next_window_when_it_fits_the_budget() {
        let pacer = QuotaPacer::new(0.5, 4);
        pacer.observe(&headers(75, 150, 200));
        let started = Instant::now();

        let result = pacer
            .acquire(started + Duration::from_secs(2))
            .await
            .map(drop);

        assert_eq!(result, Ok(()));
        assert!(started.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn a_wait_past_the_deadline_is_refused_with_the_time_to_reset() {
        let pacer = QuotaPacer::new(0.5, 4);
        pacer.observe(&headers(10, 150, 9000));

        let result = pacer
            .acquire(Instant::now() + Duration::from_secs(1))
            .await
            .map(drop);

        let wait = result.unwrap_err();
        assert!(
            wait > Duration::from_secs(8) && wait <= Duration::from_secs(9),
            "{wait:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_refuses_at_once() {
        let pacer = std::sync::Arc::new(QuotaPacer::new(0.5, 1));
        pacer.observe(&headers(10, 150, 300));
        let deadline = Instant::now() + Duration::from_secs(5);
        let queued = {
            let pacer = pacer.clone();
            tokio::spawn(async move { pacer.acquire(deadline).await.map(drop) })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;

        let refused = pacer.acquire(deadline).await.map(drop);

        assert!(refused.is_err());
        assert_eq!(queued.await.unwrap(), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn an_acquire_dropped_while_queued_gives_its_queue_slot_back() {
        // One queue slot; the window is spent until its reset 5 s from now.
        let pacer = QuotaPacer::new(0.5, 1);
        pacer.observe(&headers(10, 150, 5000));
        let deadline = Instant::now() + Duration::from_secs(30);

        // A caller that gives up while queued, as a disconnecting client's request does.
        let gave_up = tokio::time::timeout(Duration::from_secs(1), pacer.acquire(deadline)).await;
        let next = pacer.acquire(deadline).await.map(drop);

        assert!(gave_up.is_err(), "the first caller was still queued");
        assert_eq!(next, Ok(()), "the slot was free again: queued, then sent");
    }

    #[test]
    fn within_a_window_the_lowest_reported_count_wins() {
        let pacer = QuotaPacer::new(0.5, 4);

        pacer.observe(&headers(100, 150, 20000));
        pacer.observe(&headers(120, 150, 19990));

        assert_eq!(
            pacer.snapshot(),
            QuotaSnapshot {
                quota: Some(150),
                left: Some(100)
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn on_a_stale_account_one_request_goes_and_the_rest_wait_for_its_answer() {
        let pacer = std::sync::Arc::new(QuotaPacer::new(0.5, 8));
        pacer.observe(&headers(140, 150, 20000));
        tokio::time::sleep(FRESHNESS + Duration::from_millis(50)).await;
        let deadline = Instant::now() + Duration::from_secs(3);
        let first = pacer.acquire(deadline).await.unwrap();
        let second = {
            let pacer = pacer.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                pacer
                    .acquire(deadline)
                    .await
                    .map(drop)
                    .map(|()| started.elapsed())
            })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;

        pacer.observe(&headers(100, 150, 19000));
        drop(first);
        let waited = second.await.unwrap().unwrap();

        assert!(waited >= Duration::from_millis(150), "{waited:?}");
        assert_eq!(pacer.snapshot().left, Some(99));
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_that_shows_the_reserve_reached_stops_the_waiting_requests() {
        let pacer = std::sync::Arc::new(QuotaPacer::new(0.5, 8));
        pacer.observe(&headers(140, 150, 20000));
        tokio::time::sleep(FRESHNESS + Duration::from_millis(50)).await;
        let deadline = Instant::now() + Duration::from_secs(2);
        let first = pacer.acquire(deadline).await.unwrap();
        let waiting = {
            let pacer = pacer.clone();
            tokio::spawn(async move { pacer.acquire(deadline).await.map(drop) })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;

        // Other apps spent the window meanwhile: the store is at the reserve.
        pacer.observe(&headers(75, 150, 19000));
        drop(first);

        assert!(
            waiting.await.unwrap().is_err(),
            "a wait past the deadline is refused"
        );
    }
}
