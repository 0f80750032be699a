//! Customer access tokens (headless storefronts, server to server): `X-Bc-Customer-Access-Token`
//! with `X-Bc-Store-Hash`, checked once with the store's GraphQL Storefront API using a
//! private token the service makes through the Management API, remembered until its expiry;
//! every refusal is the one `401`, a token with `Origin` is a `400`, and GraphQL failures are
//! `502`/`503`/`504`. Concurrent requests with one new token cost one GraphQL call.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{STORE_HASH, TestApp, assert_problem, now, spawn_app_with, v2_order};

const PRIVATE_TOKEN: &str = "private-token-1";
const RENEWED_PRIVATE_TOKEN: &str = "private-token-2";

/// A customer access token as BigCommerce makes them: hex, `_`, its expiry.
fn access_token(name: &str, expires: i64) -> String {
    format!("{name}0123456789abcdef_{expires}")
}

struct HeadlessApp {
    app: TestApp,
    graphql: MockServer,
}

async fn spawn_headless_app() -> HeadlessApp {
    let graphql = MockServer::start().await;
    let template = format!("{}/graphql/{{store_hash}}", graphql.uri());
    let app = spawn_app_with(&[("BC_GRAPHQL_URL", &template)]).await;
    HeadlessApp { app, graphql }
}

impl HeadlessApp {
    /// The Management API makes `tokens` in turn (the last repeating), each creation
    /// expected `times` times in all.
    async fn mount_private_tokens(&self, tokens: &'static [&'static str], times: u64) {
        let made = std::sync::atomic::AtomicUsize::new(0);
        Mock::given(method("POST"))
            .and(path(format!(
                "/stores/{STORE_HASH}/v3/storefront/api-token-private"
            )))
            .and(body_partial_json(
                json!({"channel_ids": [1], "scopes": ["Customer"]}),
            ))
            .respond_with(move |_: &Request| {
                let index = made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let token = tokens[index.min(tokens.len() - 1)];
                ResponseTemplate::new(200)
                    .set_body_json(json!({"data": {"token": token}, "meta": {}}))
            })
            .expect(times)
            .named("private token creation")
            .mount(&self.app.management)
            .await;
    }

    /// GraphQL answers `customer` for `token` asked with `private_token`, `times` times.
    async fn mount_customer(
        &self,
        private_token: &str,
        token: &str,
        answer: ResponseTemplate,
        times: u64,
    ) {
        Mock::given(method("POST"))
            .and(path(format!("/graphql/{STORE_HASH}")))
            .and(header("authorization", format!("Bearer {private_token}")))
            .and(header("x-bc-customer-access-token", token))
            .and(body_partial_json(
                json!({"query": "query OrderMetafieldsCustomer { customer { entityId } }"}),
            ))
            .respond_with(answer)
            .expect(times)
            .named(format!("customer of {token} with {private_token}"))
            .mount(&self.graphql)
            .await;
    }

    async fn get(&self, route: &str, token: &str, extra: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self
            .app
            .client
            .get(format!("{}{route}", self.app.address))
            .header("x-bc-customer-access-token", token)
            .header("x-bc-store-hash", STORE_HASH);
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    async fn graphql_calls(&self) -> usize {
        self.graphql
            .received_requests()
            .await
            .unwrap_or_default()
            .len()
    }
}

fn customer(id: u64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"data": {"customer": {"entityId": id}}}))
}

fn no_customer() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"data": {"customer": null}}))
}

#[tokio::test]
async fn a_customer_access_token_reads_its_customers_orders_and_is_checked_once() {
    let headless = spawn_headless_app().await;
    let token = access_token("alice", now() + 3600);
    headless.mount_private_tokens(&[PRIVATE_TOKEN], 1).await;
    headless
        .mount_customer(PRIVATE_TOKEN, &token, customer(7), 1)
        .await;
    headless
        .app
        .mount_orders(7, vec![v2_order(100, 7, 1)], 1)
        .await;

    let first = headless.get("/v1/orders", &token, &[]).await;
    let second = headless.get("/v1/orders/100", &token, &[]).await;

    assert_eq!(first.status(), 200);
    assert_eq!(
        first.headers().get("cache-control").unwrap(),
        "private, no-store"
    );
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"][0]["id"], json!(100));
    assert_eq!(body["data"][0]["customer_id"], json!(7));
    assert_eq!(body["meta"]["pagination"]["total"], json!(1));
    assert_eq!(second.status(), 200);
    let order: Value = second.json().await.unwrap();
    assert_eq!(order["data"]["id"], json!(100));
    assert_eq!(headless.graphql_calls().await, 1);
}

