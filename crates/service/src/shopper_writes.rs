//! Shoppers edit their own order fields: the decisions of
//! `PUT /v1/orders/{order_id}/metafields/{namespace}/{key}` without HTTP. In order:
//! ownership (the customer's own list, through `access`: not theirs is the reads' `404`),
//! visibility and editability (a key the reads do not show is `NotFound`; one they show
//! that the definition or the permission set does not open for writing is `NotEditable`),
//! the order status window, the value against the definition (every broken rule listed),
//! then, one write of a key at a time in this process, BigCommerce's current metafield of
//! the key, the `If-Match` precondition against its ETag, and the write itself (update, or
//! create with `write_and_sf_access`). A write is recorded as `Change::OrderMetafields` of
//! the order, so the next read shows the new value and a webhook for it changes nothing.
//! Every write leaves one audit line: store, customer, order, key, outcome, the value's
//! length and a keyed hash of it (HMAC-SHA-256 with a key derived from the client secret,
//! so that equal values can be matched by whoever holds the secret, and a short value such
//! as one of a field's `choices` cannot be read back from the log by hashing guesses),
//! never the value.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::{digest, hmac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::access::{Access, AccessError};
use crate::cache::changes::Change;
use crate::database::Database;
use crate::domain::{CustomerId, Metafield, OrderId, PermissionSet};
use crate::fields::{FieldDefinition, FieldError, FieldType, MAX_VALUE_LENGTH};
use crate::management::error::ManagementError;
use crate::metrics::WriteMetrics;
use crate::stores::Store;
use crate::throttle::CustomerThrottle;

/// How many locks writes are spread over (by store, order and key): writes of one key are
/// one at a time, writes of different keys rarely wait for each other.
const LOCK_STRIPES: usize = 64;
/// The longest namespace or key (BigCommerce's limit); a longer one names nothing.
const MAX_NAME_CHARS: usize = 64;

/// What a write needs besides `access`: its own per-customer limit, the locks that make
/// writes of one key one at a time, and its metrics.
pub struct ShopperWrites {
    throttle: CustomerThrottle,
    locks: Box<[tokio::sync::Mutex<()>]>,
    metrics: WriteMetrics,
    audit_key: hmac::Key,
    /// Where the lock of a key across replicas is taken (PostgreSQL; nothing on SQLite).
    database: Database,
}

/// What the audit key is derived from the client secret with.
pub const AUDIT_KEY_LABEL: &[u8] = b"order-metafields audit value hash v1";

/// One shopper write, as the request asked it.
pub struct WriteRequest<'a> {
    pub order: OrderId,
    pub namespace: &'a str,
    pub key: &'a str,
    /// The body's `value`; `None` when it was missing or not a string.
    pub value: Option<&'a str>,
    /// The `If-Match` header, if any.
    pub if_match: Option<&'a str>,
    /// The only channel whose orders this request may see (the store's channel-orders
    /// setting), or `None` for every order of the customer.
    pub channel: Option<u64>,
}

/// A write that was made: the metafield as the reads show it (`{"data": {…}}`) and its ETag.
#[derive(Debug)]
pub struct Written {
    pub body: Vec<u8>,
    pub etag: String,
}

/// Why a write was refused.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Not the customer's order, or a field the reads do not show them.
    #[error("no such field for this customer")]
    NotFound,
    /// Shown, but not open for the shopper to write.
    #[error("the field is not editable")]
    NotEditable,
    /// The order's status is outside the definition's `editable_statuses`.
    #[error("the order's status does not allow editing")]
    OutsideWindow,
    /// The value breaks the definition: every rule it breaks.
    #[error("the value is invalid")]
    Invalid(Vec<FieldError>),
    /// `If-Match` does not match the current value.
    #[error("the field changed since it was read")]
    PreconditionFailed,
    /// The customer is over their write limit.
    #[error("too many writes")]
    TooMany(Duration),
    #[error(transparent)]
    Upstream(Arc<ManagementError>),
    /// The lock of the field across replicas could not be taken (PostgreSQL unreachable).
    #[error("the database is unavailable")]
    Database,
}

/// A metafield the reads show, as read back from their cached body.
#[derive(Deserialize)]
struct ShownKey {
    namespace: String,
    key: String,
    #[serde(default)]
    editable: bool,
}

#[derive(Deserialize)]
struct ShownBody {
    data: Vec<ShownKey>,
}

#[derive(Deserialize)]
struct OrderStatus {
    status_id: u32,
}

