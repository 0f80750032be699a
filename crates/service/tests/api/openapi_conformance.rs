//! Proves that `openapi.yaml` and the running service agree: the real app is driven through
//! scenarios covering every route it serves and every status it can be made to answer in
//! tests, and each response is checked against what the document says of it (status,
//! media type, required headers and their schemas, body schema). The document itself is
//! checked by `openapi_document`.

use std::time::Duration;

use jsonschema::Registry;
use jsonwebtoken::Algorithm;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::openapi::{document_registry, load_document, pointer_escape, validator_at};
use crate::helpers::{
    STORE_HASH, TestApp, claims_for, metafield_page, sign, spawn_app_with, token_for, v2_order,
    v3_metafield,
};

/// The customer every scenario signs in as, and the orders they own upstream (order 200,
/// used as someone else's, is not among them).
const CUSTOMER: u64 = 7;
const OWN_ORDER: u64 = 100;
const OWN_ORDER_WITHOUT_METAFIELDS: u64 = 101;

/// One request to the real app and the status it must get.
struct Scenario {
    description: &'static str,
    settings: &'static [(&'static str, &'static str)],
    upstream: Upstream,
    method: Method,
    uri: &'static str,
    credentials: Credentials,
    documented: Documented,
    expected_status: u16,
    /// A JSON body and an `If-Match` header, for writes.
    body: Option<&'static str>,
    if_match: Option<&'static str>,
}

/// What the fake Management API does.
#[derive(Clone, Copy)]
enum Upstream {
    /// The customer owns two orders; the first has a visible and an app-only metafield.
    Healthy,
    /// The customer has no orders (the v2 API's `204`).
    NoOrders,
    /// Nothing is mounted, so every call answers wiremock's `404` (a wrong store hash).
    Missing,
    /// Every call answers `500`.
    Failing,
    /// Orders load, every metafield call answers `500`.
    MetafieldsFailing,
    /// Every call answers `429` with a reset far beyond the retry budget.
    RateLimited,
    /// Every call answers, but only after two seconds.
    Slow,
    /// Every call answers `401`: the access token is refused.
    TokenRefused,
}

#[derive(Clone, Copy)]
enum Credentials {
    None,
    Valid,
    Garbage,
    WrongSecret,
    /// A customer access token sent from a browser (with `Origin`).
    AccessTokenWithOrigin,
}

