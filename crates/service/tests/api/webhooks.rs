//! `POST /webhooks/bigcommerce`: authentic deliveries drop what they name from the cache;
//! forged, unsigned, stale or replayed ones change nothing.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use wiremock::matchers::{method, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    CLIENT_SECRET, STORE_HASH, TestApp, assert_problem, spawn_app, spawn_app_with, token_for,
    v2_order, v3_metafield,
};
use crate::raw_http;

const WEBHOOK_SECRET: &str = "a-long-random-webhook-secret";

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn signature(id: &str, timestamp: u64, body: &str, secret: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let content = format!("{id}.{timestamp}.{body}");
    format!(
        "v1,{}",
        BASE64.encode(hmac::sign(&key, content.as_bytes()).as_ref())
    )
}

fn order_event(scope: &str, order_id: u64, hash: &str) -> String {
    json!({"scope": scope, "store_id": "1025646", "data": {"type": "order", "id": order_id},
           "hash": hash, "created_at": unix_now(), "producer": "stores/teststore1"})
    .to_string()
}

fn metafield_event(order_id: u64, hash: &str) -> String {
    json!({"scope": "store/order/metafield/updated", "store_id": "1025646",
           "data": {"metafield_id": 4, "resource_id": order_id.to_string(), "namespace": "Shipping"},
           "hash": hash, "created_at": unix_now(), "producer": "stores/teststore1"})
    .to_string()
}

impl TestApp {
    async fn deliver(
        &self,
        id: &str,
        timestamp: u64,
        body: &str,
        secret: &str,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}/webhooks/bigcommerce", self.address))
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature(id, timestamp, body, secret))
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    async fn deliver_with_header(&self, secret: &str, body: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/webhooks/bigcommerce", self.address))
            .header("content-type", "application/json")
            .header("x-webhook-secret", secret)
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    /// Caches customer 7's list (order 100) and order 100's metafields.
    async fn warm(&self) {
        self.mount_orders(7, vec![v2_order(100, 7, 1)], ..).await;
        self.mount_metafields(
            100,
            vec![v3_metafield(
                4,
                100,
                "read_and_sf_access",
                "Shipping",
                "tracking_url",
            )],
            ..,
        )
        .await;
        assert_eq!(
            self.get_metafields(&token_for(7), "100").await.status(),
            200
        );
    }
}

#[tokio::test]
async fn a_signed_metafield_delivery_makes_the_next_request_fetch_again() {
    let app = spawn_app().await;
    app.warm().await;

    let response = app
        .deliver(
            "msg_1",
            unix_now(),
            &metafield_event(100, "h1"),
            CLIENT_SECRET,
        )
        .await;
    app.get_metafields(&token_for(7), "100").await;

    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "accepted"})
    );
    assert_eq!(app.upstream_calls("v3/orders/100/metafields").await, 2);
    assert_eq!(
        app.upstream_calls("v2/orders").await,
        1,
        "the list stays cached"
    );
}

#[tokio::test]
async fn a_signed_order_delivery_drops_the_customers_list() {
    let app = spawn_app().await;
    app.warm().await;

    let response = app
        .deliver(
            "msg_1",
            unix_now(),
            &order_event("store/order/statusUpdated", 100, "h1"),
            CLIENT_SECRET,
        )
        .await;
    app.get_orders(&token_for(7), "").await;
    app.get_metafields(&token_for(7), "100").await;

    assert_eq!(response.status(), 200);
    assert_eq!(app.upstream_calls("v2/orders").await, 2);
    assert_eq!(app.upstream_calls("v3/orders/100/metafields").await, 2);
}

#[tokio::test]
async fn forged_unsigned_stale_and_replayed_deliveries_change_nothing() {
    let app = spawn_app().await;
    app.warm().await;
    let body = metafield_event(100, "h1");
    let now = unix_now();
    assert_eq!(
        app.deliver("msg_1", now, &body, CLIENT_SECRET)
            .await
            .status(),
        200
    );
    assert_eq!(app.get_metafields(&token_for(7), "100").await.status(), 200);
    let calls_before = app.upstream_calls("").await;

    let forged = app
        .deliver("msg_2", now, &metafield_event(100, "h2"), "guessed-secret")
        .await;
    let stale = app
        .deliver(
            "msg_3",
            now - 600,
            &metafield_event(100, "h3"),
            CLIENT_SECRET,
        )
        .await;
    let replayed = app.deliver("msg_1", now, &body, CLIENT_SECRET).await;
    let unsigned = app
        .client
        .post(format!("{}/webhooks/bigcommerce", app.address))
        .body(metafield_event(100, "h5"))
        .send()
        .await
        .unwrap();
    let shared_secret_not_configured = app
        .deliver_with_header(WEBHOOK_SECRET, &metafield_event(100, "h6"))
        .await;
    app.get_metafields(&token_for(7), "100").await;

    for (response, description) in [
        (forged, "forged"),
        (stale, "stale"),
        (unsigned, "unsigned"),
        (shared_secret_not_configured, "no WEBHOOK_SECRET"),
    ] {
        assert!(
            response.headers().contains_key("www-authenticate"),
            "case: {description}"
        );
        assert_problem(response, 401, "unauthorized").await;
    }
    assert_eq!(replayed.status(), 200, "acknowledged, ignored");
    assert_eq!(
        app.upstream_calls("").await,
        calls_before,
        "nothing was dropped"
    );
}

