//! The Management API client: the only code in the crate that talks to BigCommerce.
//! One method per upstream operation returns domain values; page walking, `429` waits,
//! retries with backoff and the per-call time budget all live behind those methods.
//! It must not know about actix or this service's HTTP statuses.

pub mod contact;
pub mod error;
pub mod hooks;
pub mod pagination;
pub mod quota;
pub mod rate_limit;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderMap, HeaderValue, USER_AGENT};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use url::Url;

use crate::config::{StoreSettings, UpstreamSettings};
use crate::domain::{CustomerId, Metafield, Order, OrderId};
use crate::management::contact::{Contact, ContactLog, ContactOutcome};
use crate::management::error::{ManagementError, Operation};
use crate::management::pagination::{PAGE_LIMIT, next_v2_page, next_v3_page};
use crate::management::quota::{QuotaPacer, QuotaSnapshot};
use crate::management::rate_limit::{MAX_RATE_LIMITED_ATTEMPTS, RetryPolicy, rate_limit_wait};
use crate::management::wire::{WireMetafieldPage, WireOrder};
use crate::metrics::UpstreamMetrics;
use crate::request_context;

/// The `User-Agent` sent upstream: the service's name and version.
pub const USER_AGENT_VALUE: &str = concat!("order-metafields/", env!("CARGO_PKG_VERSION"));

/// The largest upstream body read; a page of 250 full v2 orders is well under 2 MiB.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// The most metafield pages read for one order (BigCommerce allows 250 metafields per
/// order per app, so a handful of pages covers every app on a store).
const METAFIELDS_MAX_PAGES: u32 = 20;

/// A client for one store's Management API, cheap to clone (one shared connection pool).
#[derive(Clone)]
pub struct ManagementClient {
    http: reqwest::Client,
    store_base: Url,
    pub(crate) retry: RetryPolicy,
    request_timeout: Duration,
    orders_max_pages: u32,
    pacer: Arc<QuotaPacer>,
    contacts: Arc<ContactLog>,
    metrics: UpstreamMetrics,
}

/// A successful upstream answer: its status and body.
pub(crate) struct Answer {
    status: StatusCode,
    body: Vec<u8>,
}

