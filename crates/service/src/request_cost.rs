//! What the request being served cost: how the cache answered it and how many Management
//! API requests it sent. The HTTP middleware runs each request inside [`scope`]; the cache
//! and the Management API client note into it from wherever they run in that request's
//! task, without knowing about HTTP. Work outside a request (start-up, the CLI) is not noted.

use std::cell::Cell;
use std::future::Future;

use crate::metrics::CacheOutcome;

tokio::task_local! {
    static COST: RequestCost;
}

/// The tally of one request.
#[derive(Debug, Default)]
pub struct RequestCost {
    cache: Cell<Option<CacheOutcome>>,
    upstream_calls: Cell<u32>,
}

/// What a request cost, for its log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CostSummary {
    /// The most telling cache outcome of the request (stale over miss over hit), if it
    /// looked anything up.
    pub cache: Option<CacheOutcome>,
    /// Management API requests this request sent itself, retries included; a request that
    /// waited for another one's load sent none.
    pub upstream_calls: u32,
}

/// Runs `future` (one request) with a fresh tally.
pub fn scope<F: Future>(future: F) -> impl Future<Output = F::Output> {
    COST.scope(RequestCost::default(), future)
}

/// Notes a cache lookup's outcome for the current request.
pub fn note_cache(outcome: CacheOutcome) {
    let _ = COST.try_with(|cost| {
        let worst = cost.cache.get().map_or(outcome, |known| known.max(outcome));
        cost.cache.set(Some(worst));
    });
}

/// Notes one request sent to the Management API for the current request.
pub fn note_upstream_call() {
    let _ = COST.try_with(|cost| cost.upstream_calls.set(cost.upstream_calls.get() + 1));
}

/// The current request's tally so far; `None` outside a request.
pub fn current() -> Option<CostSummary> {
    COST.try_with(|cost| CostSummary {
        cache: cost.cache.get(),
        upstream_calls: cost.upstream_calls.get(),
    })
    .ok()
}

impl CostSummary {
    /// `hit`, `miss`, `stale`, or `none` when the request looked nothing up.
    pub fn cache_label(&self) -> &'static str {
        self.cache.map_or("none", CacheOutcome::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_keeps_its_most_telling_cache_outcome_and_counts_its_calls() {
        let summary = scope(async {
            note_cache(CacheOutcome::Hit);
            note_upstream_call();
            note_cache(CacheOutcome::Stale);
            note_cache(CacheOutcome::Miss);
            note_upstream_call();
            current()
        })
        .await;

        assert_eq!(
            summary,
            Some(CostSummary {
                cache: Some(CacheOutcome::Stale),
                upstream_calls: 2
            })
        );
    }

    #[tokio::test]
    async fn outside_a_request_nothing_is_noted_and_nothing_fails() {
        note_cache(CacheOutcome::Miss);
        note_upstream_call();

        assert_eq!(current(), None);
    }

    #[tokio::test]
    async fn a_request_that_looked_nothing_up_says_none() {
        let summary = scope(async { current() }).await;

        assert_eq!(summary.map(|summary| summary.cache_label()), Some("none"));
    }
}
