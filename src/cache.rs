//! The in-process caches: each customer's order list and each order's visible metafields,
//! bounded in size and lifetime. Every read goes through a get-or-load call, so a caller
//! cannot forget to fill the cache and concurrent misses for one key share a single load.
//! It knows nothing of HTTP or of BigCommerce: loaders are passed in.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache as MokaCache;
use moka::ops::compute::{CompResult, Op};
use tokio::time::Instant;

use crate::config::CacheSettings;
use crate::domain::{CustomerId, Order, OrderId};

/// Both caches, cheap to clone.
#[derive(Clone)]
pub struct Cache {
    orders: MokaCache<CustomerId, Arc<CustomerOrders>>,
    metafields: MokaCache<OrderId, Arc<OrderMetafields>>,
}

/// One customer's orders, newest first, as fetched at `fetched_at`.
#[derive(Debug)]
pub struct CustomerOrders {
    orders: Vec<Order>,
    index: HashMap<OrderId, usize>,
    fetched_at: Instant,
}

/// One order's metafields as a customer may see them, kept as the response body
/// `{"data":[…]}` already serialised, so a cache hit costs no serialisation.
#[derive(Debug)]
pub struct OrderMetafields {
    pub body: bytes::Bytes,
    pub count: usize,
}

impl Cache {
    pub fn new(settings: &CacheSettings) -> Self {
        let orders = MokaCache::builder()
            .name("customer-orders")
            .max_capacity(settings.max_orders)
            // Weighed in orders, so the bound holds however many orders one customer has.
            .weigher(|_, value: &Arc<CustomerOrders>| {
                u32::try_from(value.orders.len())
                    .unwrap_or(u32::MAX)
                    .saturating_add(1)
            })
            .time_to_live(settings.orders_ttl)
            .build();
        let metafields = MokaCache::builder()
            .name("order-metafields")
            .max_capacity(settings.metafields_max_bytes)
            // Weighed in bytes: a metafield value may be up to 64 KiB.
            .weigher(|_, value: &Arc<OrderMetafields>| {
                u32::try_from(value.body.len())
                    .unwrap_or(u32::MAX)
                    .saturating_add(64)
            })
            .time_to_live(settings.metafields_ttl)
            .build();
        Self { orders, metafields }
    }

    /// The customer's cached orders, loading them once for all concurrent callers on a miss.
    pub async fn customer_orders<F, E>(
        &self,
        customer: CustomerId,
        load: F,
    ) -> Result<Arc<CustomerOrders>, Arc<E>>
    where
        F: Future<Output = Result<Vec<Order>, E>>,
        E: Send + Sync + 'static,
    {
        self.orders
            .try_get_with(customer, async move {
                load.await
                    .map(|orders| Arc::new(CustomerOrders::new(orders)))
            })
            .await
    }

    /// Reloads the customer's orders unless the cached list is younger than `min_age`;
    /// concurrent calls for one customer are serialised, so a burst reloads at most once.
    pub async fn refresh_customer_orders<F, Fut, E>(
        &self,
        customer: CustomerId,
        min_age: Duration,
        load: F,
    ) -> Result<Arc<CustomerOrders>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<Order>, E>>,
        E: Send + Sync + 'static,
    {
        let result = self
            .orders
            .entry(customer)
            .and_try_compute_with(|entry| async move {
                match entry {
                    Some(entry) if entry.value().fetched_at.elapsed() < min_age => Ok(Op::Nop),
                    _ => load()
                        .await
                        .map(|orders| Op::Put(Arc::new(CustomerOrders::new(orders)))),
                }
            })
            .await?;
        Ok(match result {
            CompResult::Inserted(entry)
            | CompResult::ReplacedWith(entry)
            | CompResult::Unchanged(entry) => entry.into_value(),
            // Nop on an absent entry cannot happen: an absent entry always loads.
            CompResult::StillNone(_) | CompResult::Removed(_) => {
                Arc::new(CustomerOrders::new(Vec::new()))
            }
        })
    }

    /// The order's visible metafields, loading them once for all concurrent callers on a miss.
    pub async fn order_metafields<F, E>(
        &self,
        order: OrderId,
        load: F,
    ) -> Result<Arc<OrderMetafields>, Arc<E>>
    where
        F: Future<Output = Result<OrderMetafields, E>>,
        E: Send + Sync + 'static,
    {
        self.metafields
            .try_get_with(order, async move { load.await.map(Arc::new) })
            .await
    }

    /// Forgets a customer's order list (their next request reloads it).
    pub async fn forget_customer_orders(&self, customer: CustomerId) {
        self.orders.invalidate(&customer).await;
    }

    /// Forgets an order's metafields.
    pub async fn forget_order_metafields(&self, order: OrderId) {
        self.metafields.invalidate(&order).await;
    }

    /// Entries and total weight held now, per cache (after pending maintenance).
    pub async fn usage(&self) -> CacheUsage {
        self.orders.run_pending_tasks().await;
        self.metafields.run_pending_tasks().await;
        CacheUsage {
            customers: self.orders.entry_count(),
            orders: self.orders.weighted_size(),
            orders_entries_with_metafields: self.metafields.entry_count(),
            metafield_bytes: self.metafields.weighted_size(),
        }
    }
}

/// What the caches hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheUsage {
    pub customers: u64,
    /// Weighted size of the order lists (orders plus one per customer).
    pub orders: u64,
    pub orders_entries_with_metafields: u64,
    pub metafield_bytes: u64,
}

impl CustomerOrders {
    /// Sorts newest first (by creation date, then id) and indexes by id.
    pub fn new(mut orders: Vec<Order>) -> Self {
        orders.sort_by(|a, b| b.date_created.cmp(&a.date_created).then(b.id.cmp(&a.id)));
        orders.dedup_by_key(|order| order.id);
        let index = orders
            .iter()
            .enumerate()
            .map(|(position, order)| (order.id, position))
            .collect();
        Self {
            orders,
            index,
            fetched_at: Instant::now(),
        }
    }

    /// All orders, newest first.
    pub fn all(&self) -> &[Order] {
        &self.orders
    }

    /// The order with this id, if it is in the list.
    pub fn get(&self, id: OrderId) -> Option<&Order> {
        self.index
            .get(&id)
            .and_then(|&position| self.orders.get(position))
    }
}
