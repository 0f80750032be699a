//! The store's Management API quota: a fixed window of N requests per window, as BigCommerce
//! enforces it per store. This module is pure bookkeeping over `Instant`s; it knows nothing about
//! HTTP, and the management routes turn its decisions into headers and `429`s.

use std::time::{Duration, Instant};

/// The outcome of asking the window for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaDecision {
    /// Whether the request may be served.
    pub allowed: bool,
    /// Requests still available in the current window after this one.
    pub requests_left: u32,
    /// The configured number of requests per window.
    pub requests_quota: u32,
    /// Time until the current window ends and the quota refills.
    pub time_reset: Duration,
    /// Length of a whole window.
    pub time_window: Duration,
}

/// A fixed request window that starts with the first request after the previous one ended.
#[derive(Debug)]
pub struct QuotaWindow {
    quota: u32,
    window: Duration,
    window_started: Option<Instant>,
    used: u32,
}

impl QuotaWindow {
    /// Creates a full window allowing `quota` requests per `window`.
    pub fn new(quota: u32, window: Duration) -> Self {
        Self {
            quota,
            window,
            window_started: None,
            used: 0,
        }
    }

    /// Spends one request at `now` if the window has room; a refused request costs nothing.
    pub fn take(&mut self, now: Instant) -> QuotaDecision {
        let started = match self.window_started {
            Some(started) if now.saturating_duration_since(started) < self.window => started,
            _ => {
                self.window_started = Some(now);
                self.used = 0;
                now
            }
        };
        let allowed = self.used < self.quota;
        if allowed {
            self.used += 1;
        }
        QuotaDecision {
            allowed,
            requests_left: self.quota - self.used,
            requests_quota: self.quota,
            time_reset: self
                .window
                .saturating_sub(now.saturating_duration_since(started)),
            time_window: self.window,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_allows_exactly_the_quota_then_refuses() {
        let mut window = QuotaWindow::new(3, Duration::from_secs(30));
        let start = Instant::now();

        let lefts: Vec<(bool, u32)> = (0..5)
            .map(|step| window.take(start + Duration::from_millis(step)))
            .map(|decision| (decision.allowed, decision.requests_left))
            .collect();

        assert_eq!(
            lefts,
            vec![(true, 2), (true, 1), (true, 0), (false, 0), (false, 0)]
        );
    }

    #[test]
    fn window_reports_time_until_reset_from_its_first_request() {
        let mut window = QuotaWindow::new(2, Duration::from_secs(30));
        let start = Instant::now();
        window.take(start);

        let decision = window.take(start + Duration::from_secs(10));

        assert_eq!(decision.time_reset, Duration::from_secs(20));
        assert_eq!(decision.time_window, Duration::from_secs(30));
        assert_eq!(decision.requests_quota, 2);
    }

    #[test]
    fn window_refills_once_the_window_has_passed() {
        let mut window = QuotaWindow::new(1, Duration::from_secs(30));
        let start = Instant::now();
        window.take(start);
        assert!(!window.take(start + Duration::from_secs(29)).allowed);

        let decision = window.take(start + Duration::from_secs(30));

        assert!(decision.allowed);
        assert_eq!(decision.requests_left, 0);
        assert_eq!(decision.time_reset, Duration::from_secs(30));
    }
}