#[tokio::test]
async fn the_shared_secret_header_authenticates_when_configured() {
    let app = spawn_app_with(&[("WEBHOOK_SECRET", WEBHOOK_SECRET)]).await;
    app.warm().await;

    let wrong = app
        .deliver_with_header("a-long-random-webhook-secreT", &metafield_event(100, "h1"))
        .await;
    let right = app
        .deliver_with_header(WEBHOOK_SECRET, &metafield_event(100, "h2"))
        .await;
    app.get_metafields(&token_for(7), "100").await;

    assert_problem(wrong, 401, "unauthorized").await;
    assert_eq!(right.status(), 200);
    assert_eq!(app.upstream_calls("v3/orders/100/metafields").await, 2);
}

#[tokio::test]
async fn deliveries_for_unseen_orders_or_other_scopes_cost_nothing() {
    let app = spawn_app().await;
    let now = unix_now();

    let created = app
        .deliver(
            "msg_1",
            now,
            &order_event("store/order/created", 555, "h1"),
            CLIENT_SECRET,
        )
        .await;
    let metafield = app
        .deliver("msg_2", now, &metafield_event(556, "h2"), CLIENT_SECRET)
        .await;
    let product = app
        .deliver(
            "msg_3",
            now,
            &json!({"scope": "store/product/updated", "data": {"type": "product", "id": 1}})
                .to_string(),
            CLIENT_SECRET,
        )
        .await;
    let malformed = app.deliver("msg_4", now, "{not json", CLIENT_SECRET).await;

    for response in [created, metafield, product, malformed] {
        assert_eq!(response.status(), 200);
    }
    assert_eq!(app.upstream_calls("").await, 0);
}

#[tokio::test]
async fn oversized_deliveries_are_413_and_other_methods_405() {
    let app = spawn_app().await;
    let huge = format!(
        "{{\"scope\":\"store/order/updated\",\"pad\":\"{}\"}}",
        "x".repeat(20_000)
    );

    let oversized = app.deliver("msg_1", unix_now(), &huge, CLIENT_SECRET).await;
    let get = app.get("/webhooks/bigcommerce", None).await;

    assert_problem(oversized, 413, "payload-too-large").await;
    assert_eq!(get.headers()["allow"], "POST");
    assert_problem(get, 405, "method-not-allowed").await;
}

#[tokio::test]
async fn deliveries_signed_with_the_previous_secret_are_accepted_during_a_rotation() {
    let app = spawn_app_with(&[
        ("BC_CLIENT_SECRET", "the-new-client-secret"),
        ("BC_CLIENT_SECRET_PREVIOUS", CLIENT_SECRET),
    ])
    .await;

    let old = app
        .deliver(
            "msg_1",
            unix_now(),
            &metafield_event(100, "h1"),
            CLIENT_SECRET,
        )
        .await;
    let new = app
        .deliver(
            "msg_2",
            unix_now(),
            &metafield_event(100, "h2"),
            "the-new-client-secret",
        )
        .await;
    let other = app
        .deliver(
            "msg_3",
            unix_now(),
            &metafield_event(100, "h3"),
            "some-other-secret",
        )
        .await;

    assert_eq!(old.status(), 200);
    assert_eq!(new.status(), 200);
    assert_problem(other, 401, "unauthorized").await;
}