/// Where the document describes the response.
#[derive(Clone, Copy)]
enum Documented {
    /// The `get` operation of this path template.
    Route(&'static str),
    /// The operation of this method (lower case) on this path template.
    Operation(&'static str, &'static str),
    /// A shared response the document names for requests outside `paths` (unknown paths
    /// answer the `NotFound` response), with the status it stands for.
    Shared(&'static str, u16),
}

/// A change that makes a conforming response break the document.
type Mutation = fn(&mut Recorded);

/// A response as received, kept so that the checks can also be run on altered copies.
#[derive(Clone)]
struct Recorded {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

#[tokio::test]
async fn every_response_the_service_gives_is_documented_in_openapi_yaml() {
    let document = load_document();
    let registry = document_registry(&document);
    let mut violations = Vec::new();

    for scenario in scenarios() {
        let app = spawn_app_with(scenario.settings).await;
        arrange_upstream(&app, scenario.upstream).await;

        let recorded = send(&app, &scenario).await;

        if recorded.status != scenario.expected_status {
            violations.push(format!(
                "{}: expected status {}, got {}",
                scenario.description, scenario.expected_status, recorded.status
            ));
        }
        violations.extend(
            conformance_violations(&document, &registry, scenario.documented, &recorded)
                .into_iter()
                .map(|violation| format!("{}: {violation}", scenario.description)),
        );
    }

    assert!(
        violations.is_empty(),
        "the service and openapi.yaml disagree:\n  {}",
        violations.join("\n  ")
    );
}

#[tokio::test]
async fn the_conformance_check_reports_responses_that_break_the_document() {
    let document = load_document();
    let registry = document_registry(&document);
    let app = spawn_app_with(&[]).await;
    arrange_upstream(&app, Upstream::Healthy).await;
    let route = Documented::Route("/v1/orders/{order_id}");
    let conforming = app
        .get_order(&token_for(CUSTOMER), &OWN_ORDER.to_string())
        .await;
    let conforming = record(conforming).await;
    let mutations: [(&str, Mutation); 7] = [
        ("an order carries a private field", |recorded| {
            edit_body(recorded, |body| {
                body["data"]["ip_address"] = json!("203.0.113.77")
            })
        }),
        ("an order lacks a required field", |recorded| {
            edit_body(recorded, |body| {
                body["data"].as_object_mut().unwrap().remove("status");
            })
        }),
        ("a date is RFC 2822, not RFC 3339", |recorded| {
            edit_body(recorded, |body| {
                body["data"]["date_created"] = json!("Tue, 05 Mar 2024 10:00:00 +0000")
            })
        }),
        ("the status is not documented", |recorded| {
            recorded.status = 418
        }),
        ("the media type is not documented", |recorded| {
            recorded
                .headers
                .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
        }),
        ("a required header is missing", |recorded| {
            recorded.headers.remove("cache-control");
        }),
        ("a header breaks its schema", |recorded| {
            recorded
                .headers
                .insert("x-request-id", HeaderValue::from_static("not sane!"));
        }),
    ];

    let unaltered = conformance_violations(&document, &registry, route, &conforming);

    assert_eq!(
        unaltered,
        Vec::<String>::new(),
        "the real response conforms"
    );
    for (description, mutate) in mutations {
        let mut altered = conforming.clone();
        mutate(&mut altered);

        let violations = conformance_violations(&document, &registry, route, &altered);

        assert!(
            !violations.is_empty(),
            "case: {description}: the check should have reported it"
        );
    }
}

impl Scenario {
    /// A `GET` by the signed-in customer against a healthy upstream.
    fn get(
        description: &'static str,
        uri: &'static str,
        documented: Documented,
        expected_status: u16,
    ) -> Self {
        Self {
            description,
            settings: &[],
            upstream: Upstream::Healthy,
            method: Method::GET,
            uri,
            credentials: Credentials::Valid,
            documented,
            expected_status,
            body: None,
            if_match: None,
        }
    }

    /// A `PUT` of `body` by the signed-in customer, with the editable field definitions.
    fn put(
        description: &'static str,
        uri: &'static str,
        body: &'static str,
        expected_status: u16,
    ) -> Self {
        Self {
            method: Method::PUT,
            body: Some(body),
            settings: EDITABLE_FIELDS,
            ..Self::get(
                description,
                uri,
                Documented::Operation("/v1/orders/{order_id}/metafields/{namespace}/{key}", "put"),
                expected_status,
            )
        }
    }

    fn if_match(self, if_match: &'static str) -> Self {
        Self {
            if_match: Some(if_match),
            ..self
        }
    }

    fn method(self, method: Method) -> Self {
        Self { method, ..self }
    }

    fn credentials(self, credentials: Credentials) -> Self {
        Self {
            credentials,
            ..self
        }
    }

    fn upstream(self, upstream: Upstream) -> Self {
        Self { upstream, ..self }
    }

    fn settings(self, settings: &'static [(&'static str, &'static str)]) -> Self {
        Self { settings, ..self }
    }
}

/// Field definitions with editable fields, for the writes.
const EDITABLE_FIELDS: &[(&str, &str)] = &[(
    "FIELD_DEFINITIONS_FILE",
    "tests/api/fixtures/editable-field-definitions.json",
)];

/// Every served route with every status the service can be made to answer in tests.
fn scenarios() -> Vec<Scenario> {
    use Credentials::{Garbage, WrongSecret};
    use Upstream::{
        Failing, MetafieldsFailing, Missing, NoOrders, RateLimited, Slow, TokenRefused,
    };

    const ORDERS: Documented = Documented::Route("/v1/orders");
    const ORDER: Documented = Documented::Route("/v1/orders/{order_id}");
    const METAFIELDS: Documented = Documented::Route("/v1/orders/{order_id}/metafields");
    const HEALTH: Documented = Documented::Route("/healthz");
    const READINESS: Documented = Documented::Route("/readyz");
    const METRICS: Documented = Documented::Route("/metrics");
    const DOCUMENT: Documented = Documented::Route("/openapi.yaml");
    const INDEX: Documented = Documented::Route("/");
    const DOCS: Documented = Documented::Route("/docs");
    const DOCS_SCRIPT: Documented = Documented::Route("/docs/redoc.standalone.js");
    const UNKNOWN_PATH: Documented = Documented::Shared("NotFound", 404);
    const SESSION_START: Documented = Documented::Operation("/v1/session", "post");
    const SESSION_END: Documented = Documented::Operation("/v1/session", "delete");
    vec![
        Scenario::get("list orders", "/v1/orders", ORDERS, 200),
        Scenario::get("list orders, none placed", "/v1/orders", ORDERS, 200).upstream(NoOrders),
        Scenario::get(
            "list orders past the last page",
            "/v1/orders?page=9&limit=1",
            ORDERS,
            200,
        ),
        Scenario::get("get an own order", "/v1/orders/100", ORDER, 200),
        Scenario::get(
            "list an order's metafields",
            "/v1/orders/100/metafields",
            METAFIELDS,
            200,
        ),
        Scenario::get(
            "list metafields, none",
            "/v1/orders/101/metafields",
            METAFIELDS,
            200,
        ),
        Scenario::get(
            "list an order's metafields with field definitions",
            "/v1/orders/100/metafields",
            METAFIELDS,
            200,
        )
        .settings(&[(
            "FIELD_DEFINITIONS_FILE",
            "tests/api/fixtures/field-definitions.json",
        )]),
        Scenario::get("liveness", "/healthz", HEALTH, 200).credentials(Credentials::None),
        Scenario::get("readiness", "/readyz", READINESS, 200).credentials(Credentials::None),
        Scenario::get("ready, upstream down", "/readyz", READINESS, 200)
            .credentials(Credentials::None)
            .upstream(Failing),
        Scenario::get("ready, token refused", "/readyz", READINESS, 200)
            .credentials(Credentials::None)
            .upstream(TokenRefused),
        Scenario::get("ready, unknown store", "/readyz", READINESS, 200)
            .credentials(Credentials::None)
            .upstream(Missing),
        Scenario::get("metrics", "/metrics", METRICS, 200).credentials(Credentials::None),
        Scenario::get(
            "metrics on the main address when METRICS_ADDR is set",
            "/metrics",
            METRICS,
            404,
        )
        .credentials(Credentials::None)
        .settings(&[("METRICS_ADDR", "127.0.0.1:0")]),
        Scenario::get("the document", "/openapi.yaml", DOCUMENT, 200)
            .credentials(Credentials::None),
        Scenario::get("the index", "/", INDEX, 200).credentials(Credentials::None),
        Scenario::get("the reference page", "/docs", DOCS, 200).credentials(Credentials::None),
        Scenario::get(
            "the reference's script",
            "/docs/redoc.standalone.js",
            DOCS_SCRIPT,
            200,
        )
        .credentials(Credentials::None),
        Scenario::get("POST the index", "/", INDEX, 405)
            .method(Method::POST)
            .credentials(Credentials::None),
        Scenario::get("page 0", "/v1/orders?page=0", ORDERS, 400),
        Scenario::get("a repeated page", "/v1/orders?page=1&page=2", ORDERS, 400),
        Scenario::get("limit over 250", "/v1/orders?limit=251", ORDERS, 400),
        Scenario::get("non-numeric order id", "/v1/orders/abc", ORDER, 400),
        Scenario::get(
            "order id 0 for metafields",
            "/v1/orders/0/metafields",
            METAFIELDS,
            400,
        ),
        Scenario::get("no token", "/v1/orders", ORDERS, 401).credentials(Credentials::None),
        Scenario::get(
            "a customer access token from a browser",
            "/v1/orders",
            ORDERS,
            400,
        )
        .credentials(Credentials::AccessTokenWithOrigin),
        Scenario::get("a session started", "/v1/session", SESSION_START, 204).method(Method::POST),
        Scenario::get(
            "a session without a token",
            "/v1/session",
            SESSION_START,
            401,
        )
        .method(Method::POST)
        .credentials(Credentials::None),
        Scenario::get(
            "a session ended from no page",
            "/v1/session",
            SESSION_END,
            403,
        )
        .method(Method::DELETE)
        .credentials(Credentials::None),
        Scenario::get("not a jwt", "/v1/orders/100", ORDER, 401).credentials(Garbage),
        Scenario::get(
            "another secret",
            "/v1/orders/100/metafields",
            METAFIELDS,
            401,
        )
        .credentials(WrongSecret),
        Scenario::get(
            "an order the customer does not own",
            "/v1/orders/200",
            ORDER,
            404,
        ),
        Scenario::get(
            "metafields of an order not owned",
            "/v1/orders/200/metafields",
            METAFIELDS,
            404,
        ),
        Scenario::get("an unknown path", "/v2/nothing-here", UNKNOWN_PATH, 404),
        Scenario::get("DELETE the order list", "/v1/orders", ORDERS, 405).method(Method::DELETE),
        Scenario::get("POST an order", "/v1/orders/100", ORDER, 405).method(Method::POST),
        Scenario::get(
            "PUT metafields",
            "/v1/orders/100/metafields",
            METAFIELDS,
            405,
        )
        .method(Method::PUT),
        Scenario::get("POST liveness", "/healthz", HEALTH, 405)
            .method(Method::POST)
            .credentials(Credentials::None),
        Scenario::get("POST readiness", "/readyz", READINESS, 405)
            .method(Method::POST)
            .credentials(Credentials::None),
        Scenario::get("DELETE metrics", "/metrics", METRICS, 405)
            .method(Method::DELETE)
            .credentials(Credentials::None),
        Scenario::get("PATCH the document", "/openapi.yaml", DOCUMENT, 405)
            .method(Method::PATCH)
            .credentials(Credentials::None),
        Scenario::get("upstream 500 for orders", "/v1/orders", ORDERS, 502).upstream(Failing),
        Scenario::get("upstream 404 for orders", "/v1/orders", ORDERS, 502).upstream(Missing),
        Scenario::get(
            "upstream 500 for metafields",
            "/v1/orders/100/metafields",
            METAFIELDS,
            502,
        )
        .upstream(MetafieldsFailing),
        Scenario::get("upstream 429 beyond the budget", "/v1/orders", ORDERS, 503)
            .upstream(RateLimited)
            .settings(&[("UPSTREAM_RETRY_BUDGET", "500ms")]),
        Scenario::get(
            "upstream slower than the timeout",
            "/v1/orders/100",
            ORDER,
            504,
        )
        .upstream(Slow)
        .settings(&[("UPSTREAM_TIMEOUT", "300ms")]),
        Scenario::put(
            "write a gift message",
            "/v1/orders/100/metafields/Gifts/note",
            r#"{"value": "Happy birthday"}"#,
            200,
        ),
        Scenario::put(
            "write with a body that is not JSON",
            "/v1/orders/100/metafields/Gifts/note",
            "value=x",
            400,
        ),
        Scenario::put(
            "write without a token",
            "/v1/orders/100/metafields/Gifts/note",
            r#"{"value": "x"}"#,
            401,
        )
        .credentials(Credentials::None),
        Scenario::put(
            "write a shown field that is not editable",
            "/v1/orders/100/metafields/Shipping/tracking_url",
            r#"{"value": "https://example.com"}"#,
            403,
        ),
        Scenario::put(
            "write to an order not owned",
            "/v1/orders/200/metafields/Gifts/note",
            r#"{"value": "x"}"#,
            404,
        ),
        Scenario::get(
            "GET a field",
            "/v1/orders/100/metafields/Gifts/note",
            Documented::Operation("/v1/orders/{order_id}/metafields/{namespace}/{key}", "put"),
            405,
        ),
        Scenario::put(
            "write outside the status window",
            "/v1/orders/100/metafields/Gifts/after_shipping",
            r#"{"value": "x"}"#,
            409,
        ),
        Scenario::put(
            "write with a stale If-Match",
            "/v1/orders/100/metafields/Gifts/note",
            r#"{"value": "x"}"#,
            412,
        )
        .if_match("\"00000000000000000000000000000000\""),
        Scenario::put(
            "write a value that breaks the definition",
            "/v1/orders/100/metafields/Gifts/note",
            r#"{"value": "far longer than twenty characters"}"#,
            422,
        ),
        Scenario::put(
            "write with BigCommerce failing",
            "/v1/orders/100/metafields/Gifts/note",
            r#"{"value": "x"}"#,
            502,
        )
        .upstream(MetafieldsFailing),
    ]
}

async fn arrange_upstream(app: &TestApp, upstream: Upstream) {
    let any_call = || Mock::given(method("GET")).and(path_regex(format!("^/stores/{STORE_HASH}/")));
    match upstream {
        Upstream::Healthy | Upstream::MetafieldsFailing => {
            let orders = vec![
                v2_order(OWN_ORDER_WITHOUT_METAFIELDS, CUSTOMER, 2),
                v2_order(OWN_ORDER, CUSTOMER, 1),
            ];
            app.mount_orders(CUSTOMER, orders, ..).await;
            Mock::given(method("GET"))
                .and(path(format!("/stores/{STORE_HASH}/v2/orders/count")))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({"count": 2})))
                .mount(&app.management)
                .await;
        }
        Upstream::NoOrders => app.mount_orders(CUSTOMER, Vec::new(), ..).await,
        Upstream::Missing => {}
        Upstream::Failing => {
            any_call()
                .respond_with(ResponseTemplate::new(500))
                .mount(&app.management)
                .await;
        }
        Upstream::TokenRefused => {
            any_call()
                .respond_with(ResponseTemplate::new(401))
                .mount(&app.management)
                .await;
        }
        Upstream::RateLimited => {
            any_call()
                .respond_with(
                    ResponseTemplate::new(429)
                        .insert_header("X-Rate-Limit-Time-Reset-Ms", "5000")
                        .insert_header("X-Retry-After", "5"),
                )
                .mount(&app.management)
                .await;
        }
        Upstream::Slow => {
            any_call()
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(json!([]))
                        .set_delay(Duration::from_secs(2)),
                )
                .mount(&app.management)
                .await;
        }
    }
    let metafields =
        |order: u64| path(format!("/stores/{STORE_HASH}/v3/orders/{order}/metafields"));
    match upstream {
        Upstream::Healthy => {
            let visible_and_hidden = vec![
                v3_metafield(
                    1,
                    OWN_ORDER,
                    "read_and_sf_access",
                    "Shipping",
                    "tracking_url",
                ),
                v3_metafield(2, OWN_ORDER, "app_only", "Internal", "fraud_score"),
            ];
            let mut gift_note = v3_metafield(3, OWN_ORDER, "write_and_sf_access", "Gifts", "note");
            Mock::given(method("GET"))
                .and(metafields(OWN_ORDER))
                .and(wiremock::matchers::query_param("key", "note"))
                .respond_with(ResponseTemplate::new(200).set_body_json(metafield_page(
                    vec![gift_note.clone()],
                    1,
                    1,
                    1,
                )))
                .with_priority(1)
                .mount(&app.management)
                .await;
            gift_note["value"] = json!("Happy birthday");
            Mock::given(method("PUT"))
                .and(path(format!(
                    "/stores/{STORE_HASH}/v3/orders/{OWN_ORDER}/metafields/3"
                )))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": gift_note})))
                .mount(&app.management)
                .await;
            for (order, page) in [
                (OWN_ORDER, metafield_page(visible_and_hidden, 1, 1, 2)),
                (
                    OWN_ORDER_WITHOUT_METAFIELDS,
                    metafield_page(Vec::new(), 1, 0, 0),
                ),
            ] {
                Mock::given(method("GET"))
                    .and(metafields(order))
                    .respond_with(ResponseTemplate::new(200).set_body_json(page))
                    .mount(&app.management)
                    .await;
            }
        }
        Upstream::MetafieldsFailing => {
            Mock::given(method("GET"))
                .and(metafields(OWN_ORDER))
                .respond_with(ResponseTemplate::new(500))
                .mount(&app.management)
                .await;
        }
        _ => {}
    }
}

