//! `SandboxStore`'s handles on the GraphQL Storefront API's tokens, for tests and the demo:
//! issue, list, expire and revoke private tokens; log a shopper in (what the `login` mutation
//! does, without HTTP) and expire or revoke a customer access token; and change an order
//! metafield by namespace and key. `RunningSandbox::graphql_login` logs a shopper in through
//! the real `POST /graphql`, as a headless storefront's server does. Nothing here logs a token.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use time::OffsetDateTime;
use url::Url;

use crate::RunningSandbox;
use crate::data::PrivateToken;
use crate::data::{HEADLESS_CHANNEL_ID, STOREFRONT_CHANNEL_ID};
use crate::graphql_exec::expires_at_text;
use crate::store::SandboxStore;
use crate::storefront_tokens::{ACCESS_SCOPES, issue_customer_access_token, issue_private_token};

/// A private token the store knows, as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateTokenInfo {
    /// The token itself, as `Authorization: Bearer` sends it.
    pub token: String,
    /// The channels it is valid for.
    pub channel_ids: Vec<u64>,
    /// Its access scopes (`Unauthenticated`, `Customer`, `B2B`), sorted.
    pub scopes: Vec<String>,
    /// When it expires, in Unix seconds.
    pub expires_at: i64,
    /// The client id of the API account that created it.
    pub client_id: String,
}

/// A customer access token the `login` mutation (or `SandboxStore::log_in_customer`) issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerAccessTokenInfo {
    /// The token, as `X-Bc-Customer-Access-Token` sends it.
    pub value: String,
    /// When it expires, as the mutation's `expiresAt` writes it (`2024-07-19T16:30:29Z`).
    pub expires_at: String,
    /// The shopper it identifies.
    pub customer_id: u64,
    /// The channel whose `/graphql` issued it.
    pub channel_id: u64,
}

impl SandboxStore {
    /// Makes a private token for `channel_ids` with `scopes`, good for `lifetime`, as
    /// `POST /v3/storefront/api-token-private` would for the store's own API account; `None`
    /// when a channel is not the store's or a scope is unknown.
    pub fn issue_private_token(
        &self,
        channel_ids: &[u64],
        scopes: &[&str],
        lifetime: Duration,
    ) -> Option<String> {
        let scopes: Option<Vec<&'static str>> = scopes
            .iter()
            .map(|scope| ACCESS_SCOPES.iter().find(|known| *known == scope).copied())
            .collect();
        let mut scopes = scopes.filter(|scopes| !scopes.is_empty())?;
        scopes.sort_unstable();
        scopes.dedup();
        let lifetime = time::Duration::try_from(lifetime).ok()?;
        let store_id = self.store_id().to_owned();
        self.with_state(|state| {
            let known = channel_ids
                .iter()
                .all(|id| state.channels.iter().any(|channel| channel.id == *id));
            if !known || channel_ids.is_empty() {
                return None;
            }
            let client_id = state
                .installation
                .as_ref()
                .map_or_else(|| Arc::from("sandbox"), |app| Arc::clone(&app.client_id));
            let token = PrivateToken {
                channel_ids: channel_ids.to_vec(),
                scopes,
                expires_at: OffsetDateTime::now_utc() + lifetime,
                client_id,
            };
            issue_private_token(state, &store_id, token)
        })
    }

    /// Every private token of the store, expired ones included until the next is issued.
    pub fn private_tokens(&self) -> Vec<PrivateTokenInfo> {
        let mut tokens: Vec<PrivateTokenInfo> = self.with_state(|state| {
            state
                .private_tokens
                .iter()
                .map(|(token, private)| PrivateTokenInfo {
                    token: token.clone(),
                    channel_ids: private.channel_ids.clone(),
                    scopes: private
                        .scopes
                        .iter()
                        .map(|scope| (*scope).to_owned())
                        .collect(),
                    expires_at: private.expires_at.unix_timestamp(),
                    client_id: private.client_id.to_string(),
                })
                .collect()
        });
        tokens.sort_by_key(|token| token.expires_at);
        tokens
    }

    /// Makes every private token of the store expired now; returns how many there were.
    pub fn expire_private_tokens(&self) -> usize {
        let past = OffsetDateTime::now_utc() - time::Duration::seconds(1);
        self.with_state(|state| {
            for token in state.private_tokens.values_mut() {
                token.expires_at = past;
            }
            state.private_tokens.len()
        })
    }

    /// Revokes one private token (as `DELETE /v3/storefront/api-token` does); false when the
    /// store has no such token.
    pub fn revoke_private_token(&self, token: &str) -> bool {
        self.with_state(|state| state.private_tokens.remove(token).is_some())
    }

    /// What the `login` mutation does on `channel_id`: a customer access token for the shopper
    /// with this email (any case) and password, or `None`.
    pub fn log_in_customer(
        &self,
        email: &str,
        password: &str,
        channel_id: u64,
    ) -> Option<CustomerAccessTokenInfo> {
        self.with_state(|state| {
            let customer_id = state
                .customers
                .values()
                .find(|customer| {
                    customer.email.eq_ignore_ascii_case(email) && customer.password == password
                })?
                .id;
            let (value, expires_at) = issue_customer_access_token(state, customer_id, channel_id);
            Some(CustomerAccessTokenInfo {
                value,
                expires_at: expires_at_text(expires_at),
                customer_id,
                channel_id,
            })
        })
    }

