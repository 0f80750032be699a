//! Validation of webhook bodies sent to `POST /v3/hooks` and `PUT /v3/hooks/{id}`, following
//! webhooks.v3.yml (`webhook_Base`: `scope` and `destination` required; `webhook_Put`: any
//! field). It only judges the body; duplicates and missing hooks are the handlers' business.

use std::collections::BTreeMap;
use std::net::IpAddr;

use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Map, Value};
use url::{Host, Url};

use crate::events::is_supported_scope;
use crate::metafield_input::InputError;

/// The fields of a hook body; on `PUT` any of them may be absent.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct HookInput {
    pub scope: Option<String>,
    /// The destination exactly as sent, once it parsed as an acceptable URL.
    pub destination: Option<String>,
    pub is_active: Option<bool>,
    /// `Some(None)` when the body sent `"headers": null`.
    pub headers: Option<Option<BTreeMap<String, String>>>,
    pub events_history_enabled: Option<bool>,
}

// The 422 `errors` values BigCommerce's webhooks service uses (webhooks.v3.yml,
// `422_UnprocessableEntity` example: `destination: error.path.missing.`).
const MISSING: &str = "error.path.missing";
const NOT_A_STRING: &str = "error.expected.jsstring";
const NOT_A_BOOLEAN: &str = "error.expected.jsboolean";
const NOT_AN_OBJECT: &str = "error.expected.jsobject";

/// Parses and validates `body`; `creating` makes `scope` and `destination` required, as on
/// `POST`; on `PUT` at least one field is required.
pub(crate) fn parse(body: &[u8], creating: bool) -> Result<HookInput, InputError> {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        return Err(InputError::Syntax);
    };
    let mut errors = Map::new();
    let mut input = HookInput::default();
    let mut refuse = |field: &str, message: String| {
        errors.insert(field.to_owned(), Value::String(message));
    };
    match object.get("scope") {
        None if creating => refuse("scope", MISSING.to_owned()),
        None => {}
        Some(Value::String(scope)) if is_supported_scope(scope) => {
            input.scope = Some(scope.clone());
        }
        Some(Value::String(scope)) => refuse(
            "scope",
            format!("{scope} is not an order, metafield or channel webhook scope"),
        ),
        Some(_) => refuse("scope", NOT_A_STRING.to_owned()),
    }
    match object.get("destination") {
        None if creating => refuse("destination", MISSING.to_owned()),
        None => {}
        Some(Value::String(destination)) => match check_destination(destination) {
            Ok(()) => input.destination = Some(destination.clone()),
            Err(message) => refuse("destination", message.to_owned()),
        },
        Some(_) => refuse("destination", NOT_A_STRING.to_owned()),
    }
    for (field, slot) in [
        ("is_active", &mut input.is_active),
        ("events_history_enabled", &mut input.events_history_enabled),
    ] {
        match object.get(field) {
            None => {}
            Some(Value::Bool(flag)) => *slot = Some(*flag),
            Some(_) => refuse(field, NOT_A_BOOLEAN.to_owned()),
        }
    }
    match object.get("headers") {
        None => {}
        Some(Value::Null) => input.headers = Some(None),
        Some(Value::Object(headers)) => match check_headers(headers) {
            Ok(headers) => input.headers = Some(Some(headers)),
            Err(message) => refuse("headers", message),
        },
        Some(_) => refuse("headers", NOT_AN_OBJECT.to_owned()),
    }
    // webhooks.v3.yml, `updateWebhook`: "At least one field is required to perform an update."
    if !creating && errors.is_empty() && input == HookInput::default() {
        errors.insert(
            "body".to_owned(),
            "at least one field is required to update a webhook".into(),
        );
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(InputError::Invalid(errors))
    }
}

/// BigCommerce wants an `https` destination on port 443. Everything the sandbox talks to is on
/// this machine, so it also takes plain `http` to a loopback host, on any port.
fn check_destination(destination: &str) -> Result<(), &'static str> {
    let url = Url::parse(destination).map_err(|_| "destination must be an absolute URL")?;
    let loopback = match url.host() {
        Some(Host::Ipv4(address)) => IpAddr::V4(address).is_loopback(),
        Some(Host::Ipv6(address)) => IpAddr::V6(address).is_loopback(),
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => return Err("destination must name a host"),
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err("destination must be an https URL (or http on a loopback address)"),
    }
}

