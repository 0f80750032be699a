//! The in-process caches: each customer's order list and each order's visible metafields,
//! bounded in size and lifetime. Every read goes through a get-or-load call, so a caller
//! cannot forget to fill the cache, and concurrent misses for one key share a single load.
//! When a load fails for a passing reason, the last good value is served for a bounded
//! time, marked stale. Each lookup is counted (and noted on the request being served). It
//! knows nothing of HTTP or of BigCommerce: loaders are passed in.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use moka::future::Cache as MokaCache;
use moka::notification::RemovalCause;
use tokio::time::Instant;

use crate::config::CacheSettings;
use crate::domain::{CustomerId, Order, OrderId};
use crate::metrics::{CACHE_NAMES, CacheMetrics, CacheOutcome, EvictionCause};
use crate::request_context;

/// How long after a failed load a key is served stale without trying again, so an outage
/// costs one upstream attempt per key per interval, not one per request.
pub const FAILURE_BACKOFF: Duration = Duration::from_secs(5);

/// Both caches and the order-to-customer index, cheap to clone.
#[derive(Clone)]
pub struct Cache {
    orders: Layer<CustomerId, CustomerOrders>,
    metafields: Layer<OrderId, OrderMetafields>,
    /// Which customer placed each order of a cached list, so a webhook naming only an
    /// order can drop its customer's list.
    owners: MokaCache<OrderId, CustomerId>,
    /// When each customer's list was last reloaded because of an unknown order id.
    refreshes: MokaCache<CustomerId, Instant>,
}

/// A cached value and when it was loaded.
#[derive(Debug)]
pub struct Stamped<V> {
    pub value: V,
    pub fetched_at: Instant,
}

/// A value read from the cache: fresh, or stale because reloading it failed.
#[derive(Debug)]
pub struct Cached<V> {
    pub entry: Arc<Stamped<V>>,
    pub stale: bool,
}

/// One customer's orders, newest first, kept as JSON rendered once when the list is loaded,
/// so that a cache hit costs no serialisation: the orders' JSON objects are stored one after
/// another, separated by commas, so any run of consecutive orders (a page) is one slice.
#[derive(Debug)]
pub struct CustomerOrders {
    json: Bytes,
    /// Where each order's JSON lies in `json`, newest first.
    spans: Vec<Range<usize>>,
    /// Each order's position in `spans`.
    index: HashMap<OrderId, usize>,
}

/// One order's metafields as a customer may see them, kept as the response body
/// `{"data":[…]}` already serialised, so a cache hit costs no serialisation.
#[derive(Debug)]
pub struct OrderMetafields {
    pub body: bytes::Bytes,
    pub count: usize,
}

/// What the caches hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheUsage {
    pub customers: u64,
    /// Weighted size of the order lists: orders plus one per customer.
    pub orders: u64,
    pub orders_with_metafields: u64,
    pub metafield_bytes: u64,
}

/// A fresh cache with single-flight fills, plus the last good value of each key for
/// serving stale, plus a short memory of failed loads.
struct Layer<K, V> {
    /// The cache's name, in metrics.
    name: &'static str,
    metrics: CacheMetrics,
    fresh: MokaCache<K, Arc<Stamped<V>>>,
    last_good: Option<MokaCache<K, Arc<Stamped<V>>>>,
    failures: MokaCache<K, ()>,
}

