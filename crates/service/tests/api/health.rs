use crate::helpers::{assert_problem, spawn_app, token_for};

#[tokio::test]
async fn healthz_answers_ok_without_auth_or_upstream_calls() {
    let app = spawn_app().await;

    let response = app.get("/healthz", None).await;

    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}));
    assert_eq!(app.upstream_calls("").await, 0);
}

#[tokio::test]
async fn openapi_document_is_served_as_embedded() {
    let app = spawn_app().await;

    let response = app.get("/openapi.yaml", None).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/yaml");
    let body = response.text().await.unwrap();
    assert_eq!(body, include_str!("../../../../openapi.yaml"));
}

#[tokio::test]
async fn unknown_path_is_a_not_found_problem() {
    let app = spawn_app().await;

    let response = app.get("/v2/nothing-here", Some(&token_for(1))).await;

    assert_problem(response, 404, "not-found").await;
}

#[tokio::test]
async fn wrong_method_is_a_method_not_allowed_problem_with_allow() {
    let app = spawn_app().await;

    let response = app
        .client
        .delete(format!("{}/v1/orders", app.address))
        .send()
        .await
        .unwrap();

    assert_eq!(response.headers()["allow"], "GET, HEAD");
    assert_problem(response, 405, "method-not-allowed").await;
}

#[tokio::test]
async fn callers_sane_request_id_is_echoed_and_an_insane_one_replaced() {
    let app = spawn_app().await;
    let send = |id: &'static str| {
        app.client
            .get(format!("{}/healthz", app.address))
            .header("x-request-id", id)
            .send()
    };

    let kept = send("trace-abc_123.x").await.unwrap();
    let replaced = send("bad id with spaces").await.unwrap();

    assert_eq!(kept.headers()["x-request-id"], "trace-abc_123.x");
    let new_id = replaced.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(new_id, "bad id with spaces");
    assert_eq!(new_id.len(), 36, "a uuid: {new_id}");
}

#[tokio::test]
async fn head_is_answered_like_get_without_a_body() {
    let app = spawn_app().await;
    app.mount_orders(7, vec![crate::helpers::v2_order(100, 7, 1)], ..)
        .await;

    let health = app
        .client
        .head(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    let orders = app
        .client
        .head(format!("{}/v1/orders/100", app.address))
        .bearer_auth(token_for(7))
        .send()
        .await
        .unwrap();
    let unauthenticated = app
        .client
        .head(format!("{}/v1/orders", app.address))
        .send()
        .await
        .unwrap();

    assert_eq!(health.status(), 200);
    assert_eq!(orders.status(), 200);
    assert_eq!(orders.headers()["cache-control"], "private, no-store");
    assert!(orders.headers().contains_key("x-request-id"));
    assert_eq!(orders.text().await.unwrap(), "");
    assert_eq!(unauthenticated.status(), 401);
    assert!(unauthenticated.headers().contains_key("www-authenticate"));
}

#[tokio::test]
async fn every_response_says_nosniff_whatever_its_route_or_status() {
    let app = spawn_app().await;
    app.mount_orders(7, vec![crate::helpers::v2_order(100, 7, 1)], ..)
        .await;
    let preflight = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/orders", app.address),
        )
        .header("origin", "https://elsewhere.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    let cases = [
        (app.get("/healthz", None).await, 200, "json"),
        (
            app.get("/v1/orders/100", Some(&token_for(7))).await,
            200,
            "customer data",
        ),
        (app.get("/v1/orders", None).await, 401, "problem"),
        (
            app.get("/v1/orders/abc", Some(&token_for(7))).await,
            400,
            "bad parameter",
        ),
        (app.get("/nothing", None).await, 404, "unknown path"),
        (app.get("/openapi.yaml", None).await, 200, "document"),
        (preflight, 400, "refused preflight"),
    ];

    for (response, status, description) in cases {
        assert_eq!(response.status(), status, "case: {description}");
        assert_eq!(
            response
                .headers()
                .get("x-content-type-options")
                .map(|value| value.to_str().unwrap()),
            Some("nosniff"),
            "case: {description}"
        );
    }
}