/// Custom headers must be strings that can travel as HTTP header names and values.
fn check_headers(headers: &Map<String, Value>) -> Result<BTreeMap<String, String>, String> {
    headers
        .iter()
        .map(|(name, value)| {
            let Value::String(value) = value else {
                return Err(format!("header {name} must be a string"));
            };
            if HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(format!("{name} is not a valid header name"));
            }
            if HeaderValue::from_str(value).is_err() {
                return Err(format!(
                    "the value of header {name} is not a valid header value"
                ));
            }
            Ok((name.clone(), value.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn refused_fields(body: &str, creating: bool) -> Vec<String> {
        match parse(body.as_bytes(), creating) {
            Err(InputError::Invalid(errors)) => errors.keys().cloned().collect(),
            other => panic!("{body} was not refused field by field: {other:?}"),
        }
    }

    #[test]
    fn create_body_with_scope_destination_and_headers_is_accepted() {
        let body = br#"{"scope":"store/order/metafield/*","destination":"https://app.example.com/webhooks","is_active":true,"headers":{"X-Webhook-Secret":"s3cret"},"events_history_enabled":true}"#;

        let input = parse(body, true).unwrap();

        assert_eq!(input.scope.as_deref(), Some("store/order/metafield/*"));
        assert_eq!(
            input.destination.as_deref(),
            Some("https://app.example.com/webhooks")
        );
        assert_eq!(input.is_active, Some(true));
        assert_eq!(
            input.headers,
            Some(Some(BTreeMap::from([(
                "X-Webhook-Secret".to_owned(),
                "s3cret".to_owned()
            )])))
        );
        assert_eq!(input.events_history_enabled, Some(true));
    }

    #[test]
    fn loopback_http_destinations_are_accepted() {
        for destination in [
            "http://127.0.0.1:8080/webhooks/bigcommerce",
            "http://localhost:3000/hooks",
            "http://[::1]:9000/",
        ] {
            let body = format!(r#"{{"scope":"store/order/*","destination":"{destination}"}}"#);

            let input = parse(body.as_bytes(), true).unwrap();

            assert_eq!(input.destination.as_deref(), Some(destination));
        }
    }

    #[test]
    fn create_body_is_refused_per_field_when_invalid() {
        let cases = [
            (
                r#"{"destination":"https://a.example/h"}"#,
                "scope",
                "missing scope",
            ),
            (
                r#"{"scope":"store/order/*"}"#,
                "destination",
                "missing destination",
            ),
            (
                r#"{"scope":"store/product/created","destination":"https://a.example/h"}"#,
                "scope",
                "a scope outside orders and metafields",
            ),
            (
                r#"{"scope":"store/order/*","destination":"http://example.com/h"}"#,
                "destination",
                "plain http to a remote host",
            ),
            (
                r#"{"scope":"store/order/*","destination":"/relative"}"#,
                "destination",
                "a relative destination",
            ),
            (
                r#"{"scope":"store/order/*","destination":"https://a.example/h","is_active":"yes"}"#,
                "is_active",
                "is_active as a string",
            ),
            (
                r#"{"scope":"store/order/*","destination":"https://a.example/h","headers":{"X-Secret":1}}"#,
                "headers",
                "a header value that is not a string",
            ),
            (
                r#"{"scope":"store/order/*","destination":"https://a.example/h","headers":{"bad header":"v"}}"#,
                "headers",
                "a header name with a space",
            ),
            (
                r#"{"scope":"store/order/*","destination":"https://a.example/h","headers":[]}"#,
                "headers",
                "headers as an array",
            ),
        ];

        for (body, field, description) in cases {
            assert_eq!(refused_fields(body, true), vec![field], "{description}");
        }
    }

    #[test]
    fn update_body_needs_at_least_one_field() {
        assert_eq!(refused_fields("{}", false), vec!["body"]);
        assert_eq!(
            parse(br#"{"is_active":false}"#, false).unwrap().is_active,
            Some(false)
        );
    }

    #[test]
    fn update_body_may_clear_the_headers_with_null() {
        let input = parse(br#"{"headers":null}"#, false).unwrap();

        assert_eq!(input.headers, Some(None));
    }

    #[test]
    fn a_body_that_is_not_a_json_object_is_a_syntax_error() {
        for body in ["", "[]", "not json", "\"store/order/*\""] {
            assert_eq!(
                parse(body.as_bytes(), true),
                Err(InputError::Syntax),
                "{body:?}"
            );
        }
    }
}