#[tokio::test]
async fn a_hundred_concurrent_requests_with_one_new_token_cost_one_graphql_call() {
    let headless = spawn_headless_app().await;
    let token = access_token("alice", now() + 3600);
    headless.mount_private_tokens(&[PRIVATE_TOKEN], 1).await;
    // Slow enough that every request arrives while the check is under way.
    headless
        .mount_customer(
            PRIVATE_TOKEN,
            &token,
            customer(7).set_delay(Duration::from_millis(300)),
            1,
        )
        .await;
    headless
        .app
        .mount_orders(7, vec![v2_order(100, 7, 1)], 1)
        .await;

    let requests = (0..100).map(|_| headless.get("/v1/orders", &token, &[]));
    let responses = futures_util::future::join_all(requests).await;

    for response in responses {
        assert_eq!(response.status(), 200);
    }
    assert_eq!(headless.graphql_calls().await, 1);
}

#[tokio::test]
async fn every_refused_token_is_the_one_401() {
    let headless = spawn_headless_app().await;
    let revoked = access_token("revoked", now() + 3600);
    let expired = access_token("expired", now() - 10);
    headless.mount_private_tokens(&[PRIVATE_TOKEN], 1).await;
    // Asked twice: a refusal is not remembered.
    headless
        .mount_customer(PRIVATE_TOKEN, &revoked, no_customer(), 2)
        .await;

    let cases = [
        (headless.get("/v1/orders", &revoked, &[]).await, "revoked"),
        (
            headless.get("/v1/orders", &revoked, &[]).await,
            "revoked, again",
        ),
        (headless.get("/v1/orders", &expired, &[]).await, "expired"),
        (
            headless
                .app
                .client
                .get(format!("{}/v1/orders", headless.app.address))
                .header("x-bc-customer-access-token", revoked.as_str())
                .header("x-bc-store-hash", "otherstore")
                .send()
                .await
                .unwrap(),
            "another store's",
        ),
        (
            headless
                .app
                .client
                .get(format!("{}/v1/orders", headless.app.address))
                .header("x-bc-customer-access-token", revoked.as_str())
                .send()
                .await
                .unwrap(),
            "without a store hash",
        ),
        (
            headless.get("/v1/orders", &"x".repeat(600), &[]).await,
            "too long",
        ),
    ];
    for (response, description) in cases {
        assert_eq!(
            response
                .headers()
                .get("www-authenticate")
                .map(|value| value.to_str().unwrap()),
            Some(
                "Bearer realm=\"order-metafields\", error=\"invalid_token\", error_description=\"the token is invalid or expired\""
            ),
            "case {description}"
        );
        let body = assert_problem(response, 401, "unauthorized").await;
        assert!(!body.to_string().contains("revoked"), "case {description}");
    }
    // The expired token (its suffix says so) and the other store's never reached GraphQL.
    assert_eq!(headless.graphql_calls().await, 2);
    assert_eq!(headless.app.upstream_calls("v2").await, 0);
}

#[tokio::test]
async fn a_customer_access_token_with_an_origin_header_is_a_400_before_any_check() {
    let headless = spawn_headless_app().await;
    let token = access_token("alice", now() + 3600);

    let response = headless
        .get(
            "/v1/orders",
            &token,
            &[("origin", "https://www.store.example.com")],
        )
        .await;

    let body = assert_problem(response, 400, "bad-request").await;
    assert_eq!(
        body["detail"],
        "A customer access token is for servers only: a request with X-Bc-Customer-Access-Token must not carry an Origin header."
    );
    assert_eq!(headless.graphql_calls().await, 0);
    assert_eq!(headless.app.upstream_calls("").await, 0);
}

