//! BigCommerce webhook deliveries: whether one is authentic (a Standard Webhooks signature
//! keyed with the client secret, or the `X-Webhook-Secret` header the hooks were registered
//! with), whether it was seen before, and which store and order it names (its `producer`,
//! `stores/{hash}`, says which store). Pure decisions; the route applies them. Authentication is split in two so that the route can refuse a delivery from its
//! headers alone, before reading any body: [`WebhookReceiver::check_headers`], then
//! [`WebhookReceiver::verify_body`]. Secrets are compared in constant time and never logged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_lc_rs::{constant_time, digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD};
use moka::sync::Cache as SyncCache;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::domain::{OrderId, StoreHash};

/// How far a signed delivery's timestamp may be from now (Standard Webhooks' tolerance).
pub const TIMESTAMP_TOLERANCE: Duration = Duration::from_secs(5 * 60);
/// The largest delivery body accepted; BigCommerce's payloads are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// The longest `webhook-id` accepted. Standard Webhooks ids are short (`msg_` and a KSUID,
/// about 30 characters); a longer one is refused from the headers, so that nobody can make
/// the replay memory hold long keys.
pub const MAX_WEBHOOK_ID_BYTES: usize = 256;
/// The most entries a `webhook-signature` header may list. Several are only sent during a
/// key rotation; a longer list is refused from the headers, so that its cost is bounded.
pub const MAX_SIGNATURE_ENTRIES: usize = 16;
/// How many deliveries the replay memory holds at most. Each is kept as a fixed-size digest
/// of its id (or payload hash), so the memory is bounded in bytes as well:
/// [`REPLAY_MEMORY_MAX_ENTRIES`] × [`REPLAY_ENTRY_BYTES`] of keys, a few MB with moka's
/// per-entry overhead, whatever the ids sent.
pub const REPLAY_MEMORY_MAX_ENTRIES: u64 = 100_000;
/// The bytes one remembered delivery's key takes: a SHA-256 digest.
pub const REPLAY_ENTRY_BYTES: usize = 32;
/// How long a delivery id or payload hash is remembered, longer than the tolerance so a
/// replay is either remembered or too old.
const DEDUPLICATION_WINDOW: Duration = Duration::from_secs(15 * 60);
/// The length of an HMAC-SHA256 tag; a `v1` entry of any other length cannot match.
const SIGNATURE_BYTES: usize = 32;

/// Checks deliveries and remembers which ones were handled.
pub struct WebhookReceiver {
    /// The client secret's key, then the previous secret's during a rotation.
    signing_keys: Vec<hmac::Key>,
    shared_secret: SharedSecret,
    /// Digests of the ids (or payload hashes) of the deliveries handled recently.
    seen: SyncCache<[u8; REPLAY_ENTRY_BYTES], ()>,
    /// HMACs computed so far: each delivery costs one per signing key, however many
    /// signatures it lists.
    signatures_computed: AtomicU64,
}

/// What the `X-Webhook-Secret` header of an authentic delivery holds.
pub enum SharedSecret {
    /// No such header is accepted.
    None,
    /// `WEBHOOK_SECRET` itself (single-store mode: `webhooks register` sets it).
    Fixed(SecretString),
    /// A value of each store's own, derived from this key ([`store_webhook_secret`]): what
    /// the app registers on install, so that a header seen on one store's deliveries is
    /// worth nothing for another's. Checked against the delivery's `producer`.
    PerStore(SecretString),
}

/// The `X-Webhook-Secret` value the app registers a store's hooks with: an HMAC-SHA256 of
/// `stores/{hash}` under `key` (`WEBHOOK_SECRET`, else the client secret), base64url.
pub fn store_webhook_secret(key: &SecretString, store: &StoreHash) -> SecretString {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key.expose_secret().as_bytes());
    let mut message = b"order-metafields webhook secret for ".to_vec();
    message.extend_from_slice(store.context().as_bytes());
    SecretString::from(URL_SAFE_NO_PAD.encode(hmac::sign(&key, &message)))
}

/// The length of a [`store_webhook_secret`]: 32 bytes in unpadded base64url.
const STORE_SECRET_CHARS: usize = 43;

/// The authentication headers of one delivery, as sent.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeliveryHeaders<'a> {
    pub webhook_id: Option<&'a str>,
    pub webhook_timestamp: Option<&'a str>,
    pub webhook_signature: Option<&'a str>,
    pub shared_secret: Option<&'a [u8]>,
}

