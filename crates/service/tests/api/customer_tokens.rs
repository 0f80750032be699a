//! Current Customer JWTs at the edges of what BigCommerce issues: customer ids past the
//! documented bound and a `crit` header parameter of any value are refused with the one
//! `401`, before anything is asked of the Management API.

use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::helpers::{CLIENT_SECRET, assert_problem, claims_for, sign, spawn_app, v2_order};

const INVALID_CHALLENGE: &str = "Bearer realm=\"order-metafields\", error=\"invalid_token\", error_description=\"the token is invalid or expired\"";
const INVALID_DETAIL: &str =
    "The bearer token is not a valid, unexpired Current Customer JWT for this app and store.";

/// The largest customer id accepted: 2^31 - 1.
const MAX_CUSTOMER_ID: u64 = 2_147_483_647;

/// A token with `header` as its JOSE header, signed with the client secret.
fn signed_with_header(header: &Value, claims: &Value) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let content = format!("{}.{}", encode(header), encode(claims));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, CLIENT_SECRET.as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, content.as_bytes());
    format!("{content}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

async fn assert_refused(response: reqwest::Response, description: &str) {
    assert_eq!(
        response.headers()["www-authenticate"],
        INVALID_CHALLENGE,
        "case: {description}"
    );
    let body = assert_problem(response, 401, "unauthorized").await;
    assert_eq!(body["detail"], INVALID_DETAIL, "case: {description}");
}

#[tokio::test]
async fn a_customer_id_past_2_31_minus_1_is_refused_and_never_reaches_the_store() {
    let app = spawn_app().await;
    let cases = [
        (MAX_CUSTOMER_ID + 1, "2^31"),
        (u64::from(u32::MAX), "2^32 - 1"),
        (1_u64 << 53, "2^53"),
        (
            1_u64 << 63,
            "2^63, which went upstream as customer_id=9223372036854775808",
        ),
        (u64::MAX, "2^64 - 1"),
    ];

    for (customer, description) in cases {
        let token = sign(&claims_for(customer), Algorithm::HS256, CLIENT_SECRET);

        let orders = app.get_orders(&token, "").await;
        let order = app.get_order(&token, "100").await;

        assert_refused(orders, description).await;
        assert_refused(order, description).await;
    }
    assert_eq!(app.upstream_calls("").await, 0);
}

#[tokio::test]
async fn the_largest_customer_id_is_served() {
    let app = spawn_app().await;
    app.mount_orders(MAX_CUSTOMER_ID, vec![v2_order(100, MAX_CUSTOMER_ID, 1)], 1)
        .await;
    let token = sign(
        &claims_for(MAX_CUSTOMER_ID),
        Algorithm::HS256,
        CLIENT_SECRET,
    );

    let response = app.get_orders(&token, "").await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"][0]["id"], 100);
    assert_eq!(app.upstream_calls("v2/orders").await, 1);
}

/// RFC 7515 section 4.1.11: `crit`, when present, must be a non-empty array of extensions
/// the recipient understands; this service understands none, so any `crit` is refused,
/// `null` included (a JSON library that reads absent and `null` alike accepted it).
#[tokio::test]
async fn a_crit_header_parameter_of_any_value_is_refused() {
    let app = spawn_app().await;
    app.mount_orders(7, Vec::new(), 1).await;
    let plain = signed_with_header(&json!({"alg": "HS256", "typ": "JWT"}), &claims_for(7));
    assert_eq!(
        app.get_orders(&plain, "").await.status(),
        200,
        "the signing is right"
    );

    for header in [
        json!({"alg": "HS256", "typ": "JWT", "crit": null}),
        json!({"alg": "HS256", "crit": []}),
        json!({"alg": "HS256", "crit": "b64"}),
        json!({"alg": "HS256", "crit": {}}),
    ] {
        let response = app
            .get_orders(&signed_with_header(&header, &claims_for(7)), "")
            .await;

        assert_refused(response, &header.to_string()).await;
    }
    assert_eq!(
        app.upstream_calls("v2/orders").await,
        1,
        "the plain token only"
    );
}
