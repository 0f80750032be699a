//! One cached resource, generic over what it holds: a bounded moka cache of fresh values,
//! the last good value of each key (served, marked stale, when loading fails because
//! BigCommerce failed), a short memory of failed loads, and single-flight loads (concurrent
//! misses of one key share one load). Every value carries the change log's position when
//! its load started and is checked against the changes recorded since before it is served.
//! It knows nothing of HTTP or BigCommerce: loaders and their errors are passed in.

use std::any::Any;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use moka::notification::RemovalCause;
use moka::ops::compute::Op;
use moka::sync::Cache as MokaCache;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::cache::changes::{Change, ChangeLog, Revision};
use crate::metrics::{CacheMetrics, CacheOutcome, CacheSize, EvictionCause};
use crate::request_context;

/// How long after a failed load a key is not loaded again (its last good value, or the
/// failure itself, answers instead), so an outage costs one upstream attempt per key per
/// interval, not one per request.
pub const FAILURE_BACKOFF: Duration = Duration::from_secs(5);

/// How many failed keys are remembered per resource; past it the least used are
/// forgotten, and only cost an extra attempt.
pub const FAILURES_MAX_ENTRIES: u64 = 10_000;

/// How many times a lookup joins another caller's load (which may be abandoned, or end
/// with a value a change has made wrong) before it loads by itself.
const MAX_JOINS: usize = 4;

/// A kind of cached value: its key, its name in metrics, its weight against the cache's
/// capacity, and which changes can make it wrong. A new cached resource is an
/// implementation of this trait and one [`Layer`] field in [`crate::cache::Cache`].
pub trait Resource: Send + Sync + Sized + 'static {
    type Key: Hash + Eq + Clone + Send + Sync + 'static;
    /// The cache's name, a metric label value.
    const NAME: &'static str;
    /// The value's weight against the layer's capacity.
    fn weight(&self) -> u32;
    /// Whether `change`, recorded after this value of `key` started loading, may have
    /// made it wrong.
    fn affected_by(&self, key: &Self::Key, change: &Change) -> bool;
    /// The key whose value `change` makes wrong, when the change names it: that value is
    /// dropped at once. Other affected values are found when they are next read.
    fn named_by(change: &Change) -> Option<Self::Key>;
}

/// What the cache needs to know about a failed load.
pub trait LoadFailure: Send + Sync + 'static {
    /// Whether the last good value may stand in for a fresh one (the source failed, as
    /// opposed to refusing the request or saying the resource does not exist).
    fn may_serve_stale(&self) -> bool;
    /// How long the failure is remembered: the key is not loaded again before.
    fn backoff(&self) -> Duration {
        FAILURE_BACKOFF
    }
}

/// The sizes and lifetimes of one layer.
#[derive(Clone, Copy, Debug)]
pub struct LayerSettings {
    /// The most weight the fresh values may hold.
    pub capacity: u64,
    /// How long a value is fresh.
    pub ttl: Duration,
    /// How long past `ttl` the last good value may stand in; zero turns it off.
    pub stale_if_error: Duration,
}

/// A cached value, when its load started (in time and in the change log), and how far
/// the change log has been checked against it.
#[derive(Debug)]
pub struct Stamped<V> {
    pub value: V,
    pub fetched_at: Instant,
    loaded_at: Revision,
    /// The latest change log position up to which no change affects the value.
    checked_through: AtomicU64,
    /// Set once a change is known to affect the value: it is never served again.
    superseded: AtomicBool,
}

/// A value read from the cache: fresh, or stale because reloading it failed.
#[derive(Debug)]
pub struct Cached<V> {
    pub entry: Arc<Stamped<V>>,
    pub stale: bool,
}

/// One cached resource; cheap to clone (the caches are shared).
pub struct Layer<V: Resource> {
    inner: Arc<Inner<V>>,
}

