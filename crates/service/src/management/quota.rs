//! Pacing within the store's API quota. Every app on a store shares one window of requests
//! (150 per 30 s on Standard and Plus plans); BigCommerce reports what is left on every
//! answer. The pacer believes those headers, spends at most a configured share of each
//! window, and makes callers wait for the next window, or refuses them when the wait would
//! not fit their budget or too many are waiting already. What other apps spent since the
//! store last answered is unknown, so when that answer is not fresh, one request goes alone
//! and the others wait for the store's new account instead of bursting on an old one.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::management::rate_limit::RateLimitHeaders;

/// Paces one store's Management API requests.
pub struct QuotaPacer {
    share: f64,
    max_waiting: usize,
    state: Mutex<QuotaState>,
    /// Wakes callers waiting for an answer in flight.
    answered: Notify,
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
            state: Mutex::new(QuotaState::default()),
            answered: Notify::new(),
        }
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
                let decision = state.decide(self.share, now);
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
    fn decide(&mut self, share: f64, now: Instant) -> Decision {
        let Some(quota) = self.quota else {
            // Nothing reported yet (or not a BigCommerce answer): nothing to pace by.
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
