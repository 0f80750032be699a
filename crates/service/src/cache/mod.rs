//! The in-process caches: each customer's order list and each order's visible metafields,
//! bounded in size and lifetime, over a generic [`layer::Layer`] (single-flight loads,
//! stale-if-error, failure backoff). Webhooks record what changed in one [`changes`] log;
//! no cached value is served to a request that started after a change that may have made
//! it wrong. It knows nothing of HTTP or of BigCommerce: loaders are passed in.

pub mod changes;
pub mod layer;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use moka::sync::Cache as MokaCache;
use tokio::time::Instant;

use crate::cache::changes::{CHANGE_LOG_CAPACITY, Change, ChangeLog, Revision};
use crate::cache::layer::{Layer, LayerSettings, Resource, Stamped};
use crate::config::CacheSettings;
use crate::domain::{CustomerId, Order, OrderId, StoreKey};
use crate::metrics::CacheMetrics;

/// Every cached resource and the change log they are checked against; cheap to clone.
#[derive(Clone)]
pub struct Cache {
    changes: Arc<ChangeLog>,
    /// Each customer's orders, by store and customer.
    pub orders: Layer<CustomerOrders>,
    /// Each order's visible metafields, by store and order.
    pub metafields: Layer<OrderMetafields>,
    /// When each customer's list was last reloaded because of an unknown order id.
    refreshes: MokaCache<CustomerKey, Instant>,
}

/// A customer of one store: customer ids repeat across stores.
pub type CustomerKey = (StoreKey, CustomerId);
/// An order of one store: order ids repeat across stores.
pub type OrderKey = (StoreKey, OrderId);

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
    /// Each order's channel (storefront), by position in `spans`.
    channels: Vec<u64>,
}

/// One order's metafields as a customer may see them, kept as the response body
/// `{"data":[…]}` already serialised, so a cache hit costs no serialisation.
#[derive(Debug)]
pub struct OrderMetafields {
    pub body: Bytes,
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

impl Cache {
    /// Empty caches sized by `settings`, counting into `metrics`.
    pub fn new(settings: &CacheSettings, metrics: CacheMetrics) -> Self {
        let changes = Arc::new(ChangeLog::new(CHANGE_LOG_CAPACITY));
        let layer = |capacity, ttl| LayerSettings {
            capacity,
            ttl,
            stale_if_error: settings.stale_if_error,
        };
        let orders = Layer::new(
            layer(settings.max_orders, settings.orders_ttl),
            Arc::clone(&changes),
            metrics.clone(),
        );
        let metafields = Layer::new(
            layer(settings.metafields_max_bytes, settings.metafields_ttl),
            Arc::clone(&changes),
            metrics,
        );
        let refreshes = MokaCache::builder()
            .name("order-list-refreshes")
            .support_invalidation_closures()
            .max_capacity(settings.max_orders)
            .time_to_live(
                settings
                    .orders_refresh_interval
                    .max(Duration::from_millis(1)),
            )
            .build();
        Self {
            changes,
            orders,
            metafields,
            refreshes,
        }
    }

    /// The change log's position now. A request takes it once, when it starts, and reads
    /// every cached value as of it: each change recorded before is reflected in what it is
    /// served.
    pub fn as_of(&self) -> Revision {
        self.changes.head()
    }

    /// Records that something changed at BigCommerce. When this returns, no request that
    /// starts afterwards is served a value the change may have made wrong: the values it
    /// names are dropped now, any other (a customer's list holding the order, a load under
    /// way) when next read.
    pub fn invalidate(&self, change: Change) {
        self.changes.record(change);
        self.orders.apply(&change);
        self.metafields.apply(&change);
        if let Change::Store(store) = change {
            // Nothing of the store can be served any more (every value of it is affected by
            // the change just recorded); this frees the memory now rather than at expiry.
            self.orders.forget_where(move |(key, _)| *key == store);
            self.metafields.forget_where(move |(key, _)| *key == store);
            self.refreshes
                .invalidate_entries_if(move |(key, _), _| *key == store)
                .ok();
        }
        if let Change::FieldDefinitions(store) = change {
            // Every metafield answer of the store was rendered with the old definitions.
            self.metafields.forget_where(move |(key, _)| *key == store);
        }
    }

    /// Reloads the customer's orders unless they were loaded, or reloaded, less than the
    /// refresh interval ago; `None` when no reload was due. A burst of unknown order ids
    /// therefore costs at most one reload per interval, even when reloads fail.
    pub async fn refresh_customer_orders<L, Fut, E>(
        &self,
        customer: CustomerKey,
        interval: Duration,
        load: L,
    ) -> Option<Result<Arc<Stamped<CustomerOrders>>, E>>
    where
        L: FnOnce() -> Fut,
        Fut: Future<Output = Result<CustomerOrders, E>>,
    {
        if self.orders.loaded_within(&customer, interval) {
            return None;
        }
        let gate = self
            .refreshes
            .entry(customer)
            .or_insert_with_if(Instant::now, |last| last.elapsed() >= interval);
        if !gate.is_fresh() {
            return None;
        }
        Some(self.orders.reload(customer, load).await)
    }

    /// Entries and total weight held now, per cache (after pending maintenance, so that
    /// expired entries are gone and counted as evictions).
    pub fn usage(&self) -> CacheUsage {
        let (customers, orders) = self.orders.usage();
        let (orders_with_metafields, metafield_bytes) = self.metafields.usage();
        CacheUsage {
            customers,
            orders,
            orders_with_metafields,
            metafield_bytes,
        }
    }
}

impl Resource for CustomerOrders {
    type Key = CustomerKey;
    const NAME: &'static str = "customer-orders";

