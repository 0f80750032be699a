//! When to try an upstream request again, and how long to wait first. BigCommerce answers a
//! spent quota with `429` and says when the window resets; other failures back off
//! exponentially with jitter. Every wait must fit in the caller's budget.

use std::time::Duration;

use rand::RngExt;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// Bounds for retrying one caller's upstream work.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Retries after a `5xx` or a broken connection.
    pub max_retries: u32,
    /// The total time a caller's upstream work may take, waits included.
    pub budget: Duration,
    /// The first backoff step; each retry doubles it, up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

/// BigCommerce's header with the milliseconds until the quota window resets.
pub const RESET_MS_HEADER: &str = "x-rate-limit-time-reset-ms";
/// BigCommerce's header with the seconds to wait before retrying.
pub const RETRY_AFTER_HEADER: &str = "x-retry-after";
/// The most `429`s one caller request waits out, so a store answering `429` with a zero
/// reset time cannot keep us in a tight loop.
pub const MAX_RATE_LIMITED_ATTEMPTS: u32 = 8;
/// The longest wait a `429` is believed to ask for. BigCommerce's windows last seconds; a
/// larger value is a broken header, and must neither overflow a clock nor reach a caller's
/// `Retry-After` as a number of centuries.
pub const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(5 * 60);

impl RetryPolicy {
    pub fn new(max_retries: u32, budget: Duration) -> Self {
        Self {
            max_retries,
            budget,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(4),
        }
    }

    /// The wait before retry number `attempt` (0-based): exponential with "equal jitter",
    /// so concurrent callers spread out but never retry immediately.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base_backoff
            .saturating_mul(2u32.saturating_pow(attempt.min(16)))
            .min(self.max_backoff);
        let half = ceiling / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(rand::rng().random_range(0..=jitter_ms))
    }
}

/// The wait a `429` asks for: the longer of `X-Rate-Limit-Time-Reset-Ms`, `X-Retry-After`
/// and a standard `Retry-After` in seconds, at most [`MAX_RATE_LIMIT_WAIT`]; `None` when none
/// is present and readable.
pub fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| -> Option<u64> {
        headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|value| value.is_finite() && *value >= 0.0)
            .map(|value| value.ceil() as u64)
    };
    let reset = number(RESET_MS_HEADER).map(Duration::from_millis);
    let retry_after = number(RETRY_AFTER_HEADER).map(Duration::from_secs);
    let standard = number(RETRY_AFTER.as_str()).map(Duration::from_secs);
    [reset, retry_after, standard]
        .into_iter()
        .flatten()
        .max()
        .map(|wait| wait.min(MAX_RATE_LIMIT_WAIT))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn rate_limit_wait_takes_the_longer_of_the_headers() {
        let cases = [
            (vec![(RESET_MS_HEADER, "1500")], Some(1500), "reset only"),
            (
                vec![(RETRY_AFTER_HEADER, "2")],
                Some(2000),
                "retry-after only",
            ),
            (
                vec![(RESET_MS_HEADER, "2500"), (RETRY_AFTER_HEADER, "2")],
                Some(2500),
                "reset longer",
            ),
            (
                vec![(RESET_MS_HEADER, "800"), (RETRY_AFTER_HEADER, "3")],
                Some(3000),
                "retry-after longer",
            ),
            (vec![("retry-after", "4")], Some(4000), "standard header"),
            (vec![(RESET_MS_HEADER, "12.5")], Some(13), "fractional ms"),
            (vec![(RESET_MS_HEADER, "soon")], None, "unreadable"),
            (vec![(RESET_MS_HEADER, "-5")], None, "negative"),
            (
                vec![(RETRY_AFTER_HEADER, "99999999999999999999")],
                Some(300_000),
                "absurd, capped",
            ),
            (vec![], None, "no header"),
        ];
        for (pairs, expected_ms, description) in cases {
            let wait = rate_limit_wait(&headers(&pairs));

            assert_eq!(
                wait,
                expected_ms.map(Duration::from_millis),
                "case: {description}"
            );
        }
    }

    #[test]
    fn backoff_grows_exponentially_within_jitter_and_cap() {
        let policy = RetryPolicy::new(3, Duration::from_secs(10));

        for attempt in 0..10 {
            let ceiling = (Duration::from_millis(100) * 2u32.pow(attempt)).min(policy.max_backoff);
            for _ in 0..50 {
                let wait = policy.backoff(attempt);
                assert!(
                    wait >= ceiling / 2 && wait <= ceiling,
                    "attempt {attempt}: {wait:?} outside {:?}..={ceiling:?}",
                    ceiling / 2
                );
            }
        }
    }
}