impl ShopperWrites {
    /// `per_minute` sustained writes per customer (`None`: no limit), bursts of `burst`.
    /// `client_secret` keys the audit line's hash of the value.
    pub fn new(
        per_minute: Option<NonZeroU32>,
        burst: NonZeroU32,
        metrics: WriteMetrics,
        client_secret: &SecretString,
        database: Database,
    ) -> Self {
        let secret = hmac::Key::new(hmac::HMAC_SHA256, client_secret.expose_secret().as_bytes());
        let derived = hmac::sign(&secret, AUDIT_KEY_LABEL);
        Self {
            audit_key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
            database,
            throttle: CustomerThrottle::new(per_minute, burst),
            locks: (0..LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            metrics,
        }
    }

    /// Makes the write if everything allows it; one audit line and one metric count,
    /// whatever the outcome.
    pub async fn write(
        &self,
        access: &Access,
        store: &Store,
        customer: CustomerId,
        request: &WriteRequest<'_>,
    ) -> Result<Written, WriteError> {
        let outcome = self.decide(access, store, customer, request).await;
        let label = match &outcome {
            Ok((_, true)) => "created",
            Ok((_, false)) => "updated",
            Err(error) => error.label(),
        };
        self.metrics.wrote(label);
        let value = request.value.unwrap_or_default();
        tracing::info!(
            target: "audit",
            store = %store.hash,
            customer = customer.get(),
            order = request.order.get(),
            namespace = %request.namespace.escape_debug(),
            key = %request.key.escape_debug(),
            value_length = value.chars().count(),
            value_hmac = %hex(hmac::sign(&self.audit_key, value.as_bytes()).as_ref()),
            outcome = label,
            "shopper wrote an order metafield"
        );
        outcome.map(|(written, _)| written)
    }

    async fn decide(
        &self,
        access: &Access,
        store: &Store,
        customer: CustomerId,
        request: &WriteRequest<'_>,
    ) -> Result<(Written, bool), WriteError> {
        let scope = &store.scope;
        self.throttle
            .check((scope.key, customer))
            .map_err(WriteError::TooMany)?;
        // Ownership first: the reads' own answer, from the customer's own list.
        let owned = access.order(scope, customer, request.order).await?;
        // Another storefront's order, with the channel-orders setting on: the same 404.
        if request
            .channel
            .is_some_and(|channel| channel != owned.channel_id)
        {
            return Err(WriteError::NotFound);
        }
        let names_fit = [request.namespace, request.key]
            .iter()
            .all(|name| (1..=MAX_NAME_CHARS).contains(&name.chars().count()));
        if !names_fit {
            return Err(WriteError::NotFound);
        }
        // What the reads show of this key decides 404 (nothing shown) against 403.
        let shown = access.metafields(scope, customer, request.order).await?;
        let shown: ShownBody = serde_json::from_slice(&shown.value().body).map_err(|error| {
            tracing::error!(error = %error, "the cached metafields body does not read back");
            WriteError::Upstream(Arc::new(ManagementError::InvalidResponse {
                operation: crate::management::error::Operation::OrderMetafields,
                reason: "the cached body does not read back".to_owned(),
            }))
        })?;
        let shown: Vec<&ShownKey> = shown
            .data
            .iter()
            .filter(|item| item.namespace == request.namespace && item.key == request.key)
            .collect();
        let fields = scope.fields.load_full();
        let definition = fields
            .get(request.namespace, request.key)
            .filter(|definition| definition.customer_editable && !definition.hidden);
        let Some(definition) = definition else {
            return Err(if shown.is_empty() {
                WriteError::NotFound
            } else {
                WriteError::NotEditable
            });
        };
        if !shown.is_empty() && !shown.iter().any(|item| item.editable) {
            return Err(WriteError::NotEditable);
        }
        let status: OrderStatus =
            serde_json::from_slice(&owned.json).map_err(|_| WriteError::NotFound)?;
        if !definition.editable_statuses.is_empty()
            && !definition.editable_statuses.contains(&status.status_id)
        {
            return Err(WriteError::OutsideWindow);
        }
        let value = request.value;
        let problems = value_problems(definition, value);
        let Some(value) = value.filter(|_| problems.is_empty()) else {
            return Err(WriteError::Invalid(problems));
        };

        // One write of this key at a time here: the precondition and the write it guards
        // are not interleaved with another write's. The wait counts against the request's
        // upstream budget, so a slow write (of any store sharing the stripe) holds up
        // another one for at most that long.
        // With several replicas, the same key is also locked across them (PostgreSQL), so
        // that of two writes with one `If-Match` on two replicas one still gets `412`.
        let deadline = scope.source.client.deadline();
        let timed_out = || {
            WriteError::Upstream(Arc::new(ManagementError::Timeout {
                operation: crate::management::error::Operation::MetafieldByKey,
            }))
        };
        let field = field_lock_key(store, request);
        let Ok(_one_at_a_time) = tokio::time::timeout_at(deadline, self.lock(field).lock()).await
        else {
            return Err(timed_out());
        };
        let across = self.database.lock_across_replicas(field);
        let _one_across_replicas = match tokio::time::timeout_at(deadline, across).await {
            Ok(Ok(lock)) => lock,
            Ok(Err(error)) => {
                tracing::error!(error = %error, "cannot lock the field across replicas");
                return Err(WriteError::Database);
            }
            Err(_) => return Err(timed_out()),
        };
        let current = scope
            .source
            .client
            .order_metafields_by_key(request.order, request.namespace, request.key, deadline)
            .await
            .map_err(|error| WriteError::Upstream(Arc::new(error)))?;
        let visible: Vec<&Metafield> = current
            .iter()
            .filter(|metafield| scope.policy.allows(metafield))
            .collect();
        let target = visible
            .iter()
            .filter(|metafield| metafield.permission_set == PermissionSet::WriteAndStorefront)
            .min_by_key(|metafield| metafield.id)
            .copied();
        match (target, visible.is_empty(), current.is_empty()) {
            (None, false, _) => return Err(WriteError::NotEditable),
            // Only metafields the shopper cannot see hold the key (`app_only`, or `read` and
            // `write` outside the operator's namespaces): nothing is written beside them.
            (None, true, false) => return Err(WriteError::NotFound),
            _ => {}
        }
        if let Some(if_match) = request.if_match
            && !precondition_holds(if_match, target.map(etag).as_deref())
        {
            return Err(WriteError::PreconditionFailed);
        }
        let written = match target {
            Some(target) => scope
                .source
                .client
                .update_order_metafield(request.order, target.id, value, deadline)
                .await
                .map(|metafield| (metafield, false)),
            None => scope
                .source
                .client
                .create_order_metafield(
                    request.order,
                    request.namespace,
                    request.key,
                    value,
                    definition.label.as_deref().unwrap_or_default(),
                    deadline,
                )
                .await
                .map(|metafield| (metafield, true)),
        };
        // A mirror gets the metafield as BigCommerce answered it before the change is
        // recorded, so that the next read (from the mirror) shows it.
        if let (Ok((metafield, _)), Some(mirror)) = (&written, &scope.source.mirror) {
            mirror.metafield_written(request.order, metafield).await;
        }
        // Whatever BigCommerce answered, the order's metafields may have changed: the next
        // read reloads them (and so does every replica the change reaches).
        access.invalidate(Change::OrderMetafields(scope.key, request.order));
        let (metafield, created) =
            written.map_err(|error| WriteError::Upstream(Arc::new(error)))?;
        let etag = etag(&metafield);
        let shown = fields.show(std::slice::from_ref(&metafield));
        let Some(shown) = shown.first() else {
            return Err(WriteError::NotFound);
        };
        #[derive(serde::Serialize)]
        struct Body<'a> {
            data: &'a crate::fields::ShownMetafield<'a>,
        }
        let body = serde_json::to_vec(&Body { data: shown }).map_err(|_| {
            WriteError::Upstream(Arc::new(ManagementError::InvalidResponse {
                operation: crate::management::error::Operation::UpdateMetafield,
                reason: "the metafield does not render".to_owned(),
            }))
        })?;
        Ok((Written { body, etag }, created))
    }