impl ManagementClient {
    /// Builds the pooled client. Fails only when the TLS backend cannot start.
    pub fn new(store: &StoreSettings, upstream: &UpstreamSettings) -> Result<Self, reqwest::Error> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        // The access token is marked sensitive so reqwest never prints it in Debug output.
        // A token with characters a header cannot carry is left out; BigCommerce then
        // answers 401, which is logged as a misconfigured access token.
        if let Ok(mut token) = HeaderValue::from_str(store.access_token.expose_secret()) {
            token.set_sensitive(true);
            headers.insert("x-auth-token", token);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(upstream.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            http,
            store_base: store_base_url(&store.api_base_url, &store.store_hash),
            retry: RetryPolicy::new(upstream.max_retries, upstream.retry_budget),
            request_timeout: upstream.request_timeout,
            orders_max_pages: upstream.orders_max_pages,
            pacer: Arc::new(QuotaPacer::new(upstream.quota_share, upstream.queue_max)),
            contacts: Arc::default(),
            metrics: UpstreamMetrics::new(),
        })
    }

    /// The same client, recording its calls into `metrics` (a client built by [`new`]
    /// records into handles no registry renders).
    ///
    /// [`new`]: ManagementClient::new
    pub fn with_metrics(self, metrics: UpstreamMetrics) -> Self {
        Self { metrics, ..self }
    }

    /// When upstream work started now must be over: the retry budget (`UPSTREAM_RETRY_BUDGET`)
    /// from now. A caller request takes one deadline and passes it to every operation it
    /// chains, so all of its upstream work, waits included, fits in one budget.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.retry.budget
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
        for _ in 0..self.orders_max_pages {
            let mut url = self.url("v2/orders");
            url.query_pairs_mut()
                .append_pair("customer_id", &customer.to_string())
                .append_pair("limit", &PAGE_LIMIT.to_string())
                .append_pair("page", &page.to_string())
                .append_pair("sort", "id:desc");
            let answer = self.get(url, operation, deadline).await?;
            // The v2 API answers an empty list with 204 and no body.
            let wire: Vec<WireOrder> =
                if answer.status == StatusCode::NO_CONTENT || answer.body.is_empty() {
                    Vec::new()
                } else {
                    decode(&answer.body, operation)?
                };
            let received = wire.len();
            let first_id = wire.first().map(|order| order.id);
            if first_id.is_some() && first_id == previous_first_id {
                tracing::warn!(operation = %operation, page, "upstream repeated a page; it ignores paging, stopping here");
                break;
            }
            previous_first_id = first_id;
            for order in wire {
                if order.customer_id != customer.get() {
                    tracing::warn!(operation = %operation, "upstream returned an order of another customer; dropped");
                    continue;
                }
                if order.is_deleted {
                    continue;
                }
                let order = order
                    .into_order()
                    .map_err(|reason| ManagementError::InvalidResponse { operation, reason })?;
                orders.push(order);
            }
            match next_v2_page(page, received) {
                Some(next) => page = next,
                None => return Ok(orders),
            }
        }
        tracing::warn!(
            operation = %operation,
            max_pages = self.orders_max_pages,
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
            let wire: WireMetafieldPage = decode(&answer.body, operation)?;
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

    /// Checks cheaply that the store answers the access token: `GET /v2/orders/count`
    /// (one small object, within an Orders read-only token's scopes), paced like every
    /// call, tried once and never waiting out a `429` (the `429` itself shows the token
    /// works), within one request timeout.
    pub async fn probe(&self) -> Result<(), ManagementError> {
        let deadline = Instant::now() + self.request_timeout;
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

    pub(crate) async fn get(
        &self,
        url: Url,
        operation: Operation,
        deadline: Instant,
    ) -> Result<Answer, ManagementError> {
        self.send(Method::GET, url, None, operation, deadline).await
    }

    /// One request with the retry rules: `429` waits as BigCommerce says, `5xx` and broken
    /// connections back off with jitter (except for a `POST`, which is not idempotent), all
    /// before `deadline`.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
        operation: Operation,
        deadline: Instant,
    ) -> Result<Answer, ManagementError> {
        // A readiness probe reports what it met at once: it retries nothing and waits out
        // no 429, so that /readyz answers within one request timeout.
        let patient = operation != Operation::ReadinessProbe;
        let retry_failures = patient && method != Method::POST;
        let mut failures = 0;
        let mut rate_limited = 0;
        loop {
            // Stay within this service's share of the store's window before every send.
            let permit = match self.pacer.acquire(deadline).await {
                Ok(permit) => permit,
                Err(retry_after) => {
                    tracing::info!(operation = %operation, wait_ms = retry_after.as_millis() as u64, "this service's share of the store's api quota is spent");
                    self.metrics.paced(operation.label());
                    return Err(ManagementError::RateLimited {
                        operation,
                        retry_after,
                    });
                }
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(ManagementError::Timeout { operation });
            }
            let started = Instant::now();
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .timeout(self.request_timeout.min(remaining));
            if let Some(body) = body {
                request = request.json(body);
            }
            request_context::note_upstream_call();
            let outcome = request.send().await;
            // The store's account first, then the permit: a caller waiting for a fresh account
            // must find it when it wakes.
            if let Ok(response) = &outcome {
                self.pacer.observe(response.headers());
            }
            drop(permit);
            self.note_outcome(operation, &outcome, started);
            let wait = match outcome {
                Ok(response) => {
                    let status = response.status();
                    tracing::debug!(operation = %operation, status = status.as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "management api answered");
                    if status.is_success() {
                        match read_body(response).await {
                            Ok(body) => return Ok(Answer { status, body }),
                            Err(error) if error.is_timeout() => {
                                return Err(ManagementError::Timeout { operation });
                            }
                            Err(error) => self.retry_after_failure(
                                retry_failures,
                                operation,
                                &mut failures,
                                deadline,
                                format!("body read failed: {}", error_kind(&error)),
                            )?,
                        }
                    } else if status == StatusCode::TOO_MANY_REQUESTS {
                        rate_limited += 1;
                        let wait = rate_limit_wait(response.headers())
                            .unwrap_or_else(|| self.retry.backoff(rate_limited - 1));
                        if !patient
                            || rate_limited > MAX_RATE_LIMITED_ATTEMPTS
                            || wait > deadline.saturating_duration_since(Instant::now())
                        {
                            return Err(ManagementError::RateLimited {
                                operation,
                                retry_after: wait,
                            });
                        }
                        tracing::info!(operation = %operation, wait_ms = wait.as_millis() as u64, "store api quota spent; waiting for the window to reset");
                        wait
                    } else if status.is_server_error() {
                        self.retry_after_failure(
                            retry_failures,
                            operation,
                            &mut failures,
                            deadline,
                            format!("status {}", status.as_u16()),
                        )?
                    } else if status == StatusCode::NOT_FOUND {
                        return Err(ManagementError::NotFound { operation });
                    } else {
                        return Err(ManagementError::Rejected {
                            operation,
                            status: status.as_u16(),
                        });
                    }
                }
                Err(error) if error.is_timeout() => {
                    return Err(ManagementError::Timeout { operation });
                }
                Err(error) => self.retry_after_failure(
                    retry_failures,
                    operation,
                    &mut failures,
                    deadline,
                    error_kind(&error).to_owned(),
                )?,
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Records one request's answer, or failure to get one, in the metrics, the contact log
    /// and the store's quota gauges.
    fn note_outcome(
        &self,
        operation: Operation,
        outcome: &Result<reqwest::Response, reqwest::Error>,
        started: Instant,
    ) {
        let elapsed = started.elapsed();
        let contact = match outcome {
            Ok(response) => {
                let status = response.status();
                self.metrics
                    .answered(operation.label(), status.as_u16(), elapsed);
                if let Some(report) = QuotaPacer::report(response.headers()) {
                    self.metrics.quota_reported(report.quota, report.left);
                }
                ContactOutcome::of_status(status)
            }
            Err(error) => {
                self.metrics
                    .unanswered(operation.label(), error.is_timeout(), elapsed);
                Some(if error.is_timeout() {
                    ContactOutcome::TimedOut
                } else {
                    ContactOutcome::Unreachable
                })
            }
        };
        if let Some(contact) = contact {
            self.contacts.record(contact);
        }
    }

    /// The backoff before the next try after a failure, or the final error when the retries
    /// or the budget are spent.
    fn retry_after_failure(
        &self,
        retry_failures: bool,
        operation: Operation,
        failures: &mut u32,
        deadline: Instant,
        cause: String,
    ) -> Result<Duration, ManagementError> {
        *failures += 1;
        let failures = *failures;
        let wait = self.retry.backoff(failures - 1);
        if !retry_failures
            || failures > self.retry.max_retries
            || wait > deadline.saturating_duration_since(Instant::now())
        {
            return Err(ManagementError::Unavailable { operation, cause });
        }
        tracing::info!(operation = %operation, cause = %cause, attempt = failures, "management api call failed; retrying");
        Ok(wait)
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

async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            // An answer this large is not a Management API page; stop reading it.
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
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

/// A short, secret-free description of a transport error (never the URL or headers).
fn error_kind(error: &reqwest::Error) -> &'static str {
    if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "connection dropped while reading the body"
    } else if error.is_request() {
        "request failed"
    } else {
        "transport error"
    }
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