#[tokio::test]
async fn a_second_change_with_an_identical_payload_still_invalidates() {
    // Two changes of one metafield within a second: BigCommerce's payloads name ids, not
    // values, and `created_at` is in whole seconds, so only the webhook-id tells them apart.
    let app = spawn_app().await;
    app.warm().await;
    let body = metafield_event(100, "same-second");
    let now = unix_now();
    let metafields_calls = || app.upstream_calls("v3/orders/100/metafields");

    let first = app.deliver("msg_1", now, &body, CLIENT_SECRET).await;
    assert_eq!(app.get_metafields(&token_for(7), "100").await.status(), 200);
    let after_first = metafields_calls().await;
    let second = app.deliver("msg_2", now, &body, CLIENT_SECRET).await;
    assert_eq!(app.get_metafields(&token_for(7), "100").await.status(), 200);
    let after_second = metafields_calls().await;
    let retried = app.deliver("msg_2", now, &body, CLIENT_SECRET).await;
    assert_eq!(app.get_metafields(&token_for(7), "100").await.status(), 200);

    assert_eq!(first.status(), 200);
    assert_eq!(second.status(), 200);
    assert_eq!(retried.status(), 200);
    assert_eq!(after_second, after_first + 1, "the second change reloads");
    assert_eq!(
        metafields_calls().await,
        after_second,
        "a retry of the same delivery reloads nothing"
    );
}

