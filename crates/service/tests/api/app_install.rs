//! The app's install flow through the real callbacks: install, load, uninstall,
//! remove_user, and every refusal (a forged or replayed payload, a failed code exchange, a
//! context that is not a store, scopes that differ). Nothing is stored for a refused install,
//! and no page echoes a code, a token or a secret.

use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::app::{
    AppMode, OWNER_ID, SCOPES, customer_token, payload, payload_claims, with_query,
};
use crate::helpers::{CLIENT_SECRET, assert_problem, sign, v2_order};

const STORE: &str = "abc123";
const STORE_TOKEN: &str = "store-access-token-abc123";

async fn html(response: reqwest::Response) -> (u16, String, reqwest::header::HeaderMap) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.text().await.unwrap(), headers)
}

#[tokio::test]
async fn an_install_serves_the_stores_tokens_until_it_uninstalls_and_again_after_a_reinstall() {
    let app = AppMode::spawn().await;
    let token = customer_token(STORE, 7);
    app.mount_orders(STORE, 7, vec![v2_order(100, 7, 1)], 1..)
        .await;

    let before = app.get("/v1/orders", &token).await;
    app.install(STORE, STORE_TOKEN).await;
    let installed = app.get("/v1/orders", &token).await;
    // BigCommerce revoked the token when the app was uninstalled: the uninstall callback's
    // check of it is refused.
    mount_token_check(&app, 401).await;
    let uninstalled = app.callback("uninstall", &payload(STORE, OWNER_ID)).await;
    let after = app.get("/v1/orders", &token).await;
    app.install(STORE, STORE_TOKEN).await;
    let reinstalled = app.get("/v1/orders", &token).await;

    assert_problem(before, 401, "unauthorized").await;
    assert_eq!(installed.status(), 200);
    let body: Value = installed.json().await.unwrap();
    assert_eq!(body["data"][0]["id"], 100);
    assert_eq!(uninstalled.status(), 200);
    assert_eq!(
        uninstalled.json::<Value>().await.unwrap(),
        json!({"status": "uninstalled", "store": STORE})
    );
    assert_problem(after, 401, "unauthorized").await;
    assert_eq!(reinstalled.status(), 200);
    // The Management API got the store's own token on every call, and the reinstall did
    // not serve the earlier installation's cached list.
    let orders: Vec<_> = app
        .calls(&format!("/stores/{STORE}/v2/orders"))
        .await
        .into_iter()
        .filter(|request| {
            request
                .url
                .query()
                .is_some_and(|query| query.contains("customer_id"))
        })
        .collect();
    assert_eq!(orders.len(), 2);
    assert!(orders.iter().all(|request| {
        request
            .headers
            .get("x-auth-token")
            .is_some_and(|value| value == STORE_TOKEN)
    }));
}

/// The uninstall callback's check of the store's token (`GET /v2/orders?limit=1`) answers
/// `status`.
async fn mount_token_check(app: &AppMode, status: u16) {
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE}/v2/orders")))
        .and(query_param("limit", "1"))
        .respond_with(ResponseTemplate::new(status).set_body_json(json!([])))
        .named("the token check")
        .mount(&app.bigcommerce)
        .await;
}

#[tokio::test]
async fn an_uninstall_is_believed_only_when_the_stores_token_no_longer_works_and_once() {
    let app = AppMode::spawn().await;
    let token = customer_token(STORE, 7);
    app.mount_orders(STORE, 7, vec![v2_order(100, 7, 1)], 1..)
        .await;
    app.install(STORE, STORE_TOKEN).await;
    // A user's own load payload, used to open the app, then sent to /uninstall; and an
    // unused one while the store's token still works: neither uninstalls anything.
    let load_payload = payload(STORE, OWNER_ID);
    let loaded = app.callback("load", &load_payload).await;
    let load_replayed = app.callback("uninstall", &load_payload).await;
    mount_token_check(&app, 500).await;
    let during_an_outage = app.callback("uninstall", &payload(STORE, OWNER_ID)).await;
    app.bigcommerce.reset().await;
    app.mount_orders(STORE, 7, vec![v2_order(100, 7, 1)], 1..)
        .await;
    mount_token_check(&app, 200).await;
    let while_installed = app.callback("uninstall", &payload(STORE, OWNER_ID)).await;
    let still_served = app.get("/v1/orders", &token).await;

    assert_eq!(loaded.status(), 200);
    assert_problem(load_replayed, 401, "unauthorized").await;
    assert_eq!(
        during_an_outage.status(),
        502,
        "an outage confirms nothing: nothing is forgotten"
    );
    assert_problem(while_installed, 401, "unauthorized").await;
    assert_eq!(still_served.status(), 200, "the store is still installed");
    let checks = app
        .calls(&format!("/stores/{STORE}/v2/orders"))
        .await
        .into_iter()
        .filter(|request| request.url.query() == Some("limit=1"))
        .count();
    assert_eq!(checks, 1, "a replayed payload is refused before any check");
}

