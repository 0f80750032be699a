//! The store's GraphQL Storefront API, for headless storefronts: the store's private token
//! (`POST /v3/storefront/api-token-private`, `Customer` scope, through the Management API
//! and its quota pacer) and the one query this service asks with it, `customer { entityId }`
//! with a shopper's customer access token, which says whose token it is. GraphQL is not the
//! Management API's quota; its request is sent once, with the request timeout, and never
//! redirected. No token and no upstream body is ever logged.

use std::collections::HashMap;

use reqwest::StatusCode;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use url::Url;

use crate::domain::CustomerId;
use crate::management::ManagementClient;
use crate::management::error::{ManagementError, Operation};
use crate::request_context;

/// The header BigCommerce reads a customer access token from.
pub const CUSTOMER_ACCESS_TOKEN_HEADER: &str = "x-bc-customer-access-token";
/// The header naming the channel (storefront) of a customer access token.
pub const CHANNEL_ID_HEADER: &str = "x-bc-channel-id";
/// The channel asked when the request names none: the store's default storefront.
pub const DEFAULT_CHANNEL_ID: u64 = 1;
/// The one query: whose customer access token this is.
const CUSTOMER_QUERY: &str = "query OrderMetafieldsCustomer { customer { entityId } }";
/// The largest GraphQL answer read; `customer { entityId }` is a few dozen bytes.
const MAX_GRAPHQL_BYTES: usize = 64 * 1024;

/// What the GraphQL Storefront API said of a customer access token.
#[derive(Debug, PartialEq, Eq)]
pub enum CustomerAnswer {
    /// The token is this customer's.
    Customer(CustomerId),
    /// No customer: the token is expired, revoked (logged out), or of no one.
    NoCustomer,
    /// The private token itself was refused (`401`/`403`): it expired or was revoked.
    PrivateTokenRefused,
}

#[derive(Deserialize)]
struct WirePrivateToken {
    data: WireTokenData,
}

#[derive(Deserialize)]
struct WireTokenData {
    token: String,
}

#[derive(Deserialize)]
struct WireGraphql {
    data: Option<WireGraphqlData>,
}

#[derive(Deserialize)]
struct WireGraphqlData {
    customer: Option<WireCustomer>,
}

#[derive(Deserialize)]
struct WireCustomer {
    #[serde(rename = "entityId")]
    entity_id: u64,
}

impl ManagementClient {
    /// A new private token for the store's `channel_id`, with the `Customer` scope only,
    /// good until `expires_at` (Unix seconds).
    pub async fn create_private_token(
        &self,
        channel_id: u64,
        expires_at: u64,
    ) -> Result<SecretString, ManagementError> {
        let operation = Operation::CreatePrivateToken;
        let body = json!({
            "channel_ids": [channel_id],
            "expires_at": expires_at,
            "scopes": ["Customer"],
        });
        let answer = self
            .send(
                reqwest::Method::POST,
                self.url("v3/storefront/api-token-private"),
                Some(&body),
                operation,
                self.deadline(),
            )
            .await?;
        let wire: WirePrivateToken = super::decode(&answer.body.bytes, operation)?;
        if wire.data.token.is_empty() {
            return Err(ManagementError::InvalidResponse {
                operation,
                reason: "the private token is empty".to_owned(),
            });
        }
        Ok(SecretString::from(wire.data.token))
    }