/// Sends a delivery's head declaring a 1,000-byte body, and never the body.
async fn hold_body_open(app: &TestApp, extra_headers: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;

    let mut stream = raw_http::connect(app).await;
    let head = format!(
        "POST /webhooks/bigcommerce HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n{extra_headers}\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

#[tokio::test]
async fn a_delivery_without_credentials_is_refused_before_its_body_is_read() {
    let app = spawn_app_with(&[("HTTP_BODY_TIMEOUT", "60s")]).await;

    let mut stream = hold_body_open(&app, "").await;
    let response = raw_http::read_response(&mut stream).await;

    // Answered without the body (which never comes) and well before the body timeout.
    assert_eq!(response.status, 401);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    assert!(response.header("x-request-id").is_some());
    assert!(response.header("www-authenticate").is_some());
    assert_eq!(response.header("connection"), Some("close"));
    let body: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(body["type"], "urn:order-metafields:problem:unauthorized");
    raw_http::assert_closed_by_server(&mut stream).await;
}

#[tokio::test]
async fn a_signed_delivery_whose_body_never_comes_is_answered_408_within_the_body_timeout() {
    let app = spawn_app_with(&[("HTTP_BODY_TIMEOUT", "1s")]).await;
    let now = unix_now();
    let plausible = signature("msg_1", now, "{}", CLIENT_SECRET);
    let headers = format!(
        "webhook-id: msg_1\r\nwebhook-timestamp: {now}\r\nwebhook-signature: {plausible}\r\n"
    );

    let mut stream = hold_body_open(&app, &headers).await;
    let response = raw_http::read_response(&mut stream).await;

    assert_eq!(response.status, 408);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    assert!(response.header("x-request-id").is_some());
    assert_eq!(response.header("connection"), Some("close"));
    let body: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(
        body,
        json!({
            "type": "urn:order-metafields:problem:request-timeout",
            "title": "Request Timeout",
            "status": 408,
            "detail": "The request body did not arrive in time."
        })
    );
    raw_http::assert_closed_by_server(&mut stream).await;
    assert_eq!(app.upstream_calls("").await, 0);
}

#[tokio::test]
async fn a_long_webhook_id_is_refused_and_a_declared_oversized_body_is_not_read() {
    let app = spawn_app().await;
    let now = unix_now();
    let body = metafield_event(100, "h1");
    let long_id = "m".repeat(257);

    let long = app.deliver(&long_id, now, &body, CLIENT_SECRET).await;
    let mut stream = raw_http::connect(&app).await;
    let plausible = signature("msg_1", now, "{}", CLIENT_SECRET);
    let head = format!(
        "POST /webhooks/bigcommerce HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\
         webhook-id: msg_1\r\nwebhook-timestamp: {now}\r\nwebhook-signature: {plausible}\r\n\r\n"
    );
    tokio::io::AsyncWriteExt::write_all(&mut stream, head.as_bytes())
        .await
        .unwrap();
    let oversized = raw_http::read_response(&mut stream).await;

    assert_problem(long, 401, "unauthorized").await;
    assert_eq!(oversized.status, 413);
    assert_eq!(oversized.header("connection"), Some("close"));
}

/// Customer A (7) loads their list holding order 123; the store gives 123 to customer B
/// (8), who opens it and so loads a list holding it too; the webhook for 123 is answered.
/// Both lists held the order: A must lose it, with its metafields.
#[tokio::test]
async fn an_order_given_to_another_customer_is_gone_for_its_previous_owner_after_the_webhook() {
    let app = spawn_app_with(&[("ORDERS_CACHE_TTL", "1h"), ("METAFIELDS_CACHE_TTL", "1h")]).await;
    mount_list_once_then(&app, 7, vec![v2_order(123, 7, 1)], None, vec![]).await;
    app.mount_orders(8, vec![v2_order(123, 8, 1)], ..).await;
    app.mount_metafields(
        123,
        vec![v3_metafield(
            4,
            123,
            "read_and_sf_access",
            "Shipping",
            "tracking_url",
        )],
        ..,
    )
    .await;
    assert_eq!(app.get_orders(&token_for(7), "").await.status(), 200);
    assert_eq!(app.get_metafields(&token_for(7), "123").await.status(), 200);
    assert_eq!(app.get_order(&token_for(8), "123").await.status(), 200);

    let webhook = app
        .deliver(
            "msg_moved",
            unix_now(),
            &order_event("store/order/updated", 123, "h-moved"),
            CLIENT_SECRET,
        )
        .await;
    let order = app.get_order(&token_for(7), "123").await;
    let metafields = app.get_metafields(&token_for(7), "123").await;
    let list: Value = app
        .get_orders(&token_for(7), "")
        .await
        .json()
        .await
        .unwrap();
    let new_owner = app.get_metafields(&token_for(8), "123").await;

    assert_eq!(webhook.status(), 200);
    assert_problem(order, 404, "not-found").await;
    assert_problem(metafields, 404, "not-found").await;
    assert_eq!(list["data"], json!([]));
    assert_eq!(new_owner.status(), 200);
    assert_eq!(
        app.upstream_calls("v2/orders").await,
        4,
        "A's list twice (before and after the change), B's list twice"
    );
}

/// Customer A's list load reads the store before order 123 is given to customer B and
/// answers after the webhook for that change was answered: the list it read must not be
/// served as fresh to any request that starts after the webhook.
#[tokio::test]
async fn a_list_loaded_across_the_webhook_of_a_change_is_not_served_after_it() {
    let app = spawn_app_with(&[
        ("ORDERS_CACHE_TTL", "1h"),
        ("METAFIELDS_CACHE_TTL", "1h"),
        ("UPSTREAM_TIMEOUT", "10s"),
        ("UPSTREAM_RETRY_BUDGET", "10s"),
    ])
    .await;
    let slow = Duration::from_secs(3);
    mount_list_once_then(&app, 7, vec![v2_order(123, 7, 1)], Some(slow), vec![]).await;
    app.mount_metafields(123, vec![], ..).await;
    let token = token_for(7);
    let in_flight = {
        let (client, url, token) = (
            app.client.clone(),
            format!("{}/v1/orders", app.address),
            token.clone(),
        );
        tokio::spawn(async move { client.get(url).bearer_auth(token).send().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;

    let webhook = app
        .deliver(
            "msg_moved",
            unix_now(),
            &order_event("store/order/updated", 123, "h-moved"),
            CLIENT_SECRET,
        )
        .await;
    assert!(
        !in_flight.is_finished(),
        "the list load must still be out when the webhook is answered"
    );
    let loaded_before: Value = in_flight.await.unwrap().json().await.unwrap();
    let order = app.get_order(&token, "123").await;
    let metafields = app.get_metafields(&token, "123").await;
    let list: Value = app.get_orders(&token, "").await.json().await.unwrap();

    assert_eq!(webhook.status(), 200);
    assert_eq!(
        loaded_before["data"][0]["id"], 123,
        "the request that started before the change may see it"
    );
    assert_problem(order, 404, "not-found").await;
    assert_problem(metafields, 404, "not-found").await;
    assert_eq!(list["data"], json!([]));
    assert_eq!(app.upstream_calls("v2/orders").await, 2);
    assert_eq!(app.upstream_calls("v3").await, 0);
}

/// Mounts the customer's list answering `first` once (after `delay`), then `after`.
async fn mount_list_once_then(
    app: &TestApp,
    customer: u64,
    first: Vec<Value>,
    delay: Option<Duration>,
    after: Vec<Value>,
) {
    let path = format!("/stores/{STORE_HASH}/v2/orders");
    let mut response = ResponseTemplate::new(200).set_body_json(first);
    if let Some(delay) = delay {
        response = response.set_delay(delay);
    }
    Mock::given(method("GET"))
        .and(wiremock::matchers::path(path.clone()))
        .and(query_param("customer_id", customer.to_string()))
        .respond_with(response)
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.management)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path(path))
        .and(query_param("customer_id", customer.to_string()))
        .respond_with(ResponseTemplate::new(200).set_body_json(after))
        .mount(&app.management)
        .await;
}