async fn send(app: &TestApp, scenario: &Scenario) -> Recorded {
    let mut request = app.client.request(
        scenario.method.clone(),
        format!("{}{}", app.address, scenario.uri),
    );
    let token = match scenario.credentials {
        Credentials::None => None,
        Credentials::Valid => Some(token_for(CUSTOMER)),
        Credentials::Garbage => Some("not-a-jwt".to_owned()),
        Credentials::WrongSecret => Some(sign(
            &claims_for(CUSTOMER),
            Algorithm::HS256,
            "some-other-secret",
        )),
        Credentials::AccessTokenWithOrigin => {
            request = request
                .header("x-bc-customer-access-token", "abc_9999999999")
                .header("x-bc-store-hash", STORE_HASH)
                .header("origin", "https://www.store.example.com");
            None
        }
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = scenario.body {
        request = request.header(CONTENT_TYPE, "application/json").body(body);
    }
    if let Some(if_match) = scenario.if_match {
        request = request.header("if-match", if_match);
    }
    let response = request.send().await.expect("the request reaches the app");
    record(response).await
}

async fn record(response: reqwest::Response) -> Recorded {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .expect("the response body is readable")
        .to_vec();
    Recorded {
        status,
        headers,
        body,
    }
}

fn edit_body(recorded: &mut Recorded, edit: impl FnOnce(&mut Value)) {
    let mut body: Value = serde_json::from_slice(&recorded.body).unwrap();
    edit(&mut body);
    recorded.body = serde_json::to_vec(&body).unwrap();
}

/// Everything about the response that the document contradicts; empty when they agree.
fn conformance_violations(
    document: &Value,
    registry: &Registry,
    documented: Documented,
    recorded: &Recorded,
) -> Vec<String> {
    let mut violations = Vec::new();
    let response_pointer = match documented {
        Documented::Route(route) | Documented::Operation(route, _) => {
            let method = match documented {
                Documented::Operation(_, method) => method,
                _ => "get",
            };
            let responses = format!("/paths/{}/{method}/responses", pointer_escape(route));
            let Some(statuses) = document.pointer(&responses).and_then(Value::as_object) else {
                return vec![format!("{route} has no documented {method} operation")];
            };
            let status = recorded.status.to_string();
            if !statuses.contains_key(&status) {
                let documented: Vec<&String> = statuses.keys().collect();
                return vec![format!(
                    "status {status} is not documented for {method} {route} (documented: {documented:?})"
                )];
            }
            format!("{responses}/{status}")
        }
        Documented::Shared(name, status) => {
            if recorded.status != status {
                return vec![format!(
                    "status {} is not the {status} of the shared {name} response",
                    recorded.status
                )];
            }
            format!("/components/responses/{}", pointer_escape(name))
        }
    };
    let (response_pointer, response) = resolve(document, response_pointer);

    for name in response["headers"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, _)| name)
    {
        let (header_pointer, header) = resolve(
            document,
            format!("{response_pointer}/headers/{}", pointer_escape(name)),
        );
        match recorded.headers.get(name.as_str()) {
            None if header["required"] == true => {
                violations.push(format!("required header {name} is missing"));
            }
            None => {}
            Some(value) => {
                let value = header_instance(&header["schema"], value);
                violations.extend(
                    schema_violations(registry, &format!("{header_pointer}/schema"), &value)
                        .into_iter()
                        .map(|violation| format!("header {name}: {violation}")),
                );
            }
        }
    }

    let content = response["content"].as_object();
    let content_type = recorded
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    match (content, content_type) {
        (None, _) if recorded.body.is_empty() => {}
        (None, _) => violations.push("a body is sent but none is documented".to_owned()),
        (Some(_), None) => violations.push("no Content-Type is sent".to_owned()),
        (Some(content), Some(content_type)) => {
            match content
                .keys()
                .find(|documented| media_type_matches(documented, content_type))
            {
                None => {
                    let documented: Vec<&String> = content.keys().collect();
                    violations.push(format!(
                        "media type {content_type} is not documented (documented: {documented:?})"
                    ));
                }
                Some(media_type) => {
                    let schema_pointer = format!(
                        "{response_pointer}/content/{}/schema",
                        pointer_escape(media_type)
                    );
                    match body_instance(media_type, &recorded.body) {
                        Err(error) => violations.push(error),
                        Ok(body) => violations.extend(
                            schema_violations(registry, &schema_pointer, &body)
                                .into_iter()
                                .map(|violation| format!("body: {violation}")),
                        ),
                    }
                }
            }
        }
    }
    violations
}

