//! Many stores on one data plane: two installed stores with the same customer ids and order
//! ids never see each other's data, cached or not, under concurrent load; a webhook acts on
//! its own store only; installs survive a restart; tokens are sealed at rest; a database that
//! goes away fails what needs it with `503` while the stores already served keep serving.

use serde_json::{Value, json};

use crate::helpers::app::{AppMode, OWNER_ID, customer_token, payload};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{assert_problem, metafield_page, v2_order, v3_metafield};

const FIRST: &str = "abc123";
const SECOND: &str = "xyz789";

/// Two stores whose customer 7 both have an order 100, with different metafields.
async fn two_stores() -> AppMode {
    let app = AppMode::spawn().await;
    app.install(FIRST, "token-of-abc123").await;
    app.install(SECOND, "token-of-xyz789").await;
    for (store, day, key) in [
        (FIRST, 1, "first_store_key"),
        (SECOND, 2, "second_store_key"),
    ] {
        app.mount_orders(store, 7, vec![v2_order(100, 7, day)], 1)
            .await;
        app.mount_metafields(
            store,
            100,
            vec![v3_metafield(1, 100, "read_and_sf_access", "shipping", key)],
            1,
        )
        .await;
    }
    app
}

async fn json_of(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn two_stores_with_the_same_ids_each_see_only_their_own_orders_and_metafields() {
    let app = two_stores().await;

    for _ in 0..3 {
        let first_order = json_of(app.get("/v1/orders/100", &customer_token(FIRST, 7)).await).await;
        let second_order =
            json_of(app.get("/v1/orders/100", &customer_token(SECOND, 7)).await).await;
        let first = json_of(
            app.get("/v1/orders/100/metafields", &customer_token(FIRST, 7))
                .await,
        )
        .await;
        let second = json_of(
            app.get("/v1/orders/100/metafields", &customer_token(SECOND, 7))
                .await,
        )
        .await;

        assert_eq!(first_order["data"]["date_created"], "2024-03-01T10:00:00Z");
        assert_eq!(second_order["data"]["date_created"], "2024-03-02T10:00:00Z");
        assert_eq!(first["data"][0]["key"], "first_store_key");
        assert_eq!(second["data"][0]["key"], "second_store_key");
    }
    // Each store's data was read once, with its own token (the mocks expect one call each).
    app.bigcommerce.verify().await;
    for (store, token) in [(FIRST, "token-of-abc123"), (SECOND, "token-of-xyz789")] {
        let mut calls = app.calls(&format!("/stores/{store}/v2/orders")).await;
        calls.extend(app.calls(&format!("/stores/{store}/v3/orders")).await);
        assert_eq!(calls.len(), 2, "{store}");
        assert!(
            calls
                .iter()
                .all(|request| request.headers["x-auth-token"] == token)
        );
    }
}

#[tokio::test]
async fn concurrent_customers_of_two_stores_never_get_each_others_answers() {
    let app = two_stores().await;
    let first = customer_token(FIRST, 7);
    let second = customer_token(SECOND, 7);

    let requests = (0..64).map(|n| {
        let (token, expected) = if n % 2 == 0 {
            (first.clone(), "first_store_key")
        } else {
            (second.clone(), "second_store_key")
        };
        let app = &app;
        async move {
            let body = json_of(app.get("/v1/orders/100/metafields", &token).await).await;
            (
                body["data"][0]["key"].as_str().unwrap().to_owned(),
                expected,
            )
        }
    });
    let answers = futures_util::future::join_all(requests).await;

    for (got, expected) in answers {
        assert_eq!(got, expected);
    }
    app.bigcommerce.verify().await;
}

#[tokio::test]
async fn a_webhook_drops_what_it_names_in_its_own_store_only() {
    let app = two_stores().await;
    let first = customer_token(FIRST, 7);
    let second = customer_token(SECOND, 7);
    json_of(app.get("/v1/orders/100/metafields", &first).await).await;
    json_of(app.get("/v1/orders/100/metafields", &second).await).await;
    let secret = app
        .calls(&format!("/stores/{FIRST}/v3/hooks"))
        .await
        .iter()
        .find(|request| request.method.as_str() == "POST")
        .map(|request| {
            let hook: Value = serde_json::from_slice(&request.body).unwrap();
            hook["headers"]["x-webhook-secret"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .unwrap();
    let delivery = |store: &str| {
        json!({"scope": "store/order/metafield/updated", "store_id": "1",
               "data": {"metafield_id": 1, "resource_id": "100"},
               "hash": format!("h-{store}"), "created_at": 1, "producer": format!("stores/{store}")})
        .to_string()
    };
    let deliver = |body: String| {
        app.client
            .post(format!("{}/webhooks/bigcommerce", app.address))
            .header("x-webhook-secret", secret.clone())
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    // The first store's secret does not authenticate a delivery claiming the second store.
    let forged = deliver(delivery(SECOND)).await.unwrap();
    let accepted = deliver(delivery(FIRST)).await.unwrap();
    Mock::given(method("GET"))
        .and(path(format!("/stores/{FIRST}/v3/orders/100/metafields")))
        .respond_with(ResponseTemplate::new(200).set_body_json(metafield_page(
            vec![v3_metafield(
                1,
                100,
                "read_and_sf_access",
                "shipping",
                "changed_key",
            )],
            1,
            1,
            1,
        )))
        .with_priority(1)
        .expect(1)
        .mount(&app.bigcommerce)
        .await;
    let first_after = json_of(app.get("/v1/orders/100/metafields", &first).await).await;
    let second_after = json_of(app.get("/v1/orders/100/metafields", &second).await).await;

    assert_problem(forged, 401, "unauthorized").await;
    assert_eq!(accepted.status(), 200);
    assert_eq!(first_after["data"][0]["key"], "changed_key");
    assert_eq!(second_after["data"][0]["key"], "second_store_key");
    assert_eq!(
        app.calls(&format!("/stores/{SECOND}/v3/orders"))
            .await
            .len(),
        1,
        "the second store's metafields stayed cached"
    );
}

#[tokio::test]
async fn installs_survive_a_restart_and_uninstalls_too() {
    let mut app = AppMode::spawn().await;
    app.install(FIRST, "token-of-abc123").await;
    app.install(SECOND, "token-of-xyz789").await;
    app.callback("uninstall", &payload(SECOND, OWNER_ID)).await;

    app.stop().await;
    app.start().await;
    app.mount_orders(FIRST, 7, vec![v2_order(100, 7, 1)], 1)
        .await;
    let first = app.get("/v1/orders", &customer_token(FIRST, 7)).await;
    let second = app.get("/v1/orders", &customer_token(SECOND, 7)).await;

    assert_eq!(first.status(), 200);
    assert_problem(second, 401, "unauthorized").await;
    let calls = app.calls(&format!("/stores/{FIRST}/v2/orders")).await;
    assert_eq!(calls[0].headers["x-auth-token"], "token-of-abc123");
}

#[tokio::test]
async fn no_access_token_is_stored_in_the_clear() {
    let app = AppMode::spawn().await;
    let token = "plain-access-token-that-must-not-be-on-disk";
    app.install(FIRST, token).await;

    let rows = {
        let database = order_metafields_service::database::Database::connect(&app.database.url)
            .await
            .unwrap();
        database.stores().await.unwrap()
    };
    // The database file and its write-ahead log, as they are on disk.
    let file = app.database.sqlite_path().map(|path| {
        let mut bytes = std::fs::read(&path).unwrap();
        let log = path.with_extension("db-wal");
        if let Ok(more) = std::fs::read(log) {
            bytes.extend(more);
        }
        bytes
    });

    assert_eq!(rows.len(), 1);
    let sealed = &rows[0].sealed_access_token;
    assert!(!contains(sealed, token.as_bytes()), "the token is sealed");
    assert!(sealed.len() > token.len(), "a nonce and a tag around it");
    if let Some(file) = file {
        assert!(
            !contains(&file, token.as_bytes()),
            "not in the database file"
        );
        assert!(contains(&file, b"abc123"), "the file is the right one");
    }
}

#[tokio::test]
async fn a_lost_database_fails_what_needs_it_and_cached_stores_keep_serving() {
    let app = AppMode::spawn().await;
    app.install(FIRST, "token-of-abc123").await;
    app.mount_orders(FIRST, 7, vec![v2_order(100, 7, 1)], 1..)
        .await;

    // Take the database away under the running application.
    app.break_database().await;
    let orders = app.get("/v1/orders", &customer_token(FIRST, 7)).await;
    let load = app.callback("load", &payload(FIRST, OWNER_ID)).await;
    let uninstall = app.callback("uninstall", &payload(FIRST, OWNER_ID)).await;
    let ready = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();

    assert_eq!(
        orders.status(),
        200,
        "the installed store is served from memory"
    );
    assert_eq!(load.status(), 503);
    assert!(
        load.text()
            .await
            .unwrap()
            .contains("cannot reach its database")
    );
    assert_problem(uninstall, 503, "database-unavailable").await;
    assert_problem(ready, 503, "not-ready").await;
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
