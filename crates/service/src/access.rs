//! Who may see what: the customer's orders come from their own cached order list, and an
//! order id that is not in it is "not found", whoever owns it. So what a customer can make
//! the service ask BigCommerce is bounded by what they own, not by what they ask for.
//! Visibility of metafields is applied here, once, when they are loaded.

use std::sync::Arc;

use bytes::Bytes;
use std::time::Duration;

use tokio::time::Instant;

use crate::cache::{Cache, Cached, CustomerOrders, OrderMetafields};
use crate::domain::{CustomerId, Metafield, OrderId, VisibilityPolicy};
use crate::management::ManagementClient;
use crate::management::error::ManagementError;

/// The customer-facing read model over the cache and the Management API.
#[derive(Clone)]
pub struct Access {
    management: ManagementClient,
    cache: Cache,
    policy: Arc<VisibilityPolicy>,
    refresh_interval: Duration,
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
}

impl Access {
    pub fn new(
        management: ManagementClient,
        cache: Cache,
        policy: VisibilityPolicy,
        refresh_interval: Duration,
    ) -> Self {
        Self {
            management,
            cache,
            policy: Arc::new(policy),
            refresh_interval,
        }
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// The customer's orders, newest first.
    pub async fn orders(
        &self,
        customer: CustomerId,
    ) -> Result<Cached<CustomerOrders>, AccessError> {
        self.orders_within(customer, self.management.deadline())
            .await
    }

    async fn orders_within(
        &self,
        customer: CustomerId,
        deadline: Instant,
    ) -> Result<Cached<CustomerOrders>, AccessError> {
        self.cache
            .customer_orders(
                customer,
                || self.management.customer_orders(customer, deadline),
                ManagementError::is_transient,
            )
            .await
            .map_err(AccessError::Upstream)
    }

    /// The order, if the customer placed it. An id missing from a list older than the
    /// refresh interval reloads the list once, so a just-placed order shows up soon while a
    /// customer probing other ids costs at most one reload per interval.
    pub async fn order(
        &self,
        customer: CustomerId,
        id: OrderId,
    ) -> Result<OwnedOrder, AccessError> {
        self.order_within(customer, id, self.management.deadline())
            .await
    }

    async fn order_within(
        &self,
        customer: CustomerId,
        id: OrderId,
        deadline: Instant,
    ) -> Result<OwnedOrder, AccessError> {
        let orders = self.orders_within(customer, deadline).await?;
        if let Some(json) = orders.value().get(id) {
            return Ok(OwnedOrder {
                json,
                stale_age: orders.stale_age(),
            });
        }
        // Rare, and holding a Management API call: boxed, so that the common case's future
        // stays small.
        let refreshed = Box::pin(self.cache.refresh_customer_orders(
            customer,
            self.refresh_interval,
            || self.management.customer_orders(customer, deadline),
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
                })
                .ok_or(AccessError::NotFound),
            Some(Err(error)) => Err(AccessError::Upstream(Arc::new(error))),
        }
    }

    /// The visible metafields of one of the customer's orders, as a ready response body.
    pub async fn metafields(
        &self,
        customer: CustomerId,
        id: OrderId,
    ) -> Result<Cached<OrderMetafields>, AccessError> {
        // One budget for all of this request's upstream work.
        let deadline = self.management.deadline();
        // Ownership first: nobody's metafields are fetched for an order they did not place.
        self.order_within(customer, id, deadline).await?;
        let load = || async move {
            let metafields = self.management.order_metafields(id, deadline).await?;
            Ok::<_, ManagementError>(visible_metafields(&self.policy, metafields))
        };
        self.cache
            .order_metafields(id, load, ManagementError::is_transient)
            .await
            .map_err(|error| match *error {
                ManagementError::NotFound { .. } => AccessError::NotFound,
                _ => AccessError::Upstream(error),
            })
    }
}

/// Applies the policy and renders `{"data":[…]}` once, in BigCommerce's order (by id).
fn visible_metafields(
    policy: &VisibilityPolicy,
    mut metafields: Vec<Metafield>,
) -> OrderMetafields {
    metafields.retain(|metafield| policy.allows(metafield));
    metafields.sort_by_key(|metafield| metafield.id);
    #[derive(serde::Serialize)]
    struct Body<'a> {
        data: &'a [Metafield],
    }
    // Serialising plain strings, numbers and dates into a Vec cannot fail.
    let body = serde_json::to_vec(&Body { data: &metafields })
        .unwrap_or_else(|_| b"{\"data\":[]}".to_vec());
    OrderMetafields {
        body: body.into(),
        count: metafields.len(),
    }
}
