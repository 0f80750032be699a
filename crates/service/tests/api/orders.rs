use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{STORE_HASH, assert_problem, spawn_app, spawn_app_with, token_for, v2_order};

#[tokio::test]
async fn orders_list_is_the_customers_own_newest_first_with_safe_fields_only() {
    let app = spawn_app().await;
    let mut shipped = v2_order(102, 7, 3);
    shipped["date_shipped"] = json!("Thu, 07 Mar 2024 09:30:00 +0000");
    shipped["status"] = json!("Shipped");
    shipped["status_id"] = json!(2);
    shipped["channel_id"] = json!(2);
    app.mount_orders(
        7,
        vec![v2_order(100, 7, 1), v2_order(101, 7, 5), shipped],
        1,
    )
    .await;

    let response = app.get_orders(&token_for(7), "").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "private, no-store");
    let body: Value = response.json().await.unwrap();
    let ids: Vec<u64> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|order| order["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![101, 102, 100]);
    assert_eq!(
        body["data"][1],
        json!({
            "id": 102, "customer_id": 7, "status": "Shipped", "status_id": 2,
            "date_created": "2024-03-03T10:00:00Z", "date_modified": "2024-04-03T10:00:00Z",
            "date_shipped": "2024-03-07T09:30:00Z", "currency_code": "USD",
            "subtotal_ex_tax": "62.6793", "subtotal_inc_tax": "67.8400",
            "shipping_cost_inc_tax": "12.0000", "total_tax": "5.3100",
            "total_ex_tax": "64.5300", "total_inc_tax": "79.8400",
            "discount_amount": "0.0000", "refunded_amount": "0.0000",
            "items_total": 2, "items_shipped": 0, "payment_method": "Credit Card",
            "order_is_digital": false, "channel_id": 2
        })
    );
    assert_eq!(body["data"][0]["date_shipped"], Value::Null);
    // An order without a channel (placed before channels existed) is the default channel's.
    assert_eq!(body["data"][0]["channel_id"], json!(1));
    assert_eq!(
        body["meta"],
        json!({"pagination": {"total": 3, "count": 3, "per_page": 50, "current_page": 1, "total_pages": 1}})
    );
    let text = body.to_string();
    for private in [
        "STAFF-ONLY",
        "203.0.113.77",
        "ch_secret_provider_id",
        "Private Road",
        "jane@example.com",
    ] {
        assert!(!text.contains(private), "{private} leaked");
    }
}

#[tokio::test]
async fn orders_list_pages_locally_and_walks_upstream_pages_of_250() {
    let app = spawn_app().await;
    let orders: Vec<Value> = (1..=300).map(|n| v2_order(1000 + n, 7, 1)).collect();
    app.mount_orders(7, orders, 1).await;

    let first = app.get_orders(&token_for(7), "?limit=250").await;
    let second: Value = app
        .get_orders(&token_for(7), "?page=2&limit=250")
        .await
        .json()
        .await
        .unwrap();
    let beyond: Value = app
        .get_orders(&token_for(7), "?page=9&limit=100")
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["data"].as_array().unwrap().len(), 250);
    assert_eq!(first["data"][0]["id"], 1300, "same date: higher id first");
    assert_eq!(second["data"].as_array().unwrap().len(), 50);
    assert_eq!(
        second["meta"]["pagination"],
        json!({"total": 300, "count": 50, "per_page": 250, "current_page": 2, "total_pages": 2})
    );
    assert_eq!(beyond["data"], json!([]));
    assert_eq!(beyond["meta"]["pagination"]["total_pages"], 3);
    assert_eq!(
        app.upstream_calls("v2/orders").await,
        2,
        "two upstream pages, cached after"
    );
}

#[tokio::test]
async fn customer_without_orders_gets_an_empty_list_from_a_204() {
    let app = spawn_app().await;
    app.mount_orders(8, vec![], 1).await;

    let response = app.get_orders(&token_for(8), "").await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"data": [], "meta": {"pagination": {"total": 0, "count": 0, "per_page": 50, "current_page": 1, "total_pages": 0}}})
    );
}