    /// Weighed in orders, so the bound holds however many orders one customer has.
    fn weight(&self) -> u32 {
        u32::try_from(self.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }

    /// A list is wrong after a change of any order it holds (its status, its owner, its
    /// deletion). A change of an order it does not hold, possibly now this customer's, is
    /// found by the reload an unknown order id triggers.
    fn affected_by(&self, (store, customer): &CustomerKey, change: &Change) -> bool {
        match change {
            Change::Order(changed, order) => changed == store && self.index.contains_key(order),
            Change::CustomerOrders(changed, gained) => changed == store && gained == customer,
            // The channel-orders setting filters a list per request; the list stays right.
            Change::OrderMetafields(..) | Change::FieldDefinitions(_) | Change::Settings(_) => {
                false
            }
            Change::Store(changed) => changed == store,
        }
    }

    /// A webhook's change names an order, never a customer: lists holding it are found when
    /// read. A mirror's names the customer who gained an order.
    fn named_by(change: &Change) -> Option<CustomerKey> {
        match *change {
            Change::CustomerOrders(store, customer) => Some((store, customer)),
            _ => None,
        }
    }
}

impl Resource for OrderMetafields {
    type Key = OrderKey;
    const NAME: &'static str = "order-metafields";

    /// Weighed in bytes: a metafield value may be up to 64 KiB.
    fn weight(&self) -> u32 {
        u32::try_from(self.body.len())
            .unwrap_or(u32::MAX)
            .saturating_add(64)
    }

    fn affected_by(&self, key: &OrderKey, change: &Change) -> bool {
        match change {
            Change::Store(store) | Change::FieldDefinitions(store) => *store == key.0,
            _ => Self::named_by(change) == Some(*key),
        }
    }

    fn named_by(change: &Change) -> Option<OrderKey> {
        match *change {
            Change::Order(store, order) | Change::OrderMetafields(store, order) => {
                Some((store, order))
            }
            Change::Store(_)
            | Change::FieldDefinitions(_)
            | Change::Settings(_)
            | Change::CustomerOrders(..) => None,
        }
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
        let mut channels = Vec::with_capacity(orders.len());
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
            channels.push(order.channel_id);
        }
        Self {
            json: Bytes::from(json),
            spans,
            index,
            channels,
        }
    }

    /// The orders of one channel only, as a list of their own (the store's channel-orders
    /// setting): the same JSON, copied.
    pub fn in_channel(&self, channel: u64) -> Self {
        let mut json = Vec::new();
        let mut spans = Vec::new();
        let mut index = HashMap::new();
        let mut channels = Vec::new();
        // Each kept order's new position, by its old one.
        let mut moved = vec![None; self.spans.len()];
        for (old, span) in self.spans.iter().enumerate() {
            if self.channels[old] != channel {
                continue;
            }
            if !spans.is_empty() {
                json.push(b',');
            }
            let start = json.len();
            json.extend_from_slice(&self.json[span.clone()]);
            moved[old] = Some(spans.len());
            spans.push(start..json.len());
            channels.push(channel);
        }
        for (id, old) in &self.index {
            if let Some(new) = moved.get(*old).copied().flatten() {
                index.insert(*id, new);
            }
        }
        Self {
            json: Bytes::from(json),
            spans,
            index,
            channels,
        }
    }

    /// The channel of the order with this id, if it is in the list.
    pub fn channel_of(&self, id: OrderId) -> Option<u64> {
        self.channels.get(*self.index.get(&id)?).copied()
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
            channel_id: 1,
        }
    }

    fn array(run: &[u8]) -> Value {
        let mut text = b"[".to_vec();
        text.extend_from_slice(run);
        text.push(b']');
        serde_json::from_slice(&text).unwrap()
    }

    #[test]
    fn a_channels_list_keeps_its_orders_newest_first_and_finds_only_them() {
        let mut kids = order(2, datetime!(2024-03-02 10:00 UTC), "Shipped");
        kids.channel_id = 2;
        let mut kids_older = order(4, datetime!(2024-01-02 10:00 UTC), "Shipped");
        kids_older.channel_id = 2;
        let list = CustomerOrders::new(vec![
            order(1, datetime!(2024-03-01 10:00 UTC), "Shipped"),
            kids,
            order(3, datetime!(2024-03-03 10:00 UTC), "Shipped"),
            kids_older,
        ]);

        let only_kids = list.in_channel(2);
        let nothing = list.in_channel(9);

        let ids: Vec<Value> = array(only_kids.json_run(0..10))
            .as_array()
            .unwrap()
            .iter()
            .map(|order| order["id"].clone())
            .collect();
        assert_eq!(ids, [json!(2), json!(4)]);
        assert_eq!(only_kids.len(), 2);
        assert_eq!(array(only_kids.json_run(1..2))[0]["id"], 4);
        assert_eq!(
            only_kids.get(OrderId::new(4).unwrap()),
            list.get(OrderId::new(4).unwrap())
        );
        assert_eq!(only_kids.get(OrderId::new(1).unwrap()), None);
        assert_eq!(list.channel_of(OrderId::new(2).unwrap()), Some(2));
        assert_eq!(list.channel_of(OrderId::new(3).unwrap()), Some(1));
        assert!(nothing.is_empty());
        assert_eq!(nothing.json_run(0..10), b"");
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