impl Cache {
    /// Empty caches sized by `settings`, counting into `metrics`.
    pub fn new(settings: &CacheSettings, metrics: CacheMetrics) -> Self {
        let order_weight = |_: &CustomerId, value: &Arc<Stamped<CustomerOrders>>| {
            // Weighed in orders, so the bound holds however many orders one customer has.
            u32::try_from(value.value.len())
                .unwrap_or(u32::MAX)
                .saturating_add(1)
        };
        let metafield_weight = |_: &OrderId, value: &Arc<Stamped<OrderMetafields>>| {
            // Weighed in bytes: a metafield value may be up to 64 KiB.
            u32::try_from(value.value.body.len())
                .unwrap_or(u32::MAX)
                .saturating_add(64)
        };
        let [orders_name, metafields_name] = CACHE_NAMES;
        let orders = Layer::new(
            orders_name,
            metrics.clone(),
            settings.max_orders,
            settings.orders_ttl,
            settings.stale_if_error,
            order_weight,
        );
        let metafields = Layer::new(
            metafields_name,
            metrics,
            settings.metafields_max_bytes,
            settings.metafields_ttl,
            settings.stale_if_error,
            metafield_weight,
        );
        let owners = MokaCache::builder()
            .name("order-owners")
            .max_capacity(settings.max_orders)
            .time_to_live(settings.orders_ttl + settings.stale_if_error)
            .build();
        let refreshes = MokaCache::builder()
            .name("order-list-refreshes")
            .max_capacity(settings.max_orders)
            .time_to_live(
                settings
                    .orders_refresh_interval
                    .max(Duration::from_millis(1)),
            )
            .build();
        Self {
            orders,
            metafields,
            owners,
            refreshes,
        }
    }

    /// The customer's orders, loading them once for all concurrent callers on a miss.
    /// `load` is called only on a miss, so a hit neither builds nor carries its future.
    pub async fn customer_orders<L, Fut, E>(
        &self,
        customer: CustomerId,
        load: L,
        transient: fn(&E) -> bool,
    ) -> Result<Cached<CustomerOrders>, Arc<E>>
    where
        L: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<Order>, E>>,
        E: Send + Sync + 'static,
    {
        let owners = &self.owners;
        let load = move || async move {
            let orders = load().await?;
            remember_owners(owners, customer, &orders).await;
            Ok(CustomerOrders::new(orders))
        };
        self.orders.get_or_load(customer, load, transient).await
    }

    /// Reloads the customer's orders unless they were loaded, or reloaded, less than the
    /// refresh interval ago; `None` when no reload was due. A burst of unknown order ids
    /// therefore costs at most one reload per interval, even when reloads fail.
    pub async fn refresh_customer_orders<L, Fut, E>(
        &self,
        customer: CustomerId,
        interval: Duration,
        load: L,
    ) -> Option<Result<Arc<Stamped<CustomerOrders>>, E>>
    where
        L: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<Order>, E>>,
    {
        let loaded_recently = self
            .orders
            .fresh
            .get(&customer)
            .await
            .is_some_and(|entry| entry.fetched_at.elapsed() < interval);
        if loaded_recently {
            return None;
        }
        let gate = self
            .refreshes
            .entry(customer)
            .or_insert_with_if(async { Instant::now() }, |last| last.elapsed() >= interval)
            .await;
        if !gate.is_fresh() {
            return None;
        }
        self.orders.count(CacheOutcome::Miss);
        let orders = match load().await {
            Ok(orders) => orders,
            Err(error) => return Some(Err(error)),
        };
        remember_owners(&self.owners, customer, &orders).await;
        let entry = Arc::new(Stamped::now(CustomerOrders::new(orders)));
        self.orders.put(customer, Arc::clone(&entry)).await;
        Some(Ok(entry))
    }

    /// The order's visible metafields, loading them once for all concurrent callers on a miss.
    /// `load` is called only on a miss.
    pub async fn order_metafields<L, Fut, E>(
        &self,
        order: OrderId,
        load: L,
        transient: fn(&E) -> bool,
    ) -> Result<Cached<OrderMetafields>, Arc<E>>
    where
        L: FnOnce() -> Fut,
        Fut: Future<Output = Result<OrderMetafields, E>>,
        E: Send + Sync + 'static,
    {
        self.metafields.get_or_load(order, load, transient).await
    }

    /// Forgets an order: its metafields and, when the order is in a cached list, that
    /// customer's whole list. Returns whether the order was known.
    pub async fn forget_order(&self, order: OrderId) -> bool {
        self.metafields.forget(&order).await;
        match self.owners.remove(&order).await {
            Some(customer) => {
                self.orders.forget(&customer).await;
                true
            }
            None => false,
        }
    }

