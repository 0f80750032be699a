//! Current Customer JWTs at the edges of what BigCommerce issues: a `crit` header
//! parameter of any value is refused with the one `401`, before anything is asked of the
//! Management API.

use serde_json::{Value, json};

use crate::helpers::{CLIENT_SECRET, assert_problem, claims_for, spawn_app};

const INVALID_CHALLENGE: &str = "Bearer realm=\"order-metafields\", error=\"invalid_token\", error_description=\"the token is invalid or expired\"";
const INVALID_DETAIL: &str =
    "The bearer token is not a valid, unexpired Current Customer JWT for this app and store.";

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
