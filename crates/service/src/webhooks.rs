//! BigCommerce webhook deliveries: whether one is authentic (a Standard Webhooks signature
//! keyed with the client secret, or the shared `X-Webhook-Secret` header), whether it was
//! seen before, and what its scope means for the cache. Pure decisions; the route applies
//! them. Secrets are compared in constant time and never logged.

use std::time::Duration;

use aws_lc_rs::{constant_time, digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use moka::sync::Cache as SyncCache;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::domain::OrderId;

/// How far a signed delivery's timestamp may be from now (Standard Webhooks' tolerance).
pub const TIMESTAMP_TOLERANCE: Duration = Duration::from_secs(5 * 60);
/// The largest delivery body accepted; BigCommerce's payloads are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// How long a delivery id or payload hash is remembered, longer than the tolerance so a
/// replay is either remembered or too old.
const DEDUPLICATION_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Checks deliveries and remembers which ones were handled.
pub struct WebhookReceiver {
    /// The client secret's key, then the previous secret's during a rotation.
    signing_keys: Vec<hmac::Key>,
    shared_secret: Option<SecretString>,
    seen: SyncCache<String, ()>,
}

/// The authentication headers of one delivery, as sent.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeliveryHeaders<'a> {
    pub webhook_id: Option<&'a str>,
    pub webhook_timestamp: Option<&'a str>,
    pub webhook_signature: Option<&'a str>,
    pub shared_secret: Option<&'a [u8]>,
}

/// Why a delivery was refused; only ever logged.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookAuthError {
    #[error("no signature and no shared secret header")]
    Unsigned,
    #[error("the shared secret header does not match WEBHOOK_SECRET")]
    WrongSharedSecret,
    #[error("the signature headers are incomplete or malformed")]
    MalformedSignature,
    #[error("the delivery timestamp is more than five minutes from now")]
    StaleTimestamp,
    #[error("no signature matches the body")]
    BadSignature,
}

/// What an authentic delivery asks of the cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalidation {
    /// Drop the order's metafields and its customer's order list.
    Order(OrderId),
    /// Drop the order's metafields.
    OrderMetafields(OrderId),
    /// Nothing to do; the reason is logged.
    Ignore(&'static str),
}

/// A delivery's body, as far as it matters here.
#[derive(Debug, Deserialize)]
struct Payload {
    scope: String,
    #[serde(default)]
    hash: Option<String>,
    #[serde(default)]
    data: PayloadData,
}

#[derive(Debug, Default, Deserialize)]
struct PayloadData {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    resource_id: Option<serde_json::Value>,
    #[serde(default)]
    resource_type: Option<String>,
}