    /// Forgets an order's metafields.
    pub async fn forget_order_metafields(&self, order: OrderId) {
        self.metafields.forget(&order).await;
    }

    /// Entries and total weight held now, per cache (after pending maintenance, so that
    /// expired entries are gone and counted as evictions).
    pub async fn usage(&self) -> CacheUsage {
        self.orders.fresh.run_pending_tasks().await;
        self.metafields.fresh.run_pending_tasks().await;
        CacheUsage {
            customers: self.orders.fresh.entry_count(),
            orders: self.orders.fresh.weighted_size(),
            orders_with_metafields: self.metafields.fresh.entry_count(),
            metafield_bytes: self.metafields.fresh.weighted_size(),
        }
    }

    /// Brings the size gauges of every cache up to date (for a metrics scrape).
    pub async fn report_usage(&self) {
        let usage = self.usage().await;
        self.orders
            .metrics
            .usage(self.orders.name, usage.customers, usage.orders);
        self.metafields.metrics.usage(
            self.metafields.name,
            usage.orders_with_metafields,
            usage.metafield_bytes,
        );
    }
}

async fn remember_owners(
    owners: &MokaCache<OrderId, CustomerId>,
    customer: CustomerId,
    orders: &[Order],
) {
    for order in orders {
        owners.insert(order.id, customer).await;
    }
}

impl<K, V> Clone for Layer<K, V> {
    fn clone(&self) -> Self {
        Self {
            name: self.name,
            metrics: self.metrics.clone(),
            fresh: self.fresh.clone(),
            last_good: self.last_good.clone(),
            failures: self.failures.clone(),
        }
    }
}