/// What the headers of a delivery proved: either everything (the shared secret), or a
/// plausible signature set still to be checked against the body.
#[derive(Debug)]
pub struct HeaderCheck<'a> {
    kind: HeaderCheckKind<'a>,
}

#[derive(Debug)]
enum HeaderCheckKind<'a> {
    /// The shared secret matched: the delivery is authentic whatever its body.
    SharedSecret,
    /// A per-store secret of the right form, to be checked against the body's `producer`.
    StoreSecret { sent: &'a [u8] },
    /// A well-formed, timely Standard Webhooks signature set, unverified.
    Signed {
        id: &'a str,
        timestamp: &'a str,
        signatures: Vec<[u8; SIGNATURE_BYTES]>,
    },
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
    #[error("the webhook-id is longer than 256 bytes")]
    IdTooLong,
    #[error("the webhook-signature header lists more than 16 signatures")]
    TooManySignatures,
    #[error("the delivery timestamp is more than five minutes from now")]
    StaleTimestamp,
    #[error("no signature matches the body")]
    BadSignature,
    #[error("the shared secret header is not the one of the delivery's store")]
    WrongStoreSecret,
}

/// An authentic delivery, read: the store it is about (its `producer`) and what it asks of
/// that store's cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// `None` when the payload names no store in `producer`.
    pub store: Option<StoreHash>,
    pub invalidation: Invalidation,
}

/// What an authentic delivery asks of the cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalidation {
    /// Drop the order's metafields and its customer's order list.
    Order(OrderId),
    /// Drop the order's metafields.
    OrderMetafields(OrderId),
    /// A channel (and so maybe its site) changed: read the store's sites again.
    Channels,
    /// Nothing to do; the reason is logged.
    Ignore(&'static str),
}

impl Invalidation {
    /// The order it names, if any.
    pub fn order(&self) -> Option<OrderId> {
        match self {
            Invalidation::Order(order) | Invalidation::OrderMetafields(order) => Some(*order),
            Invalidation::Channels | Invalidation::Ignore(_) => None,
        }
    }
}