struct Inner<V: Resource> {
    changes: Arc<ChangeLog>,
    metrics: CacheMetrics,
    fresh: MokaCache<V::Key, Arc<Stamped<V>>>,
    last_good: Option<MokaCache<V::Key, Arc<Stamped<V>>>>,
    failures: MokaCache<V::Key, Failure>,
    /// Loads under way, by key.
    flights: Mutex<HashMap<V::Key, Flight<V>>>,
    next_flight: AtomicU64,
}

/// A remembered failed load: its error (of the loader's type) and until when it stands.
#[derive(Clone)]
struct Failure {
    error: Arc<dyn Any + Send + Sync>,
    until: Instant,
}

/// How a load ended, as its waiters receive it (the error of the loader's type, erased).
type Outcome<V> = Result<Arc<Stamped<V>>, Arc<dyn Any + Send + Sync>>;

/// A load under way, which later callers for the same key wait for.
struct Flight<V> {
    id: u64,
    outcome: watch::Receiver<Option<Outcome<V>>>,
}

/// Held by the caller running a load. Dropping it (the load finished, or its caller was
/// dropped mid-load) removes the flight, so that no later caller joins a load nobody
/// runs; waiters of a flight dropped unfinished load by themselves.
struct FlightGuard<'a, V: Resource> {
    inner: &'a Inner<V>,
    key: V::Key,
    id: u64,
    outcome: watch::Sender<Option<Outcome<V>>>,
}

/// What a miss does: use a value that appeared meanwhile, wait for a load under way, or
/// run the load.
enum Role<'a, V: Resource> {
    Ready(Arc<Stamped<V>>),
    Join(watch::Receiver<Option<Outcome<V>>>),
    Lead(FlightGuard<'a, V>),
}

impl LoadFailure for Infallible {
    fn may_serve_stale(&self) -> bool {
        match *self {}
    }
}

impl<V> Stamped<V> {
    fn new(value: V, loaded_at: Revision) -> Self {
        Self {
            value,
            fetched_at: Instant::now(),
            loaded_at,
            checked_through: AtomicU64::new(loaded_at.get()),
            superseded: AtomicBool::new(false),
        }
    }

    /// The change log's position when the value started loading.
    pub fn loaded_at(&self) -> Revision {
        self.loaded_at
    }
}

impl<V> Cached<V> {
    /// The age to report in an `Age` header: `Some` only for a stale value.
    pub fn stale_age(&self) -> Option<Duration> {
        self.stale.then(|| self.entry.fetched_at.elapsed())
    }

    pub fn value(&self) -> &V {
        &self.entry.value
    }
}

impl<V: Resource> Clone for Layer<V> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<V: Resource> Layer<V> {
    /// An empty layer checked against `changes`, counting into `metrics` (which also
    /// reads its size at each scrape).
    pub fn new(settings: LayerSettings, changes: Arc<ChangeLog>, metrics: CacheMetrics) -> Self {
        let weigher = |_: &V::Key, entry: &Arc<Stamped<V>>| entry.value.weight();
        let listener_metrics = metrics.clone();
        let fresh = MokaCache::builder()
            .name(V::NAME)
            .support_invalidation_closures()
            .max_capacity(settings.capacity)
            .weigher(weigher)
            .time_to_live(settings.ttl)
            .eviction_listener(move |_key, _value, cause| {
                let cause = match cause {
                    RemovalCause::Expired => EvictionCause::Expired,
                    RemovalCause::Size => EvictionCause::Size,
                    RemovalCause::Explicit => EvictionCause::Invalidated,
                    // A reload replacing a value removes nothing.
                    RemovalCause::Replaced => return,
                };
                listener_metrics.evicted(V::NAME, cause);
            })
            .build();
        // The last good values hold the same `Arc`s as the fresh cache while both have
        // them, so keeping them costs memory only for values past their lifetime.
        let last_good = (!settings.stale_if_error.is_zero()).then(|| {
            MokaCache::builder()
                .name(&format!("{}-last-good", V::NAME))
                .support_invalidation_closures()
                .max_capacity(settings.capacity)
                .weigher(weigher)
                .time_to_live(settings.ttl.saturating_add(settings.stale_if_error))
                .build()
        });
        // Sized in entries: a failure weighs the same whatever the resource.
        let failures = MokaCache::builder()
            .name(&format!("{}-failures", V::NAME))
            .support_invalidation_closures()
            .max_capacity(FAILURES_MAX_ENTRIES)
            .time_to_live(FAILURE_BACKOFF)
            .build();
        let inner = Arc::new(Inner {
            changes,
            metrics: metrics.clone(),
            fresh,
            last_good,
            failures,
            flights: Mutex::new(HashMap::new()),
            next_flight: AtomicU64::new(0),
        });
        let size: Weak<dyn CacheSize> = Arc::downgrade(&inner) as Weak<dyn CacheSize>;
        metrics.track(V::NAME, size);
        Self { inner }
    }