impl<K, V> Layer<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    fn new(
        name: &'static str,
        metrics: CacheMetrics,
        capacity: u64,
        ttl: Duration,
        stale_if_error: Duration,
        weigher: impl Fn(&K, &Arc<Stamped<V>>) -> u32 + Send + Sync + Clone + 'static,
    ) -> Self {
        let listener_metrics = metrics.clone();
        let fresh = MokaCache::builder()
            .name(name)
            .max_capacity(capacity)
            .weigher(weigher.clone())
            .time_to_live(ttl)
            .eviction_listener(move |_key, _value, cause| {
                let cause = match cause {
                    RemovalCause::Expired => EvictionCause::Expired,
                    RemovalCause::Size => EvictionCause::Size,
                    RemovalCause::Explicit => EvictionCause::Invalidated,
                    // A reload replacing a value removes nothing.
                    RemovalCause::Replaced => return,
                };
                listener_metrics.evicted(name, cause);
            })
            .build();
        // The last good values hold the same `Arc`s as the fresh cache while both have
        // them, so keeping them costs memory only for entries past their lifetime.
        let last_good = (!stale_if_error.is_zero()).then(|| {
            MokaCache::builder()
                .name(&format!("{name}-last-good"))
                .max_capacity(capacity)
                .weigher(weigher)
                .time_to_live(ttl + stale_if_error)
                .build()
        });
        let failures = MokaCache::builder()
            .max_capacity(capacity)
            .time_to_live(FAILURE_BACKOFF)
            .build();
        Self {
            name,
            metrics,
            fresh,
            last_good,
            failures,
        }
    }

    /// Counts a lookup's outcome, in the metrics and on the request being served.
    fn count(&self, outcome: CacheOutcome) {
        self.metrics.lookup(self.name, outcome);
        request_context::note_cache(outcome);
    }

    async fn get_or_load<L, Fut, E>(
        &self,
        key: K,
        load: L,
        transient: fn(&E) -> bool,
    ) -> Result<Cached<V>, Arc<E>>
    where
        L: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
        E: Send + Sync + 'static,
    {
        if let Some(entry) = self.fresh.get(&key).await {
            self.count(CacheOutcome::Hit);
            return Ok(Cached {
                entry,
                stale: false,
            });
        }
        // The miss path, with the Management API call in it, is boxed: every request's
        // future is moved into a box by actix, and a hit's should not carry a miss's bulk.
        Box::pin(self.load(key, load, transient)).await
    }

    async fn load<L, Fut, E>(
        &self,
        key: K,
        load: L,
        transient: fn(&E) -> bool,
    ) -> Result<Cached<V>, Arc<E>>
    where
        L: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
        E: Send + Sync + 'static,
    {
        if self.failures.contains_key(&key)
            && let Some(entry) = self.last_good(&key).await
        {
            self.count(CacheOutcome::Stale);
            return Ok(Cached { entry, stale: true });
        }
        let last_good = self.last_good.clone();
        let stored_key = key.clone();
        // Set when this caller's loader runs; a caller whose loader did not run got the
        // value (or the error) of a concurrent caller's load: a single-flight waiter.
        let loader_ran = AtomicBool::new(false);
        let loaded = self
            .fresh
            .try_get_with(key.clone(), async {
                loader_ran.store(true, Ordering::Relaxed);
                let entry = Arc::new(Stamped::now(load().await?));
                if let Some(last_good) = last_good {
                    last_good.insert(stored_key, Arc::clone(&entry)).await;
                }
                Ok(entry)
            })
            .await;
        if !loader_ran.load(Ordering::Relaxed) {
            self.metrics.waited(self.name);
        }
        match loaded {
            Ok(entry) => {
                self.count(CacheOutcome::Miss);
                Ok(Cached {
                    entry,
                    stale: false,
                })
            }
            Err(error) if transient(&error) => {
                self.failures.insert(key.clone(), ()).await;
                match self.last_good(&key).await {
                    Some(entry) => {
                        self.count(CacheOutcome::Stale);
                        Ok(Cached { entry, stale: true })
                    }
                    None => {
                        self.count(CacheOutcome::Miss);
                        Err(error)
                    }
                }
            }
            Err(error) => {
                self.count(CacheOutcome::Miss);
                Err(error)
            }
        }
    }

    async fn last_good(&self, key: &K) -> Option<Arc<Stamped<V>>> {
        match &self.last_good {
            Some(last_good) => last_good.get(key).await,
            None => None,
        }
    }

    async fn put(&self, key: K, entry: Arc<Stamped<V>>) {
        if let Some(last_good) = &self.last_good {
            last_good.insert(key.clone(), Arc::clone(&entry)).await;
        }
        self.failures.invalidate(&key).await;
        self.fresh.insert(key, entry).await;
    }

    async fn forget(&self, key: &K) {
        self.fresh.invalidate(key).await;
        if let Some(last_good) = &self.last_good {
            last_good.invalidate(key).await;
        }
        self.failures.invalidate(key).await;
    }
}