#[tokio::test]
async fn an_install_exchanges_the_code_registers_the_stores_hooks_and_answers_the_page() {
    let app = AppMode::spawn().await;
    app.mount_install(STORE, "the-code", STORE_TOKEN).await;

    let (status, body, headers) = html(app.auth_callback(STORE, "the-code", SCOPES).await).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-store");
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("frame-ancestors https://*.bigcommerce.com"),
        "{policy}"
    );
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(
        body.contains("<code>abc123</code> <span class=\"badge success\">installed</span>"),
        "{body}"
    );
    assert!(body.contains("registered"), "{body}");
    assert!(
        !body.contains("the-code") && !body.contains(STORE_TOKEN),
        "{body}"
    );
    let hooks = app.calls(&format!("/stores/{STORE}/v3/hooks")).await;
    let created: Vec<Value> = hooks
        .iter()
        .filter(|request| request.method.as_str() == "POST")
        .map(|request| serde_json::from_slice(&request.body).unwrap())
        .collect();
    let scopes: Vec<&str> = created
        .iter()
        .map(|hook| hook["scope"].as_str().unwrap())
        .collect();
    assert_eq!(
        scopes,
        [
            "store/order/created",
            "store/order/updated",
            "store/order/archived",
            "store/order/statusUpdated",
            "store/order/metafield/created",
            "store/order/metafield/updated",
            "store/order/metafield/deleted",
            "store/channel/created",
            "store/channel/updated",
        ],
        "one hook per scope, the channels' too (their sites are the allowed origins)"
    );
    for hook in &created {
        assert_eq!(
            hook["destination"],
            "https://app.example.com/webhooks/bigcommerce"
        );
        let secret = hook["headers"]["x-webhook-secret"].as_str().unwrap();
        assert_eq!(secret.len(), 43, "a per-store secret");
    }
    assert!(hooks.iter().all(|request| {
        request
            .headers
            .get("x-auth-token")
            .is_some_and(|value| value == STORE_TOKEN)
    }));
}

#[tokio::test]
async fn a_failed_code_exchange_answers_a_clear_page_and_stores_nothing() {
    let cases: Vec<(&str, ResponseTemplate, u16, &str)> = vec![
        (
            "a used code",
            ResponseTemplate::new(400).set_body_json(json!({"error": "Invalid code."})),
            400,
            "refused the install code",
        ),
        (
            "a wrong client secret",
            ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"})),
            400,
            "refused the install code",
        ),
        (
            "a failing login service",
            ResponseTemplate::new(500),
            502,
            "login service failed",
        ),
        (
            "a slow login service",
            ResponseTemplate::new(200).set_delay(Duration::from_secs(5)),
            504,
            "did not answer in time",
        ),
    ];
    for (case, answer, status, says) in cases {
        let app = AppMode::spawn_with(&[("UPSTREAM_TIMEOUT", "1s")]).await;
        Mock::given(method("POST"))
            .and(path("/oauth2/token"))
            .respond_with(answer)
            .expect(1)
            .mount(&app.bigcommerce)
            .await;

        let (got, body, _) = html(app.auth_callback(STORE, "secret-code-123", SCOPES).await).await;

        assert_eq!(got, status, "{case}: {body}");
        assert!(body.contains("The app was not installed"), "{case}: {body}");
        assert!(body.contains(says), "{case}: {body}");
        assert!(
            !body.contains("secret-code-123"),
            "{case}: the code is echoed"
        );
        let token = customer_token(STORE, 7);
        assert_problem(app.get("/v1/orders", &token).await, 401, "unauthorized").await;
        assert!(
            app.calls(&format!("/stores/{STORE}/")).await.is_empty(),
            "{case}"
        );
    }
}

#[tokio::test]
async fn an_install_for_a_context_that_is_not_a_store_or_with_other_scopes_is_refused() {
    let app = AppMode::spawn().await;
    app.mount_install(STORE, "code-1", STORE_TOKEN).await;
    let not_a_store = app
        .client
        .get(with_query(
            &format!("{}/bigcommerce/auth", app.address),
            &[
                ("code", "code-1"),
                ("context", "accounts/abc123"),
                ("scope", SCOPES),
            ],
        ))
        .send()
        .await
        .unwrap();
    let missing = app
        .client
        .get(format!("{}/bigcommerce/auth?code=code-1", app.address))
        .send()
        .await
        .unwrap();

    let wrong_scopes = app
        .auth_callback(STORE, "code-1", "store_v2_orders store_v2_content")
        .await;

    let (status, body, _) = html(not_a_store).await;
    assert_eq!(status, 400);
    assert!(body.contains("did not come from BigCommerce"), "{body}");
    let (status, body, _) = html(missing).await;
    assert_eq!(status, 400);
    assert!(body.contains("needs the code, scope and context"), "{body}");
    let (status, body, _) = html(wrong_scopes).await;
    assert_eq!(status, 403);
    assert!(
        body.contains("needed but not granted: store_v2_orders_read_only"),
        "{body}"
    );
    assert!(
        body.contains("granted but not expected: store_v2_content"),
        "{body}"
    );
    assert!(
        app.calls("/oauth2/token").await.is_empty(),
        "no exchange was tried"
    );
}