#[tokio::test]
async fn graphql_failures_are_502_503_and_504_and_are_not_remembered() {
    let headless = spawn_headless_app().await;
    headless.mount_private_tokens(&[PRIVATE_TOKEN], 1).await;
    let cases = [
        ("down", ResponseTemplate::new(500), 502, "upstream-error"),
        (
            "unreadable",
            ResponseTemplate::new(200).set_body_string("<html>"),
            502,
            "upstream-error",
        ),
        (
            "limited",
            ResponseTemplate::new(429).insert_header("retry-after", "7"),
            503,
            "upstream-rate-limited",
        ),
        (
            "slow",
            customer(7).set_delay(Duration::from_secs(3)),
            504,
            "upstream-timeout",
        ),
    ];
    for (name, answer, status, kind) in cases {
        let token = access_token(name, now() + 3600);
        headless
            .mount_customer(PRIVATE_TOKEN, &token, answer, 1)
            .await;

        let response = headless.get("/v1/orders", &token, &[]).await;

        if status == 503 {
            assert_eq!(response.headers().get("retry-after").unwrap(), "7");
        }
        assert_problem(response, status, kind).await;
    }
    assert_eq!(headless.app.upstream_calls("v2").await, 0);
}

#[tokio::test]
async fn graphql_that_cannot_be_reached_is_a_502() {
    // A port nothing listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let template = format!("http://127.0.0.1:{port}/graphql/{{store_hash}}");
    let app = spawn_app_with(&[("BC_GRAPHQL_URL", &template)]).await;
    let headless = HeadlessApp {
        app,
        graphql: MockServer::start().await,
    };
    headless.mount_private_tokens(&[PRIVATE_TOKEN], 1).await;

    let response = headless
        .get("/v1/orders", &access_token("alice", now() + 3600), &[])
        .await;

    assert_problem(response, 502, "upstream-error").await;
}

#[tokio::test]
async fn a_refused_private_token_is_renewed_once_and_the_check_retried() {
    let headless = spawn_headless_app().await;
    let token = access_token("alice", now() + 3600);
    headless
        .mount_private_tokens(&[PRIVATE_TOKEN, RENEWED_PRIVATE_TOKEN], 2)
        .await;
    headless
        .mount_customer(PRIVATE_TOKEN, &token, ResponseTemplate::new(401), 1)
        .await;
    headless
        .mount_customer(RENEWED_PRIVATE_TOKEN, &token, customer(7), 1)
        .await;
    headless
        .app
        .mount_orders(7, vec![v2_order(100, 7, 1)], 1)
        .await;

    let response = headless.get("/v1/orders", &token, &[]).await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"][0]["id"], json!(100));
}

#[tokio::test]
async fn a_private_token_refused_even_when_new_is_a_502() {
    let headless = spawn_headless_app().await;
    let token = access_token("alice", now() + 3600);
    headless
        .mount_private_tokens(&[PRIVATE_TOKEN, RENEWED_PRIVATE_TOKEN], 2)
        .await;
    headless
        .mount_customer(PRIVATE_TOKEN, &token, ResponseTemplate::new(401), 1)
        .await;
    headless
        .mount_customer(RENEWED_PRIVATE_TOKEN, &token, ResponseTemplate::new(403), 1)
        .await;

    let response = headless.get("/v1/orders", &token, &[]).await;

    assert_problem(response, 502, "upstream-error").await;
}

#[tokio::test]
async fn a_private_token_the_management_api_will_not_make_is_a_502_and_no_graphql_call() {
    let headless = spawn_headless_app().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/stores/{STORE_HASH}/v3/storefront/api-token-private"
        )))
        .respond_with(ResponseTemplate::new(403))
        .expect(1)
        .mount(&headless.app.management)
        .await;

    let response = headless
        .get("/v1/orders", &access_token("alice", now() + 3600), &[])
        .await;

    assert_problem(response, 502, "upstream-error").await;
    assert_eq!(headless.graphql_calls().await, 0);
}