    /// This replica's lock stripe of a field (by its [`field_lock_key`]).
    fn lock(&self, field: i64) -> &tokio::sync::Mutex<()> {
        let stripe = usize::try_from(field.unsigned_abs() % LOCK_STRIPES as u64).unwrap_or(0);
        &self.locks[stripe]
    }
}

impl WriteError {
    /// The outcome's metric label and audit word.
    pub fn label(&self) -> &'static str {
        match self {
            WriteError::NotFound => "not_found",
            WriteError::NotEditable => "not_editable",
            WriteError::OutsideWindow => "outside_window",
            WriteError::Invalid(_) => "invalid",
            WriteError::PreconditionFailed => "precondition_failed",
            WriteError::TooMany(_) => "rate_limited",
            WriteError::Upstream(_) => "upstream_error",
            WriteError::Database => "database_unavailable",
        }
    }
}

impl From<AccessError> for WriteError {
    fn from(error: AccessError) -> Self {
        match error {
            AccessError::NotFound => WriteError::NotFound,
            AccessError::Upstream(error) => WriteError::Upstream(error),
        }
    }
}

/// Every outcome label, for the metrics to show each from the start.
pub const OUTCOMES: [&str; 9] = [
    "created",
    "updated",
    "not_found",
    "not_editable",
    "outside_window",
    "invalid",
    "precondition_failed",
    "rate_limited",
    "upstream_error",
];

