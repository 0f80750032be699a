use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::helpers::{
    CLIENT_SECRET, assert_problem, claims_for, now, sign, spawn_app, spawn_app_with, token_for,
    v2_order,
};

const INVALID_CHALLENGE: &str = "Bearer realm=\"order-metafields\", error=\"invalid_token\", error_description=\"the token is invalid or expired\"";

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    if value.is_null() {
        claims.as_object_mut().unwrap().remove(key);
    } else {
        claims[key] = value;
    }
    claims
}

#[tokio::test]
async fn request_without_token_is_401_without_error_attribute() {
    let app = spawn_app().await;

    let response = app.get("/v1/orders", None).await;

    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"order-metafields\""
    );
    let body = assert_problem(response, 401, "unauthorized").await;
    assert_eq!(
        body["detail"],
        "This endpoint needs the shopper's Current Customer JWT in an `Authorization: Bearer` header."
    );
    assert_eq!(app.upstream_calls("").await, 0);
}

#[tokio::test]
async fn every_kind_of_bad_token_gets_the_same_401_and_costs_nothing() {
    let app = spawn_app().await;
    let good = token_for(7);
    let cases: Vec<(&str, String)> = vec![
        (
            "other secret",
            sign(&claims_for(7), Algorithm::HS256, "not-the-secret"),
        ),
        (
            "expired",
            sign(
                &with(claims_for(7), "exp", json!(now() - 3600)),
                Algorithm::HS256,
                CLIENT_SECRET,
            ),
        ),
        (
            "issued in the future",
            sign(
                &with(claims_for(7), "iat", json!(now() + 3600)),
                Algorithm::HS256,
                CLIENT_SECRET,
            ),
        ),
        (
            "other audience",
            sign(
                &with(claims_for(7), "aud", json!("other-app")),
                Algorithm::HS256,
                CLIENT_SECRET,
            ),
        ),
        (
            "audience list",
            sign(
                &with(claims_for(7), "aud", json!(["test-client-id"])),
                Algorithm::HS256,
                CLIENT_SECRET,
            ),
        ),
        (
            "other issuer",
            sign(
                &with(claims_for(7), "iss", json!("someone")),
                Algorithm::HS256,
                CLIENT_SECRET,
            ),
        ),
        (
            "other operation",
            sign(
                &with(claims_for(7), "operation", json!("other")),
                Algorithm::HS256,
                CLIENT_SECRET,
            ),
        ),
        (
            "other store",
            sign(
                &with(claims_for(7), "store_hash", json!("otherstore")),
                Algorithm::HS256,
                CLIENT_SECRET,
            ),
        ),
        (
            "other subject",
            sign(
                &with(claims_for(7), "sub", json!("otherstore")),
                Algorithm::HS256,
                CLIENT_SECRET,
            ),
        ),
        (
            "guest",
            sign(
                &with(claims_for(7), "customer", json!({"id": 0})),
                Algorithm::HS256,
                CLIENT_SECRET,
            ),
        ),
        (
            "no exp",
            sign(
                &with(claims_for(7), "exp", Value::Null),
                Algorithm::HS256,
                CLIENT_SECRET,
            ),
        ),
        (
            "HS512 not accepted",
            sign(&claims_for(7), Algorithm::HS512, CLIENT_SECRET),
        ),
        ("tampered", format!("{}x", good)),
        ("unsigned", format!("{}.", good.rsplit_once('.').unwrap().0)),
        ("garbage", "abc".to_owned()),
        (
            "oversized",
            format!(
                "{}.{}.{}",
                "a".repeat(5000),
                "b".repeat(3000),
                "c".repeat(300)
            ),
        ),
    ];
    for (description, token) in cases {
        let response = app.get_orders(&token, "").await;

        assert_eq!(
            response.headers()["www-authenticate"],
            INVALID_CHALLENGE,
            "case: {description}"
        );
        let body = assert_problem(response, 401, "unauthorized").await;
        assert_eq!(
            body["detail"],
            "The bearer token is not a valid, unexpired Current Customer JWT for this app and store.",
            "case: {description}"
        );
        assert!(
            !body.to_string().contains(&token[..10.min(token.len())]),
            "case: {description}"
        );
    }
    assert_eq!(app.upstream_calls("").await, 0);
}

