//! The Management API client: the only code in the crate that talks to BigCommerce.
//! One method per upstream operation returns domain values; page walking, `429` waits,
//! retries with backoff and the per-call time budget all live behind those methods.
//! It must not know about actix or this service's HTTP statuses.

pub mod body;
pub mod contact;
pub mod error;
pub mod hooks;
pub mod login;
pub mod pagination;
pub mod quota;
pub mod rate_limit;
pub mod scripts;
mod send;
pub mod sites;
pub mod storefront;
pub mod sync;
pub mod wire;
pub mod writes;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue, USER_AGENT};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use url::Url;

use crate::config::{StoreSettings, UpstreamSettings};
use crate::domain::{CustomerId, Metafield, Order, OrderId, PermissionSet};
use crate::management::body::LargeBodies;
use crate::management::contact::{Contact, ContactLog};
use crate::management::error::{ManagementError, Operation};
use crate::management::pagination::{PAGE_LIMIT, next_v2_page, next_v3_page};
use crate::management::quota::{QuotaPacer, QuotaSnapshot, Spenders};
use crate::management::rate_limit::RetryPolicy;
use crate::management::wire::WireMetafieldPage;
use crate::metrics::UpstreamMetrics;

/// The `User-Agent` sent upstream: the service's name and version.
pub const USER_AGENT_VALUE: &str = concat!("order-metafields/", env!("CARGO_PKG_VERSION"));

/// The most pages the merchant page's discovery reads (of `PAGE_LIMIT` metafields each).
pub const DISCOVERY_MAX_PAGES: u32 = 4;
/// How many metafields of one key the merchant page's look-up reads (one page).
pub const KEY_PERMISSIONS_LIMIT: u32 = 50;
/// The most metafield pages read for one order (BigCommerce allows 250 metafields per
/// order per app, so a handful of pages covers every app on a store).
const METAFIELDS_MAX_PAGES: u32 = 20;

/// A client for one store's Management API, cheap to clone. Every store's client shares one
/// connection pool (its [`ManagementApi`]); each has its own access token, quota pacer and
/// contact log, because each store has its own quota.
#[derive(Clone)]
pub struct ManagementClient {
    api: ManagementApi,
    store_base: Url,
    /// The store's access token, marked sensitive so that no Debug output prints it.
    token: Option<HeaderValue>,
    pacer: Arc<QuotaPacer>,
    contacts: Arc<ContactLog>,
    /// The store's hash, for its GraphQL Storefront API's URL.
    store_hash: String,
    /// `BC_GRAPHQL_URL`, when configured.
    graphql_template: Option<String>,
    /// Each channel's GraphQL endpoint as its site says (app mode's `sites` learns them);
    /// they win over the template.
    graphql_sites: Arc<ArcSwap<HashMap<u64, Url>>>,
}

/// What every store's client shares: the pooled HTTP client, the Management API's base URL,
/// the upstream settings and the metrics. Makes one [`ManagementClient`] per store.
#[derive(Clone)]
pub struct ManagementApi {
    http: reqwest::Client,
    api_base: Url,
    pub(crate) retry: RetryPolicy,
    request_timeout: Duration,
    orders_max_pages: u32,
    quota_share: f64,
    queue_max: usize,
    metrics: UpstreamMetrics,
    large_bodies: LargeBodies,
    /// How many replicas spend each store's quota.
    spenders: Spenders,
    graphql_template: Option<String>,
}