/// The metafield's ETag: a strong validator of its id and value (RFC 9110 section 8.8.3).
pub fn etag(metafield: &Metafield) -> String {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(&metafield.id.to_be_bytes());
    context.update(metafield.value.as_bytes());
    let digest = context.finish();
    format!("\"{}\"", hex(&digest.as_ref()[..16]))
}

/// `If-Match` (RFC 9110 section 13.1.1): `*` holds when the field exists; a list holds when
/// it names the current ETag by strong comparison (a weak one never matches).
fn precondition_holds(if_match: &str, current: Option<&str>) -> bool {
    let Some(current) = current else {
        return false;
    };
    if if_match.trim() == "*" {
        return true;
    }
    if_match.split(',').any(|tag| tag.trim() == current)
}

/// Every rule of the definition `value` breaks (empty: it may be written). The `field` of
/// each is `value`, the body's member.
pub fn value_problems(definition: &FieldDefinition, value: Option<&str>) -> Vec<FieldError> {
    let mut problems = Vec::new();
    let mut refuse = |message: String| {
        problems.push(FieldError {
            field: "value".to_owned(),
            message,
        });
    };
    let Some(value) = value else {
        refuse("The value must be text: {\"value\": \"…\"}.".to_owned());
        return problems;
    };
    let length = value.chars().count();
    if length == 0 {
        refuse("Enter a value.".to_owned());
        return problems;
    }
    let limit = definition
        .max_length
        .unwrap_or(MAX_VALUE_LENGTH)
        .min(MAX_VALUE_LENGTH);
    if length > limit as usize {
        refuse(format!(
            "Use at most {limit} characters (this has {length})."
        ));
    }
    let lines_allowed = definition.field_type == FieldType::MultilineText;
    if value
        .chars()
        .any(|char| char.is_control() && !(lines_allowed && matches!(char, '\n' | '\r' | '\t')))
    {
        refuse(if lines_allowed {
            "Use no control characters other than line breaks and tabs.".to_owned()
        } else {
            "Use a single line without control characters.".to_owned()
        });
    }
    if let Some(message) = type_problem(definition, value) {
        refuse(message);
    }
    if let Some(pattern) = &definition.pattern {
        // The whole value must match, as an HTML form's `pattern` does. The regex crate runs
        // in time linear in the value, whatever the pattern.
        match regex::Regex::new(&format!("^(?:{pattern})$")) {
            Ok(regex) if regex.is_match(value) => {}
            Ok(_) => refuse("The value is not in the format this field asks for.".to_owned()),
            Err(_) => refuse("This field's format cannot be checked; ask the store.".to_owned()),
        }
    }
    problems
}

fn type_problem(definition: &FieldDefinition, value: &str) -> Option<String> {
    let ok = match definition.field_type {
        FieldType::Text | FieldType::MultilineText => true,
        FieldType::Choice => definition.choices.iter().any(|choice| choice == value),
        FieldType::Number => {
            value.trim() == value && value.parse::<f64>().is_ok_and(f64::is_finite)
        }
        FieldType::Boolean => matches!(value, "true" | "false"),
        FieldType::Date => time::Date::parse(
            value,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .is_ok(),
        FieldType::DateTime => {
            time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
                .is_ok()
        }
        FieldType::Url => url::Url::parse(value)
            .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host()),
        FieldType::Email => value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(char::is_whitespace)
                && !domain.contains('@')
        }),
    };
    if ok {
        return None;
    }
    Some(match definition.field_type {
        FieldType::Choice => format!("Choose one of: {}.", definition.choices.join(", ")),
        FieldType::Number => "Enter a number.".to_owned(),
        FieldType::Boolean => "Enter true or false.".to_owned(),
        FieldType::Date => "Enter a date as YYYY-MM-DD.".to_owned(),
        FieldType::DateTime => {
            "Enter a date and time as RFC 3339 (2024-05-01T10:00:00Z).".to_owned()
        }
        FieldType::Url => "Enter a web address starting with http:// or https://.".to_owned(),
        FieldType::Email => "Enter an email address.".to_owned(),
        FieldType::Text | FieldType::MultilineText => String::new(),
    })
}