/// A delivery's body, as far as it matters here.
#[derive(Debug, Deserialize)]
struct Payload {
    scope: String,
    #[serde(default)]
    hash: Option<String>,
    #[serde(default)]
    producer: Option<String>,
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
        shared_secret: SharedSecret,
    ) -> Self {
        let keys: Vec<&[u8]> = client_secrets
            .into_iter()
            .map(|secret| secret.expose_secret().as_bytes())
            .collect();
        Self::with_signing_keys(&keys, shared_secret)
    }

    /// A receiver whose signatures are keyed with these bytes (Standard Webhooks' own test
    /// vectors use binary keys, which no environment variable holds).
    fn with_signing_keys(keys: &[&[u8]], shared_secret: SharedSecret) -> Self {
        Self {
            signing_keys: keys
                .iter()
                .map(|key| hmac::Key::new(hmac::HMAC_SHA256, key))
                .collect(),
            shared_secret,
            seen: SyncCache::builder()
                .max_capacity(REPLAY_MEMORY_MAX_ENTRIES)
                .time_to_live(DEDUPLICATION_WINDOW)
                .build(),
            signatures_computed: AtomicU64::new(0),
        }
    }

    /// Accepts a delivery with a valid Standard Webhooks signature, or with the shared
    /// secret header when `WEBHOOK_SECRET` is set; `now` is Unix seconds. The headers are
    /// checked first, and the body only when they are plausible.
    pub fn authenticate(
        &self,
        headers: &DeliveryHeaders<'_>,
        body: &[u8],
        now: u64,
    ) -> Result<(), WebhookAuthError> {
        let check = self.check_headers(headers, now)?;
        self.verify_body(&check, body)
    }

    /// Everything that can be decided without the body: the shared secret in full; for a
    /// signed delivery, that the id, timestamp and signature list are present, bounded,
    /// well-formed and timely. A delivery refused here is refused before its body is read.
    pub fn check_headers<'a>(
        &self,
        headers: &DeliveryHeaders<'a>,
        now: u64,
    ) -> Result<HeaderCheck<'a>, WebhookAuthError> {
        // An id is remembered whichever way the delivery is authenticated.
        if headers
            .webhook_id
            .is_some_and(|id| id.len() > MAX_WEBHOOK_ID_BYTES)
        {
            return Err(WebhookAuthError::IdTooLong);
        }
        if let Some(signatures) = headers
            .webhook_signature
            .filter(|signature| !signature.trim().is_empty())
        {
            return Self::check_signature_headers(headers, signatures, now);
        }
        match (headers.shared_secret, &self.shared_secret) {
            (Some(sent), SharedSecret::Fixed(expected)) => {
                equal_secrets(sent, expected.expose_secret().as_bytes())
                    .map_err(|_| WebhookAuthError::WrongSharedSecret)?;
                Ok(HeaderCheck {
                    kind: HeaderCheckKind::SharedSecret,
                })
            }
            // Which store's value it must be is in the body; here, only its form.
            (Some(sent), SharedSecret::PerStore(_)) if sent.len() == STORE_SECRET_CHARS => {
                Ok(HeaderCheck {
                    kind: HeaderCheckKind::StoreSecret { sent },
                })
            }
            (Some(_), _) => Err(WebhookAuthError::WrongSharedSecret),
            (None, _) => Err(WebhookAuthError::Unsigned),
        }
    }

    /// Finishes what [`Self::check_headers`] began: a signed delivery is authentic when one
    /// of its `v1` signatures is the HMAC of `{id}.{timestamp}.{body}` under one of the keys.
    /// The HMAC is computed once per key and compared with every listed signature (in
    /// constant time), so a long list costs no more HMACs than a short one.
    pub fn verify_body(
        &self,
        check: &HeaderCheck<'_>,
        body: &[u8],
    ) -> Result<(), WebhookAuthError> {
        let (id, timestamp, signatures) = match &check.kind {
            HeaderCheckKind::SharedSecret => return Ok(()),
            HeaderCheckKind::StoreSecret { sent } => return self.verify_store_secret(sent, body),
            HeaderCheckKind::Signed {
                id,
                timestamp,
                signatures,
            } => (id, timestamp, signatures),
        };
        let mut signed = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
        signed.extend_from_slice(id.as_bytes());
        signed.push(b'.');
        signed.extend_from_slice(timestamp.as_bytes());
        signed.push(b'.');
        signed.extend_from_slice(body);
        for key in &self.signing_keys {
            self.signatures_computed.fetch_add(1, Ordering::Relaxed);
            let expected = hmac::sign(key, &signed);
            // Every entry is compared, matching or not, so the time taken does not say which.
            let matched = signatures.iter().fold(false, |matched, signature| {
                constant_time::verify_slices_are_equal(expected.as_ref(), signature).is_ok()
                    | matched
            });
            if matched {
                return Ok(());
            }
        }
        Err(WebhookAuthError::BadSignature)
    }

    /// A per-store secret must be the one of the store the body's `producer` names.
    fn verify_store_secret(&self, sent: &[u8], body: &[u8]) -> Result<(), WebhookAuthError> {
        let SharedSecret::PerStore(key) = &self.shared_secret else {
            return Err(WebhookAuthError::WrongSharedSecret);
        };
        let store = serde_json::from_slice::<Payload>(body)
            .ok()
            .and_then(|payload| payload.producer)
            .and_then(|producer| StoreHash::from_context(&producer))
            .ok_or(WebhookAuthError::WrongStoreSecret)?;
        let expected = store_webhook_secret(key, &store);
        equal_secrets(sent, expected.expose_secret().as_bytes())
            .map_err(|_| WebhookAuthError::WrongStoreSecret)
    }

    /// How many HMACs of delivery bodies this receiver has computed: what a delivery costs,
    /// for tests and diagnostics.
    pub fn signatures_computed(&self) -> u64 {
        self.signatures_computed.load(Ordering::Relaxed)
    }

    fn check_signature_headers<'a>(
        headers: &DeliveryHeaders<'a>,
        signatures: &'a str,
        now: u64,
    ) -> Result<HeaderCheck<'a>, WebhookAuthError> {
        let (Some(id), Some(timestamp)) = (headers.webhook_id, headers.webhook_timestamp) else {
            return Err(WebhookAuthError::MalformedSignature);
        };
        if id.trim().is_empty() {
            return Err(WebhookAuthError::MalformedSignature);
        }
        let sent_at: u64 = timestamp
            .trim()
            .parse()
            .map_err(|_| WebhookAuthError::MalformedSignature)?;
        if now.abs_diff(sent_at) > TIMESTAMP_TOLERANCE.as_secs() {
            return Err(WebhookAuthError::StaleTimestamp);
        }
        let entries: Vec<&str> = signatures
            .split_whitespace()
            .take(MAX_SIGNATURE_ENTRIES + 1)
            .collect();
        if entries.len() > MAX_SIGNATURE_ENTRIES {
            return Err(WebhookAuthError::TooManySignatures);
        }
        // The header may carry several space-separated signatures (during key rotation, or
        // of other versions); only `v1` entries of an HMAC-SHA256's length can match.
        let signatures: Vec<[u8; SIGNATURE_BYTES]> = entries
            .into_iter()
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|encoded| BASE64.decode(encoded).ok())
            .filter_map(|tag| <[u8; SIGNATURE_BYTES]>::try_from(tag.as_slice()).ok())
            .collect();
        if signatures.is_empty() {
            return Err(WebhookAuthError::MalformedSignature);
        }
        Ok(HeaderCheck {
            kind: HeaderCheckKind::Signed {
                id,
                timestamp,
                signatures,
            },
        })
    }

    /// Reads an authentic delivery: `None` when it was seen before, else what it asks of the
    /// cache. A delivery is named by its `webhook-id` when it has one (Standard Webhooks:
    /// the same id on every retry, a new one for every event), else by its payload `hash`,
    /// which BigCommerce repeats on a retry. The hash is not used beside an id: two real
    /// changes of the same metafield within a second have byte-identical payloads (the data
    /// names ids, not values, and `created_at` is in whole seconds), and the second must
    /// still invalidate. Either is remembered as a fixed-size digest.
    pub fn accept(&self, webhook_id: Option<&str>, body: &[u8]) -> Option<Delivery> {
        let payload: Payload = match serde_json::from_slice(body) {
            Ok(payload) => payload,
            Err(_) => {
                return Some(Delivery {
                    store: None,
                    invalidation: Invalidation::Ignore("the body is not a webhook payload"),
                });
            }
        };
        let store = payload
            .producer
            .as_deref()
            .and_then(StoreHash::from_context);
        if let Some(key) = delivery_key(webhook_id, &payload) {
            if self.seen.contains_key(&key) {
                return None;
            }
            self.seen.insert(key, ());
        }
        Some(Delivery {
            store,
            invalidation: invalidation_for(&payload),
        })
    }

    /// Forgets an accepted delivery that could not be acted on (its answer is an error), so
    /// that BigCommerce's retry of it is acted on rather than taken for a duplicate.
    pub fn forget(&self, webhook_id: Option<&str>, body: &[u8]) {
        if let Ok(payload) = serde_json::from_slice::<Payload>(body)
            && let Some(key) = delivery_key(webhook_id, &payload)
        {
            self.seen.invalidate(&key);
        }
    }

    /// The deliveries remembered now, and the bytes their keys take.
    pub fn replay_memory(&self) -> (u64, u64) {
        self.seen.run_pending_tasks();
        let entries = self.seen.entry_count();
        (entries, entries * REPLAY_ENTRY_BYTES as u64)
    }
}

