//! Per-customer request limits on this service's own API, as an extractor that builds on
//! authentication: a handler that asks for a [`ThrottledCustomer`] gets a verified customer
//! whose request passed their limit, so it can forget neither. A customer hammering the API
//! gets `429` with `Retry-After` from memory, and costs the store nothing. GCRA through
//! governor, keyed by store and customer id (ids repeat across stores); idle customers' state
//! is dropped so memory stays bounded.

use std::future::ready;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::future::Either;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::auth::extractor::{CustomerFuture, VerifiedCustomer};
use crate::cache::CustomerKey;
use crate::domain::CustomerId;
use crate::problem::ApiError;
use crate::stores::Store;

/// How many checks pass between sweeps of idle customers' state.
const SWEEP_EVERY: u64 = 4096;

/// A verified customer whose request is within their limit. Only the extractor makes one.
// A private field rather than `#[non_exhaustive]`: only this module may make one, not the
// whole crate.
#[allow(clippy::manual_non_exhaustive)]
#[derive(Clone)]
pub struct ThrottledCustomer {
    pub id: CustomerId,
    /// The store whose customer this is.
    pub store: Arc<Store>,
    /// The channel its credential was checked on, if it names one (customer access tokens).
    pub channel: Option<u64>,
    _within_limit: (),
}

type Limiter<C> = RateLimiter<
    CustomerKey,
    DefaultKeyedStateStore<CustomerKey>,
    C,
    NoOpMiddleware<<C as Clock>::Instant>,
>;

/// The limiter for all customers; with no limit configured, every check passes.
pub struct CustomerThrottle<C: Clock = DefaultClock> {
    limiter: Option<Limiter<C>>,
    clock: C,
    checks: AtomicU64,
}

impl CustomerThrottle {
    /// `per_minute` sustained requests per customer (`None`: no limit), with bursts of up to
    /// `burst`.
    pub fn new(per_minute: Option<NonZeroU32>, burst: NonZeroU32) -> Self {
        Self::with_clock(per_minute, burst, DefaultClock::default())
    }
}

impl<C: Clock + Clone> CustomerThrottle<C> {
    /// The limiter reading time from `clock`.
    pub fn with_clock(per_minute: Option<NonZeroU32>, burst: NonZeroU32, clock: C) -> Self {
        let limiter = per_minute.map(|per_minute| {
            let quota = Quota::per_minute(per_minute).allow_burst(burst);
            RateLimiter::dashmap_with_clock(quota, clock.clone())
        });
        Self {
            limiter,
            clock,
            checks: AtomicU64::new(0),
        }
    }

    /// `Ok` when the customer may make a request now, else how long until they may.
    pub fn check(&self, customer: CustomerKey) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // Customers whose allowance is full again carry no information; drop them.
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiter
            .check_key(&customer)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Customers with state held now.
    pub fn tracked(&self) -> usize {
        self.limiter.as_ref().map_or(0, RateLimiter::len)
    }
}

impl FromRequest for ThrottledCustomer {
    type Error = ApiError;
    type Future = CustomerFuture<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        match VerifiedCustomer::from_request(request, payload) {
            Either::Left(verified) => Either::Left(ready(
                verified
                    .into_inner()
                    .and_then(|customer| within_limit(request, customer)),
            )),
            Either::Right(verified) => {
                let request = request.clone();
                Either::Right(Box::pin(async move {
                    verified
                        .await
                        .and_then(|customer| within_limit(&request, customer))
                }))
            }
        }
    }
}

/// Counts the request against the customer's own limit.
fn within_limit(
    request: &HttpRequest,
    customer: VerifiedCustomer,
) -> Result<ThrottledCustomer, ApiError> {
    let Some(throttle) = request.app_data::<web::Data<CustomerThrottle>>() else {
        tracing::error!("the customer throttle is not registered with the app");
        return Err(ApiError::Internal);
    };
    match throttle.check((customer.store.scope.key, customer.id)) {
        Ok(()) => Ok(ThrottledCustomer {
            id: customer.id,
            store: customer.store,
            channel: customer.channel,
            _within_limit: (),
        }),
        Err(retry_after) => {
            tracing::info!("customer over their request limit");
            Err(ApiError::TooManyRequests { retry_after })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use governor::clock::FakeRelativeClock;

    use super::*;
    use crate::domain::StoreKey;

    fn customer(id: u64) -> CustomerKey {
        (StoreKey::new(1), CustomerId::new(id).unwrap())
    }

    fn limit(
        per_minute: u32,
        burst: u32,
    ) -> (CustomerThrottle<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let throttle = CustomerThrottle::with_clock(
            NonZeroU32::new(per_minute),
            NonZeroU32::new(burst).unwrap(),
            clock.clone(),
        );
        (throttle, clock)
    }

    #[test]
    fn a_burst_is_allowed_then_the_customer_waits_and_others_are_unaffected() {
        let (throttle, clock) = limit(60, 3);

        let burst: Vec<bool> = (0..3)
            .map(|_| throttle.check(customer(1)).is_ok())
            .collect();
        let over = throttle.check(customer(1));
        let other = throttle.check(customer(2));
        clock.advance(Duration::from_secs(1));
        let later = throttle.check(customer(1));

        assert_eq!(burst, vec![true, true, true]);
        assert_eq!(over, Err(Duration::from_secs(1)));
        assert!(other.is_ok());
        assert!(later.is_ok());
    }

    #[test]
    fn the_same_customer_id_in_two_stores_has_two_limits() {
        let (throttle, _) = limit(60, 1);
        let in_other_store = (StoreKey::new(2), CustomerId::new(1).unwrap());

        let first = throttle.check(customer(1));
        let over = throttle.check(customer(1));
        let other_store = throttle.check(in_other_store);

        assert!(first.is_ok());
        assert!(over.is_err());
        assert!(other_store.is_ok());
    }

    #[test]
    fn idle_customers_are_swept_so_memory_stays_bounded() {
        let (throttle, clock) = limit(6000, 100);

        for id in 1..SWEEP_EVERY {
            let _ = throttle.check(customer(id));
        }
        let before_sweep = throttle.tracked();
        // At 100 a second, one request's worth of allowance is back within 10 ms.
        clock.advance(Duration::from_millis(50));
        let _ = throttle.check(customer(SWEEP_EVERY));

        assert_eq!(before_sweep, SWEEP_EVERY as usize - 1);
        assert!(throttle.tracked() <= 1, "{}", throttle.tracked());
    }

    #[test]
    fn without_a_limit_every_check_passes_and_nothing_is_kept() {
        let (throttle, _) = limit(0, 1);

        let checks: Vec<bool> = (0..10_000)
            .map(|_| throttle.check(customer(1)).is_ok())
            .collect();

        assert!(checks.iter().all(|passed| *passed));
        assert_eq!(throttle.tracked(), 0);
    }
}