    /// Every customer access token of the store, expired ones included until the next is
    /// issued, the one that expires first first.
    pub fn customer_access_tokens(&self) -> Vec<CustomerAccessTokenInfo> {
        let mut tokens: Vec<(i64, CustomerAccessTokenInfo)> = self.with_state(|state| {
            state
                .customer_access_tokens
                .iter()
                .map(|(value, token)| {
                    (
                        token.expires_at.unix_timestamp(),
                        CustomerAccessTokenInfo {
                            value: value.clone(),
                            expires_at: expires_at_text(token.expires_at),
                            customer_id: token.customer_id,
                            channel_id: token.channel_id,
                        },
                    )
                })
                .collect()
        });
        tokens.sort_by(|left, right| left.0.cmp(&right.0).then(left.1.value.cmp(&right.1.value)));
        tokens.into_iter().map(|(_, token)| token).collect()
    }

    /// Makes one customer access token expired now; false when the store has no such token.
    pub fn expire_customer_access_token(&self, token: &str) -> bool {
        let past = OffsetDateTime::now_utc() - time::Duration::seconds(1);
        self.with_state(|state| match state.customer_access_tokens.get_mut(token) {
            Some(token) => {
                token.expires_at = past;
                true
            }
            None => false,
        })
    }

    /// Revokes one customer access token (the `logout` mutation revokes all of its shopper's);
    /// false when the store has no such token.
    pub fn revoke_customer_access_token(&self, token: &str) -> bool {
        self.with_state(|state| state.customer_access_tokens.remove(token).is_some())
    }

    /// Changes the value of `order_id`'s metafield with `namespace` and `key` (the lowest id
    /// when several apps use the pair) and sends the `store/order/metafield/updated` webhooks,
    /// as `set_metafield_value` does; false when the order has no such metafield.
    pub fn set_order_metafield(
        &self,
        order_id: u64,
        namespace: &str,
        key: &str,
        value: impl Into<String>,
    ) -> bool {
        self.metafield(order_id, namespace, key)
            .is_some_and(|metafield| self.set_metafield_value(metafield.id, value))
    }
}

/// The `login` mutation as the guide writes it, with variables.
const LOGIN_MUTATION: &str = "mutation Login($email: String!, $pass: String!) {\n  \
login(email: $email, password: $pass) {\n    customer { entityId }\n    \
customerAccessToken { value expiresAt }\n  }\n}";

impl RunningSandbox {
    /// `POST /graphql` of the store's site for `channel_id`: its storefront's origin for
    /// channel 1, its headless site's for channel 2.
    pub fn graphql_url_of(&self, store_hash: &str, channel_id: u64) -> Option<Url> {
        let root = match channel_id {
            STOREFRONT_CHANNEL_ID => self.storefront_url_of(store_hash)?,
            HEADLESS_CHANNEL_ID => self.headless_url_of(store_hash)?,
            _ => return None,
        };
        root.join("graphql").ok()
    }

    /// Logs a shopper in as a headless storefront's server does: a private token with the
    /// `Customer` scope (made from Rust, good for an hour), then the `login` mutation at the
    /// store's headless site's `/graphql`; returns the customer access token it answered.
    pub async fn graphql_login(
        &self,
        store_hash: &str,
        email: &str,
        password: &str,
    ) -> anyhow::Result<CustomerAccessTokenInfo> {
        let store = self
            .store_of(store_hash)
            .with_context(|| format!("no sandbox store {store_hash}"))?;
        let url = self
            .graphql_url_of(store_hash, HEADLESS_CHANNEL_ID)
            .context("the store has no headless site")?;
        let private_token = store
            .issue_private_token(
                &[HEADLESS_CHANNEL_ID],
                &["Customer"],
                Duration::from_secs(3_600),
            )
            .context("making a private token")?;
        let answer: Value = reqwest::Client::new()
            .post(url)
            .bearer_auth(&private_token)
            .json(
                &json!({"query": LOGIN_MUTATION, "variables": {"email": email, "pass": password}}),
            )
            .send()
            .await
            .context("calling the sandbox's GraphQL Storefront API")?
            .json()
            .await
            .context("reading the login mutation's answer")?;
        let login = &answer["data"]["login"];
        let (Some(value), Some(expires_at), Some(customer_id)) = (
            login["customerAccessToken"]["value"].as_str(),
            login["customerAccessToken"]["expiresAt"].as_str(),
            login["customer"]["entityId"].as_u64(),
        ) else {
            // The answer's errors name no secret: the password is a variable, never echoed.
            bail!("the login mutation failed: {}", answer["errors"]);
        };
        Ok(CustomerAccessTokenInfo {
            value: value.to_owned(),
            expires_at: expires_at.to_owned(),
            customer_id,
            channel_id: HEADLESS_CHANNEL_ID,
        })
    }
}
