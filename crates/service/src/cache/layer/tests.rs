//! The layer on its own, with scripted loaders and tokio's paused clock: single flight,
//! cancellation, changes during a load, failure backoff and stale values.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::AtomicUsize;

use tokio::sync::oneshot;

use super::*;
use crate::domain::{OrderId, StoreKey};

/// A cached list of order numbers, changed by any change of an order it holds.
#[derive(Debug, PartialEq)]
struct Numbers(Vec<u64>);

impl Resource for Numbers {
    type Key = u64;
    const NAME: &'static str = "numbers";

    fn weight(&self) -> u32 {
        1
    }

    fn affected_by(&self, _key: &u64, change: &Change) -> bool {
        match change {
            Change::Order(_, order) => self.0.contains(&order.get()),
            Change::OrderMetafields(..)
            | Change::Store(_)
            | Change::FieldDefinitions(_)
            | Change::Settings(_)
            | Change::CustomerOrders(..) => false,
        }
    }

    fn named_by(_change: &Change) -> Option<u64> {
        None
    }
}

/// A failure of the source (a stale value may stand in) or a refusal (it may not).
#[derive(Debug, PartialEq)]
enum TestFailure {
    Outage,
    Refused,
}

impl LoadFailure for TestFailure {
    fn may_serve_stale(&self) -> bool {
        *self == TestFailure::Outage
    }
}

const KEY: u64 = 7;

fn layer(stale_if_error: Duration) -> (Layer<Numbers>, Arc<ChangeLog>) {
    let changes = Arc::new(ChangeLog::new(64));
    let settings = LayerSettings {
        capacity: 100,
        ttl: Duration::from_secs(3600),
        stale_if_error,
    };
    (
        Layer::new(settings, Arc::clone(&changes), CacheMetrics::new()),
        changes,
    )
}

fn order(id: u64) -> Change {
    Change::Order(StoreKey::new(1), OrderId::new(id).unwrap())
}

/// Counts its calls and answers `result`.
fn counted(
    calls: &Arc<AtomicUsize>,
    result: Result<Vec<u64>, TestFailure>,
) -> impl FnOnce() -> std::future::Ready<Result<Numbers, TestFailure>> + use<> {
    let calls = Arc::clone(calls);
    move || {
        calls.fetch_add(1, Ordering::SeqCst);
        std::future::ready(result.map(Numbers))
    }
}

/// A load that reads `value` when called and answers when `release` fires (an error if
/// it is dropped).
fn gated(
    calls: &Arc<AtomicUsize>,
    value: Vec<u64>,
    release: oneshot::Receiver<()>,
) -> impl FnOnce() -> std::pin::Pin<Box<dyn Future<Output = Result<Numbers, TestFailure>> + Send>> + use<>
{
    let calls = Arc::clone(calls);
    move || {
        calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            release.await.map_err(|_| TestFailure::Outage)?;
            Ok(Numbers(value))
        })
    }
}

/// Lets every spawned task run until it waits.
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn concurrent_misses_share_one_load() {
    let (layer, changes) = layer(Duration::ZERO);
    let calls = Arc::new(AtomicUsize::new(0));
    let (release, gate) = oneshot::channel();
    let first = {
        let (layer, load) = (layer.clone(), gated(&calls, vec![1], gate));
        tokio::spawn(async move { layer.get_or_load(KEY, changes.head(), load).await })
    };
    settle().await;
    let second = {
        let (layer, load) = (layer.clone(), counted(&calls, Ok(vec![2])));
        tokio::spawn(async move { layer.get_or_load(KEY, Revision::default(), load).await })
    };
    settle().await;

    release.send(()).unwrap();
    let first = first.await.unwrap().unwrap();
    let second = second.await.unwrap().unwrap();

    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(Arc::ptr_eq(&first.entry, &second.entry));
    assert_eq!(second.value(), &Numbers(vec![1]));
}

#[tokio::test(start_paused = true)]
async fn a_waiter_whose_loading_caller_is_dropped_loads_by_itself() {
    let (layer, _changes) = layer(Duration::ZERO);
    let calls = Arc::new(AtomicUsize::new(0));
    let (_release, gate) = oneshot::channel::<()>();
    let leader = {
        let (layer, load) = (layer.clone(), gated(&calls, vec![1], gate));
        tokio::spawn(async move { layer.get_or_load(KEY, Revision::default(), load).await })
    };
    settle().await;
    let waiter = {
        let (layer, load) = (layer.clone(), counted(&calls, Ok(vec![2])));
        tokio::spawn(async move { layer.get_or_load(KEY, Revision::default(), load).await })
    };
    settle().await;

    // The client of the loading request disconnects: its future is dropped mid-load.
    leader.abort();
    let waited = tokio::time::timeout(Duration::from_secs(1), waiter).await;

    let waited = waited.expect("the waiter is not left waiting").unwrap();
    assert_eq!(waited.unwrap().value(), &Numbers(vec![2]));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert!(
        layer.inner.flights.lock().unwrap().is_empty(),
        "no flight left behind"
    );
}

