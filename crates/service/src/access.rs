//! Who may see what: the customer's orders come from their own cached order list, and an
//! order id that is not in it is "not found", whoever owns it. So what a customer can make
//! the service ask BigCommerce is bounded by what they own, not by what they ask for.
//! Visibility of metafields is applied here, once, when they are loaded.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use tokio::time::Instant;

use crate::cache::changes::{Change, Revision};
use crate::cache::layer::{Cached, FAILURE_BACKOFF, LoadFailure};
use crate::cache::{Cache, CustomerOrders, OrderMetafields};
use crate::domain::{CustomerId, Metafield, Order, OrderId, StoreKey, VisibilityPolicy};
use crate::fields::FieldDefinitions;
use crate::management::ManagementClient;
use crate::management::error::ManagementError;

/// Where [`Access`] reads what BigCommerce holds: the Management API client in the
/// service, a scripted store in tests.
pub trait OrderSource: Send + Sync + 'static {
    /// When upstream work starting now must be over: one budget per caller request.
    fn deadline(&self) -> Instant;

    /// Every order the customer placed (only theirs, even if the upstream sends others).
    fn customer_orders(
        &self,
        customer: CustomerId,
        deadline: Instant,
    ) -> impl Future<Output = Result<Vec<Order>, ManagementError>>;

    /// Every metafield of the order, whatever its permission set.
    fn order_metafields(
        &self,
        order: OrderId,
        deadline: Instant,
    ) -> impl Future<Output = Result<Vec<Metafield>, ManagementError>>;
}

/// The customer-facing read model over the cache; each call names the store it reads,
/// whose [`OrderSource`] and visibility policy it uses.
#[derive(Clone)]
pub struct Access {
    cache: Cache,
    refresh_interval: Duration,
    /// Told of every change recorded here, to tell the other replicas (`replicas`).
    announcer: Option<Announcer>,
}

/// What is told of every change [`Access::invalidate`] records; it must not wait.
pub type Announcer = Arc<dyn Fn(Change) + Send + Sync>;

/// One store as [`Access`] reads it: the key its cached values are filed under, where its
/// data comes from, and which metafields its customers may see.
pub struct StoreScope<S = crate::mirror::Source> {
    pub key: StoreKey,
    pub source: S,
    pub policy: VisibilityPolicy,
    /// The merchant's field definitions, replaced whole when they change (and the change
    /// recorded as [`Change::FieldDefinitions`], after the swap).
    pub fields: ArcSwap<FieldDefinitions>,
    /// This store's own counts, for its merchant page.
    pub figures: StoreFigures,
}

/// A store's own counts since it was served: reads answered, loads from BigCommerce, and the
/// latest webhook delivery. Relaxed atomics: figures for a page, not for decisions.
#[derive(Debug, Default)]
pub struct StoreFigures {
    reads: std::sync::atomic::AtomicU64,
    loads: std::sync::atomic::AtomicU64,
    /// Unix seconds of the latest authentic webhook delivery; 0: none yet.
    last_webhook: std::sync::atomic::AtomicU64,
}

impl StoreFigures {
    fn note_read(&self) {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn note_load(&self) {
        self.loads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Records that an authentic webhook delivery for the store arrived at `unix_seconds`.
    pub fn note_webhook(&self, unix_seconds: u64) {
        self.last_webhook
            .fetch_max(unix_seconds, std::sync::atomic::Ordering::Relaxed);
    }

    /// Cached reads (hits) and loads from BigCommerce (misses) of orders and metafields.
    pub fn hits_and_misses(&self) -> (u64, u64) {
        let reads = self.reads.load(std::sync::atomic::Ordering::Relaxed);
        let loads = self.loads.load(std::sync::atomic::Ordering::Relaxed);
        (reads.saturating_sub(loads), loads)
    }

    /// Unix seconds of the latest webhook delivery, if any arrived.
    pub fn last_webhook(&self) -> Option<u64> {
        let seen = self.last_webhook.load(std::sync::atomic::Ordering::Relaxed);
        (seen > 0).then_some(seen)
    }
}

/// Why a customer cannot have what they asked for.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// Not an order of this customer (it may not exist, or be someone else's).
    #[error("no such order for this customer")]
    NotFound,
    #[error(transparent)]
    Upstream(Arc<ManagementError>),
}

/// One order of a customer, taken from their own order list; `stale_age` is set when the
/// list was served stale because BigCommerce failed.
#[derive(Debug)]
pub struct OwnedOrder {
    /// The order's JSON, as rendered when the list was loaded (shared, not copied).
    pub json: Bytes,
    pub stale_age: Option<Duration>,
    /// The channel (storefront) it was placed on.
    pub channel_id: u64,
}

/// What one caller request reads with: its upstream budget and the change log's position
/// when it started (every change recorded before shows in what it is served).
#[derive(Clone, Copy)]
struct Read {
    deadline: Instant,
    as_of: Revision,
}

impl Access {
    pub fn new(cache: Cache, refresh_interval: Duration) -> Self {
        Self {
            cache,
            refresh_interval,
            announcer: None,
        }
    }