impl ManagementApi {
    /// Builds the pooled client for the Management API at `api_base`. Fails only when the
    /// TLS backend cannot start.
    pub fn new(api_base: &Url, upstream: &UpstreamSettings) -> Result<Self, reqwest::Error> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(upstream.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            http,
            api_base: api_base.clone(),
            retry: RetryPolicy::new(upstream.max_retries, upstream.retry_budget),
            request_timeout: upstream.request_timeout,
            orders_max_pages: upstream.orders_max_pages,
            quota_share: upstream.quota_share,
            queue_max: upstream.queue_max,
            metrics: UpstreamMetrics::new(),
            large_bodies: LargeBodies::new(),
            spenders: Spenders::new(),
            graphql_template: None,
        })
    }

    /// The same API, recording its calls into `metrics` (one built by [`new`] records into
    /// handles no registry renders).
    ///
    /// [`new`]: ManagementApi::new
    pub fn with_metrics(self, metrics: UpstreamMetrics) -> Self {
        Self { metrics, ..self }
    }

    /// The same API, sharing each store's quota with the replicas `spenders` counts.
    pub fn with_spenders(self, spenders: Spenders) -> Self {
        Self { spenders, ..self }
    }

    /// The same API, whose stores' GraphQL Storefront API is at `template` with
    /// `{store_hash}` and `{channel_id}` replaced (`BC_GRAPHQL_URL`).
    pub fn with_graphql_url(self, template: &str) -> Self {
        Self {
            graphql_template: Some(template.to_owned()),
            ..self
        }
    }

    /// The client of one store, with its own quota pacer.
    pub fn store(&self, store_hash: &str, access_token: &SecretString) -> ManagementClient {
        // A token with characters a header cannot carry is left out; BigCommerce then
        // answers 401, which is logged as a misconfigured access token.
        let token = HeaderValue::from_str(access_token.expose_secret())
            .ok()
            .map(|mut token| {
                token.set_sensitive(true);
                token
            });
        ManagementClient {
            api: self.clone(),
            store_base: store_base_url(&self.api_base, store_hash),
            token,
            pacer: Arc::new(
                QuotaPacer::new(self.quota_share, self.queue_max)
                    .with_spenders(self.spenders.clone()),
            ),
            contacts: Arc::default(),
            store_hash: store_hash.to_owned(),
            graphql_template: self.graphql_template.clone(),
            graphql_sites: Arc::default(),
        }
    }
}

impl ManagementClient {
    /// The client of single-store mode's store, on a pool of its own.
    pub fn new(store: &StoreSettings, upstream: &UpstreamSettings) -> Result<Self, reqwest::Error> {
        Ok(ManagementApi::new(&store.api_base_url, upstream)?
            .store(&store.store_hash, &store.access_token))
    }

    /// The same client, recording its calls into `metrics`.
    pub fn with_metrics(self, metrics: UpstreamMetrics) -> Self {
        Self {
            api: self.api.with_metrics(metrics),
            ..self
        }
    }

