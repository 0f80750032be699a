//! The store's webhooks (`/v3/hooks`): listing, creating, updating and deleting the hooks of
//! this app, for `order-metafields webhooks`. Header values of a hook (the shared secret) are
//! held as secrets and never printed.

use std::collections::BTreeMap;

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use crate::management::ManagementClient;
use crate::management::error::{ManagementError, Operation};
use crate::management::pagination::{PAGE_LIMIT, next_v3_page};
use crate::management::wire::WirePagination;

/// A webhook registered on the store.
#[derive(Debug)]
pub struct Hook {
    pub id: u64,
    pub scope: String,
    pub destination: String,
    pub is_active: bool,
    /// Custom headers BigCommerce sends with each delivery; values are secrets.
    pub headers: BTreeMap<String, SecretString>,
}

/// What a hook should be.
pub struct HookSpec<'a> {
    pub scope: &'a str,
    pub destination: &'a str,
    pub headers: &'a BTreeMap<String, SecretString>,
}

#[derive(Deserialize)]
struct WireHook {
    id: u64,
    scope: String,
    destination: String,
    #[serde(default)]
    is_active: bool,
    #[serde(default)]
    headers: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct WireHookPage {
    data: Vec<WireHook>,
    #[serde(default)]
    meta: Option<WireHookMeta>,
}

#[derive(Deserialize)]
struct WireHookMeta {
    #[serde(default)]
    pagination: Option<WirePagination>,
}

#[derive(Deserialize)]
struct WireHookResponse {
    data: WireHook,
}

/// The most pages of hooks read (a store has at most a few hundred hooks per app).
const HOOKS_MAX_PAGES: u32 = 20;

impl ManagementClient {
    /// Every webhook of this app on the store.
    pub async fn list_hooks(&self) -> Result<Vec<Hook>, ManagementError> {
        let operation = Operation::ListHooks;
        let deadline = Instant::now() + self.api.retry.budget;
        let mut hooks = Vec::new();
        let mut page = 1;
        for _ in 0..HOOKS_MAX_PAGES {
            let mut url = self.url("v3/hooks");
            url.query_pairs_mut()
                .append_pair("limit", &PAGE_LIMIT.to_string())
                .append_pair("page", &page.to_string());
            let answer = self.get(url, operation, deadline).await?;
            if answer.body.is_empty() {
                break;
            }
            let wire: WireHookPage = super::decode(&answer.body.bytes, operation)?;
            let received = wire.data.len();
            let pagination = wire.meta.and_then(|meta| meta.pagination);
            hooks.extend(wire.data.into_iter().map(Hook::from));
            match next_v3_page(page, received, pagination.as_ref()) {
                Some(next) => page = next,
                None => break,
            }
        }
        Ok(hooks)
    }

    /// Creates an active hook.
    pub async fn create_hook(&self, spec: &HookSpec<'_>) -> Result<Hook, ManagementError> {
        self.write_hook(
            Method::POST,
            self.url("v3/hooks"),
            spec,
            Operation::CreateHook,
        )
        .await
    }

    /// Makes an existing hook match `spec` and be active.
    pub async fn update_hook(&self, id: u64, spec: &HookSpec<'_>) -> Result<Hook, ManagementError> {
        self.write_hook(
            Method::PUT,
            self.url(&format!("v3/hooks/{id}")),
            spec,
            Operation::UpdateHook,
        )
        .await
    }

    /// Deletes a hook.
    pub async fn delete_hook(&self, id: u64) -> Result<(), ManagementError> {
        let operation = Operation::DeleteHook;
        let deadline = Instant::now() + self.api.retry.budget;
        self.send(
            Method::DELETE,
            self.url(&format!("v3/hooks/{id}")),
            None,
            operation,
            deadline,
        )
        .await
        .map(|_| ())
    }

    async fn write_hook(
        &self,
        method: Method,
        url: url::Url,
        spec: &HookSpec<'_>,
        operation: Operation,
    ) -> Result<Hook, ManagementError> {
        let deadline = Instant::now() + self.api.retry.budget;
        let headers: BTreeMap<&str, &str> = spec
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.expose_secret()))
            .collect();
        let body = json!({
            "scope": spec.scope,
            "destination": spec.destination,
            "is_active": true,
            "headers": headers,
        });
        let answer = self
            .send(method, url, Some(&body), operation, deadline)
            .await?;
        let wire: WireHookResponse = super::decode(&answer.body.bytes, operation)?;
        Ok(Hook::from(wire.data))
    }
}

impl From<WireHook> for Hook {
    fn from(wire: WireHook) -> Self {
        Self {
            id: wire.id,
            scope: wire.scope,
            destination: wire.destination,
            is_active: wire.is_active,
            headers: wire
                .headers
                .unwrap_or_default()
                .into_iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), SecretString::from(value)))
                .collect(),
        }
    }
}