/// Whether a received `Content-Type` is the documented media type: the same type and
/// subtype, and every parameter the document names (`charset` and the like may be added).
fn media_type_matches(documented: &str, received: &str) -> bool {
    let parse = |text: &str| -> (String, Vec<String>) {
        let mut parts = text.split(';').map(|part| part.trim().to_ascii_lowercase());
        let essence = parts.next().unwrap_or_default();
        let parameters = parts
            .filter(|part| !part.is_empty())
            .map(|part| part.replace(' ', ""))
            .collect();
        (essence, parameters)
    };
    let (documented_essence, documented_parameters) = parse(documented);
    let (received_essence, received_parameters) = parse(received);
    documented_essence == received_essence
        && documented_parameters
            .iter()
            .all(|parameter| received_parameters.contains(parameter))
}

/// A header value as the instance its schema describes: a number when the schema says
/// integer (such as `Retry-After`), else the string.
fn header_instance(schema: &Value, value: &HeaderValue) -> Value {
    let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
    if schema["type"] == "integer"
        && let Ok(number) = text.parse::<u64>()
    {
        return json!(number);
    }
    Value::String(text)
}

/// The body as the instance its schema describes: parsed JSON for JSON media types, else
/// the text (the YAML document is described as a string).
fn body_instance(media_type: &str, body: &[u8]) -> Result<Value, String> {
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    if essence == "application/json" || essence.ends_with("+json") {
        serde_json::from_slice(body)
            .map_err(|error| format!("the {essence} body is not JSON: {error}"))
    } else {
        String::from_utf8(body.to_vec())
            .map(Value::String)
            .map_err(|_| format!("the {essence} body is not UTF-8 text"))
    }
}