    /// When upstream work started now must be over: the retry budget (`UPSTREAM_RETRY_BUDGET`)
    /// from now. A caller request takes one deadline and passes it to every operation it
    /// chains, so all of its upstream work, waits included, fits in one budget.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.api.retry.budget
    }

    /// Whether BigCommerce refuses this client's access token (`401`/`403` to
    /// `GET /v2/orders?limit=1`, or `404`: no such store), as it does once the app is
    /// uninstalled: `Ok(true)`.
    /// `Ok(false)` when the token still opens the store; an outage, a timeout or a spent
    /// quota proves neither, and is the error.
    pub async fn token_refused(&self, deadline: Instant) -> Result<bool, ManagementError> {
        let mut url = self.url("v2/orders");
        url.query_pairs_mut().append_pair("limit", "1");
        match self.get(url, Operation::CheckToken, deadline).await {
            Ok(_) => Ok(false),
            // Refused, or the store is gone altogether.
            Err(
                ManagementError::Rejected {
                    status: 401 | 403, ..
                }
                | ManagementError::NotFound { .. },
            ) => Ok(true),
            // Another 4xx: BigCommerce read the token and answered the request.
            Err(ManagementError::Rejected { .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Every order the customer placed, newest id first, as listed by
    /// `GET /v2/orders?customer_id=…&sort=id:desc`, so that a customer with more than
    /// `ORDERS_MAX_PAGES` pages misses their oldest orders, not their newest. Orders of anyone
    /// else, and deleted (archived) orders, are dropped even if the API returned them.
    pub async fn customer_orders(
        &self,
        customer: CustomerId,
        deadline: Instant,
    ) -> Result<Vec<Order>, ManagementError> {
        let operation = Operation::CustomerOrders;
        let mut orders = Vec::new();
        let mut previous_first_id = None;
        let mut page = 1;
        for _ in 0..self.api.orders_max_pages {
            let mut url = self.url("v2/orders");
            url.query_pairs_mut()
                .append_pair("customer_id", &customer.to_string())
                .append_pair("limit", &PAGE_LIMIT.to_string())
                .append_pair("page", &page.to_string())
                .append_pair("sort", "id:desc");
            let found = self
                .order_page(url, operation, deadline, |order| {
                    let theirs = order.customer_id == customer.get();
                    if !theirs {
                        tracing::warn!(operation = %operation, "upstream returned an order of another customer; dropped");
                    }
                    theirs
                })
                .await?;
            if found.first_id.is_some() && found.first_id == previous_first_id {
                tracing::warn!(operation = %operation, page, "upstream repeated a page; it ignores paging, stopping here");
                break;
            }
            previous_first_id = found.first_id;
            orders.extend(found.orders);
            match next_v2_page(page, found.received) {
                Some(next) => page = next,
                None => return Ok(orders),
            }
        }
        tracing::warn!(
            operation = %operation,
            max_pages = self.api.orders_max_pages,
            "customer has more orders than ORDERS_MAX_PAGES pages; the rest are not shown"
        );
        Ok(orders)
    }

    /// Every metafield of the order (all permission sets; the caller applies the
    /// visibility policy), from `GET /v3/orders/{id}/metafields`.
    pub async fn order_metafields(
        &self,
        order: OrderId,
        deadline: Instant,
    ) -> Result<Vec<Metafield>, ManagementError> {
        let operation = Operation::OrderMetafields;
        let mut metafields = Vec::new();
        let mut page = 1;
        for _ in 0..METAFIELDS_MAX_PAGES {
            let mut url = self.url(&format!("v3/orders/{order}/metafields"));
            url.query_pairs_mut()
                .append_pair("limit", &PAGE_LIMIT.to_string())
                .append_pair("page", &page.to_string());
            let answer = self.get(url, operation, deadline).await?;
            if answer.status == StatusCode::NO_CONTENT || answer.body.is_empty() {
                return Ok(metafields);
            }
            let wire: WireMetafieldPage = decode(&answer.body.bytes, operation)?;
            let received = wire.data.len();
            let pagination = wire.meta.and_then(|meta| meta.pagination);
            for metafield in wire.data {
                if !metafield.belongs_to(order) {
                    tracing::warn!(operation = %operation, "upstream returned a metafield of another resource; dropped");
                    continue;
                }
                let metafield = metafield
                    .into_metafield()
                    .map_err(|reason| ManagementError::InvalidResponse { operation, reason })?;
                metafields.push(metafield);
            }
            match next_v3_page(page, received, pagination.as_ref()) {
                Some(next) => page = next,
                None => return Ok(metafields),
            }
        }
        Ok(metafields)
    }

    /// The permission sets a metafield key carries on the store's orders, from one page
    /// (at most [`KEY_PERMISSIONS_LIMIT`]) of the batch `GET /v3/orders/metafields` filtered
    /// by namespace and key: one request, whatever the store holds. The merchant page asks
    /// it before saving a definition that would show the key.
    pub async fn key_permission_sets(
        &self,
        namespace: &str,
        key: &str,
        deadline: Instant,
    ) -> Result<Vec<PermissionSet>, ManagementError> {
        let operation = Operation::KeyPermissions;
        let mut url = self.url("v3/orders/metafields");
        url.query_pairs_mut()
            .append_pair("namespace", namespace)
            .append_pair("key", key)
            .append_pair("limit", &KEY_PERMISSIONS_LIMIT.to_string());
        let answer = self.get(url, operation, deadline).await?;
        if answer.status == StatusCode::NO_CONTENT || answer.body.is_empty() {
            return Ok(Vec::new());
        }
        let wire: WireMetafieldPage = decode(&answer.body.bytes, operation)?;
        let mut sets = Vec::new();
        for metafield in wire.data {
            // Only the exact key counts (an upstream that ignored the filter says nothing).
            if metafield.namespace != namespace || metafield.key != key {
                continue;
            }
            let metafield = metafield
                .into_metafield()
                .map_err(|reason| ManagementError::InvalidResponse { operation, reason })?;
            if !sets.contains(&metafield.permission_set) {
                sets.push(metafield.permission_set);
            }
        }
        Ok(sets)
    }

    /// The metafields of the store's orders modified on or after `since` (`YYYY-MM-DD`),
    /// each with its order id, from the batch `GET /v3/orders/metafields` with
    /// `date_modified:min`, following `meta.cursor_pagination` for at most
    /// [`DISCOVERY_MAX_PAGES`] pages of [`PAGE_LIMIT`]: a bounded number of requests
    /// whatever the store holds. The flag says whether every page was read.
    pub async fn recent_order_metafields(
        &self,
        since: &str,
        deadline: Instant,
    ) -> Result<(Vec<(Metafield, Option<u64>)>, bool), ManagementError> {
        let operation = Operation::DiscoverMetafields;
        let mut found = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..DISCOVERY_MAX_PAGES {
            let (page, next) = self
                .batch_metafield_page(after.as_deref(), Some(since), operation, deadline)
                .await?;
            found.extend(
                page.into_iter()
                    .map(|(order, metafield)| (metafield, order)),
            );
            match next {
                Some(cursor) => after = Some(cursor),
                None => return Ok((found, true)),
            }
        }
        Ok((found, false))
    }

    /// Checks cheaply that the store answers the access token: `GET /v2/orders/count`
    /// (one small object, within an Orders read-only token's scopes), paced like every
    /// call, tried once and never waiting out a `429` (the `429` itself shows the token
    /// works), within one request timeout.
    pub async fn probe(&self) -> Result<(), ManagementError> {
        let deadline = Instant::now() + self.api.request_timeout;
        self.get(
            self.url("v2/orders/count"),
            Operation::ReadinessProbe,
            deadline,
        )
        .await
        .map(|_| ())
    }

    /// The latest answer (or failure to get one) of any call, probes included.
    pub fn last_contact(&self) -> Option<Contact> {
        self.contacts.latest()
    }

    /// The store's quota as last reported.
    pub fn quota(&self) -> QuotaSnapshot {
        self.pacer.snapshot()
    }

    pub(crate) fn url(&self, path: &str) -> Url {
        let mut url = self.store_base.clone();
        url.path_segments_mut()
            .map(|mut segments| {
                segments.pop_if_empty().extend(path.split('/'));
            })
            .ok();
        url
    }
}

/// `{base}/stores/{hash}/`, whatever path the base URL already has.
fn store_base_url(base: &Url, store_hash: &str) -> Url {
    let mut url = base.clone();
    url.path_segments_mut()
        .map(|mut segments| {
            segments.pop_if_empty().extend(["stores", store_hash, ""]);
        })
        .ok();
    url
}

pub(crate) fn decode<T: DeserializeOwned>(
    body: &[u8],
    operation: Operation,
) -> Result<T, ManagementError> {
    serde_json::from_slice(body).map_err(|error| ManagementError::InvalidResponse {
        operation,
        reason: format!(
            "json at line {} column {}: {:?}",
            error.line(),
            error.column(),
            error.classify()
        ),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn store_base_url_appends_the_store_path_to_any_base() {
        let cases = [
            (
                "https://api.bigcommerce.com",
                "https://api.bigcommerce.com/stores/abc123/",
            ),
            (
                "https://api.bigcommerce.com/",
                "https://api.bigcommerce.com/stores/abc123/",
            ),
            (
                "http://127.0.0.1:9000/fake",
                "http://127.0.0.1:9000/fake/stores/abc123/",
            ),
            (
                "http://127.0.0.1:9000/fake/",
                "http://127.0.0.1:9000/fake/stores/abc123/",
            ),
        ];
        for (base, expected) in cases {
            let url = store_base_url(&Url::parse(base).unwrap(), "abc123");

            assert_eq!(url.as_str(), expected, "case: {base}");
        }
    }
}