impl WebhookReceiver {
    /// Signatures are keyed with the app's client secret (or, during a rotation, the
    /// previous one), as BigCommerce signs them.
    pub fn new<'a>(
        client_secrets: impl IntoIterator<Item = &'a SecretString>,
        shared_secret: Option<SecretString>,
    ) -> Self {
        Self {
            signing_keys: client_secrets
                .into_iter()
                .map(|secret| hmac::Key::new(hmac::HMAC_SHA256, secret.expose_secret().as_bytes()))
                .collect(),
            shared_secret,
            seen: SyncCache::builder()
                .max_capacity(100_000)
                .time_to_live(DEDUPLICATION_WINDOW)
                .build(),
        }
    }

    /// Accepts a delivery with a valid Standard Webhooks signature, or with the shared
    /// secret header when `WEBHOOK_SECRET` is set; `now` is Unix seconds.
    pub fn authenticate(
        &self,
        headers: &DeliveryHeaders<'_>,
        body: &[u8],
        now: u64,
    ) -> Result<(), WebhookAuthError> {
        if headers
            .webhook_signature
            .is_some_and(|signature| !signature.trim().is_empty())
        {
            return self.verify_signature(headers, body, now);
        }
        match (headers.shared_secret, &self.shared_secret) {
            (Some(sent), Some(expected)) => {
                // Digests of both, compared in constant time: equal lengths, so the comparison
                // reveals neither the secret's content nor its length.
                let sent = digest::digest(&digest::SHA256, sent);
                let expected = digest::digest(&digest::SHA256, expected.expose_secret().as_bytes());
                constant_time::verify_slices_are_equal(sent.as_ref(), expected.as_ref())
                    .map_err(|_| WebhookAuthError::WrongSharedSecret)
            }
            (Some(_), None) => Err(WebhookAuthError::WrongSharedSecret),
            (None, _) => Err(WebhookAuthError::Unsigned),
        }
    }

    fn verify_signature(
        &self,
        headers: &DeliveryHeaders<'_>,
        body: &[u8],
        now: u64,
    ) -> Result<(), WebhookAuthError> {
        let (Some(id), Some(timestamp), Some(signatures)) = (
            headers.webhook_id,
            headers.webhook_timestamp,
            headers.webhook_signature,
        ) else {
            return Err(WebhookAuthError::MalformedSignature);
        };
        let sent_at: u64 = timestamp
            .trim()
            .parse()
            .map_err(|_| WebhookAuthError::MalformedSignature)?;
        if now.abs_diff(sent_at) > TIMESTAMP_TOLERANCE.as_secs() {
            return Err(WebhookAuthError::StaleTimestamp);
        }
        let mut signed = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
        signed.extend_from_slice(id.as_bytes());
        signed.push(b'.');
        signed.extend_from_slice(timestamp.as_bytes());
        signed.push(b'.');
        signed.extend_from_slice(body);
        // The header may carry several space-separated signatures (during key rotation);
        // one valid `v1` entry is enough.
        let valid = signatures
            .split_whitespace()
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|encoded| BASE64.decode(encoded).ok())
            .any(|tag| {
                self.signing_keys
                    .iter()
                    .any(|key| hmac::verify(key, &signed, &tag).is_ok())
            });
        if valid {
            Ok(())
        } else {
            Err(WebhookAuthError::BadSignature)
        }
    }

    /// Reads an authentic delivery: `None` when it was seen before, else what it asks of the
    /// cache. A delivery is named by its `webhook-id` when it has one (Standard Webhooks:
    /// the same id on every retry, a new one for every event), else by its payload `hash`,
    /// which BigCommerce repeats on a retry. The hash is not used beside an id: two real
    /// changes of the same metafield within a second have byte-identical payloads (the data
    /// names ids, not values, and `created_at` is in whole seconds), and the second must
    /// still invalidate.
    pub fn accept(&self, webhook_id: Option<&str>, body: &[u8]) -> Option<Invalidation> {
        let payload: Payload = match serde_json::from_slice(body) {
            Ok(payload) => payload,
            Err(_) => return Some(Invalidation::Ignore("the body is not a webhook payload")),
        };
        // An empty id names nothing; it must not become one key shared by every delivery.
        let webhook_id = webhook_id.map(str::trim).filter(|id| !id.is_empty());
        let key = match (webhook_id, payload.hash.as_deref()) {
            (Some(id), _) => Some(format!("id:{id}")),
            (None, Some(hash)) => Some(format!("hash:{hash}")),
            (None, None) => None,
        };
        if let Some(key) = key {
            if self.seen.contains_key(&key) {
                return None;
            }
            self.seen.insert(key, ());
        }
        Some(invalidation_for(&payload))
    }
}

/// The contract's scope rules: `store/order/metafield/*` and `store/metafield/*` on orders
/// drop that order's metafields; other `store/order/*` scopes drop the order and its
/// customer's list.
fn invalidation_for(payload: &Payload) -> Invalidation {
    let data = &payload.data;
    let scope = payload.scope.as_str();
    if scope.starts_with("store/order/metafield/") {
        return order_id(data.resource_id.as_ref()).map_or(
            Invalidation::Ignore("no order id in resource_id"),
            Invalidation::OrderMetafields,
        );
    }
    if scope.starts_with("store/metafield/") {
        if data.resource_type.as_deref() != Some("order") {
            return Invalidation::Ignore("a metafield of another resource type");
        }
        return order_id(data.resource_id.as_ref()).map_or(
            Invalidation::Ignore("no order id in resource_id"),
            Invalidation::OrderMetafields,
        );
    }
    if scope.starts_with("store/order/") {
        if data.kind.as_deref().is_some_and(|kind| kind != "order") {
            return Invalidation::Ignore("data is not an order");
        }
        return order_id(data.id.as_ref()).map_or(
            Invalidation::Ignore("no order id in data.id"),
            Invalidation::Order,
        );
    }
    Invalidation::Ignore("a scope this service does not use")
}