    /// The value of `key` as of the change log position `as_of` (taken when the request
    /// started): a cached value no change up to `as_of` affects, else one loaded by `load`
    /// (called only on a miss, and once for all concurrent callers), else, when loading
    /// failed and the failure allows it, the last good value, marked stale.
    pub async fn get_or_load<L, Fut, E>(
        &self,
        key: V::Key,
        as_of: Revision,
        load: L,
    ) -> Result<Cached<V>, Arc<E>>
    where
        L: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
        E: LoadFailure,
    {
        if let Some(entry) = self.inner.fresh.get(&key) {
            if self.inner.is_current(&key, &entry, as_of) {
                self.inner.count(CacheOutcome::Hit);
                return Ok(Cached {
                    entry,
                    stale: false,
                });
            }
            self.inner.drop_entry(&key, &entry);
        }
        // The miss path, with the upstream call in it, is boxed: every request's future is
        // moved into a box by actix, and a hit's should not carry a miss's bulk.
        Box::pin(self.miss(key, as_of, load)).await
    }

    /// Loads the value of `key` now, whatever is cached, and keeps it (unless a change
    /// recorded meanwhile affects it). No single flight, no stale value, no failure memory:
    /// for a caller that decided a reload is due and bounds how often it does so.
    pub async fn reload<L, Fut, E>(&self, key: V::Key, load: L) -> Result<Arc<Stamped<V>>, E>
    where
        L: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let started = self.inner.changes.head();
        self.inner.count(CacheOutcome::Miss);
        let entry = Arc::new(Stamped::new(load().await?, started));
        self.inner.keep(&key, &entry);
        Ok(entry)
    }

    /// Whether the fresh value of `key` was loaded less than `interval` ago.
    pub fn loaded_within(&self, key: &V::Key, interval: Duration) -> bool {
        self.inner
            .fresh
            .get(key)
            .is_some_and(|entry| entry.fetched_at.elapsed() < interval)
    }

    /// Drops at once the value a just-recorded change names (see [`Resource::named_by`]),
    /// with its last good value and any remembered failure.
    pub fn apply(&self, change: &Change) {
        if let Some(key) = V::named_by(change) {
            self.inner.fresh.invalidate(&key);
            if let Some(last_good) = &self.inner.last_good {
                last_good.invalidate(&key);
            }
            self.inner.failures.invalidate(&key);
        }
    }

    /// Drops every value whose key satisfies `doomed` (a store that left), with its last
    /// good value and any remembered failure. Moka removes them in the background; nothing
    /// may rely on this for correctness (a [`Change`] must say what may not be served).
    pub fn forget_where(&self, doomed: impl Fn(&V::Key) -> bool + Send + Sync + Clone + 'static) {
        let fresh = doomed.clone();
        self.inner
            .fresh
            .invalidate_entries_if(move |key, _| fresh(key))
            .ok();
        if let Some(last_good) = &self.inner.last_good {
            let last = doomed.clone();
            last_good
                .invalidate_entries_if(move |key, _| last(key))
                .ok();
        }
        self.inner
            .failures
            .invalidate_entries_if(move |key, _| doomed(key))
            .ok();
    }

    /// Entries and total weight of the fresh values, after pending maintenance (so that
    /// expired entries are gone and counted as evictions).
    pub fn usage(&self) -> (u64, u64) {
        self.inner.size()
    }

    async fn miss<L, Fut, E>(
        &self,
        key: V::Key,
        as_of: Revision,
        load: L,
    ) -> Result<Cached<V>, Arc<E>>
    where
        L: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
        E: LoadFailure,
    {
        let inner = &*self.inner;
        let mut waited = false;
        let mut flight = None;
        for _ in 0..MAX_JOINS {
            if let Some(error) = inner.remembered_failure::<E>(&key) {
                return inner.fall_back(&key, as_of, error);
            }
            match inner.join_or_lead(&key, as_of) {
                Role::Ready(entry) => {
                    inner.count(CacheOutcome::Hit);
                    return Ok(Cached {
                        entry,
                        stale: false,
                    });
                }
                Role::Lead(guard) => {
                    flight = Some(guard);
                    break;
                }
                Role::Join(mut receiver) => {
                    if !waited {
                        inner.metrics.waited(V::NAME);
                        waited = true;
                    }
                    // `None`: the caller running the load was dropped before it ended.
                    let outcome = match receiver.wait_for(Option::is_some).await {
                        Ok(outcome) => (*outcome).clone(),
                        Err(_) => None,
                    };
                    match outcome {
                        Some(Ok(entry)) => {
                            if inner.is_current(&key, &entry, as_of) {
                                inner.count(CacheOutcome::Miss);
                                return Ok(Cached {
                                    entry,
                                    stale: false,
                                });
                            }
                            // Loaded before a change this request must see: load again.
                            inner.drop_entry(&key, &entry);
                        }
                        Some(Err(error)) => {
                            if let Ok(error) = error.downcast::<E>() {
                                return inner.fall_back(&key, as_of, error);
                            }
                        }
                        None => {}
                    }
                }
            }
        }
        inner.lead(key, as_of, flight, load).await
    }
}

