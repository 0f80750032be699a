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

/// BigCommerce's header: requests left in the current window (store-wide).
pub const LEFT_HEADER: &str = "x-rate-limit-requests-left";
/// BigCommerce's header: requests per window.
pub const QUOTA_HEADER: &str = "x-rate-limit-requests-quota";
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

/// What one answer's headers say about the store's quota, read once: BigCommerce's
/// `X-Rate-Limit-*` and `X-Retry-After`, and a standard `Retry-After` in seconds
/// ("Rate limits" in the API guide). A header that is missing or not a non-negative
/// number is `None`; every wait is at most [`MAX_RATE_LIMIT_WAIT`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// `X-Rate-Limit-Requests-Left`: what the whole store has left in this window.
    pub requests_left: Option<u32>,
    /// `X-Rate-Limit-Requests-Quota`: requests per window.
    pub quota: Option<u32>,
    /// `X-Rate-Limit-Time-Reset-Ms`: until the window resets.
    pub reset_in: Option<Duration>,
    /// `X-Retry-After`, BigCommerce's wait in seconds.
    pub retry_after: Option<Duration>,
    /// The standard `Retry-After` in seconds (an HTTP date is not read).
    pub standard_retry_after: Option<Duration>,
}

impl RateLimitHeaders {
    /// Reads every rate-limit header of one answer.
    pub fn parse(headers: &HeaderMap) -> Self {
        let number = |name: &str| -> Option<u64> {
            headers
                .get(name)?
                .to_str()
                .ok()?
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|value| value.is_finite() && *value >= 0.0)
                // A saturating conversion: a value past u64::MAX becomes u64::MAX.
                .map(|value| value.ceil() as u64)
        };
        let count = |name: &str| number(name).map(|value| u32::try_from(value).unwrap_or(u32::MAX));
        let wait = |duration: Duration| duration.min(MAX_RATE_LIMIT_WAIT);
        Self {
            requests_left: count(LEFT_HEADER),
            quota: count(QUOTA_HEADER),
            reset_in: number(RESET_MS_HEADER).map(|ms| wait(Duration::from_millis(ms))),
            retry_after: number(RETRY_AFTER_HEADER).map(|s| wait(Duration::from_secs(s))),
            standard_retry_after: number(RETRY_AFTER.as_str())
                .map(|s| wait(Duration::from_secs(s))),
        }
    }

    /// The wait a `429` asks for: the longest of the reset time, `X-Retry-After` and
    /// `Retry-After`; `None` when none is present and readable.
    pub fn wait(&self) -> Option<Duration> {
        [self.reset_in, self.retry_after, self.standard_retry_after]
            .into_iter()
            .flatten()
            .max()
    }
}

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
    fn a_429_waits_the_longest_of_the_headers() {
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
            let wait = RateLimitHeaders::parse(&headers(&pairs)).wait();

            assert_eq!(
                wait,
                expected_ms.map(Duration::from_millis),
                "case: {description}"
            );
        }
    }

    #[test]
    fn every_rate_limit_header_is_read_once_into_one_value() {
        let parsed = RateLimitHeaders::parse(&headers(&[
            (LEFT_HEADER, "97"),
            (QUOTA_HEADER, " 150 "),
            (RESET_MS_HEADER, "18446744073709551615"),
            (RETRY_AFTER_HEADER, "x"),
            ("retry-after", "2"),
        ]));

        assert_eq!(
            parsed,
            RateLimitHeaders {
                requests_left: Some(97),
                quota: Some(150),
                reset_in: Some(MAX_RATE_LIMIT_WAIT),
                retry_after: None,
                standard_retry_after: Some(Duration::from_secs(2)),
            }
        );
        assert_eq!(
            RateLimitHeaders::parse(&HeaderMap::new()),
            RateLimitHeaders::default()
        );
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
