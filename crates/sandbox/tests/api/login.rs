//! The login service's `POST /oauth2/token`: a code for one store and the app, exchanged once
//! (JSON or form body) for a new access token of that store with the granted scopes; every
//! wrong parameter refused with BigCommerce's body, leaving the code usable; a new install
//! revoking the previous token.

use std::time::Duration;

use order_metafields_sandbox::AppActionError;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fake_app::{AppStack, FIRST, MORGAN, SECOND, SECOND_TOKEN, query_value};

fn looks_like_a_token(token: &str) -> bool {
    token.len() == 31
        && token
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit())
}

#[tokio::test]
async fn a_code_is_exchanged_once_for_a_token_of_its_store_only() {
    let stack = AppStack::start().await;
    let callback = stack.running.install_callback_url(FIRST).unwrap();
    let request = stack.token_request(&callback);

    let (status, headers, body) = stack.post_token(&request).await;
    let (again, _, again_body) = stack.post_token(&request).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["pragma"], "no-cache");
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert!(looks_like_a_token(&token), "{token}");
    assert_eq!(
        body,
        json!({
            "access_token": token,
            "scope": "store_v2_orders_read_only",
            "user": {"id": MORGAN, "username": "morgan@sandbox-store.example.com", "email": "morgan@sandbox-store.example.com"},
            "owner": {"id": MORGAN, "username": "morgan@sandbox-store.example.com", "email": "morgan@sandbox-store.example.com"},
            "context": "stores/sandbox1",
            "account_uuid": stack.config.account_uuid.to_string(),
        })
    );
    assert_eq!(
        (again, again_body),
        (StatusCode::BAD_REQUEST, json!({"error": "Invalid code."}))
    );
    assert_eq!(
        stack.running.store().app_scopes(),
        Some(vec!["store_v2_orders_read_only".to_owned()])
    );
    assert_eq!(stack.running.store_of(SECOND).unwrap().app_scopes(), None);
    let (own, _) = stack.api_get(FIRST, &token, "v2/orders/369").await;
    let (other, _) = stack.api_get(SECOND, &token, "v2/orders/369").await;
    assert_eq!((own, other), (StatusCode::OK, StatusCode::UNAUTHORIZED));
    stack.running.stop().await;
}

#[tokio::test]
async fn a_form_body_is_taken_as_bigcommerce_s_libraries_send_it() {
    let stack = AppStack::start().await;
    let callback = stack.running.install_callback_url(SECOND).unwrap();
    let request = stack.token_request(&callback);
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in request.as_object().unwrap() {
        form.append_pair(name, value.as_str().unwrap());
    }

    let response = stack
        .client
        .post(stack.token_url())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form.finish())
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["context"], "stores/sandbox2");
    assert_eq!(body["owner"]["email"], "rivka@tea-shop.example.com");
    stack.running.stop().await;
}

#[tokio::test]
async fn every_wrong_parameter_gets_bigcommerce_s_answer_and_leaves_the_code_usable() {
    let stack = AppStack::start().await;
    let callback = stack.running.install_callback_url(FIRST).unwrap();
    let good = stack.token_request(&callback);
    let with = |name: &str, value: Value| {
        let mut request = good.clone();
        request[name] = value;
        request
    };
    let without = |name: &str| {
        let mut request = good.clone();
        request.as_object_mut().unwrap().remove(name);
        request
    };
    let invalid_code = (StatusCode::BAD_REQUEST, json!({"error": "Invalid code."}));
    let cases = [
        (
            "another app's client id",
            with("client_id", json!("another-client")),
            (
                StatusCode::BAD_REQUEST,
                json!({"error": "Invalid client id."}),
            ),
        ),
        (
            "a wrong client secret",
            with("client_secret", json!("not-the-secret")),
            (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_client", "error_description": "Parameter client_secret does not match"}),
            ),
        ),
        (
            "another grant type",
            with("grant_type", json!("client_credentials")),
            (
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type", "error_description": "The grant type is not recognized"}),
            ),
        ),
        (
            "another redirect uri",
            with(
                "redirect_uri",
                json!("https://attacker.example.com/bigcommerce/auth"),
            ),
            (
                StatusCode::BAD_REQUEST,
                json!({"error": "redirect_uri_mismatch", "error_description": "Parameter redirect_uri does not match registered URI"}),
            ),
        ),
        (
            "a code never made",
            with("code", json!("qr6h3thvbvag2ffq")),
            invalid_code.clone(),
        ),
        (
            "another store's context",
            with("context", json!("stores/sandbox2")),
            (
                StatusCode::FORBIDDEN,
                json!({"error": "Only store owners may install or update apps. Please contact the store owner for assistance"}),
            ),
        ),
        (
            "scopes that were not granted",
            with("scope", json!("store_v2_orders")),
            (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_scope", "error_description": "The request scope was never granted by the user"}),
            ),
        ),
        (
            "no redirect uri",
            without("redirect_uri"),
            (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_request", "error_description": "Missing required parameter redirect_uri"}),
            ),
        ),
        (
            "a number for a client id",
            with("client_id", json!(42)),
            (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_request", "error_description": "The request body is not a JSON object or form of strings, or repeats a parameter"}),
            ),
        ),
    ];

    for (description, request, expected) in cases {
        let (status, headers, body) = stack.post_token(&request).await;
        assert_eq!((status, body), expected, "{description}");
        assert_eq!(headers["cache-control"], "no-store", "{description}");
        assert_eq!(stack.running.store().app_scopes(), None, "{description}");
    }
    let plain_text = stack
        .client
        .post(stack.token_url())
        .header("Content-Type", "text/plain")
        .body(good.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(plain_text.status(), StatusCode::BAD_REQUEST);
    let (status, _, body) = stack.post_token(&good).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    stack.running.stop().await;
}

#[tokio::test]
async fn an_expired_code_is_an_invalid_code_and_installs_nothing() {
    let stack = AppStack::start_with(|config| config.install_code_lifetime = Duration::ZERO).await;
    let callback = stack.running.install_callback_url(FIRST).unwrap();

    let (status, _, body) = stack.post_token(&stack.token_request(&callback)).await;

    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"error": "Invalid code."}))
    );
    assert_eq!(stack.running.store().app_scopes(), None);
    stack.running.stop().await;
}