#[tokio::test]
async fn a_token_of_another_channel_is_checked_at_that_channels_graphql_with_its_own_private_token()
{
    let graphql = MockServer::start().await;
    let template = format!("{}/graphql/{{store_hash}}/{{channel_id}}", graphql.uri());
    let app = spawn_app_with(&[("BC_GRAPHQL_URL", &template)]).await;
    let token = access_token("alice", now() + 3600);
    Mock::given(method("POST"))
        .and(path(format!(
            "/stores/{STORE_HASH}/v3/storefront/api-token-private"
        )))
        .and(body_partial_json(
            json!({"channel_ids": [2], "scopes": ["Customer"]}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"token": "private-of-2"}})),
        )
        .expect(1)
        .mount(&app.management)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/graphql/{STORE_HASH}/2")))
        .and(header("authorization", "Bearer private-of-2"))
        .and(header("x-bc-customer-access-token", token.as_str()))
        .respond_with(customer(7))
        .expect(1)
        .mount(&graphql)
        .await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;
    let headless = HeadlessApp { app, graphql };

    let response = headless
        .get("/v1/orders", &token, &[("x-bc-channel-id", "2")])
        .await;
    let malformed = headless
        .get("/v1/orders", &token, &[("x-bc-channel-id", "two")])
        .await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"][0]["id"], json!(100));
    let body = assert_problem(malformed, 400, "bad-request").await;
    assert_eq!(
        body["detail"],
        "X-Bc-Channel-Id must be a channel id, a whole number from 1."
    );
}

mod app_mode {
    //! In app mode the private token is kept sealed in the database, so a restart reuses it,
    //! and each store checks tokens with its own private token at its own GraphQL endpoint.

    use order_metafields_service::database::Database;

    use super::*;
    use crate::helpers::app::AppMode;