#[tokio::test]
async fn token_in_query_or_cookie_is_not_looked_at() {
    let app = spawn_app().await;
    let token = token_for(7);

    let in_query = app
        .get(&format!("/v1/orders?access_token={token}"), None)
        .await;
    let in_cookie = app
        .client
        .get(format!("{}/v1/orders", app.address))
        .header("cookie", format!("token={token}"))
        .send()
        .await
        .unwrap();

    assert_problem(in_query, 401, "unauthorized").await;
    assert_problem(in_cookie, 401, "unauthorized").await;
}

#[tokio::test]
async fn scheme_is_case_insensitive_and_hs512_is_accepted_when_configured() {
    let app = spawn_app_with(&[("JWT_ALGORITHMS", "HS256,HS512")]).await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;
    let token = sign(&claims_for(7), Algorithm::HS512, CLIENT_SECRET);

    let response = app
        .client
        .get(format!("{}/v1/orders", app.address))
        .header("authorization", format!("bEaReR {token}"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_customer_over_their_rate_gets_429_with_retry_after_and_costs_nothing() {
    let app = spawn_app_with(&[("CUSTOMER_RATE_LIMIT", "60"), ("CUSTOMER_RATE_BURST", "3")]).await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;

    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(app.get_orders(&token_for(7), "").await.status().as_u16());
    }
    let limited = app.get_orders(&token_for(7), "").await;
    let other_customer = app.get("/v1/orders", Some(&token_for(8))).await;

    assert_eq!(statuses, vec![200, 200, 200]);
    assert_eq!(limited.headers()["retry-after"], "1");
    assert_problem(limited, 429, "too-many-requests").await;
    assert_ne!(other_customer.status(), 429);
    assert_eq!(
        app.upstream_calls("v2/orders").await,
        2,
        "customer 7 once, customer 8 once"
    );
}

#[tokio::test]
async fn tokens_signed_with_the_previous_secret_keep_working_during_a_rotation() {
    let app = spawn_app_with(&[
        ("BC_CLIENT_SECRET", "the-new-client-secret"),
        ("BC_CLIENT_SECRET_PREVIOUS", CLIENT_SECRET),
    ])
    .await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;

    let old = app.get_orders(&token_for(7), "").await;
    let new = app
        .get_orders(
            &sign(&claims_for(7), Algorithm::HS256, "the-new-client-secret"),
            "",
        )
        .await;
    let other = app
        .get_orders(
            &sign(&claims_for(7), Algorithm::HS256, "some-other-secret"),
            "",
        )
        .await;
    let expired_old = app
        .get_orders(
            &sign(
                &with(claims_for(7), "exp", json!(now() - 3600)),
                Algorithm::HS256,
                CLIENT_SECRET,
            ),
            "",
        )
        .await;

    assert_eq!(old.status(), 200);
    assert_eq!(new.status(), 200);
    assert_problem(other, 401, "unauthorized").await;
    assert_problem(expired_old, 401, "unauthorized").await;
}

/// RFC 7515 section 4.1.11: a JWS whose `crit` header names extensions the recipient does
/// not understand is invalid, even with a good signature. This service understands none.
#[tokio::test]
async fn a_token_with_critical_header_extensions_is_refused() {
    let app = spawn_app().await;
    let signed_with_header = |header: Value| {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let content = format!("{}.{}", encode(&header), encode(&claims_for(7)));
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, CLIENT_SECRET.as_bytes());
        let tag = aws_lc_rs::hmac::sign(&key, content.as_bytes());
        format!("{content}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    };
    app.mount_orders(7, Vec::new(), ..).await;
    let plain = signed_with_header(json!({"alg": "HS256", "typ": "JWT"}));
    assert_eq!(
        app.get_orders(&plain, "").await.status(),
        200,
        "the signing is right"
    );

    for header in [
        json!({"alg": "HS256", "crit": ["x-unknown"], "x-unknown": true}),
        json!({"alg": "HS256", "b64": false, "crit": ["b64"]}),
        json!({"alg": "HS256", "crit": []}),
    ] {
        let response = app
            .get_orders(&signed_with_header(header.clone()), "")
            .await;

        assert_eq!(
            response.headers()["www-authenticate"],
            INVALID_CHALLENGE,
            "case: {header}"
        );
        assert_problem(response, 401, "unauthorized").await;
    }
}
