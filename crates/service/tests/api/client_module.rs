//! `GET /client/v1/order-metafields.js`: the storefront client as embedded, cacheable by
//! `ETag`, loadable from any origin, and costing the store nothing.

use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

const PATH: &str = "/client/v1/order-metafields.js";
const MODULE: &str = include_str!("../../../../client/order-metafields.js");
const STORE_ORIGIN: &str = "https://store.example.com";

#[tokio::test]
async fn client_module_is_served_as_embedded_with_a_strong_etag_and_a_day_of_caching() {
    let app = spawn_app().await;

    let response = app.get(PATH, None).await;

    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(headers["cache-control"], "public, max-age=86400");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.contains_key("x-request-id"));
    let etag = headers["etag"].to_str().unwrap();
    assert!(
        etag.len() == 18 && etag.starts_with('"') && etag.ends_with('"'),
        "a strong etag: {etag}"
    );
    assert_eq!(response.text().await.unwrap(), MODULE);
    assert_eq!(app.upstream_calls("").await, 0);
}

#[tokio::test]
async fn client_module_is_not_modified_when_if_none_match_names_its_etag() {
    let app = spawn_app().await;
    let etag = app.get(PATH, None).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();

    for (description, if_none_match) in [
        ("the etag itself", etag.clone()),
        ("the etag weakened", format!("W/{etag}")),
        ("the etag in a list", format!("\"older\", {etag}")),
        ("a wildcard", "*".to_owned()),
    ] {
        let response = app
            .client
            .get(format!("{}{PATH}", app.address))
            .header("if-none-match", &if_none_match)
            .send()
            .await
            .unwrap();

        assert_eq!(response.status(), 304, "{description}");
        let headers = response.headers().clone();
        assert_eq!(headers["etag"], etag.as_str(), "{description}");
        assert_eq!(headers["cache-control"], "public, max-age=86400");
        assert!(headers.contains_key("x-request-id"), "{description}");
        assert!(response.bytes().await.unwrap().is_empty(), "{description}");
    }
}

#[tokio::test]
async fn client_module_is_sent_in_full_when_if_none_match_names_another_version() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(format!("{}{PATH}", app.address))
        .header("if-none-match", "\"0000000000000000\"")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), MODULE);
}

#[tokio::test]
async fn client_module_loads_from_any_origin_while_the_api_stays_limited_to_allowed_ones() {
    let app = spawn_app_with(&[("CORS_ALLOWED_ORIGINS", STORE_ORIGIN)]).await;
    let get = |origin: &'static str| {
        app.client
            .get(format!("{}{PATH}", app.address))
            .header("origin", origin)
            .send()
    };

    let from_store = get(STORE_ORIGIN).await.unwrap();
    let from_elsewhere = get("https://elsewhere.example").await.unwrap();

    assert_eq!(from_store.status(), 200);
    assert_eq!(
        from_store.headers()["access-control-allow-origin"],
        STORE_ORIGIN
    );
    assert_eq!(from_elsewhere.status(), 200);
    assert_eq!(from_elsewhere.headers()["access-control-allow-origin"], "*");
    assert_eq!(
        from_elsewhere.headers()["cross-origin-resource-policy"],
        "cross-origin"
    );
}

#[tokio::test]
async fn client_module_answers_other_methods_with_method_not_allowed() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(format!("{}{PATH}", app.address))
        .send()
        .await
        .unwrap();

    assert_eq!(response.headers()["allow"], "GET, HEAD");
    assert_problem(response, 405, "method-not-allowed").await;
}
