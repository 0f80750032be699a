//! When BigCommerce fails or the store's budget is spent: cached answers stand in (marked
//! with `Age`) up to `STALE_IF_ERROR`, and the service keeps within its share of the quota.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    STORE_HASH, assert_problem, spawn_app_with, token_for, v2_order, v3_metafield,
};

#[tokio::test]
async fn an_expired_answer_is_served_stale_with_age_while_upstream_fails() {
    let app = spawn_app_with(&[
        ("ORDERS_CACHE_TTL", "300ms"),
        ("METAFIELDS_CACHE_TTL", "300ms"),
        ("STALE_IF_ERROR", "1s"),
        ("UPSTREAM_MAX_RETRIES", "0"),
    ])
    .await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;
    app.mount_metafields(
        100,
        vec![v3_metafield(
            4,
            100,
            "read_and_sf_access",
            "Shipping",
            "tracking_url",
        )],
        1,
    )
    .await;
    let fresh = app.get_metafields(&token_for(7), "100").await;
    assert_eq!(fresh.status(), 200);
    assert!(!fresh.headers().contains_key("age"));
    let fresh_body: Value = fresh.json().await.unwrap();
    app.management.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&app.management)
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;

    let stale = app.get_metafields(&token_for(7), "100").await;
    let stale_list = app.get_orders(&token_for(7), "").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let too_old = app.get_metafields(&token_for(7), "100").await;

    assert_eq!(stale.status(), 200);
    assert_eq!(stale.headers()["age"], "0");
    assert_eq!(stale.headers()["cache-control"], "private, no-store");
    assert_eq!(stale.json::<Value>().await.unwrap(), fresh_body);
    assert_eq!(stale_list.status(), 200);
    assert!(stale_list.headers().contains_key("age"));
    assert_problem(too_old, 502, "upstream-error").await;
}

#[tokio::test]
async fn a_failed_key_is_not_retried_for_every_request_during_an_outage() {
    let app = spawn_app_with(&[
        ("ORDERS_CACHE_TTL", "200ms"),
        ("STALE_IF_ERROR", "1m"),
        ("UPSTREAM_MAX_RETRIES", "0"),
    ])
    .await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;
    assert_eq!(app.get_orders(&token_for(7), "").await.status(), 200);
    app.management.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&app.management)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    for _ in 0..20 {
        let response = app.get_orders(&token_for(7), "").await;
        assert_eq!(response.status(), 200);
        assert!(response.headers().contains_key("age"));
    }

    assert_eq!(
        app.upstream_calls("").await,
        1,
        "one attempt, then stale for a while"
    );
}

#[tokio::test]
async fn the_service_refuses_with_503_rather_than_spend_the_stores_reserve() {
    let app = spawn_app_with(&[("UPSTREAM_RETRY_BUDGET", "2s")]).await;
    // The store reports 70 of 150 left for 20 s more: below the half kept for other apps.
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE_HASH}/v2/orders")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(vec![v2_order(100, 7, 1)])
                .insert_header("X-Rate-Limit-Requests-Left", "70")
                .insert_header("X-Rate-Limit-Requests-Quota", "150")
                .insert_header("X-Rate-Limit-Time-Reset-Ms", "20000")
                .insert_header("X-Rate-Limit-Time-Window-Ms", "30000"),
        )
        .expect(1)
        .mount(&app.management)
        .await;

    let first = app.get_orders(&token_for(7), "").await;
    let cached = app.get_orders(&token_for(7), "").await;
    let other_customer = app.get_orders(&token_for(8), "").await;

    assert_eq!(first.status(), 200);
    assert_eq!(cached.status(), 200, "cache hits cost nothing");
    let retry_after: u64 = other_customer.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((19..=20).contains(&retry_after), "{retry_after}");
    let body = assert_problem(other_customer, 503, "upstream-rate-limited").await;
    assert_eq!(
        body["detail"],
        json!("The store's API quota is spent for now; retry after the time in Retry-After.")
    );
}

