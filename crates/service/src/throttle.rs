//! Per-customer request limits on this service's own API: a customer hammering it gets
//! `429` with `Retry-After` from memory, and costs the store nothing. GCRA through governor,
//! keyed by customer id; idle customers' state is dropped so memory stays bounded.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::domain::CustomerId;

/// How many checks pass between sweeps of idle customers' state.
const SWEEP_EVERY: u64 = 4096;

/// The limiter for all customers.
pub struct CustomerThrottle {
    limiter: DefaultKeyedRateLimiter<CustomerId>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl CustomerThrottle {
    /// `per_minute` sustained requests per customer, with bursts of up to `burst`.
    pub fn new(per_minute: NonZeroU32, burst: NonZeroU32) -> Self {
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// `Ok` when the customer may make a request now, else how long until they may.
    pub fn check(&self, customer: CustomerId) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // Customers whose allowance is full again carry no information; drop them.
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter
            .check_key(&customer)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Customers with state held now.
    pub fn tracked(&self) -> usize {
        self.limiter.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn customer(id: u64) -> CustomerId {
        CustomerId::new(id).unwrap()
    }

    #[test]
    fn a_burst_is_allowed_then_the_customer_waits_and_others_are_unaffected() {
        let throttle =
            CustomerThrottle::new(NonZeroU32::new(60).unwrap(), NonZeroU32::new(3).unwrap());

        let burst: Vec<bool> = (0..3)
            .map(|_| throttle.check(customer(1)).is_ok())
            .collect();
        let over = throttle.check(customer(1));
        let other = throttle.check(customer(2));

        assert_eq!(burst, vec![true, true, true]);
        let wait = over.unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(other.is_ok());
    }

    #[test]
    fn idle_customers_are_swept_so_memory_stays_bounded() {
        let throttle = CustomerThrottle::new(
            NonZeroU32::new(6000).unwrap(),
            NonZeroU32::new(100).unwrap(),
        );

        for id in 1..SWEEP_EVERY {
            let _ = throttle.check(customer(id));
        }
        let before_sweep = throttle.tracked();
        // At 100 a second, one request's worth of allowance is back within 20 ms.
        std::thread::sleep(Duration::from_millis(50));
        let _ = throttle.check(customer(SWEEP_EVERY));

        assert_eq!(before_sweep, SWEEP_EVERY as usize - 1);
        assert!(throttle.tracked() <= 1, "{}", throttle.tracked());
    }
}
