//! A shopper's write of one order metafield (orders.v3.yml): the metafields of one key on
//! the order (`GET /v3/orders/{id}/metafields?namespace=…&key=…`), then `PUT` of the one
//! found or `POST` of a new one with `write_and_sf_access`. Every call passes the store's
//! quota pacer like any other; a `POST` is never retried (it is not idempotent), a `PUT` of
//! the same value is.

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use crate::domain::{Metafield, OrderId};
use crate::management::ManagementClient;
use crate::management::error::{ManagementError, Operation};
use crate::management::wire::{WireMetafield, WireMetafieldPage};

/// How many metafields of one key one order may carry that are read (one page): one per
/// app that wrote the key, so a page is plenty.
const KEY_LIMIT: u32 = 50;

/// The description a metafield the service creates carries (BigCommerce's limit: 255).
const MAX_DESCRIPTION_CHARS: usize = 255;

#[derive(Deserialize)]
struct WireMetafieldResponse {
    data: WireMetafield,
}

impl ManagementClient {
    /// Every metafield of `namespace`/`key` on the order, whatever its permission set (the
    /// caller decides what the shopper may see); only exact matches of this order, even if
    /// the upstream ignored the filters. One request.
    pub async fn order_metafields_by_key(
        &self,
        order: OrderId,
        namespace: &str,
        key: &str,
        deadline: Instant,
    ) -> Result<Vec<Metafield>, ManagementError> {
        let operation = Operation::MetafieldByKey;
        let mut url = self.url(&format!("v3/orders/{order}/metafields"));
        url.query_pairs_mut()
            .append_pair("namespace", namespace)
            .append_pair("key", key)
            .append_pair("limit", &KEY_LIMIT.to_string());
        let answer = self.get(url, operation, deadline).await?;
        if answer.status == StatusCode::NO_CONTENT || answer.body.is_empty() {
            return Ok(Vec::new());
        }
        let wire: WireMetafieldPage = super::decode(&answer.body.bytes, operation)?;
        let mut found = Vec::new();
        for metafield in wire.data {
            if !metafield.belongs_to(order)
                || metafield.namespace != namespace
                || metafield.key != key
            {
                continue;
            }
            found.push(
                metafield
                    .into_metafield()
                    .map_err(|reason| ManagementError::InvalidResponse { operation, reason })?,
            );
        }
        Ok(found)
    }

    /// Sets the value of the order's metafield `id` (`PUT`, the value only).
    pub async fn update_order_metafield(
        &self,
        order: OrderId,
        id: u64,
        value: &str,
        deadline: Instant,
    ) -> Result<Metafield, ManagementError> {
        let operation = Operation::UpdateMetafield;
        let url = self.url(&format!("v3/orders/{order}/metafields/{id}"));
        let body = json!({ "value": value });
        let answer = self
            .send(Method::PUT, url, Some(&body), operation, deadline)
            .await?;
        one_metafield(&answer.body.bytes, operation)
    }

    /// Creates the order's metafield `namespace`/`key` with `write_and_sf_access`, so that
    /// the storefront may read it and the shopper write it again (`POST`, never retried).
    pub async fn create_order_metafield(
        &self,
        order: OrderId,
        namespace: &str,
        key: &str,
        value: &str,
        description: &str,
        deadline: Instant,
    ) -> Result<Metafield, ManagementError> {
        let operation = Operation::CreateMetafield;
        let url = self.url(&format!("v3/orders/{order}/metafields"));
        let description: String = description.chars().take(MAX_DESCRIPTION_CHARS).collect();
        let body = json!({
            "namespace": namespace,
            "key": key,
            "value": value,
            "description": description,
            "permission_set": "write_and_sf_access",
        });
        let answer = self
            .send(Method::POST, url, Some(&body), operation, deadline)
            .await?;
        one_metafield(&answer.body.bytes, operation)
    }
}

fn one_metafield(body: &[u8], operation: Operation) -> Result<Metafield, ManagementError> {
    let wire: WireMetafieldResponse = super::decode(body, operation)?;
    wire.data
        .into_metafield()
        .map_err(|reason| ManagementError::InvalidResponse { operation, reason })
}
