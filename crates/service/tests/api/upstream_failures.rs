use std::time::{Duration, Instant};

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{STORE_HASH, assert_problem, spawn_app, spawn_app_with, token_for, v2_order};

fn orders_path() -> String {
    format!("/stores/{STORE_HASH}/v2/orders")
}

#[tokio::test]
async fn a_429_is_waited_out_as_its_headers_say_and_then_succeeds() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path(orders_path()))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-Rate-Limit-Time-Reset-Ms", "700")
                .insert_header("X-Retry-After", "0")
                .insert_header("X-Rate-Limit-Requests-Left", "0"),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.management)
        .await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;
    let started = Instant::now();

    let response = app.get_orders(&token_for(7), "").await;

    assert_eq!(response.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(app.upstream_calls("v2/orders").await, 2);
}

#[tokio::test]
async fn a_429_longer_than_the_budget_is_503_with_retry_after() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path(orders_path()))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-Rate-Limit-Time-Reset-Ms", "12000")
                .insert_header("X-Retry-After", "12")
                .set_body_string("upstream quota body SECRET-DETAIL"),
        )
        .expect(1)
        .mount(&app.management)
        .await;

    let response = app.get_orders(&token_for(7), "").await;

    assert_eq!(response.headers()["retry-after"], "12");
    let body = assert_problem(response, 503, "upstream-rate-limited").await;
    assert!(!body.to_string().contains("SECRET-DETAIL"));
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_then_succeed() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path(orders_path()))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&app.management)
        .await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;

    let response = app.get_orders(&token_for(7), "").await;

    assert_eq!(response.status(), 200);
    assert_eq!(app.upstream_calls("v2/orders").await, 3);
}

#[tokio::test]
async fn persistent_server_errors_become_502_after_bounded_retries_without_leaking() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path(orders_path()))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_string("<html>stack trace SECRET-DETAIL</html>")
                .insert_header("x-upstream-secret", "SECRET-HEADER"),
        )
        .expect(4)
        .mount(&app.management)
        .await;

    let response = app.get_orders(&token_for(7), "").await;

    assert!(!response.headers().contains_key("x-upstream-secret"));
    let body = assert_problem(response, 502, "upstream-error").await;
    assert!(!body.to_string().contains("SECRET"));
}

#[tokio::test]
async fn a_slow_upstream_is_504() {
    let app = spawn_app_with(&[("UPSTREAM_TIMEOUT", "300ms")]).await;
    Mock::given(method("GET"))
        .and(path(orders_path()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(Vec::<Value>::new())
                .set_delay(Duration::from_secs(2)),
        )
        .mount(&app.management)
        .await;

    let response = app.get_orders(&token_for(7), "").await;

    assert_problem(response, 504, "upstream-timeout").await;
}

#[tokio::test]
async fn an_unreachable_upstream_is_502() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = spawn_app_with(&[("BC_API_BASE_URL", &base)]).await;

    let response = app.get_orders(&token_for(7), "").await;

    assert_problem(response, 502, "upstream-error").await;
}

#[tokio::test]
async fn unreadable_or_refused_upstream_answers_are_502() {
    for (status, body, description) in [
        (200, "{not json", "malformed json"),
        (200, "[{\"id\": \"abc\"}]", "wrong types"),
        (
            401,
            "{\"status\":401,\"title\":\"bad token\"}",
            "access token refused",
        ),
        (403, "{\"status\":403}", "missing scope"),
        (
            404,
            "{\"status\":404,\"title\":\"The requested resource was not found.\"}",
            "store hash or base url unknown upstream",
        ),
    ] {
        let app = spawn_app().await;
        Mock::given(method("GET"))
            .and(path(orders_path()))
            .respond_with(ResponseTemplate::new(status).set_body_string(body))
            .expect(1)
            .mount(&app.management)
            .await;

        let response = app.get_orders(&token_for(7), "").await;

        let problem = assert_problem(response, 502, "upstream-error").await;
        assert!(
            !problem.to_string().contains("bad token"),
            "case: {description}"
        );
    }
}

#[tokio::test]
async fn upstream_requests_carry_the_token_accept_user_agent_and_page_size() {
    let app = spawn_app().await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;

    app.get_orders(&token_for(7), "").await;

    let requests = app.management.received_requests().await.unwrap();
    let request = &requests[0];
    assert_eq!(request.headers["x-auth-token"], "test-access-token-value");
    assert_eq!(request.headers["accept"], "application/json");
    assert!(
        request.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("order-metafields/")
    );
    assert_eq!(
        request.url.query(),
        Some("customer_id=7&limit=250&page=1&sort=id%3Adesc")
    );
}

/// A key that failed with nothing cached is not asked for again for five seconds: ten
/// requests in a row cost one upstream attempt (and its retries), not ten.
#[tokio::test]
async fn a_failed_key_with_nothing_cached_costs_one_upstream_attempt_per_five_seconds() {
    let app = spawn_app_with(&[("UPSTREAM_MAX_RETRIES", "1")]).await;
    Mock::given(method("GET"))
        .and(path(orders_path()))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .expect(2)
        .mount(&app.management)
        .await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;
    let started = Instant::now();

    let mut failed = Vec::new();
    for _ in 0..10 {
        failed.push(app.get_orders(&token_for(7), "").await);
    }
    let calls_while_failed = app.upstream_calls("v2/orders").await;
    let within_backoff = started.elapsed() < Duration::from_millis(4500);
    tokio::time::sleep(Duration::from_millis(5200).saturating_sub(started.elapsed())).await;
    let recovered = app.get_orders(&token_for(7), "").await;

    assert!(within_backoff, "the ten requests took too long to prove it");
    for response in failed {
        assert_problem(response, 502, "upstream-error").await;
    }
    assert_eq!(calls_while_failed, 2, "one attempt and its one retry");
    assert_eq!(recovered.status(), 200);
    assert_eq!(app.upstream_calls("v2/orders").await, 3);
}

#[tokio::test]
async fn an_absurd_429_wait_is_503_not_a_panic() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path(orders_path()))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-Rate-Limit-Time-Reset-Ms", "99999999999999999999")
                .insert_header("X-Retry-After", "99999999999999999999"),
        )
        .mount(&app.management)
        .await;

    let response = app.get_orders(&token_for(7), "").await;

    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after <= 3600, "Retry-After {retry_after}");
    assert_problem(response, 503, "upstream-rate-limited").await;
}
