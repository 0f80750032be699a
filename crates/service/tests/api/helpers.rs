//! The test harness: `spawn_app()` starts the real application on a free port against a
//! wiremock Management API, with settings built in code (never from the process
//! environment, which parallel tests share), and offers one helper per endpoint plus
//! token minting and upstream fixtures. `openapi` reads the service's OpenAPI document.

use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use order_metafields_service::config::Settings;
use order_metafields_service::startup::Application;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate, Times};

pub mod app;
pub mod openapi;
pub mod replicas;

pub const STORE_HASH: &str = "teststore1";
pub const CLIENT_ID: &str = "test-client-id";
pub const CLIENT_SECRET: &str = "test-client-secret-value";
pub const ACCESS_TOKEN: &str = "test-access-token-value";

/// A running application and its fake Management API.
pub struct TestApp {
    pub address: String,
    /// The separate metrics address, when the app was given `METRICS_ADDR`.
    pub metrics_address: Option<String>,
    pub management: MockServer,
    pub client: reqwest::Client,
}

static TRACING: LazyLock<()> = LazyLock::new(|| {
    // Logs stay silent unless TEST_LOG is set.
    if std::env::var_os("TEST_LOG").is_some() {
        let settings = order_metafields_service::config::LogSettings {
            format: order_metafields_service::config::LogFormat::Pretty,
            filter: "debug".to_owned(),
        };
        // The pretty format writes directly; its guard holds no writer thread.
        if let Ok(guard) = order_metafields_service::telemetry::init(&settings) {
            std::mem::forget(guard);
        }
    }
});

/// The app with default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// The app with some settings overridden, as `(VARIABLE, value)` pairs.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    LazyLock::force(&TRACING);
    let management = MockServer::start().await;
    let base = management.uri();
    // With TEST_POSTGRES_URL, single-store mode's database is a fresh PostgreSQL database
    // too (it lives in the throwaway server); otherwise its default, in memory.
    let postgres = match std::env::var_os("TEST_POSTGRES_URL") {
        Some(_) => Some(crate::test_database::TestDatabase::new().await),
        None => None,
    };
    let mut pairs: Vec<(&str, &str)> = vec![
        ("BC_STORE_HASH", STORE_HASH),
        ("BC_ACCESS_TOKEN", ACCESS_TOKEN),
        ("BC_CLIENT_ID", CLIENT_ID),
        ("BC_CLIENT_SECRET", CLIENT_SECRET),
        ("BC_API_BASE_URL", &base),
        ("LISTEN_ADDR", "127.0.0.1:0"),
        ("UPSTREAM_RETRY_BUDGET", "3s"),
        ("UPSTREAM_TIMEOUT", "2s"),
    ];
    if let Some(postgres) = &postgres {
        pairs.push(("DATABASE_URL", &postgres.url_text));
    }
    pairs.retain(|(name, _)| !overrides.iter().any(|(other, _)| other == name));
    pairs.extend_from_slice(overrides);
    let settings = Settings::from_pairs(pairs).expect("test settings are valid");
    let application = Application::build(settings)
        .await
        .expect("the application builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    let metrics_address = application
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        metrics_address,
        management,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the test http client builds"),
    }
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

/// The claims BigCommerce puts in a Current Customer JWT for this app and store.
pub fn claims_for(customer_id: u64) -> Value {
    json!({
        "customer": {"id": customer_id, "email": "shopper@example.com", "group_id": "0"},
        "iss": "bc/apps", "sub": STORE_HASH, "iat": now(), "exp": now() + 900,
        "version": 1, "aud": CLIENT_ID, "application_id": CLIENT_ID,
        "store_hash": STORE_HASH, "operation": "current_customer"
    })
}

/// Signs any claims with any algorithm and secret.
pub fn sign(claims: &Value, algorithm: Algorithm, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("test claims sign")
}

/// A valid token for the customer.
pub fn token_for(customer_id: u64) -> String {
    sign(&claims_for(customer_id), Algorithm::HS256, CLIENT_SECRET)
}

/// A full v2 order as BigCommerce returns it, private fields included.
pub fn v2_order(id: u64, customer_id: u64, day: u32) -> Value {
    json!({
        "id": id, "customer_id": customer_id,
        "date_created": format!("Tue, {day:02} Mar 2024 10:00:00 +0000"),
        "date_modified": format!("Wed, {day:02} Apr 2024 10:00:00 +0000"),
        "date_shipped": "", "status_id": 11, "status": "Awaiting Fulfillment",
        "subtotal_ex_tax": "62.6793", "subtotal_inc_tax": "67.8400", "subtotal_tax": "4.4000",
        "base_shipping_cost": "12.0000", "shipping_cost_ex_tax": "11.0900",
        "shipping_cost_inc_tax": "12.0000", "shipping_cost_tax": "0.9100",
        "total_ex_tax": "64.5300", "total_inc_tax": "79.8400", "total_tax": "5.3100",
        "items_total": 2, "items_shipped": 0, "payment_method": "Credit Card",
        "payment_provider_id": "ch_secret_provider_id", "payment_status": "captured",
        "refunded_amount": "0.0000", "order_is_digital": false,
        "discount_amount": "0.0000", "coupon_discount": "0.0000",
        "ip_address": "203.0.113.77", "staff_notes": "STAFF-ONLY note",
        "customer_message": "", "currency_code": "USD", "is_deleted": false,
        "billing_address": {"first_name": "Jane", "street_1": "1 Private Road", "email": "jane@example.com"},
        "products": {"url": "https://api.bigcommerce.com/stores/x/v2/orders/1/products", "resource": "/orders/1/products"}
    })
}

