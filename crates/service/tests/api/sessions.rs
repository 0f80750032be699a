//! Cookie sessions: `POST /v1/session` turns a Current Customer JWT sent as a bearer token
//! into an `HttpOnly` `__Host-` cookie for at most the token's remaining lifetime; the `/v1`
//! reads accept the cookie; a write with the cookie needs an allowed `Origin` and
//! `X-Requested-With`; `DELETE /v1/session` ends it.

use jsonwebtoken::Algorithm;
use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{
    CLIENT_SECRET, TestApp, assert_problem, claims_for, now, sign, spawn_app_with, token_for,
    v2_order, v3_metafield,
};

const STORE_ORIGIN: &str = "https://www.store.example.com";
const OTHER_ORIGIN: &str = "https://evil.example.com";
const COOKIE: &str = "__Host-om_session";

async fn spawn_session_app() -> TestApp {
    spawn_app_with(&[("CORS_ALLOWED_ORIGINS", STORE_ORIGIN)]).await
}

async fn create_session(app: &TestApp, token: Option<&str>, origin: Option<&str>) -> Response {
    let mut request = app.client.post(format!("{}/v1/session", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.unwrap()
}

async fn with_cookie(
    app: &TestApp,
    method: reqwest::Method,
    route: &str,
    cookie: &str,
    headers: &[(&str, &str)],
) -> Response {
    let mut request = app
        .client
        .request(method, format!("{}{route}", app.address))
        .header("cookie", format!("theme=dark; {COOKIE}={cookie}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn set_cookie(response: &Response) -> String {
    let values: Vec<&str> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap())
        .collect();
    assert_eq!(values.len(), 1, "one Set-Cookie: {values:?}");
    values[0].to_owned()
}

/// The `Max-Age` of a `Set-Cookie` value.
fn max_age(cookie: &str) -> i64 {
    cookie
        .split("; ")
        .find_map(|part| part.strip_prefix("Max-Age="))
        .and_then(|value| value.parse().ok())
        .expect("a numeric Max-Age")
}

#[tokio::test]
async fn a_bearer_token_becomes_a_host_only_httponly_cookie_for_its_remaining_lifetime() {
    let app = spawn_session_app().await;
    let mut claims = claims_for(7);
    claims["exp"] = json!(now() + 300);
    let token = sign(&claims, Algorithm::HS256, CLIENT_SECRET);

    let response = create_session(&app, Some(&token), Some(STORE_ORIGIN)).await;

    assert_eq!(response.status(), 204);
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        STORE_ORIGIN
    );
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-credentials")
            .unwrap(),
        "true"
    );
    let cookie = set_cookie(&response);
    let age = max_age(&cookie);
    assert!((295..=300).contains(&age), "Max-Age {age} in {cookie}");
    assert_eq!(
        cookie,
        format!("{COOKIE}={token}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age={age}")
    );
    assert!(!cookie.contains("Domain"), "host-only: {cookie}");
    assert_eq!(response.text().await.unwrap(), "");
    assert_eq!(app.upstream_calls("").await, 0);
}

#[tokio::test]
async fn the_reads_accept_the_session_cookie_and_answer_as_for_the_bearer_token() {
    let app = spawn_session_app().await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;
    app.mount_metafields(
        100,
        vec![v3_metafield(
            1,
            100,
            "read_and_sf_access",
            "shipping",
            "tracking",
        )],
        1,
    )
    .await;
    let token = token_for(7);
    let cookie = set_cookie(&create_session(&app, Some(&token), None).await);
    let value = cookie
        .split("; ")
        .next()
        .and_then(|pair| pair.strip_prefix(&format!("{COOKIE}=")))
        .unwrap()
        .to_owned();

    let orders = with_cookie(&app, reqwest::Method::GET, "/v1/orders", &value, &[]).await;
    let metafields = with_cookie(
        &app,
        reqwest::Method::GET,
        "/v1/orders/100/metafields",
        &value,
        &[],
    )
    .await;
    let not_theirs = with_cookie(&app, reqwest::Method::GET, "/v1/orders/200", &value, &[]).await;

    assert_eq!(orders.status(), 200);
    assert_eq!(
        orders.headers().get("cache-control").unwrap(),
        "private, no-store"
    );
    let orders: Value = orders.json().await.unwrap();
    assert_eq!(orders["data"][0]["id"], json!(100));
    assert_eq!(orders["data"].as_array().unwrap().len(), 1);
    assert_eq!(metafields.status(), 200);
    let metafields: Value = metafields.json().await.unwrap();
    assert_eq!(metafields["data"][0]["key"], "tracking");
    assert_problem(not_theirs, 404, "not-found").await;
}

#[tokio::test]
async fn a_bad_expired_or_repeated_cookie_is_the_one_401() {
    let app = spawn_session_app().await;
    let mut expired = claims_for(7);
    expired["iat"] = json!(now() - 1000);
    expired["exp"] = json!(now() - 100);
    let cases = [
        (
            format!(
                "{COOKIE}={}",
                sign(&expired, Algorithm::HS256, CLIENT_SECRET)
            ),
            "an expired token",
        ),
        (
            format!(
                "{COOKIE}={}",
                sign(&claims_for(7), Algorithm::HS256, "another-secret")
            ),
            "another app's token",
        ),
        (format!("{COOKIE}=not a token"), "not a jws"),
        (
            format!("{COOKIE}={0}; {COOKIE}={0}", token_for(7)),
            "the cookie twice",
        ),
    ];
    for (cookie, description) in cases {
        let response = app
            .client
            .get(format!("{}/v1/orders", app.address))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();

        let body = assert_problem(response, 401, "unauthorized").await;
        assert!(
            !body.to_string().contains(COOKIE),
            "case {description}: {body}"
        );
    }
    assert_eq!(app.upstream_calls("").await, 0);
}

#[tokio::test]
async fn the_authorization_header_wins_over_the_cookie() {
    let app = spawn_session_app().await;
    app.mount_orders(8, vec![v2_order(300, 8, 2)], 1).await;

    let response = with_cookie(
        &app,
        reqwest::Method::GET,
        "/v1/orders",
        &token_for(7),
        &[("authorization", &format!("Bearer {}", token_for(8)))],
    )
    .await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"][0]["customer_id"], json!(8));
}

#[tokio::test]
async fn a_session_starts_only_from_a_valid_bearer_token_and_an_allowed_page() {
    let app = spawn_session_app().await;

    let without = create_session(&app, None, None).await;
    let invalid = create_session(&app, Some("a.b.c"), None).await;
    let from_other_origin = create_session(&app, Some(&token_for(7)), Some(OTHER_ORIGIN)).await;
    // A cookie is not a bearer token: a session cannot renew itself.
    let from_cookie = with_cookie(
        &app,
        reqwest::Method::POST,
        "/v1/session",
        &token_for(7),
        &[("origin", STORE_ORIGIN), ("x-requested-with", "fetch")],
    )
    .await;

    for response in [&without, &invalid, &from_other_origin, &from_cookie] {
        assert!(
            response.headers().get("set-cookie").is_none(),
            "no cookie for {}",
            response.status()
        );
    }
    assert_problem(without, 401, "unauthorized").await;
    assert_problem(invalid, 401, "unauthorized").await;
    assert_problem(from_other_origin, 403, "forbidden").await;
    assert_problem(from_cookie, 401, "unauthorized").await;
}

#[tokio::test]
async fn delete_ends_the_session_only_for_an_allowed_page() {
    let app = spawn_session_app().await;
    let token = token_for(7);

    let ended = with_cookie(
        &app,
        reqwest::Method::DELETE,
        "/v1/session",
        &token,
        &[("origin", STORE_ORIGIN), ("x-requested-with", "fetch")],
    )
    .await;
    assert_eq!(ended.status(), 204);
    assert_eq!(
        set_cookie(&ended),
        format!("{COOKIE}=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0")
    );

    let refusals = [
        (vec![("origin", STORE_ORIGIN)], "no x-requested-with"),
        (vec![("x-requested-with", "fetch")], "no origin"),
        (
            vec![("origin", OTHER_ORIGIN), ("x-requested-with", "fetch")],
            "another origin",
        ),
    ];
    for (headers, description) in refusals {
        let response = with_cookie(
            &app,
            reqwest::Method::DELETE,
            "/v1/session",
            &token,
            &headers,
        )
        .await;

        assert!(
            response.headers().get("set-cookie").is_none(),
            "case {description}"
        );
        let body = assert_problem(response, 403, "forbidden").await;
        assert_eq!(
            body["detail"],
            "A request that changes something with the session cookie needs an allowed Origin and the X-Requested-With header."
        );
    }
}

#[tokio::test]
async fn a_cross_site_page_gets_no_cors_headers_for_a_session() {
    let app = spawn_session_app().await;

    let preflight = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/session", app.address),
        )
        .header("origin", OTHER_ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    let allowed = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/session", app.address),
        )
        .header("origin", STORE_ORIGIN)
        .header("access-control-request-method", "DELETE")
        .header("access-control-request-headers", "x-requested-with")
        .send()
        .await
        .unwrap();

    assert!(
        preflight.status().is_client_error(),
        "{}",
        preflight.status()
    );
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-credentials")
            .unwrap(),
        "true"
    );
}

#[tokio::test]
async fn other_methods_on_the_session_are_405() {
    let app = spawn_session_app().await;

    let response = app
        .client
        .get(format!("{}/v1/session", app.address))
        .send()
        .await
        .unwrap();

    assert_eq!(response.headers().get("allow").unwrap(), "POST, DELETE");
    assert_problem(response, 405, "method-not-allowed").await;
}