/// Validates `instance` against the schema at `pointer` in the registered document, with
/// formats such as `date-time` asserted.
fn schema_violations(registry: &Registry, pointer: &str, instance: &Value) -> Vec<String> {
    let validator = match validator_at(registry, pointer) {
        Ok(validator) => validator,
        Err(error) => return vec![format!("the schema at {pointer} {error}")],
    };
    validator
        .iter_errors(instance)
        .map(|error| format!("at {}: {error}", error.instance_path()))
        .collect()
}

/// Follows `$ref`s from the value at `pointer` to an object without one, answering where
/// it ended and what is there (`Null` when a reference points at nothing).
fn resolve(document: &Value, pointer: String) -> (String, &Value) {
    let mut pointer = pointer;
    for _ in 0..16 {
        let value = document.pointer(&pointer).unwrap_or(&Value::Null);
        match value["$ref"]
            .as_str()
            .and_then(|reference| reference.strip_prefix('#'))
        {
            Some(target) => pointer = target.to_owned(),
            None => return (pointer, value),
        }
    }
    (pointer, &Value::Null)
}

/// Property-based testers generate parameters from the document: every value it allows
/// must be served, and every value it forbids refused.
#[tokio::test]
async fn the_documents_parameter_bounds_are_the_services() {
    let document = load_document();
    let parameter = |name: &str| document["components"]["parameters"][name]["schema"].clone();
    let page = jsonschema::validator_for(&parameter("Page")).unwrap();
    let request_id = jsonschema::validator_for(&parameter("XRequestId")).unwrap();
    let app = spawn_app_with(&[]).await;
    arrange_upstream(&app, Upstream::Healthy).await;
    let token = token_for(CUSTOMER);

    for (value, served) in [(4_294_967_295_u64, true), (4_294_967_296, false)] {
        let response = app.get_orders(&token, &format!("?page={value}")).await;

        assert_eq!(
            page.is_valid(&json!(value)),
            served,
            "page {value} in the document"
        );
        assert_eq!(response.status() == 200, served, "page {value} served");
    }
    for value in ["not sane!", ""] {
        let response = app
            .client
            .get(format!("{}/v1/orders", app.address))
            .bearer_auth(&token)
            .header("x-request-id", value)
            .send()
            .await
            .unwrap();

        assert_eq!(
            response.status(),
            200,
            "request id {value:?} is ignored, not refused"
        );
        assert!(
            request_id.is_valid(&json!(value)),
            "request id {value:?} must then be valid in the document"
        );
    }
}