    /// Asks the GraphQL Storefront API of the store's `channel_id` whose
    /// `customer_access_token` this is, with the store's `private_token` for that channel.
    pub async fn customer_of_access_token(
        &self,
        channel_id: u64,
        private_token: &SecretString,
        customer_access_token: &str,
    ) -> Result<CustomerAnswer, ManagementError> {
        let operation = Operation::VerifyCustomerAccessToken;
        let url = self
            .graphql_sites
            .load()
            .get(&channel_id)
            .cloned()
            .or_else(|| {
                self.graphql_template
                    .as_deref()
                    .and_then(|template| graphql_url(template, &self.store_hash, channel_id))
            });
        let Some(url) = url else {
            return Err(ManagementError::InvalidResponse {
                operation,
                reason: "no graphql url for this store".to_owned(),
            });
        };
        let (Ok(mut bearer), Ok(mut customer)) = (
            HeaderValue::from_str(&format!("Bearer {}", private_token.expose_secret())),
            HeaderValue::from_str(customer_access_token),
        ) else {
            return Ok(CustomerAnswer::NoCustomer);
        };
        bearer.set_sensitive(true);
        customer.set_sensitive(true);
        request_context::note_upstream_call();
        let outcome = self
            .api
            .http
            .post(url)
            .timeout(self.api.request_timeout)
            .header(reqwest::header::AUTHORIZATION, bearer)
            .header(CUSTOMER_ACCESS_TOKEN_HEADER, customer)
            .json(&json!({ "query": CUSTOMER_QUERY }))
            .send()
            .await;
        let response = match outcome {
            Ok(response) => response,
            Err(error) if error.is_timeout() => {
                return Err(ManagementError::Timeout { operation });
            }
            Err(error) => {
                return Err(ManagementError::Unavailable {
                    operation,
                    cause: if error.is_connect() {
                        "connection failed".to_owned()
                    } else {
                        "request failed".to_owned()
                    },
                });
            }
        };
        let status = response.status();
        tracing::debug!(operation = %operation, status = status.as_u16(), "graphql storefront api answered");
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Ok(CustomerAnswer::PrivateTokenRefused);
            }
            StatusCode::TOO_MANY_REQUESTS => {
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.parse::<u64>().ok())
                    .map_or(std::time::Duration::from_secs(1), |seconds| {
                        std::time::Duration::from_secs(seconds.clamp(1, 60))
                    });
                return Err(ManagementError::RateLimited {
                    operation,
                    retry_after,
                });
            }
            status if status.is_server_error() => {
                return Err(ManagementError::Unavailable {
                    operation,
                    cause: format!("status {}", status.as_u16()),
                });
            }
            status if !status.is_success() => {
                return Err(ManagementError::InvalidResponse {
                    operation,
                    reason: format!("status {}", status.as_u16()),
                });
            }
            _ => {}
        }
        let body = read_limited(response, operation).await?;
        let wire: WireGraphql = super::decode(&body, operation)?;
        // An expired or revoked customer access token answers `customer: null` (with or
        // without `errors`): that is BigCommerce's refusal, not a failure.
        Ok(
            match wire
                .data
                .and_then(|data| data.customer)
                .and_then(|customer| CustomerId::new(customer.entity_id))
            {
                Some(customer) => CustomerAnswer::Customer(customer),
                None => CustomerAnswer::NoCustomer,
            },
        )
    }
}

/// The body, at most [`MAX_GRAPHQL_BYTES`].
async fn read_limited(
    mut response: reqwest::Response,
    operation: Operation,
) -> Result<Vec<u8>, ManagementError> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_GRAPHQL_BYTES {
                    return Err(ManagementError::InvalidResponse {
                        operation,
                        reason: format!("the answer is larger than {MAX_GRAPHQL_BYTES} bytes"),
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(error) if error.is_timeout() => {
                return Err(ManagementError::Timeout { operation });
            }
            Err(_) => {
                return Err(ManagementError::Unavailable {
                    operation,
                    cause: "body read failed".to_owned(),
                });
            }
        }
    }
}

impl ManagementClient {
    /// Learns each channel's GraphQL endpoint from its site's canonical URL (`{url}/graphql`),
    /// replacing what was learned before.
    pub fn learn_graphql_sites(&self, sites: &[crate::management::sites::Site]) {
        let learned: HashMap<u64, Url> = sites
            .iter()
            .filter_map(|site| {
                let canonical = site.canonical.as_deref()?;
                let url =
                    Url::parse(&format!("{}/graphql", canonical.trim_end_matches('/'))).ok()?;
                matches!(url.scheme(), "http" | "https").then_some((site.channel_id, url))
            })
            .collect();
        self.graphql_sites.store(std::sync::Arc::new(learned));
    }
}

/// The GraphQL URL of `store_hash`'s `channel_id` from the `BC_GRAPHQL_URL` template.
pub fn graphql_url(template: &str, store_hash: &str, channel_id: u64) -> Option<Url> {
    Url::parse(
        &template
            .replace("{store_hash}", store_hash)
            .replace("{channel_id}", &channel_id.to_string()),
    )
    .ok()
}
