//! What the service learns about the request being served, in one place: its id and route
//! pattern, when it started, the customer its token named, how the cache answered it and
//! how many Management API requests it sent. The outermost middleware runs each request
//! inside [`scope`]; auth, the cache and the Management API client note into it from
//! wherever they run in that request's task, without knowing about HTTP; the request's span,
//! its one `request finished` line and its metrics read it. Work outside a request (start-up,
//! the CLI, a background task) notes nothing.
//!
//! A task-local rather than the request's extensions: the cache and the Management API
//! client never see the request, and the context then needs no allocation of its own.

use std::cell::{Cell, OnceCell};
use std::future::Future;
use std::time::Duration;

use actix_web::http::header::HeaderValue;
use actix_web::web;
use tokio::time::Instant;

use crate::domain::{CustomerId, StoreHash};
use crate::metrics::{CacheOutcome, Metrics};

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// One request's context: set when it arrives, noted into while it is served.
pub struct RequestContext {
    request_id: HeaderValue,
    route: String,
    started: Instant,
    metrics: Option<web::Data<Metrics>>,
    customer: Cell<Option<CustomerId>>,
    store: OnceCell<StoreHash>,
    cache: Cell<Option<CacheOutcome>>,
    upstream_calls: Cell<u32>,
}

impl RequestContext {
    /// The context of a request that arrived at `started`, with its id, its route pattern
    /// (never the raw path) and the application's metrics.
    pub fn new(
        request_id: HeaderValue,
        route: String,
        started: Instant,
        metrics: Option<web::Data<Metrics>>,
    ) -> Self {
        Self {
            request_id,
            route,
            started,
            metrics,
            customer: Cell::new(None),
            store: OnceCell::new(),
            cache: Cell::new(None),
            upstream_calls: Cell::new(0),
        }
    }

    /// The request id, the caller's when sane.
    pub fn request_id(&self) -> &HeaderValue {
        &self.request_id
    }

    /// The route pattern the request matches, or `unmatched`.
    pub fn route(&self) -> &str {
        &self.route
    }

    /// How long since the request reached the service.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The application's metrics, when it has any.
    pub fn metrics(&self) -> Option<&Metrics> {
        self.metrics.as_ref().map(|metrics| metrics.get_ref())
    }

    /// The customer whose token the request carried, once verified.
    pub fn customer(&self) -> Option<CustomerId> {
        self.customer.get()
    }

    /// The store the request was about, once known.
    pub fn store(&self) -> Option<&str> {
        self.store.get().map(StoreHash::as_str)
    }

    /// The most telling cache outcome of the request (stale over miss over hit), if it
    /// looked anything up.
    pub fn cache(&self) -> Option<CacheOutcome> {
        self.cache.get()
    }

    /// `hit`, `miss`, `stale`, or `none` when the request looked nothing up.
    pub fn cache_label(&self) -> &'static str {
        self.cache.get().map_or("none", CacheOutcome::as_str)
    }

    /// Management API requests this request sent itself, retries included; a request that
    /// waited for another one's load sent none.
    pub fn upstream_calls(&self) -> u32 {
        self.upstream_calls.get()
    }
}

/// Runs `future` (one request) with `context` as its context.
pub fn scope<F: Future>(context: RequestContext, future: F) -> impl Future<Output = F::Output> {
    CONTEXT.scope(context, future)
}

/// Reads the current request's context; `None` outside a request.
pub fn with<R>(read: impl FnOnce(&RequestContext) -> R) -> Option<R> {
    CONTEXT.try_with(read).ok()
}

/// Notes the verified customer of the current request, and their store.
pub fn note_customer(store: StoreHash, customer: CustomerId) {
    let _ = CONTEXT.try_with(|context| {
        context.customer.set(Some(customer));
        let _ = context.store.set(store);
    });
}

/// Notes the store the current request is about (a webhook's, an app callback's).
pub fn note_store(store: StoreHash) {
    let _ = CONTEXT.try_with(|context| context.store.set(store));
}

/// Notes a cache lookup's outcome for the current request.
pub fn note_cache(outcome: CacheOutcome) {
    let _ = CONTEXT.try_with(|context| {
        let worst = context
            .cache
            .get()
            .map_or(outcome, |known| known.max(outcome));
        context.cache.set(Some(worst));
    });
}

/// Notes one request sent to the Management API for the current request.
pub fn note_upstream_call() {
    let _ =
        CONTEXT.try_with(|context| context.upstream_calls.set(context.upstream_calls.get() + 1));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn context() -> RequestContext {
        RequestContext::new(
            HeaderValue::from_static("request-1"),
            "/v1/orders".to_owned(),
            Instant::now(),
            None,
        )
    }

    #[tokio::test]
    async fn a_request_keeps_its_customer_its_most_telling_cache_outcome_and_its_calls() {
        let noted = scope(context(), async {
            note_cache(CacheOutcome::Hit);
            note_upstream_call();
            note_customer(
                StoreHash::parse("abc123").unwrap(),
                CustomerId::new(7).unwrap(),
            );
            note_cache(CacheOutcome::Stale);
            note_cache(CacheOutcome::Miss);
            note_upstream_call();
            with(|context| {
                (
                    context.request_id().clone(),
                    context.route().to_owned(),
                    context.customer(),
                    context.cache(),
                    context.upstream_calls(),
                )
            })
        })
        .await;

        assert_eq!(
            noted,
            Some((
                HeaderValue::from_static("request-1"),
                "/v1/orders".to_owned(),
                CustomerId::new(7),
                Some(CacheOutcome::Stale),
                2
            ))
        );
    }

    #[tokio::test]
    async fn outside_a_request_nothing_is_noted_and_nothing_fails() {
        note_customer(
            StoreHash::parse("abc123").unwrap(),
            CustomerId::new(7).unwrap(),
        );
        note_cache(CacheOutcome::Miss);
        note_upstream_call();

        assert_eq!(with(|context| context.upstream_calls()), None);
    }

    #[tokio::test]
    async fn a_request_that_looked_nothing_up_says_none() {
        let label = scope(context(), async { with(RequestContext::cache_label) }).await;

        assert_eq!(label, Some("none"));
    }

    #[tokio::test(start_paused = true)]
    async fn the_elapsed_time_is_read_from_tokio_s_clock() {
        let elapsed = scope(context(), async {
            tokio::time::advance(Duration::from_millis(250)).await;
            with(RequestContext::elapsed)
        })
        .await;

        assert_eq!(elapsed, Some(Duration::from_millis(250)));
    }

    #[tokio::test]
    async fn requests_served_side_by_side_keep_their_own_context() {
        let one = scope(context(), async {
            note_upstream_call();
            tokio::task::yield_now().await;
            with(RequestContext::upstream_calls)
        });
        let other = scope(context(), async {
            tokio::task::yield_now().await;
            note_upstream_call();
            note_upstream_call();
            with(RequestContext::upstream_calls)
        });

        assert_eq!(tokio::join!(one, other), (Some(1), Some(2)));
    }
}