impl<V: Resource> Inner<V> {
    /// Counts a lookup's outcome, in the metrics and on the request being served.
    fn count(&self, outcome: CacheOutcome) {
        self.metrics.lookup(V::NAME, outcome);
        request_context::note_cache(outcome);
    }

    /// Whether no change recorded after the value started loading, up to `as_of`, may
    /// have made it wrong. Cheap when nothing was recorded since the last check.
    fn is_current(&self, key: &V::Key, entry: &Stamped<V>, as_of: Revision) -> bool {
        if entry.superseded.load(Ordering::Acquire) {
            return false;
        }
        let checked = entry.checked_through.load(Ordering::Acquire);
        if as_of.get() <= checked {
            return true;
        }
        let affected = self
            .changes
            .any_between(Revision::from_count(checked), as_of, |change| {
                entry.value.affected_by(key, change)
            });
        if affected {
            entry.superseded.store(true, Ordering::Release);
            return false;
        }
        entry
            .checked_through
            .fetch_max(as_of.get(), Ordering::AcqRel);
        true
    }

    /// Removes `entry` from the fresh and last good values, unless another value replaced it.
    fn drop_entry(&self, key: &V::Key, entry: &Arc<Stamped<V>>) {
        let caches = std::iter::once(&self.fresh).chain(self.last_good.as_ref());
        for cache in caches {
            cache
                .entry(key.clone())
                .and_compute_with(|held| match held {
                    Some(held) if Arc::ptr_eq(held.value(), entry) => Op::Remove,
                    _ => Op::Nop,
                });
        }
    }

    /// Keeps a just-loaded value as fresh and as last good, unless a change recorded while
    /// it loaded already affects it (then only its own caller gets it). A change recorded
    /// after this check is found when the value is next read.
    fn keep(&self, key: &V::Key, entry: &Arc<Stamped<V>>) {
        if !self.is_current(key, entry, self.changes.head()) {
            return;
        }
        self.failures.invalidate(key);
        if let Some(last_good) = &self.last_good {
            last_good.insert(key.clone(), Arc::clone(entry));
        }
        self.fresh.insert(key.clone(), Arc::clone(entry));
    }