/// A delivery authenticated by the shared secret (and carrying no signature, which would be
/// judged instead) is acknowledged whatever its `webhook-id` and `webhook-timestamp`, so the
/// document must not forbid any of their values.
#[tokio::test]
async fn the_document_allows_every_webhook_header_value_the_service_acknowledges() {
    let document = load_document();
    let secret = "a-long-random-webhook-secret";
    let app = spawn_app_with(&[("WEBHOOK_SECRET", secret)]).await;
    let parameters = document["paths"]["/webhooks/bigcommerce"]["post"]["parameters"]
        .as_array()
        .unwrap()
        .clone();

    for parameter in parameters
        .iter()
        .filter(|parameter| parameter["in"] == "header")
    {
        let name = parameter["name"].as_str().unwrap();
        if !["webhook-id", "webhook-timestamp"].contains(&name) {
            continue;
        }
        let schema = jsonschema::validator_for(&parameter["schema"]).unwrap();
        let response = app
            .client
            .post(format!("{}/webhooks/bigcommerce", app.address))
            .header("x-webhook-secret", secret)
            .header(name, "")
            .json(&json!({"scope": "store/order/updated", "data": {"type": "order", "id": 1}}))
            .send()
            .await
            .unwrap();

        assert_eq!(response.status(), 200, "{name}: \"\" is acknowledged");
        assert!(
            schema.is_valid(&json!("")),
            "{name}: the document refuses \"\""
        );
    }
}