#[tokio::test]
async fn invalid_page_or_limit_is_400_and_costs_nothing() {
    let app = spawn_app().await;
    for query in [
        "?page=0",
        "?limit=0",
        "?limit=251",
        "?page=abc",
        "?limit=-1",
        "?page=1.5",
        "?page=1&page=2",
    ] {
        let response = app.get_orders(&token_for(7), query).await;

        assert_problem(response, 400, "bad-request").await;
    }
    assert_eq!(app.upstream_calls("").await, 0);
}

#[tokio::test]
async fn own_order_is_returned_and_others_are_indistinguishable_from_missing() {
    let app = spawn_app().await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;

    let own = app.get_order(&token_for(7), "100").await;
    let missing = app.get_order(&token_for(7), "999999").await;
    let someone_elses = app.get_order(&token_for(7), "200").await;

    assert_eq!(own.status(), 200);
    assert_eq!(own.headers()["cache-control"], "private, no-store");
    let own: Value = own.json().await.unwrap();
    assert_eq!(own["data"]["id"], 100);
    assert_eq!(own.as_object().unwrap().len(), 1);
    let missing = assert_problem(missing, 404, "not-found").await;
    let someone_elses = assert_problem(someone_elses, 404, "not-found").await;
    assert_eq!(missing, someone_elses);
}

#[tokio::test]
async fn foreign_and_guest_orders_returned_by_upstream_are_never_shown() {
    let app = spawn_app().await;
    // An upstream that ignores the customer_id filter must not leak anyone else's order.
    app.mount_orders(
        7,
        vec![
            v2_order(100, 7, 1),
            v2_order(200, 8, 2),
            v2_order(300, 0, 3),
        ],
        1,
    )
    .await;

    let list: Value = app
        .get_orders(&token_for(7), "")
        .await
        .json()
        .await
        .unwrap();
    let foreign = app.get_order(&token_for(7), "200").await;
    let guest = app.get_order(&token_for(7), "300").await;

    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["id"], 100);
    assert_problem(foreign, 404, "not-found").await;
    assert_problem(guest, 404, "not-found").await;
}

#[tokio::test]
async fn probing_300_foreign_order_ids_costs_at_most_3_upstream_calls() {
    let app = spawn_app().await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1..=3).await;

    for order_id in 5000..5300 {
        let response = app.get_order(&token_for(7), &order_id.to_string()).await;
        assert_eq!(response.status(), 404);
    }
    for order_id in 6000..6100 {
        let response = app
            .get_metafields(&token_for(7), &order_id.to_string())
            .await;
        assert_eq!(response.status(), 404);
    }

    let calls = app.upstream_calls("").await;
    assert!(calls <= 3, "{calls} upstream calls");
    assert_eq!(app.upstream_calls("v3").await, 0);
}

#[tokio::test]
async fn an_order_placed_after_the_list_was_cached_appears_after_the_refresh_interval() {
    let app = spawn_app_with(&[("ORDERS_REFRESH_INTERVAL", "300ms")]).await;
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE_HASH}/v2/orders")))
        .respond_with(ResponseTemplate::new(200).set_body_json(vec![v2_order(100, 7, 1)]))
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.management)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE_HASH}/v2/orders")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(vec![v2_order(100, 7, 1), v2_order(101, 7, 2)]),
        )
        .expect(1)
        .mount(&app.management)
        .await;

    let before = app.get_order(&token_for(7), "101").await;
    let still_cached = app.get_order(&token_for(7), "101").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let after = app.get_order(&token_for(7), "101").await;

    assert_eq!(
        before.status(),
        404,
        "a list fetched just now is not refreshed"
    );
    assert_eq!(still_cached.status(), 404, "no refresh within the interval");
    assert_eq!(after.status(), 200, "refreshed once the interval passed");
    assert_eq!(app.upstream_calls("v2/orders").await, 2);
}

#[tokio::test]
async fn invalid_order_ids_are_400_and_cost_nothing() {
    let app = spawn_app().await;
    for id in ["abc", "0", "-1", "1.5", "%20", "99999999999999999999999"] {
        let order = app.get_order(&token_for(7), id).await;
        let metafields = app.get_metafields(&token_for(7), id).await;

        assert_problem(order, 400, "bad-request").await;
        assert_problem(metafields, 400, "bad-request").await;
    }
    assert_eq!(app.upstream_calls("").await, 0);
}
