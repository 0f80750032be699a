use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    STORE_HASH, assert_problem, metafield_page, spawn_app, spawn_app_with, token_for, v2_order,
    v3_metafield,
};

fn all_permission_sets(order_id: u64) -> Vec<Value> {
    vec![
        v3_metafield(1, order_id, "app_only", "Shipping", "internal_cost"),
        v3_metafield(2, order_id, "read", "Shipping", "carrier"),
        v3_metafield(3, order_id, "write", "Other app", "sync_state"),
        v3_metafield(
            4,
            order_id,
            "read_and_sf_access",
            "Shipping",
            "tracking_url",
        ),
        v3_metafield(5, order_id, "write_and_sf_access", "Gifts", "gift_message"),
    ]
}

#[tokio::test]
async fn only_storefront_marked_metafields_are_returned_by_default() {
    let app = spawn_app().await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;
    app.mount_metafields(100, all_permission_sets(100), 1).await;

    let response = app.get_metafields(&token_for(7), "100").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "private, no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"data": [
            {"id": 4, "namespace": "Shipping", "key": "tracking_url", "value": "value of tracking_url",
             "description": "about tracking_url", "date_created": "2024-03-05T10:00:00Z",
             "date_modified": "2024-03-06T10:00:00Z", "label": "about tracking_url",
             "type": "text", "position": null, "editable": false},
            {"id": 5, "namespace": "Gifts", "key": "gift_message", "value": "value of gift_message",
             "description": "about gift_message", "date_created": "2024-03-05T10:00:00Z",
             "date_modified": "2024-03-06T10:00:00Z", "label": "about gift_message",
             "type": "text", "position": null, "editable": false}
        ]})
    );
}

#[tokio::test]
async fn named_namespaces_expose_their_read_and_write_metafields_but_never_app_only() {
    let app = spawn_app_with(&[("METAFIELD_NAMESPACES", "Shipping,Other app")]).await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;
    app.mount_metafields(100, all_permission_sets(100), 1).await;

    let body: Value = app
        .get_metafields(&token_for(7), "100")
        .await
        .json()
        .await
        .unwrap();

    let ids: Vec<u64> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![2, 3, 4, 5]);
}

#[tokio::test]
async fn fifty_concurrent_cold_requests_cause_one_upstream_call_each() {
    let app = spawn_app().await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;
    app.mount_metafields(100, all_permission_sets(100), 1).await;
    let token = token_for(7);

    let responses =
        futures_util::future::join_all((0..50).map(|_| app.get_metafields(&token, "100"))).await;

    for response in responses {
        assert_eq!(response.status(), 200);
    }
    assert_eq!(app.upstream_calls("v2/orders").await, 1);
    assert_eq!(app.upstream_calls("v3/orders/100/metafields").await, 1);
}

#[tokio::test]
async fn metafields_of_someone_elses_order_are_404_without_fetching_them() {
    let app = spawn_app().await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;
    app.mount_metafields(200, all_permission_sets(200), 0).await;

    let response = app.get_metafields(&token_for(7), "200").await;

    assert_problem(response, 404, "not-found").await;
    assert_eq!(app.upstream_calls("v3").await, 0);
}

#[tokio::test]
async fn metafield_pages_are_followed_and_foreign_metafields_dropped() {
    let app = spawn_app().await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;
    let first: Vec<Value> = (1..=250)
        .map(|id| v3_metafield(id, 100, "read_and_sf_access", "Bulk", &format!("k{id}")))
        .collect();
    let second = vec![
        v3_metafield(251, 100, "read_and_sf_access", "Bulk", "k251"),
        v3_metafield(252, 999, "read_and_sf_access", "Bulk", "other order"),
    ];
    for (page, data) in [(1, first), (2, second)] {
        Mock::given(method("GET"))
            .and(path(format!(
                "/stores/{STORE_HASH}/v3/orders/100/metafields"
            )))
            .and(query_param("page", page.to_string()))
            .and(query_param("limit", "250"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(metafield_page(data, page, 2, 252)),
            )
            .expect(1)
            .mount(&app.management)
            .await;
    }

    let body: Value = app
        .get_metafields(&token_for(7), "100")
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(body["data"].as_array().unwrap().len(), 251);
    assert!(!body.to_string().contains("other order"));
}

#[tokio::test]
async fn metafields_are_cached_between_requests() {
    let app = spawn_app().await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;
    app.mount_metafields(100, all_permission_sets(100), 1).await;

    let first = app
        .get_metafields(&token_for(7), "100")
        .await
        .text()
        .await
        .unwrap();
    let second = app
        .get_metafields(&token_for(7), "100")
        .await
        .text()
        .await
        .unwrap();

    assert_eq!(first, second);
    assert_eq!(app.upstream_calls("").await, 2);
}