#[tokio::test]
async fn an_absurd_window_reset_pauses_the_service_minutes_not_forever() {
    let app = spawn_app_with(&[("UPSTREAM_RETRY_BUDGET", "2s")]).await;
    // A broken reset header on an answer that also says nothing is left.
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE_HASH}/v2/orders")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(vec![v2_order(100, 7, 1)])
                .insert_header("X-Rate-Limit-Requests-Left", "0")
                .insert_header("X-Rate-Limit-Requests-Quota", "150")
                .insert_header("X-Rate-Limit-Time-Reset-Ms", "18446744073709551615"),
        )
        .expect(1)
        .mount(&app.management)
        .await;

    let first = app.get_orders(&token_for(7), "").await;
    let other_customer = app.get_orders(&token_for(8), "").await;

    assert_eq!(first.status(), 200);
    let retry_after: u64 = other_customer.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after <= 300, "Retry-After {retry_after}");
    assert_problem(other_customer, 503, "upstream-rate-limited").await;
}

/// Within `STALE_IF_ERROR`, every way BigCommerce can fail gives the stale answer: a `2xx`
/// whose body cannot be used, a redirect (the Management API never sends one), besides
/// `5xx`, timeouts and `429`s. A refusal of the access token and a `404` are answers, not
/// failures: they are `502` however much is cached.
#[tokio::test]
async fn an_expired_list_is_served_stale_when_bigcommerce_sends_what_it_cannot_use() {
    let oversized = format!("[{}]", " ".repeat(17 * 1024 * 1024));
    let mut wrong_value = v2_order(100, 7, 1);
    wrong_value["date_created"] = json!("yesterday");
    let cases: Vec<(ResponseTemplate, bool, &str)> = vec![
        (
            ResponseTemplate::new(200).set_body_raw("[{\"id\": 100,", "application/json"),
            true,
            "malformed json",
        ),
        (
            ResponseTemplate::new(200)
                .set_body_raw("<html><body>Maintenance</body></html>", "text/html"),
            true,
            "an html page",
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"orders": []})),
            true,
            "valid json of the wrong shape",
        ),
        (
            ResponseTemplate::new(200).set_body_json(vec![wrong_value]),
            true,
            "a bad field value",
        ),
        (
            ResponseTemplate::new(200).set_body_raw(oversized, "application/json"),
            true,
            "an oversized body",
        ),
        (
            ResponseTemplate::new(302).insert_header("location", "https://login.example.com/"),
            true,
            "a redirect",
        ),
        (
            ResponseTemplate::new(401),
            false,
            "the access token refused",
        ),
        (ResponseTemplate::new(403), false, "a scope missing"),
        (ResponseTemplate::new(404), false, "the store unknown"),
    ];
    for (broken, stale, description) in cases {
        let app = spawn_app_with(&[
            ("ORDERS_CACHE_TTL", "200ms"),
            ("STALE_IF_ERROR", "1m"),
            ("UPSTREAM_MAX_RETRIES", "0"),
        ])
        .await;
        app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;
        let fresh: Value = app
            .get_orders(&token_for(7), "")
            .await
            .json()
            .await
            .unwrap();
        app.management.reset().await;
        Mock::given(method("GET"))
            .respond_with(broken)
            .expect(1)
            .named(description)
            .mount(&app.management)
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;

        let response = app.get_orders(&token_for(7), "").await;

        if stale {
            assert_eq!(response.status(), 200, "case: {description}");
            assert!(
                response.headers().contains_key("age"),
                "case: {description}"
            );
            assert_eq!(
                response.json::<Value>().await.unwrap(),
                fresh,
                "case: {description}"
            );
        } else {
            assert!(
                !response.headers().contains_key("age"),
                "case: {description}"
            );
            assert_problem(response, 502, "upstream-error").await;
        }
        app.management.verify().await;
    }
}