/// A v3 order metafield.
pub fn v3_metafield(
    id: u64,
    order_id: u64,
    permission_set: &str,
    namespace: &str,
    key: &str,
) -> Value {
    json!({
        "id": id, "key": key, "value": format!("value of {key}"), "namespace": namespace,
        "permission_set": permission_set, "resource_type": "order", "resource_id": order_id,
        "description": format!("about {key}"), "date_created": "2024-03-05T10:00:00+00:00",
        "date_modified": "2024-03-06T10:00:00+00:00", "owner_client_id": "other-app-client-id"
    })
}

/// `{data, meta.pagination}` around one page of metafields.
pub fn metafield_page(data: Vec<Value>, current_page: u64, total_pages: u64, total: u64) -> Value {
    json!({
        "data": data,
        "meta": {"pagination": {
            "total": total, "count": 0, "per_page": 250,
            "current_page": current_page, "total_pages": total_pages, "links": {"current": "?page=1&limit=250"}
        }}
    })
}

impl TestApp {
    pub async fn get(&self, route: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(format!("{}{route}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the request reaches the app")
    }

    pub async fn get_orders(&self, token: &str, query: &str) -> reqwest::Response {
        self.get(&format!("/v1/orders{query}"), Some(token)).await
    }

    pub async fn get_order(&self, token: &str, order_id: &str) -> reqwest::Response {
        self.get(&format!("/v1/orders/{order_id}"), Some(token))
            .await
    }

    pub async fn get_metafields(&self, token: &str, order_id: &str) -> reqwest::Response {
        self.get(&format!("/v1/orders/{order_id}/metafields"), Some(token))
            .await
    }

    /// Mounts the customer's orders as v2 pages of 250 (a full last page is followed by a
    /// `204`), each page expected exactly `times` times.
    pub async fn mount_orders(
        &self,
        customer_id: u64,
        orders: Vec<Value>,
        times: impl Into<Times> + Clone,
    ) {
        let pages: Vec<&[Value]> = orders.chunks(250).collect();
        let mut page_number = 1;
        for page in &pages {
            Mock::given(method("GET"))
                .and(path(format!("/stores/{STORE_HASH}/v2/orders")))
                .and(query_param("customer_id", customer_id.to_string()))
                .and(query_param("page", page_number.to_string()))
                .respond_with(ResponseTemplate::new(200).set_body_json(page))
                .expect(times.clone())
                .named(format!(
                    "orders page {page_number} of customer {customer_id}"
                ))
                .mount(&self.management)
                .await;
            page_number += 1;
        }
        if pages.last().is_none_or(|page| page.len() == 250) {
            Mock::given(method("GET"))
                .and(path(format!("/stores/{STORE_HASH}/v2/orders")))
                .and(query_param("customer_id", customer_id.to_string()))
                .and(query_param("page", page_number.to_string()))
                .respond_with(ResponseTemplate::new(204))
                .expect(times)
                .named(format!(
                    "empty orders page {page_number} of customer {customer_id}"
                ))
                .mount(&self.management)
                .await;
        }
    }

    /// Mounts one page of the order's metafields, expected exactly `times` times.
    pub async fn mount_metafields(
        &self,
        order_id: u64,
        metafields: Vec<Value>,
        times: impl Into<Times>,
    ) {
        let total = metafields.len() as u64;
        Mock::given(method("GET"))
            .and(path(format!(
                "/stores/{STORE_HASH}/v3/orders/{order_id}/metafields"
            )))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(metafield_page(metafields, 1, 1, total)),
            )
            .expect(times)
            .named(format!("metafields of order {order_id}"))
            .mount(&self.management)
            .await;
    }

    /// How many requests the fake Management API received on paths starting with `prefix`.
    pub async fn upstream_calls(&self, prefix: &str) -> usize {
        self.management
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|request| {
                request
                    .url
                    .path()
                    .starts_with(&format!("/stores/{STORE_HASH}/{prefix}"))
            })
            .count()
    }
}

/// Asserts a whole problem response: status, content type, and body.
pub async fn assert_problem(response: reqwest::Response, status: u16, kind: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok()),
        Some("application/problem+json"),
        "content type"
    );
    assert!(
        response.headers().contains_key("x-request-id"),
        "x-request-id header"
    );
    let body: Value = response.json().await.expect("a json problem body");
    assert_eq!(body["type"], format!("urn:order-metafields:problem:{kind}"));
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string(), "title in {body}");
    assert!(body["detail"].is_string(), "detail in {body}");
    assert_eq!(
        body.as_object().map(|object| object.len()),
        Some(4),
        "only type, title, status, detail in {body}"
    );
    body
}