impl<V> Stamped<V> {
    pub fn now(value: V) -> Self {
        Self {
            value,
            fetched_at: Instant::now(),
        }
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

impl CustomerOrders {
    /// Sorts newest first (by creation date, then id), drops repeated ids, and renders each
    /// order's JSON.
    pub fn new(mut orders: Vec<Order>) -> Self {
        orders.sort_by(|a, b| b.date_created.cmp(&a.date_created).then(b.id.cmp(&a.id)));
        orders.dedup_by_key(|order| order.id);
        let mut json = Vec::with_capacity(orders.len() * 640);
        let mut spans = Vec::with_capacity(orders.len());
        let mut index = HashMap::with_capacity(orders.len());
        for order in &orders {
            let separator = usize::from(!spans.is_empty());
            let start = json.len() + separator;
            if separator == 1 {
                json.push(b',');
            }
            // Plain strings, numbers and dates into a Vec: this cannot fail, but if it ever
            // did, the order is left out rather than sent half-written.
            if let Err(error) = serde_json::to_writer(&mut json, order) {
                tracing::error!(error = %error, "could not render an order as JSON; left it out");
                json.truncate(start - separator);
                continue;
            }
            index.insert(order.id, spans.len());
            spans.push(start..json.len());
        }
        Self {
            json: Bytes::from(json),
            spans,
            index,
        }
    }

    /// How many orders the list has.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The JSON of the orders at `positions` (newest first), comma-separated: the inside of
    /// a JSON array. Positions past the end are ignored.
    pub fn json_run(&self, positions: Range<usize>) -> &[u8] {
        let end = positions.end.min(self.spans.len());
        if positions.start >= end {
            return &[];
        }
        &self.json[self.spans[positions.start].start..self.spans[end - 1].end]
    }

    /// The JSON of the order with this id, if it is in the list.
    pub fn get(&self, id: OrderId) -> Option<Bytes> {
        let span = self.spans.get(*self.index.get(&id)?)?;
        Some(self.json.slice(span.clone()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::{Value, json};
    use time::OffsetDateTime;
    use time::macros::datetime;

    use super::*;
    use crate::domain::Decimal;

    fn order(id: u64, created: OffsetDateTime, status: &str) -> Order {
        let money = |text| Decimal::parse(text).unwrap();
        Order {
            id: OrderId::new(id).unwrap(),
            customer_id: 7,
            status: status.to_owned(),
            status_id: 2,
            date_created: created,
            date_modified: created,
            date_shipped: None,
            currency_code: "EUR".to_owned(),
            subtotal_ex_tax: money("1.0000"),
            subtotal_inc_tax: money("1.2000"),
            shipping_cost_inc_tax: money("0.0000"),
            total_tax: money("0.2000"),
            total_ex_tax: money("1.0000"),
            total_inc_tax: money("1.2000"),
            discount_amount: money("0.0000"),
            refunded_amount: money("0.0000"),
            items_total: 1,
            items_shipped: 0,
            payment_method: "Card".to_owned(),
            order_is_digital: false,
        }
    }

    fn array(run: &[u8]) -> Value {
        let mut text = b"[".to_vec();
        text.extend_from_slice(run);
        text.push(b']');
        serde_json::from_slice(&text).unwrap()
    }

    #[test]
    fn an_order_list_renders_each_order_once_newest_first_and_serves_pages_as_slices() {
        // Out of order, with a repeated id and a quote that JSON must escape.
        let orders = CustomerOrders::new(vec![
            order(101, datetime!(2024-01-01 0:00 UTC), "Shipped"),
            order(103, datetime!(2024-03-01 0:00 UTC), "Say \"hi\""),
            order(102, datetime!(2024-02-01 0:00 UTC), "Pending"),
            order(103, datetime!(2024-03-01 0:00 UTC), "Say \"hi\""),
        ]);
        let expected: Vec<Value> = [
            order(103, datetime!(2024-03-01 0:00 UTC), "Say \"hi\""),
            order(102, datetime!(2024-02-01 0:00 UTC), "Pending"),
            order(101, datetime!(2024-01-01 0:00 UTC), "Shipped"),
        ]
        .iter()
        .map(|order| serde_json::to_value(order).unwrap())
        .collect();

        assert_eq!(orders.len(), 3);
        assert_eq!(array(orders.json_run(0..3)), json!(expected));
        assert_eq!(array(orders.json_run(1..2)), json!([expected[1]]));
        assert_eq!(array(orders.json_run(2..50)), json!([expected[2]]));
        assert_eq!(orders.json_run(3..53), b"");
        assert_eq!(orders.json_run(2..2), b"");
        for (id, expected) in [103, 102, 101].into_iter().zip(&expected) {
            let json = orders.get(OrderId::new(id).unwrap()).unwrap();
            assert_eq!(&serde_json::from_slice::<Value>(&json).unwrap(), expected);
        }
        assert_eq!(orders.get(OrderId::new(104).unwrap()), None);
    }

    #[test]
    fn an_empty_order_list_has_no_json() {
        let orders = CustomerOrders::new(Vec::new());

        assert!(orders.is_empty());
        assert_eq!(orders.json_run(0..50), b"");
    }
}