/// The lock key of one field of one order of one store, for this replica's stripes and
/// PostgreSQL's advisory lock: the first 8 bytes of a SHA-256 of them, the same in every
/// replica and every build.
fn field_lock_key(store: &Store, request: &WriteRequest<'_>) -> i64 {
    crate::database::advisory_key(&[
        store.hash.as_str(),
        &request.order.get().to_string(),
        request.namespace,
        request.key,
    ])
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn definition(field_type: FieldType) -> FieldDefinition {
        let mut definition = FieldDefinition::plain("Gifts", "note");
        definition.customer_editable = true;
        definition.field_type = field_type;
        definition
    }

    fn messages(definition: &FieldDefinition, value: Option<&str>) -> Vec<String> {
        value_problems(definition, value)
            .into_iter()
            .map(|problem| {
                assert_eq!(problem.field, "value");
                problem.message
            })
            .collect()
    }

    #[test]
    fn every_broken_rule_is_listed() {
        let mut definition = definition(FieldType::Text);
        definition.max_length = Some(5);
        definition.pattern = Some("[a-z]+".to_owned());

        assert_eq!(messages(&definition, Some("abc")), Vec::<String>::new());
        assert_eq!(
            messages(&definition, Some("ABC\u{7}DEF")),
            [
                "Use at most 5 characters (this has 7).",
                "Use a single line without control characters.",
                "The value is not in the format this field asks for.",
            ]
        );
        assert_eq!(messages(&definition, Some("")), ["Enter a value."]);
        assert_eq!(
            messages(&definition, None),
            ["The value must be text: {\"value\": \"…\"}."]
        );
    }

    #[test]
    fn the_pattern_must_match_the_whole_value() {
        let mut definition = definition(FieldType::Text);
        definition.pattern = Some(r"PO-\d+".to_owned());

        assert!(messages(&definition, Some("PO-123")).is_empty());
        assert_eq!(messages(&definition, Some("xPO-123x")).len(), 1);
    }

    #[test]
    fn types_choices_and_lines_are_checked() {
        let mut choice = definition(FieldType::Choice);
        choice.choices = vec!["Morning".to_owned(), "Evening".to_owned()];
        let cases = [
            (choice.clone(), "Morning", true),
            (choice, "Noon", false),
            (definition(FieldType::Number), "12.5", true),
            (definition(FieldType::Number), "NaN", false),
            (definition(FieldType::Boolean), "true", true),
            (definition(FieldType::Boolean), "yes", false),
            (definition(FieldType::Date), "2024-05-01", true),
            (definition(FieldType::Date), "2024-13-01", false),
            (
                definition(FieldType::DateTime),
                "2024-05-01T10:00:00Z",
                true,
            ),
            (definition(FieldType::Url), "https://example.com/x", true),
            (definition(FieldType::Url), "javascript:alert(1)", false),
            (definition(FieldType::Email), "a@example.com", true),
            (definition(FieldType::Email), "a@b", false),
            (definition(FieldType::MultilineText), "line\nline", true),
            (definition(FieldType::Text), "line\nline", false),
        ];
        for (definition, value, valid) in cases {
            assert_eq!(
                messages(&definition, Some(value)).is_empty(),
                valid,
                "{:?} {value:?}",
                definition.field_type
            );
        }
    }

    #[test]
    fn the_longest_value_bigcommerce_takes_passes_and_one_more_character_does_not() {
        let definition = definition(FieldType::Text);

        assert!(messages(&definition, Some(&"é".repeat(65_535))).is_empty());
        assert_eq!(
            messages(&definition, Some(&"é".repeat(65_536))),
            ["Use at most 65535 characters (this has 65536)."]
        );
    }

    #[test]
    fn if_match_holds_for_the_current_etag_or_a_star_when_the_field_exists() {
        let current = Some("\"abc\"");
        let cases = [
            ("\"abc\"", current, true),
            ("\"x\", \"abc\"", current, true),
            ("W/\"abc\"", current, false),
            ("\"old\"", current, false),
            ("*", current, true),
            ("*", None, false),
            ("\"abc\"", None, false),
        ];
        for (header, current, holds) in cases {
            assert_eq!(precondition_holds(header, current), holds, "{header}");
        }
    }
}