/// An order id given as a number or a string of digits.
fn order_id(value: Option<&serde_json::Value>) -> Option<OrderId> {
    match value? {
        serde_json::Value::Number(number) => number.as_u64().and_then(OrderId::new),
        serde_json::Value::String(text) => OrderId::parse(text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    const SECRET: &str = "client-secret";
    const NOW: u64 = 1_800_000_000;

    fn receiver(shared: Option<&str>) -> WebhookReceiver {
        WebhookReceiver::new(
            [&SecretString::from(SECRET)],
            shared.map(SecretString::from),
        )
    }

    fn signature(id: &str, timestamp: u64, body: &[u8], secret: &str) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let content = [
            id.as_bytes(),
            b".",
            timestamp.to_string().as_bytes(),
            b".",
            body,
        ]
        .concat();
        format!("v1,{}", BASE64.encode(hmac::sign(&key, &content).as_ref()))
    }

    #[test]
    fn standard_webhooks_signatures_are_checked_with_the_client_secret() {
        let body = br#"{"scope":"store/order/updated","data":{"type":"order","id":5}}"#;
        let good = signature("msg_1", NOW, body, SECRET);
        let two = format!("v1,AAAA {good}");
        let wrong_key = signature("msg_1", NOW, body, "other");
        let stamp = NOW.to_string();
        let old_stamp = (NOW - 301).to_string();
        let future_stamp = (NOW + 301).to_string();
        type Case<'a> = (
            DeliveryHeaders<'a>,
            &'a [u8],
            Result<(), WebhookAuthError>,
            &'a str,
        );
        let cases: Vec<Case> = vec![
            (headers("msg_1", &stamp, &good), body, Ok(()), "valid"),
            (
                headers("msg_1", &stamp, &two),
                body,
                Ok(()),
                "one of two valid",
            ),
            (
                headers("msg_1", &stamp, &wrong_key),
                body,
                Err(WebhookAuthError::BadSignature),
                "other key",
            ),
            (
                headers("msg_2", &stamp, &good),
                body,
                Err(WebhookAuthError::BadSignature),
                "other id",
            ),
            (
                headers("msg_1", &stamp, &good),
                b"{}",
                Err(WebhookAuthError::BadSignature),
                "altered body",
            ),
            (
                headers("msg_1", &old_stamp, &good),
                body,
                Err(WebhookAuthError::StaleTimestamp),
                "too old",
            ),
            (
                headers("msg_1", &future_stamp, &good),
                body,
                Err(WebhookAuthError::StaleTimestamp),
                "future",
            ),
            (
                headers("msg_1", "soon", &good),
                body,
                Err(WebhookAuthError::MalformedSignature),
                "bad timestamp",
            ),
            (
                DeliveryHeaders {
                    webhook_signature: Some(&good),
                    ..DeliveryHeaders::default()
                },
                body,
                Err(WebhookAuthError::MalformedSignature),
                "no id",
            ),
            (
                DeliveryHeaders::default(),
                body,
                Err(WebhookAuthError::Unsigned),
                "nothing",
            ),
        ];
        let receiver = receiver(None);
        for (headers, body, expected, description) in cases {
            assert_eq!(
                receiver.authenticate(&headers, body, NOW),
                expected,
                "case: {description}"
            );
        }
    }

    fn headers<'a>(id: &'a str, timestamp: &'a str, signature: &'a str) -> DeliveryHeaders<'a> {
        DeliveryHeaders {
            webhook_id: Some(id),
            webhook_timestamp: Some(timestamp),
            webhook_signature: Some(signature),
            shared_secret: None,
        }
    }

    #[test]
    fn shared_secret_header_must_equal_the_configured_secret() {
        let with_secret = receiver(Some("hook-secret"));
        let without_secret = receiver(None);
        let sent = |value: &'static str| DeliveryHeaders {
            shared_secret: Some(value.as_bytes()),
            ..DeliveryHeaders::default()
        };

        assert_eq!(
            with_secret.authenticate(&sent("hook-secret"), b"{}", NOW),
            Ok(())
        );
        assert_eq!(
            with_secret.authenticate(&sent("hook-secreT"), b"{}", NOW),
            Err(WebhookAuthError::WrongSharedSecret)
        );
        assert_eq!(
            with_secret.authenticate(&sent(""), b"{}", NOW),
            Err(WebhookAuthError::WrongSharedSecret)
        );
        assert_eq!(
            without_secret.authenticate(&sent("hook-secret"), b"{}", NOW),
            Err(WebhookAuthError::WrongSharedSecret)
        );
    }

    #[test]
    fn an_empty_signature_header_does_not_hide_a_valid_shared_secret() {
        let receiver = receiver(Some("hook-secret"));
        let headers = DeliveryHeaders {
            webhook_signature: Some(" "),
            shared_secret: Some(b"hook-secret"),
            ..DeliveryHeaders::default()
        };

        assert_eq!(receiver.authenticate(&headers, b"{}", NOW), Ok(()));
    }

    #[test]
    fn scopes_map_to_the_contracts_invalidations() {
        let order = |id| Invalidation::Order(OrderId::new(id).unwrap());
        let metafields = |id| Invalidation::OrderMetafields(OrderId::new(id).unwrap());
        let cases = [
            (
                json!({"scope": "store/order/created", "data": {"type": "order", "id": 250}}),
                order(250),
            ),
            (
                json!({"scope": "store/order/statusUpdated", "data": {"type": "order", "id": 9, "status": {}}}),
                order(9),
            ),
            (
                json!({"scope": "store/order/archived", "data": {"type": "order", "id": 9}}),
                order(9),
            ),
            (
                json!({"scope": "store/order/metafield/updated", "data": {"metafield_id": 3, "resource_id": "118"}}),
                metafields(118),
            ),
            (
                json!({"scope": "store/metafield/deleted", "data": {"metafield_id": 3, "resource_id": "118", "resource_type": "order"}}),
                metafields(118),
            ),
            (
                json!({"scope": "store/metafield/updated", "data": {"resource_id": "7", "resource_type": "product"}}),
                Invalidation::Ignore("a metafield of another resource type"),
            ),
            (
                json!({"scope": "store/product/updated", "data": {"type": "product", "id": 1}}),
                Invalidation::Ignore("a scope this service does not use"),
            ),
            (
                json!({"scope": "store/order/updated", "data": {"type": "order", "id": "abc"}}),
                Invalidation::Ignore("no order id in data.id"),
            ),
        ];
        for (payload, expected) in cases {
            let receiver = receiver(None);

            let invalidation = receiver.accept(None, payload.to_string().as_bytes());

            assert_eq!(invalidation, Some(expected), "case: {payload}");
        }
    }

    #[test]
    fn a_delivery_is_a_duplicate_by_its_id_or_without_one_by_its_hash() {
        let receiver = receiver(None);
        let body = json!({"scope": "store/order/updated", "hash": "abc", "data": {"type": "order", "id": 5}}).to_string();
        let other_hash = json!({"scope": "store/order/updated", "hash": "def", "data": {"type": "order", "id": 5}}).to_string();

        let first = receiver.accept(Some("msg_1"), body.as_bytes());
        let same_id = receiver.accept(Some("msg_1"), other_hash.as_bytes());
        // A second event whose payload is byte-identical (same second, same ids).
        let same_payload_new_id = receiver.accept(Some("msg_2"), body.as_bytes());
        let no_id = receiver.accept(None, other_hash.as_bytes());
        let no_id_retried = receiver.accept(None, other_hash.as_bytes());
        let third = json!({"scope": "store/order/updated", "hash": "ghi", "data": {"type": "order", "id": 5}}).to_string();
        let empty_id = receiver.accept(Some(" "), third.as_bytes());
        let empty_id_retried = receiver.accept(Some(""), third.as_bytes());
        let malformed = receiver.accept(Some("msg_3"), b"{not json");

        let invalidation = Some(Invalidation::Order(OrderId::new(5).unwrap()));
        assert_eq!(first, invalidation);
        assert_eq!(same_id, None);
        assert_eq!(same_payload_new_id, invalidation);
        assert_eq!(no_id, invalidation);
        assert_eq!(no_id_retried, None);
        assert_eq!(
            empty_id, invalidation,
            "an empty id counts as none: the hash decides"
        );
        assert_eq!(empty_id_retried, None, "the same hash, no real id: a retry");
        assert_eq!(
            malformed,
            Some(Invalidation::Ignore("the body is not a webhook payload"))
        );
    }
}