    /// The same, telling `announcer` of every change it records (not of those another
    /// replica announced: [`Access::invalidate_announced`]).
    #[must_use]
    pub fn announcing(self, announcer: Announcer) -> Self {
        Self {
            announcer: Some(announcer),
            ..self
        }
    }

    /// The caches, for benchmarks and tools that read their size.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Records that something changed at BigCommerce (a webhook said so), or that a store
    /// left. When this returns, no request that starts afterwards is served anything the
    /// change may have made wrong: not the order in any customer's list, not its metafields.
    /// Every other replica is told of it too, when there are others to tell.
    pub fn invalidate(&self, change: Change) {
        self.cache.invalidate(change);
        if let Some(announcer) = &self.announcer {
            announcer(change);
        }
    }

    /// Records a change another replica announced, without announcing it again.
    pub fn invalidate_announced(&self, change: Change) {
        self.cache.invalidate(change);
    }

    /// The customer's orders in `store`, newest first.
    pub async fn orders<S: OrderSource>(
        &self,
        store: &StoreScope<S>,
        customer: CustomerId,
    ) -> Result<Cached<CustomerOrders>, AccessError> {
        self.orders_as_of(store, customer, self.begin(store)).await
    }

    /// The order, if the customer placed it. An id missing from a list older than the
    /// refresh interval reloads the list once, so a just-placed order shows up soon while a
    /// customer probing other ids costs at most one reload per interval.
    pub async fn order<S: OrderSource>(
        &self,
        store: &StoreScope<S>,
        customer: CustomerId,
        id: OrderId,
    ) -> Result<OwnedOrder, AccessError> {
        self.order_as_of(store, customer, id, self.begin(store))
            .await
    }

    /// The visible metafields of one of the customer's orders, as a ready response body.
    /// Ownership is proven from the customer's list as of the same moment as the
    /// metafields: a list older than a change of the order never vouches for them.
    pub async fn metafields<S: OrderSource>(
        &self,
        store: &StoreScope<S>,
        customer: CustomerId,
        id: OrderId,
    ) -> Result<Cached<OrderMetafields>, AccessError> {
        // One budget and one view of the changes for all of this request's work.
        let read = self.begin(store);
        // Ownership first: nobody's metafields are fetched for an order they did not place.
        self.order_as_of(store, customer, id, read).await?;
        store.figures.note_read();
        let load = || async move {
            store.figures.note_load();
            let metafields = store.source.order_metafields(id, read.deadline).await?;
            // Definitions read after the fetch: a change of them recorded after this read
            // began is newer than the value, which is then not served (and reloaded).
            let fields = store.fields.load();
            Ok::<_, ManagementError>(visible_metafields(&store.policy, &fields, metafields))
        };
        self.cache
            .metafields
            .get_or_load((store.key, id), read.as_of, load)
            .await
            .map_err(|error| match *error {
                ManagementError::NotFound { .. } => AccessError::NotFound,
                _ => AccessError::Upstream(error),
            })
    }

    fn begin<S: OrderSource>(&self, store: &StoreScope<S>) -> Read {
        Read {
            deadline: store.source.deadline(),
            as_of: self.cache.as_of(),
        }
    }