/// What a delivery is remembered by: its Standard Webhooks id, else its payload hash named
/// with its store (two stores may send equal payloads); `None` when it has neither.
fn delivery_key(webhook_id: Option<&str>, payload: &Payload) -> Option<[u8; REPLAY_ENTRY_BYTES]> {
    // An empty id names nothing; it must not become one key shared by every delivery.
    let webhook_id = webhook_id.map(str::trim).filter(|id| !id.is_empty());
    match (webhook_id, payload.hash.as_deref()) {
        (Some(id), _) => Some(replay_key("id", id)),
        (None, Some(hash)) => Some(replay_key(
            "hash",
            &format!("{}:{hash}", payload.producer.as_deref().unwrap_or_default()),
        )),
        (None, None) => None,
    }
}

/// Compares a sent secret with the expected one in constant time, through digests of both:
/// equal lengths, so the comparison reveals neither the secret's content nor its length.
fn equal_secrets(sent: &[u8], expected: &[u8]) -> Result<(), ()> {
    let sent = digest::digest(&digest::SHA256, sent);
    let expected = digest::digest(&digest::SHA256, expected);
    constant_time::verify_slices_are_equal(sent.as_ref(), expected.as_ref()).map_err(|_| ())
}

/// The replay memory's key for a delivery: a digest, so every key has the same size.
fn replay_key(kind: &str, name: &str) -> [u8; REPLAY_ENTRY_BYTES] {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(kind.as_bytes());
    context.update(b":");
    context.update(name.as_bytes());
    let mut key = [0; REPLAY_ENTRY_BYTES];
    key.copy_from_slice(context.finish().as_ref());
    key
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
    if scope.starts_with("store/channel/") {
        return Invalidation::Channels;
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
            shared.map_or(SharedSecret::None, |shared| {
                SharedSecret::Fixed(SecretString::from(shared))
            }),
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
        let long_id = "m".repeat(MAX_WEBHOOK_ID_BYTES + 1);
        let seventeen = format!("{} {good}", vec![wrong_key.as_str(); 16].join(" "));
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
            (
                headers(" ", &stamp, &good),
                body,
                Err(WebhookAuthError::MalformedSignature),
                "blank id",
            ),
            (
                headers(&long_id, &stamp, &good),
                body,
                Err(WebhookAuthError::IdTooLong),
                "id over 256 bytes",
            ),
            (
                headers("msg_1", &stamp, "v1,AAAA v2,abc"),
                body,
                Err(WebhookAuthError::MalformedSignature),
                "no v1 entry of an HMAC-SHA256's length",
            ),
            (
                headers("msg_1", &stamp, &seventeen),
                body,
                Err(WebhookAuthError::TooManySignatures),
                "seventeen entries",
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
    fn the_standard_webhooks_published_test_vector_verifies() {
        // From standard-webhooks' Rust library tests (libraries/rust/src/lib.rs, `test_sign`
        // and `test_verify_with_multiple_signatures`): the key is the base64 after `whsec_`.
        let key = BASE64.decode("C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let receiver = WebhookReceiver::with_signing_keys(&[&key], SharedSecret::None);
        let id = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
        let timestamp = "1649367553";
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        let published = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";
        let decoys = [
            "v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ=",
            "v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q=",
            "v1,9DfC1c3eeOrXB6w/5dIDydLNQaEyww5KalE5jLBZucE=",
        ];
        let among_decoys = format!("{} {} {published} {}", decoys[0], decoys[1], decoys[2]);
        let only_decoys = decoys.join(" ");
        let now = 1_649_367_553;
        let cases = [
            (published, Ok(()), "the published signature"),
            (
                &among_decoys,
                Ok(()),
                "the published signature among others",
            ),
            (
                "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU=",
                Err(WebhookAuthError::BadSignature),
                "the library's wrong signature",
            ),
            (
                &only_decoys,
                Err(WebhookAuthError::BadSignature),
                "only wrong signatures",
            ),
        ];

        for (signature, expected, description) in cases {
            let headers = headers(id, timestamp, signature);

            assert_eq!(
                receiver.authenticate(&headers, body, now),
                expected,
                "case: {description}"
            );
        }
    }

    #[test]
    fn a_delivery_costs_one_hmac_per_key_however_many_signatures_it_lists() {
        let body = br#"{"scope":"store/order/updated","data":{"type":"order","id":5}}"#;
        let good = signature("msg_1", NOW, body, SECRET);
        let wrong = signature("msg_1", NOW, body, "other");
        let stamp = NOW.to_string();
        let fifteen_wrong_then_good = format!("{} {good}", vec![wrong.as_str(); 15].join(" "));
        let two_thousand = format!("{} {good}", vec![wrong.as_str(); 1999].join(" "));
        let rotating = WebhookReceiver::new(
            [
                &SecretString::from("new-secret"),
                &SecretString::from(SECRET),
            ],
            SharedSecret::None,
        );
        let receiver = receiver(None);

        let at_the_cap = receiver.authenticate(
            &headers("msg_1", &stamp, &fifteen_wrong_then_good),
            body,
            NOW,
        );
        let after_one = receiver.signatures_computed();
        let over_the_cap =
            receiver.authenticate(&headers("msg_1", &stamp, &two_thousand), body, NOW);
        let after_two = receiver.signatures_computed();
        let during_rotation = rotating.authenticate(
            &headers("msg_1", &stamp, &fifteen_wrong_then_good),
            body,
            NOW,
        );

        assert_eq!(at_the_cap, Ok(()));
        assert_eq!(after_one, 1, "sixteen signatures, one key: one HMAC");
        assert_eq!(over_the_cap, Err(WebhookAuthError::TooManySignatures));
        assert_eq!(after_two, 1, "2,000 signatures are refused before any HMAC");
        assert_eq!(during_rotation, Ok(()));
        assert_eq!(rotating.signatures_computed(), 2, "two keys: two HMACs");
    }

    #[test]
    fn long_ids_are_refused_from_the_headers_and_never_remembered() {
        let receiver = receiver(None);
        let stamp = NOW.to_string();
        let body = br#"{"scope":"store/order/updated","hash":"h","data":{"type":"order","id":5}}"#;
        let plausible = signature("msg_1", NOW, body, SECRET);
        let mut refused = 0;

        for index in 0..3_000 {
            let id = format!("{index:0>61440}");
            let check = receiver.check_headers(&headers(&id, &stamp, &plausible), NOW);
            if matches!(check, Err(WebhookAuthError::IdTooLong)) {
                refused += 1;
            }
        }
        let longest = "m".repeat(MAX_WEBHOOK_ID_BYTES);
        let accepted = receiver.accept(Some(&longest), body);

        assert_eq!(refused, 3_000, "every 60 KB id is refused");
        assert!(accepted.is_some());
        assert_eq!(
            receiver.replay_memory(),
            (1, REPLAY_ENTRY_BYTES as u64),
            "an id at the bound is kept as a 32-byte digest"
        );
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
                json!({"scope": "store/channel/updated", "data": {"type": "channel", "id": 2}}),
                Invalidation::Channels,
            ),
            (
                json!({"scope": "store/order/updated", "data": {"type": "order", "id": "abc"}}),
                Invalidation::Ignore("no order id in data.id"),
            ),
        ];
        for (payload, expected) in cases {
            let receiver = receiver(None);

            let delivery = receiver.accept(None, payload.to_string().as_bytes());

            assert_eq!(
                delivery.map(|delivery| delivery.invalidation),
                Some(expected),
                "case: {payload}"
            );
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

        let invalidation = Some(Delivery {
            store: None,
            invalidation: Invalidation::Order(OrderId::new(5).unwrap()),
        });
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
            Some(Delivery {
                store: None,
                invalidation: Invalidation::Ignore("the body is not a webhook payload")
            })
        );
    }

    #[test]
    fn a_delivery_names_its_store_and_equal_payloads_of_two_stores_are_two_deliveries() {
        let receiver = receiver(None);
        let of = |store: &str| {
            json!({"scope": "store/order/updated", "hash": "same", "producer": format!("stores/{store}"),
                   "data": {"type": "order", "id": 5}})
            .to_string()
        };

        let first = receiver.accept(None, of("abc123").as_bytes());
        let other_store = receiver.accept(None, of("xyz789").as_bytes());
        let retried = receiver.accept(None, of("abc123").as_bytes());
        let malformed_producer = receiver.accept(None, of("a/b").as_bytes());

        assert_eq!(first.unwrap().store, StoreHash::parse("abc123"));
        assert_eq!(other_store.unwrap().store, StoreHash::parse("xyz789"));
        assert_eq!(retried, None);
        assert_eq!(malformed_producer.unwrap().store, None);
    }

    #[test]
    fn a_per_store_secret_is_accepted_only_for_its_own_store() {
        let key = SecretString::from("webhook-key-of-the-app");
        let receiver = WebhookReceiver::new(
            [&SecretString::from(SECRET)],
            SharedSecret::PerStore(key.clone()),
        );
        let abc = store_webhook_secret(&key, &StoreHash::parse("abc123").unwrap());
        let xyz = store_webhook_secret(&key, &StoreHash::parse("xyz789").unwrap());
        let body = |store: &str| {
            json!({"scope": "store/order/updated", "producer": format!("stores/{store}"),
                   "data": {"type": "order", "id": 5}})
            .to_string()
        };
        let check = |secret: &SecretString, store: &str| {
            let headers = DeliveryHeaders {
                shared_secret: Some(secret.expose_secret().as_bytes()),
                ..DeliveryHeaders::default()
            };
            receiver
                .check_headers(&headers, NOW)
                .and_then(|check| receiver.verify_body(&check, body(store).as_bytes()))
        };

        assert_eq!(check(&abc, "abc123"), Ok(()));
        assert_eq!(check(&xyz, "xyz789"), Ok(()));
        assert_eq!(
            check(&abc, "xyz789"),
            Err(WebhookAuthError::WrongStoreSecret)
        );
        assert_eq!(
            check(&SecretString::from("short"), "abc123"),
            Err(WebhookAuthError::WrongSharedSecret)
        );
        assert_ne!(abc.expose_secret(), xyz.expose_secret());
        assert_eq!(abc.expose_secret().len(), STORE_SECRET_CHARS);
    }
}