#[tokio::test]
async fn a_second_install_revokes_the_first_token_and_leaves_the_store_s_own_token() {
    let stack = AppStack::start().await;

    let first = stack.install(SECOND).await;
    let second = stack.install(SECOND).await;

    assert_ne!(first, second);
    let (revoked, _) = stack.api_get(SECOND, &first, "v2/orders/count").await;
    let (current, _) = stack.api_get(SECOND, &second, "v2/orders/count").await;
    let (own, _) = stack.api_get(SECOND, SECOND_TOKEN, "v2/orders/count").await;
    assert_eq!(
        (revoked, current, own),
        (StatusCode::UNAUTHORIZED, StatusCode::OK, StatusCode::OK)
    );
    stack.running.stop().await;
}

#[tokio::test]
async fn the_token_has_the_granted_scopes_and_no_others() {
    let stack = AppStack::start().await;
    let token = stack.install(FIRST).await;
    let metafield = stack.running.store().metafields_of(369)[0].id;

    let (read, _) = stack
        .api_get(FIRST, &token, "v3/orders/369/metafields")
        .await;
    let write = stack
        .client
        .put(format!(
            "{}stores/{FIRST}/v3/orders/369/metafields/{metafield}",
            stack.running.api_base_url()
        ))
        .header("X-Auth-Token", &token)
        .json(&json!({"value": "changed"}))
        .send()
        .await
        .unwrap();
    let hook = stack
        .client
        .post(format!(
            "{}stores/{FIRST}/v3/hooks",
            stack.running.api_base_url()
        ))
        .header("X-Auth-Token", &token)
        .json(&json!({"scope": "store/order/*", "destination": "https://app.example.com/webhooks"}))
        .send()
        .await
        .unwrap();

    assert_eq!(read, StatusCode::OK);
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        write.json::<Value>().await.unwrap(),
        json!({
            "status": 403,
            "title": "You don't have a required scope to access the endpoint",
            "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
            "errors": {}
        })
    );
    assert_eq!(hook.status(), StatusCode::OK, "webhooks need no scope");
    let (v2, body) = stack.api_get(FIRST, &token, "v2/orders/369").await;
    assert_eq!(v2, StatusCode::OK, "{body}");
    stack.running.stop().await;
}

#[tokio::test]
async fn without_an_app_url_there_is_no_install_and_no_redirect_uri_matches() {
    let stack = AppStack::start_with(|config| config.app_url = None).await;

    let refused = stack.running.install_callback_url(FIRST).unwrap_err();
    stack
        .running
        .set_app_url(url::Url::parse(&stack.app.uri()).unwrap());
    let callback = stack.running.install_callback_url(FIRST).unwrap();

    assert!(matches!(refused, AppActionError::NoAppUrl), "{refused}");
    assert_eq!(
        query_value(&callback, "context").as_deref(),
        Some("stores/sandbox1")
    );
    let (status, _, body) = stack.post_token(&stack.token_request(&callback)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    stack.running.stop().await;
}

#[tokio::test]
async fn an_unknown_store_is_named_in_the_error() {
    let stack = AppStack::start().await;

    let error = stack.running.install_callback_url("sandbox9").unwrap_err();

    assert_eq!(error.to_string(), "the sandbox has no store sandbox9");
    stack.running.stop().await;
}