    /// The remembered failure of `key`, while it stands.
    fn remembered_failure<E: LoadFailure>(&self, key: &V::Key) -> Option<Arc<E>> {
        let failure = self.failures.get(key)?;
        if Instant::now() >= failure.until {
            return None;
        }
        failure.error.downcast::<E>().ok()
    }

    /// The answer after a failed load: the last good value if the failure allows it and no
    /// change affects it, else the failure.
    fn fall_back<E: LoadFailure>(
        &self,
        key: &V::Key,
        as_of: Revision,
        error: Arc<E>,
    ) -> Result<Cached<V>, Arc<E>> {
        if error.may_serve_stale()
            && let Some(entry) = self.last_good.as_ref().and_then(|cache| cache.get(key))
        {
            if self.is_current(key, &entry, as_of) {
                self.count(CacheOutcome::Stale);
                return Ok(Cached { entry, stale: true });
            }
            self.drop_entry(key, &entry);
        }
        self.count(CacheOutcome::Miss);
        Err(error)
    }

    /// Decides, under the flights' lock, whether this caller uses a value stored meanwhile,
    /// waits for a load under way, or runs the load.
    fn join_or_lead(&self, key: &V::Key, as_of: Revision) -> Role<'_, V> {
        let mut flights = self
            .flights
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(flight) = flights.get(key) {
            return Role::Join(flight.outcome.clone());
        }
        if let Some(entry) = self.fresh.get(key)
            && self.is_current(key, &entry, as_of)
        {
            return Role::Ready(entry);
        }
        let id = self.next_flight.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = watch::channel(None);
        flights.insert(
            key.clone(),
            Flight {
                id,
                outcome: receiver,
            },
        );
        Role::Lead(FlightGuard {
            inner: self,
            key: key.clone(),
            id,
            outcome: sender,
        })
    }

    /// Runs the load (for the callers waiting on `flight`, if any), keeps a value, remembers
    /// a failure, and tells the waiters. The value is this caller's answer even if a change
    /// was recorded while it loaded: that change is concurrent with this caller's request.
    async fn lead<L, Fut, E>(
        &self,
        key: V::Key,
        as_of: Revision,
        flight: Option<FlightGuard<'_, V>>,
        load: L,
    ) -> Result<Cached<V>, Arc<E>>
    where
        L: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
        E: LoadFailure,
    {
        let started = self.changes.head();
        match load().await {
            Ok(value) => {
                let entry = Arc::new(Stamped::new(value, started));
                self.keep(&key, &entry);
                if let Some(flight) = flight {
                    flight.finish(Ok(Arc::clone(&entry)));
                }
                self.count(CacheOutcome::Miss);
                Ok(Cached {
                    entry,
                    stale: false,
                })
            }
            Err(error) => {
                let error = Arc::new(error);
                let erased: Arc<dyn Any + Send + Sync> = error.clone();
                let failure = Failure {
                    error: Arc::clone(&erased),
                    until: Instant::now() + error.backoff(),
                };
                self.failures.insert(key.clone(), failure);
                if let Some(flight) = flight {
                    flight.finish(Err(erased));
                }
                self.fall_back(&key, as_of, error)
            }
        }
    }
}

impl<V: Resource> CacheSize for Inner<V> {
    fn size(&self) -> (u64, u64) {
        self.fresh.run_pending_tasks();
        (self.fresh.entry_count(), self.fresh.weighted_size())
    }
}

impl<V: Resource> FlightGuard<'_, V> {
    /// Hands the outcome to the waiters, then removes the flight (by dropping the guard).
    fn finish(self, outcome: Outcome<V>) {
        self.outcome.send_replace(Some(outcome));
    }
}

impl<V: Resource> Drop for FlightGuard<'_, V> {
    fn drop(&mut self) {
        let mut flights = self
            .inner
            .flights
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if flights
            .get(&self.key)
            .is_some_and(|flight| flight.id == self.id)
        {
            flights.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests;
