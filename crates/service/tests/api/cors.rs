//! Cross-origin access from a browser: only the exact origins in `CORS_ALLOWED_ORIGINS` get
//! CORS headers (never `*`; credentials, for the cookie session, only with an exact allowed
//! origin), on answers and on problems alike, and a refused preflight is still a problem
//! document with a request id.

use reqwest::Response;
use serde_json::json;

use crate::helpers::{TestApp, assert_problem, spawn_app, spawn_app_with, token_for, v2_order};

const STORE_ORIGIN: &str = "https://store.example.com";
const OTHER_ORIGIN: &str = "https://evil.example.com";

#[tokio::test]
async fn a_preflight_from_the_allowed_origin_gets_exact_cors_headers_with_credentials() {
    let app = spawn_store_app().await;

    let response = preflight(&app, STORE_ORIGIN, "GET", "authorization").await;

    assert!(
        matches!(response.status().as_u16(), 200 | 204),
        "status {}",
        response.status()
    );
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(STORE_ORIGIN)
    );
    assert!(header_list(&response, "access-control-allow-methods").contains(&"get".to_owned()));
    assert!(
        header_list(&response, "access-control-allow-headers")
            .contains(&"authorization".to_owned()),
        "allow-headers: {:?}",
        header(&response, "access-control-allow-headers")
    );
    let max_age: u64 = header(&response, "access-control-max-age")
        .and_then(|value| value.parse().ok())
        .expect("a numeric Access-Control-Max-Age");
    assert!(max_age > 0, "max age {max_age}");
    assert!(header_list(&response, "vary").contains(&"origin".to_owned()));
    assert_eq!(
        header(&response, "access-control-allow-credentials"),
        Some("true")
    );
    assert!(header(&response, "x-request-id").is_some());
    assert_eq!(response.text().await.unwrap(), "");
}

#[tokio::test]
async fn a_get_from_the_allowed_origin_carries_its_origin_and_exposes_the_request_id() {
    let app = spawn_store_app().await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;

    let response = get_from(&app, STORE_ORIGIN, Some(&token_for(7))).await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(STORE_ORIGIN)
    );
    let exposed = header_list(&response, "access-control-expose-headers");
    assert!(
        exposed.contains(&"x-request-id".to_owned()),
        "exposed: {exposed:?}"
    );
    assert!(header_list(&response, "vary").contains(&"origin".to_owned()));
    assert_eq!(
        header(&response, "access-control-allow-credentials"),
        Some("true")
    );
    assert!(header(&response, "x-request-id").is_some());
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["data"][0]["id"], json!(100));
}

#[tokio::test]
async fn a_401_from_the_allowed_origin_carries_cors_headers_so_the_page_can_read_it() {
    let app = spawn_store_app().await;

    let response = get_from(&app, STORE_ORIGIN, None).await;

    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(STORE_ORIGIN)
    );
    let exposed = header_list(&response, "access-control-expose-headers");
    assert!(
        exposed.contains(&"x-request-id".to_owned()),
        "exposed: {exposed:?}"
    );
    assert!(
        exposed.contains(&"www-authenticate".to_owned()),
        "exposed: {exposed:?}"
    );
    assert_eq!(
        header(&response, "access-control-allow-credentials"),
        Some("true")
    );
    assert!(header(&response, "www-authenticate").is_some());
    assert_problem(response, 401, "unauthorized").await;
}

#[tokio::test]
async fn a_refused_preflight_is_a_bad_request_problem_without_cors_headers() {
    let app = spawn_store_app().await;
    let cases = [
        (OTHER_ORIGIN, "GET", "authorization", "another origin"),
        (
            STORE_ORIGIN,
            "PATCH",
            "authorization",
            "a method the api does not take",
        ),
        (
            STORE_ORIGIN,
            "GET",
            "x-custom-secret",
            "a header the api does not take",
        ),
    ];
    for (origin, method, headers, description) in cases {
        let response = preflight(&app, origin, method, headers).await;

        assert_eq!(
            header(&response, "access-control-allow-origin"),
            None,
            "case: {description}"
        );
        assert_eq!(
            header(&response, "access-control-allow-methods"),
            None,
            "case: {description}"
        );
        assert_problem(response, 400, "bad-request").await;
    }
}

#[tokio::test]
async fn a_get_from_another_origin_is_answered_without_cors_headers() {
    let app = spawn_store_app().await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;

    let response = get_from(&app, OTHER_ORIGIN, Some(&token_for(7))).await;

    // The answer itself is not withheld (a non-browser client sends no Origin anyway); the
    // browser withholds it from the page because it carries no CORS headers.
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "access-control-allow-origin"), None);
    assert_eq!(header(&response, "access-control-allow-credentials"), None);
    assert!(header(&response, "x-request-id").is_some());
}

#[tokio::test]
async fn no_origin_is_allowed_when_cors_allowed_origins_is_left_empty() {
    let app = spawn_app().await;

    let preflight = preflight(&app, STORE_ORIGIN, "GET", "authorization").await;
    let get = get_from(&app, STORE_ORIGIN, None).await;

    assert_eq!(header(&preflight, "access-control-allow-origin"), None);
    assert_problem(preflight, 400, "bad-request").await;
    assert_eq!(header(&get, "access-control-allow-origin"), None);
    assert_problem(get, 401, "unauthorized").await;
}

async fn spawn_store_app() -> TestApp {
    spawn_app_with(&[("CORS_ALLOWED_ORIGINS", STORE_ORIGIN)]).await
}

async fn preflight(app: &TestApp, origin: &str, method: &str, headers: &str) -> Response {
    app.client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/orders", app.address),
        )
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", headers)
        .send()
        .await
        .expect("the preflight reaches the app")
}

async fn get_from(app: &TestApp, origin: &str, token: Option<&str>) -> Response {
    let mut request = app
        .client
        .get(format!("{}/v1/orders", app.address))
        .header("origin", origin);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("the request reaches the app")
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().expect("a visible ascii header value"))
}

/// A comma-separated header as lowercase items.
fn header_list(response: &Response, name: &str) -> Vec<String> {
    header(response, name)
        .unwrap_or_default()
        .split(',')
        .map(|item| item.trim().to_ascii_lowercase())
        .filter(|item| !item.is_empty())
        .collect()
}