    async fn mount_store(
        app: &AppMode,
        graphql: &MockServer,
        store: &str,
        token: &str,
        creations: u64,
    ) {
        Mock::given(method("POST"))
            .and(path(format!(
                "/stores/{store}/v3/storefront/api-token-private"
            )))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"data": {"token": format!("private-of-{store}")}})),
            )
            .expect(creations)
            .named(format!("private token of {store}"))
            .mount(&app.bigcommerce)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/graphql/{store}")))
            .and(header(
                "authorization",
                format!("Bearer private-of-{store}"),
            ))
            .and(header("x-bc-customer-access-token", token))
            .respond_with(customer(7))
            .named(format!("alice at {store}"))
            .mount(graphql)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/graphql/{store}")))
            .respond_with(no_customer())
            .with_priority(10)
            .mount(graphql)
            .await;
    }

    async fn get(app: &AppMode, store: &str, token: &str) -> reqwest::Response {
        app.client
            .get(format!("{}/v1/orders", app.address))
            .header("x-bc-customer-access-token", token)
            .header("x-bc-store-hash", store)
            .send()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_private_token_is_sealed_in_the_database_and_outlives_a_restart() {
        let graphql = MockServer::start().await;
        let template = format!("{}/graphql/{{store_hash}}", graphql.uri());
        let mut app = AppMode::spawn_with(&[("BC_GRAPHQL_URL", &template)]).await;
        app.install("storea", "access-a").await;
        let token = access_token("alice", now() + 3600);
        mount_store(&app, &graphql, "storea", &token, 1).await;
        app.mount_orders("storea", 7, vec![v2_order(100, 7, 1)], 1..)
            .await;

        let before = get(&app, "storea", &token).await;
        app.stop().await;
        app.start().await;
        let after = get(&app, "storea", &token).await;

        assert_eq!(before.status(), 200);
        assert_eq!(after.status(), 200);
        let body: Value = after.json().await.unwrap();
        assert_eq!(body["data"][0]["id"], json!(100));
        let database = Database::connect(&app.database.url).await.unwrap();
        let saved = database.private_token("storea", 1).await.unwrap().unwrap();
        let plain = b"private-of-storea";
        assert!(
            !saved
                .sealed_token
                .windows(plain.len())
                .any(|window| window == plain),
            "the private token is sealed"
        );
        assert!(
            saved.expires_at > now() + 29 * 24 * 3600,
            "{}",
            saved.expires_at
        );
        // Checked again after the restart (memory is per process), with the saved token.
        assert_eq!(graphql.received_requests().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn with_the_channel_setting_on_a_token_sees_the_orders_of_its_own_channel_only() {
        let graphql = MockServer::start().await;
        let template = format!("{}/graphql/{{store_hash}}", graphql.uri());
        let app = AppMode::spawn_with(&[("BC_GRAPHQL_URL", &template)]).await;
        app.install("storea", "access-a").await;
        let token = access_token("alice", now() + 3600);
        mount_store(&app, &graphql, "storea", &token, 2).await;
        let mut headless_order = v2_order(102, 7, 2);
        headless_order["channel_id"] = json!(2);
        app.mount_orders("storea", 7, vec![v2_order(101, 7, 1), headless_order], 1)
            .await;
        let session = crate::merchant_page::open(&app, "storea").await;
        let switched = crate::merchant_page::post(
            &app,
            "storea",
            "channels",
            Some(&session.cookie),
            &[("csrf", session.csrf.as_str()), ("enabled", "1")],
        )
        .await;
        let ids = |channel: Option<&'static str>| {
            let mut request = app
                .client
                .get(format!("{}/v1/orders", app.address))
                .header("x-bc-customer-access-token", token.as_str())
                .header("x-bc-store-hash", "storea");
            if let Some(channel) = channel {
                request = request.header("x-bc-channel-id", channel);
            }
            async move {
                let body: Value = request.send().await.unwrap().json().await.unwrap();
                body["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|order| order["id"].as_u64().unwrap())
                    .collect::<Vec<_>>()
            }
        };

        let on_channel_2 = ids(Some("2")).await;
        let on_the_default_channel = ids(None).await;
        let other_channels_order = app
            .client
            .get(format!("{}/v1/orders/101", app.address))
            .header("x-bc-customer-access-token", token.as_str())
            .header("x-bc-store-hash", "storea")
            .header("x-bc-channel-id", "2")
            .send()
            .await
            .unwrap();

        assert_eq!(switched.status(), 303);
        assert_eq!(on_channel_2, [102]);
        assert_eq!(on_the_default_channel, [101], "no header: channel 1");
        assert_eq!(other_channels_order.status(), 404);
    }

    #[tokio::test]
    async fn a_channel_without_a_site_in_the_store_is_400_and_costs_no_private_token() {
        let app = AppMode::spawn().await;
        Mock::given(method("GET"))
            .and(path("/stores/storea/v3/sites"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
                {"id": 1, "channel_id": 1, "url": "https://www.shop-a.example",
                 "urls": [{"url": "https://www.shop-a.example", "type": "primary"}]}
            ], "meta": {}})))
            .mount(&app.bigcommerce)
            .await;
        app.install("storea", "access-a").await;
        let token = access_token("junk", now() + 3600);
        let ask = || {
            app.client
                .get(format!("{}/v1/orders", app.address))
                .header("x-bc-customer-access-token", token.as_str())
                .header("x-bc-store-hash", "storea")
                .header("x-bc-channel-id", "7")
                .send()
        };

        // Within seconds of the install the store's sites are read; from then on channel 7,
        // which has no site, is refused before anything is asked of BigCommerce.
        let mut answer = None;
        for _ in 0..100 {
            let response = ask().await.unwrap();
            if response.status() == 400 {
                answer = Some(response);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let private_tokens_before = app.calls("/stores/storea/v3/storefront").await.len();
        let again = ask().await.unwrap();

        let answer = answer.expect("channel 7 was never refused");
        let body = crate::helpers::assert_problem(answer, 400, "bad-request").await;
        assert_eq!(
            body["detail"],
            "X-Bc-Channel-Id names no channel with a site in this store."
        );
        assert_eq!(again.status(), 400);
        assert_eq!(
            app.calls("/stores/storea/v3/storefront").await.len(),
            private_tokens_before,
            "a refused channel makes no private token"
        );
    }

    #[tokio::test]
    async fn a_private_token_sealed_with_a_retired_key_is_replaced_not_a_500() {
        const NEW_KEY: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
        let graphql = MockServer::start().await;
        let template = format!("{}/graphql/{{store_hash}}", graphql.uri());
        let mut app = AppMode::spawn_with(&[("BC_GRAPHQL_URL", &template)]).await;
        app.install("storea", "access-a").await;
        let token = access_token("alice", now() + 3600);
        // Made once with the first key, once more after that key is retired.
        mount_store(&app, &graphql, "storea", &token, 2).await;
        app.mount_orders("storea", 7, vec![v2_order(100, 7, 1)], 1..)
            .await;
        let before = get(&app, "storea", &token).await;

        // The documented rotation: the new key with the old one as previous (the stores'
        // tokens are resealed at start-up), then the old one removed.
        app.stop().await;
        app.set("TOKEN_ENCRYPTION_KEY", Some(NEW_KEY));
        app.set(
            "TOKEN_ENCRYPTION_KEY_PREVIOUS",
            Some(crate::helpers::app::TOKEN_KEY),
        );
        app.start().await;
        app.stop().await;
        app.set("TOKEN_ENCRYPTION_KEY_PREVIOUS", None);
        app.start().await;
        let after = get(&app, "storea", &token).await;

        assert_eq!(before.status(), 200);
        assert_eq!(after.status(), 200, "{}", after.text().await.unwrap());
    }

    #[tokio::test]
    async fn a_channels_graphql_endpoint_is_its_sites_canonical_url() {
        let graphql = MockServer::start().await;
        // No BC_GRAPHQL_URL: the default template names hosts this test cannot reach, so the
        // check can only succeed at the URL the store's sites give.
        let app = AppMode::spawn().await;
        Mock::given(method("GET"))
            .and(path("/stores/storea/v3/sites"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
                {"id": 1, "channel_id": 1, "url": "https://www.shop-a.example",
                 "urls": [{"url": "https://www.shop-a.example", "type": "primary"}]},
                {"id": 2, "channel_id": 2, "url": "https://headless.shop-a.example",
                 "urls": [{"url": "https://headless.shop-a.example", "type": "primary"},
                          {"url": format!("{}/site-2/", graphql.uri()), "type": "canonical"}]}
            ], "meta": {}})))
            .mount(&app.bigcommerce)
            .await;
        app.install("storea", "access-a").await;
        let token = access_token("alice", now() + 3600);
        Mock::given(method("POST"))
            .and(path("/stores/storea/v3/storefront/api-token-private"))
            .and(body_partial_json(json!({"channel_ids": [2]})))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"data": {"token": "private-2"}})),
            )
            .expect(1)
            .mount(&app.bigcommerce)
            .await;
        Mock::given(method("POST"))
            .and(path("/site-2/graphql"))
            .and(header("authorization", "Bearer private-2"))
            .and(header("x-bc-customer-access-token", token.as_str()))
            .respond_with(customer(7))
            .expect(1)
            .mount(&graphql)
            .await;
        app.mount_orders("storea", 7, vec![v2_order(100, 7, 1)], 1)
            .await;
        // The sites are read within seconds of the install: their origins become allowed
        // just after their GraphQL endpoints are learned.
        for _ in 0..100 {
            let preflight = app
                .client
                .request(
                    reqwest::Method::OPTIONS,
                    format!("{}/v1/orders", app.address),
                )
                .header("origin", "https://headless.shop-a.example")
                .header("access-control-request-method", "GET")
                .send()
                .await
                .unwrap();
            if preflight
                .headers()
                .contains_key("access-control-allow-origin")
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let response = app
            .client
            .get(format!("{}/v1/orders", app.address))
            .header("x-bc-customer-access-token", token.as_str())
            .header("x-bc-store-hash", "storea")
            .header("x-bc-channel-id", "2")
            .send()
            .await
            .unwrap();

        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["data"][0]["id"], json!(100));
    }

    #[tokio::test]
    async fn a_token_of_one_store_is_refused_for_another() {
        let graphql = MockServer::start().await;
        let template = format!("{}/graphql/{{store_hash}}", graphql.uri());
        let app = AppMode::spawn_with(&[("BC_GRAPHQL_URL", &template)]).await;
        app.install("storea", "access-a").await;
        app.install("storeb", "access-b").await;
        let token = access_token("alice", now() + 3600);
        mount_store(&app, &graphql, "storea", &token, 0).await;
        // storeb's GraphQL knows no such customer.
        mount_store(&app, &graphql, "storeb", "another-token_1", 1).await;

        let response = get(&app, "storeb", &token).await;

        assert_problem(response, 401, "unauthorized").await;
        assert!(app.calls("/stores/storeb/v2").await.is_empty());
    }
}