#[tokio::test]
async fn a_load_opens_the_page_once_and_a_store_that_is_not_installed_gets_a_page_saying_so() {
    let app = AppMode::spawn().await;
    app.install(STORE, STORE_TOKEN).await;
    let load = payload(STORE, 9_876_543);

    let (status, body, headers) = html(app.callback("load", &load).await).await;
    let (replayed, replayed_body, _) = html(app.callback("load", &load).await).await;
    let (other, other_body, _) = html(app.callback("load", &payload("xyz789", 1)).await).await;

    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<code>abc123</code> <span class=\"badge success\">installed</span>"),
        "{body}"
    );
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors")
    );
    assert_eq!(replayed, 401, "{replayed_body}");
    assert!(
        replayed_body.contains("Open the app again"),
        "{replayed_body}"
    );
    assert_eq!(other, 404, "{other_body}");
    assert!(
        other_body.contains("not installed on store xyz789"),
        "{other_body}"
    );
    assert!(!body.contains(&load) && !replayed_body.contains(&load));
}

#[tokio::test]
async fn every_forged_or_stale_payload_is_refused_by_every_callback() {
    let app = AppMode::spawn_with(&[("JWT_ALGORITHMS", "HS256")]).await;
    app.install(STORE, STORE_TOKEN).await;
    let edit = |key: &str, value: Value| {
        let mut claims = payload_claims(STORE, OWNER_ID);
        claims[key] = value;
        sign(&claims, Algorithm::HS256, CLIENT_SECRET)
    };
    let now = crate::helpers::now();
    let cases: Vec<(&str, String)> = vec![
        ("another audience", edit("aud", json!("another-app"))),
        ("a customer token's issuer", edit("iss", json!("bc/apps"))),
        ("a subject that is not a store", edit("sub", json!(STORE))),
        ("expired", {
            let mut claims = payload_claims(STORE, OWNER_ID);
            claims["iat"] = json!(now - 90_000);
            claims["nbf"] = json!(now - 90_000);
            claims["exp"] = json!(now - 3_600);
            sign(&claims, Algorithm::HS256, CLIENT_SECRET)
        }),
        ("not valid yet", edit("nbf", json!(now + 3_600))),
        (
            "another secret",
            sign(
                &payload_claims(STORE, OWNER_ID),
                Algorithm::HS256,
                "not-the-secret",
            ),
        ),
        (
            "an algorithm JWT_ALGORITHMS does not accept",
            sign(
                &payload_claims(STORE, OWNER_ID),
                Algorithm::HS512,
                CLIENT_SECRET,
            ),
        ),
        ("not a jwt", "not.a.jwt".to_owned()),
    ];
    for (case, token) in &cases {
        let (load, body, _) = html(app.callback("load", token).await).await;
        assert_eq!(load, 401, "load, {case}: {body}");
        for callback in ["uninstall", "remove_user"] {
            let response = app.callback(callback, token).await;
            let problem = assert_problem(response, 401, "unauthorized").await;
            assert!(
                !problem.to_string().contains(token.as_str()),
                "{callback}, {case}"
            );
        }
    }
    let missing = app
        .client
        .get(format!("{}/bigcommerce/uninstall", app.address))
        .send()
        .await
        .unwrap();
    assert_problem(missing, 401, "unauthorized").await;
    // After all that, the store is still installed.
    app.mount_orders(STORE, 7, vec![], 1).await;
    assert_eq!(
        app.get("/v1/orders", &customer_token(STORE, 7))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn remove_user_forgets_the_user_and_nothing_else() {
    let app = AppMode::spawn().await;
    app.install(STORE, STORE_TOKEN).await;
    app.callback("load", &payload(STORE, 9_876_543)).await;

    let removed = app
        .callback("remove_user", &payload(STORE, 9_876_543))
        .await;
    let again = app
        .callback("remove_user", &payload(STORE, 9_876_543))
        .await;

    assert_eq!(
        removed.json::<Value>().await.unwrap(),
        json!({"status": "removed", "store": STORE})
    );
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        json!({"status": "not known", "store": STORE})
    );
    app.mount_orders(STORE, 7, vec![], 1).await;
    assert_eq!(
        app.get("/v1/orders", &customer_token(STORE, 7))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn the_callbacks_are_not_there_in_single_store_mode() {
    let app = crate::helpers::spawn_app().await;

    for callback in ["auth", "load", "uninstall", "remove_user"] {
        let response = app.get(&format!("/bigcommerce/{callback}"), None).await;
        assert_problem(response, 404, "not-found").await;
    }
}