#[tokio::test(start_paused = true)]
async fn a_load_under_way_when_a_change_of_its_data_arrives_is_not_kept() {
    let (layer, changes) = layer(Duration::ZERO);
    let calls = Arc::new(AtomicUsize::new(0));
    let (release, gate) = oneshot::channel();
    let before = changes.head();
    let loading = {
        let (layer, load) = (layer.clone(), gated(&calls, vec![100, 101], gate));
        tokio::spawn(async move { layer.get_or_load(KEY, before, load).await })
    };
    settle().await;

    // The webhook for order 101 is answered while the load that read it is out.
    changes.record(order(101));
    layer.apply(&order(101));
    let after = changes.head();
    // A request that starts now joins the load under way...
    let joined = {
        let (layer, load) = (layer.clone(), counted(&calls, Ok(vec![100])));
        tokio::spawn(async move { layer.get_or_load(KEY, after, load).await })
    };
    settle().await;
    release.send(()).unwrap();
    let loaded = loading.await.unwrap().unwrap();
    let joined = joined.await.unwrap().unwrap();
    let later = layer
        .get_or_load(KEY, after, counted(&calls, Ok(vec![100])))
        .await
        .unwrap();

    assert_eq!(
        loaded.value(),
        &Numbers(vec![100, 101]),
        "its own caller started before the change"
    );
    assert_eq!(joined.value(), &Numbers(vec![100]), "...but loads again");
    assert_eq!(
        later.value(),
        &Numbers(vec![100]),
        "cached: the second load"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_cached_value_a_change_affects_is_not_served_after_the_change() {
    let (layer, changes) = layer(Duration::ZERO);
    let calls = Arc::new(AtomicUsize::new(0));
    let start = changes.head();
    layer
        .get_or_load(KEY, start, counted(&calls, Ok(vec![100, 101])))
        .await
        .unwrap();

    changes.record(order(555));
    let unrelated = layer
        .get_or_load(KEY, changes.head(), counted(&calls, Ok(vec![1])))
        .await
        .unwrap();
    changes.record(order(100));
    let after = layer
        .get_or_load(KEY, changes.head(), counted(&calls, Ok(vec![101])))
        .await
        .unwrap();
    let started_before = layer
        .get_or_load(KEY, start, counted(&calls, Ok(vec![2])))
        .await
        .unwrap();

    assert_eq!(unrelated.value(), &Numbers(vec![100, 101]), "a hit");
    assert_eq!(after.value(), &Numbers(vec![101]), "reloaded");
    assert_eq!(
        started_before.value(),
        &Numbers(vec![101]),
        "the changed value is gone for everyone"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_failed_key_is_loaded_once_per_backoff_whatever_the_failure() {
    for failure in [TestFailure::Outage, TestFailure::Refused] {
        let (layer, changes) = layer(Duration::from_secs(60));
        let calls = Arc::new(AtomicUsize::new(0));
        let expected = format!("{failure:?}");

        let first = layer
            .get_or_load(KEY, changes.head(), counted(&calls, Err(failure)))
            .await;
        let mut repeated = Vec::new();
        for _ in 0..10 {
            tokio::time::advance(Duration::from_millis(400)).await;
            let result = layer
                .get_or_load(KEY, changes.head(), counted(&calls, Ok(vec![1])))
                .await;
            repeated.push(result.map(|cached| cached.value().0.clone()));
        }
        tokio::time::advance(FAILURE_BACKOFF).await;
        let after = layer
            .get_or_load(KEY, changes.head(), counted(&calls, Ok(vec![1])))
            .await;

        assert_eq!(
            format!("{:?}", first.unwrap_err()),
            expected,
            "case: {expected}"
        );
        assert!(
            repeated
                .iter()
                .all(|result| format!("{:?}", result.as_ref().unwrap_err()) == expected),
            "case: {expected}: the remembered failure answers: {repeated:?}"
        );
        assert_eq!(
            after.unwrap().value(),
            &Numbers(vec![1]),
            "case: {expected}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2, "case: {expected}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_failure_of_the_source_serves_the_last_good_value_unless_a_change_affects_it() {
    let (layer, changes) = layer(Duration::from_secs(60));
    let calls = Arc::new(AtomicUsize::new(0));
    layer
        .get_or_load(KEY, changes.head(), counted(&calls, Ok(vec![100])))
        .await
        .unwrap();
    let entry = layer.inner.fresh.get(&KEY).unwrap();
    // The fresh value has expired; the last good one is kept longer.
    layer.inner.fresh.invalidate(&KEY);

    let outage = layer
        .get_or_load(
            KEY,
            changes.head(),
            counted(&calls, Err(TestFailure::Outage)),
        )
        .await
        .unwrap();
    tokio::time::advance(FAILURE_BACKOFF).await;
    let refused = layer
        .get_or_load(
            KEY,
            changes.head(),
            counted(&calls, Err(TestFailure::Refused)),
        )
        .await;
    tokio::time::advance(FAILURE_BACKOFF).await;
    changes.record(order(100));
    let changed = layer
        .get_or_load(
            KEY,
            changes.head(),
            counted(&calls, Err(TestFailure::Outage)),
        )
        .await;

    assert!(outage.stale);
    assert!(Arc::ptr_eq(&outage.entry, &entry));
    assert_eq!(refused.unwrap_err().as_ref(), &TestFailure::Refused);
    assert_eq!(changed.unwrap_err().as_ref(), &TestFailure::Outage);
    assert!(layer.inner.last_good.as_ref().unwrap().get(&KEY).is_none());
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}