    async fn orders_as_of<S: OrderSource>(
        &self,
        store: &StoreScope<S>,
        customer: CustomerId,
        read: Read,
    ) -> Result<Cached<CustomerOrders>, AccessError> {
        store.figures.note_read();
        self.cache
            .orders
            .get_or_load((store.key, customer), read.as_of, || {
                store.figures.note_load();
                load_orders(store, customer, read.deadline)
            })
            .await
            .map_err(AccessError::Upstream)
    }

    async fn order_as_of<S: OrderSource>(
        &self,
        store: &StoreScope<S>,
        customer: CustomerId,
        id: OrderId,
        read: Read,
    ) -> Result<OwnedOrder, AccessError> {
        let orders = self.orders_as_of(store, customer, read).await?;
        if let Some(json) = orders.value().get(id) {
            return Ok(OwnedOrder {
                json,
                stale_age: orders.stale_age(),
                channel_id: orders.value().channel_of(id).unwrap_or(DEFAULT_CHANNEL),
            });
        }
        // Rare, and holding a Management API call: boxed, so that the common case's future
        // stays small. A reload reads BigCommerce after this request started, so it
        // reflects every change recorded before.
        let refreshed = Box::pin(self.cache.refresh_customer_orders(
            (store.key, customer),
            self.refresh_interval,
            || load_orders(store, customer, read.deadline),
        ))
        .await;
        match refreshed {
            None => Err(AccessError::NotFound),
            Some(Ok(orders)) => orders
                .value
                .get(id)
                .map(|json| OwnedOrder {
                    json,
                    stale_age: None,
                    channel_id: orders.value.channel_of(id).unwrap_or(DEFAULT_CHANNEL),
                })
                .ok_or(AccessError::NotFound),
            Some(Err(error)) => Err(AccessError::Upstream(Arc::new(error))),
        }
    }
}

/// A store's default storefront.
const DEFAULT_CHANNEL: u64 = 1;

async fn load_orders<S: OrderSource>(
    store: &StoreScope<S>,
    customer: CustomerId,
    deadline: Instant,
) -> Result<CustomerOrders, ManagementError> {
    let orders = store.source.customer_orders(customer, deadline).await?;
    Ok(CustomerOrders::new(orders))
}

impl OrderSource for ManagementClient {
    fn deadline(&self) -> Instant {
        ManagementClient::deadline(self)
    }

    fn customer_orders(
        &self,
        customer: CustomerId,
        deadline: Instant,
    ) -> impl Future<Output = Result<Vec<Order>, ManagementError>> {
        ManagementClient::customer_orders(self, customer, deadline)
    }

    fn order_metafields(
        &self,
        order: OrderId,
        deadline: Instant,
    ) -> impl Future<Output = Result<Vec<Metafield>, ManagementError>> {
        ManagementClient::order_metafields(self, order, deadline)
    }
}

impl LoadFailure for ManagementError {
    /// A stale answer stands in only when BigCommerce failed (see
    /// [`ManagementError::is_upstream_failure`]), never for a refusal or a "not found".
    fn may_serve_stale(&self) -> bool {
        self.is_upstream_failure()
    }

    /// A spent quota is remembered until it is expected back, at most the usual backoff.
    fn backoff(&self) -> Duration {
        match self {
            ManagementError::RateLimited { retry_after, .. } => (*retry_after).min(FAILURE_BACKOFF),
            _ => FAILURE_BACKOFF,
        }
    }
}

/// Applies the policy first (a definition never makes a metafield visible), then the
/// definitions (hidden ones left out; label, type, position, editable; position order), and
/// renders `{"data":[…]}` once.
fn visible_metafields(
    policy: &VisibilityPolicy,
    fields: &FieldDefinitions,
    mut metafields: Vec<Metafield>,
) -> OrderMetafields {
    metafields.retain(|metafield| policy.allows(metafield));
    let shown = fields.show(&metafields);
    #[derive(serde::Serialize)]
    struct Body<'a> {
        data: &'a [crate::fields::ShownMetafield<'a>],
    }
    // Serialising plain strings, numbers and dates into a Vec cannot fail.
    let body =
        serde_json::to_vec(&Body { data: &shown }).unwrap_or_else(|_| b"{\"data\":[]}".to_vec());
    OrderMetafields {
        body: body.into(),
        count: shown.len(),
    }
}

#[cfg(test)]
mod tests;