/// The app callbacks (app mode) answer what the document says: pages with their policy,
/// JSON answers, refusals and a database out of reach.
#[tokio::test]
async fn every_app_callback_response_is_documented_in_openapi_yaml() {
    use crate::helpers::app::{AppMode, OWNER_ID, SCOPES, payload};
    let document = load_document();
    let registry = document_registry(&document);
    let app = AppMode::spawn().await;
    app.mount_install("abc123", "good-code", "store-token")
        .await;
    let get = |uri: String| {
        let client = app.client.clone();
        async move { record(client.get(uri).send().await.unwrap()).await }
    };
    let base = app.address.clone();
    let mut cases: Vec<(&str, u16, Recorded)> = Vec::new();
    cases.push((
        "/bigcommerce/auth",
        200,
        record(app.auth_callback("abc123", "good-code", SCOPES).await).await,
    ));
    cases.push((
        "/bigcommerce/auth",
        400,
        get(format!("{base}/bigcommerce/auth")).await,
    ));
    cases.push((
        "/bigcommerce/auth",
        403,
        record(
            app.auth_callback("abc123", "good-code", "store_v2_content")
                .await,
        )
        .await,
    ));
    let load = payload("abc123", OWNER_ID);
    cases.push((
        "/bigcommerce/load",
        200,
        record(app.callback("load", &load).await).await,
    ));
    cases.push((
        "/bigcommerce/load",
        401,
        record(app.callback("load", &load).await).await,
    ));
    cases.push((
        "/bigcommerce/load",
        404,
        record(app.callback("load", &payload("xyz789", OWNER_ID)).await).await,
    ));
    cases.push((
        "/bigcommerce/remove_user",
        200,
        record(app.callback("remove_user", &payload("abc123", 5)).await).await,
    ));
    cases.push((
        "/bigcommerce/uninstall",
        401,
        record(app.callback("uninstall", "forged").await).await,
    ));
    cases.push((
        "/bigcommerce/uninstall",
        200,
        record(
            app.callback("uninstall", &payload("abc123", OWNER_ID))
                .await,
        )
        .await,
    ));
    cases.push((
        "/bigcommerce/app.css",
        200,
        get(format!("{base}/bigcommerce/app.css")).await,
    ));
    app.break_database().await;
    cases.push((
        "/bigcommerce/load",
        503,
        record(app.callback("load", &payload("abc123", OWNER_ID)).await).await,
    ));
    cases.push((
        "/bigcommerce/uninstall",
        503,
        record(
            app.callback("uninstall", &payload("abc123", OWNER_ID))
                .await,
        )
        .await,
    ));

    let mut violations = Vec::new();
    for (route, status, recorded) in &cases {
        if recorded.status != *status {
            violations.push(format!(
                "{route}: expected {status}, got {}",
                recorded.status
            ));
        }
        violations.extend(
            conformance_violations(&document, &registry, Documented::Route(route), recorded)
                .into_iter()
                .map(|violation| format!("{route} {status}: {violation}")),
        );
    }
    assert!(
        violations.is_empty(),
        "the app callbacks and openapi.yaml disagree:\n  {}",
        violations.join("\n  ")
    );
}
