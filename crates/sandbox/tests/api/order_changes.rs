//! What a mirror of a store's orders reads and what changes them, over HTTP: v2 order lists and
//! counts filtered by `date_modified` and `date_created` in either documented date form,
//! archiving (`DELETE`, `PUT is_deleted`) and moving an order to another customer (`PUT
//! customer_id`), with BigCommerce's v2 answers and scope checks.

use order_metafields_sandbox::{self as sandbox, RunningSandbox, SandboxConfig};
use reqwest::Method;
use serde_json::{Value, json};

struct Store {
    running: RunningSandbox,
    config: SandboxConfig,
    client: reqwest::Client,
}

const READ_ONLY_TOKEN: &str = "read-only-orders-token";

impl Store {
    async fn start() -> Self {
        let config = SandboxConfig::demo_defaults();
        let running = sandbox::start(config.clone()).await.unwrap();
        running.store().add_api_account(
            READ_ONLY_TOKEN,
            &config.client_id,
            &["store_v2_orders_read_only"],
        );
        Self {
            running,
            config,
            client: reqwest::Client::new(),
        }
    }

    /// Status and body (`Value::Null` for none) of a request with the store's own token.
    async fn call(&self, method: Method, tail: &str, body: Option<Value>) -> (u16, Value) {
        self.call_as(&self.config.access_token, method, tail, body)
            .await
    }

    async fn call_as(
        &self,
        token: &str,
        method: Method,
        tail: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!(
            "{}stores/{}/{tail}",
            self.running.api_base_url(),
            self.config.store_hash
        );
        let mut request = self
            .client
            .request(method, url)
            .header("X-Auth-Token", token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, body)
    }

    async fn get(&self, tail: &str) -> (u16, Value) {
        self.call(Method::GET, tail, None).await
    }

    async fn ids(&self, tail: &str) -> Vec<u64> {
        match self.get(tail).await {
            (204, Value::Null) => Vec::new(),
            (200, Value::Array(orders)) => orders
                .iter()
                .map(|order| order["id"].as_u64().unwrap())
                .collect(),
            other => panic!("{tail}: {other:?}"),
        }
    }

    /// `GET /v2/orders/count` as `(total, [(status_id, count)])` for the statuses counted.
    async fn count(&self, query: &str) -> (u64, Vec<(u64, u64)>) {
        let (status, body) = self.get(&format!("v2/orders/count?{query}")).await;
        assert_eq!(status, 200, "{body}");
        let counted = body["statuses"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|status| status["count"] != 0)
            .map(|status| {
                (
                    status["id"].as_u64().unwrap(),
                    status["count"].as_u64().unwrap(),
                )
            })
            .collect();
        (body["count"].as_u64().unwrap(), counted)
    }
}

fn encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn v2_error(status: u16, message: &str) -> Value {
    json!([{"status": status, "message": message}])
}

/// `order` with `date_modified` and `is_deleted` taken from `changed`, which must hold both.
fn with_changes_of(mut order: Value, changed: &Value) -> Value {
    for field in ["date_modified", "is_deleted"] {
        order[field] = changed[field].clone();
    }
    order
}

#[tokio::test]
async fn date_filters_take_both_documented_forms_inclusively_on_lists_and_counts() {
    let store = Store::start().await;
    // Alice's orders 321, 364, 367 and 369; 369 was modified last, at 2025-11-01 08:37:00 UTC.
    let until = |value: &str| {
        format!(
            "v2/orders?customer_id=1&max_date_modified={}",
            encoded(value)
        )
    };
    let from = |value: &str| {
        format!(
            "v2/orders?customer_id=1&min_date_modified={}",
            encoded(value)
        )
    };

    let cases = [
        (
            until("Sat, 01 Nov 2025 08:37:00 +0000"),
            vec![321, 364, 367, 369],
        ),
        (until("2025-11-01T04:36:59-04:00"), vec![321, 364, 367]),
        (from("2025-11-01T08:37:00Z"), vec![369]),
        (from("2025-11-01T08:37:00.000+00:00"), vec![369]),
        (from("Sat, 01 Nov 2025 09:37:01 +0100"), vec![]),
        (
            format!(
                "v2/orders?customer_id=1&min_date_created={}&max_date_created={}",
                encoded("2025-08-02T17:40:03Z"),
                encoded("Mon, 20 Oct 2025 11:05:27 +0000")
            ),
            vec![364, 367],
        ),
    ];
    for (tail, expected) in cases {
        assert_eq!(store.ids(&tail).await, expected, "{tail}");
    }
    let counted = store
        .count(&format!(
            "customer_id=1&max_date_modified={}",
            encoded("2025-11-01T04:36:59-04:00")
        ))
        .await;
    // In the order of BigCommerce's statuses list: Completed, Shipped, Cancelled.
    assert_eq!(counted, (3, vec![(10, 1), (2, 1), (5, 1)]));
    for tail in ["v2/orders", "v2/orders/count"] {
        let answer = store
            .get(&format!("{tail}?min_date_modified=2025-13-01T00:00:00Z"))
            .await;
        assert_eq!(
            answer,
            (
                400,
                v2_error(400, "The field 'min_date_modified' is invalid.")
            ),
            "{tail}"
        );
    }
    store.running.stop().await;
}

#[tokio::test]
async fn orders_changed_since_a_mark_are_found_by_date_modified_and_paged_in_order() {
    let store = Store::start().await;
    let handle = store.running.store();
    let mark = time::OffsetDateTime::now_utc() - time::Duration::seconds(2);
    let since = mark
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap();

    assert!(handle.set_order_status(321, 11));
    assert!(handle.set_order_customer(365, 1));
    assert!(handle.archive_order(364));
    let listed = store
        .get(&format!(
            "v2/orders?min_date_modified={}&sort=date_modified:asc&limit=1",
            encoded(&since)
        ))
        .await;
    let second_page = store
        .ids(&format!(
            "v2/orders?min_date_modified={}&sort=date_modified:asc&limit=1&page=2",
            encoded(&since)
        ))
        .await;
    let changed = store
        .ids(&format!(
            "v2/orders?min_date_modified={}&sort=date_modified:asc",
            encoded(&since)
        ))
        .await;
    let archived = store
        .ids(&format!(
            "v2/orders?min_date_modified={}&is_deleted=true",
            encoded(&since)
        ))
        .await;

    let (_, first) = store.get("v2/orders/321").await;
    assert_eq!(listed, (200, json!([first])));
    assert_eq!(changed.len(), 2);
    assert_eq!([changed[0], second_page[0]], [changed[0], changed[1]]);
    let mut sorted = changed.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [321, 365]);
    assert_eq!(archived, [364]);
    assert_eq!(
        store
            .count(&format!("min_date_modified={}", encoded(&since)))
            .await,
        (2, vec![(11, 1), (2, 1)])
    );
    store.running.stop().await;
}

#[tokio::test]
async fn an_archived_order_leaves_the_lists_but_is_still_served_by_id() {
    let store = Store::start().await;
    let (_, before) = store.get("v2/orders/364").await;

    let read_only = store
        .call_as(READ_ONLY_TOKEN, Method::DELETE, "v2/orders/364", None)
        .await;
    let deleted = store.call(Method::DELETE, "v2/orders/364", None).await;
    let (_, after) = store.get("v2/orders/364").await;
    let deleted_again = store.call(Method::DELETE, "v2/orders/364", None).await;
    let (_, after_again) = store.get("v2/orders/364").await;
    let missing = store.call(Method::DELETE, "v2/orders/99999", None).await;

    assert_eq!(
        read_only,
        (
            403,
            v2_error(
                403,
                "You don't have a required scope to access the endpoint"
            )
        )
    );
    assert_eq!(deleted, (204, Value::Null));
    assert_eq!(deleted_again, (204, Value::Null));
    assert_eq!(
        missing,
        (404, v2_error(404, "The requested resource was not found."))
    );
    assert_eq!(before["is_deleted"], false);
    assert_eq!(after["is_deleted"], true);
    assert_ne!(after["date_modified"], before["date_modified"]);
    assert_eq!(after, with_changes_of(before, &after));
    assert_eq!(after_again, after, "archiving again changes nothing");
    assert_eq!(store.ids("v2/orders?customer_id=1").await, [321, 367, 369]);
    assert_eq!(
        store.get("v2/orders?customer_id=1&is_deleted=true").await,
        (200, json!([after]))
    );
    assert_eq!(store.ids("v2/orders?is_deleted=true").await, [364]);
    assert_eq!(store.count("customer_id=1").await.0, 3);
    assert_eq!(store.count("is_deleted=true").await, (1, vec![(5, 1)]));
    assert_eq!(store.running.store().order_is_archived(364), Some(true));
    store.running.stop().await;
}

#[tokio::test]
async fn put_moves_an_order_to_another_customer_or_archives_it_and_answers_it_whole() {
    let store = Store::start().await;
    let handle = store.running.store();
    let alice = handle.customers()[0].clone();
    let (_, before) = store.get("v2/orders/365").await;

    let read_only = store
        .call_as(
            READ_ONLY_TOKEN,
            Method::PUT,
            "v2/orders/365",
            Some(json!({"customer_id": 1})),
        )
        .await;
    let unknown_customer = store
        .call(
            Method::PUT,
            "v2/orders/365",
            Some(json!({"customer_id": 99_999})),
        )
        .await;
    let moved = store
        .call(
            Method::PUT,
            "v2/orders/365",
            Some(json!({"customer_id": alice.id, "customer_locale": "fr"})),
        )
        .await;
    let (_, served) = store.get("v2/orders/365").await;
    let archived = store
        .call(
            Method::PUT,
            "v2/orders/367",
            Some(json!({"is_deleted": true})),
        )
        .await;
    let missing = store
        .call(
            Method::PUT,
            "v2/orders/99999",
            Some(json!({"customer_id": 1})),
        )
        .await;
    let not_an_object = store
        .call(Method::PUT, "v2/orders/365", Some(json!([1])))
        .await;

    assert_eq!(
        read_only,
        (
            403,
            v2_error(
                403,
                "You don't have a required scope to access the endpoint"
            )
        )
    );
    assert_eq!(
        unknown_customer,
        (400, v2_error(400, "The field 'customer_id' is invalid."))
    );
    assert_eq!(moved, (200, served.clone()));
    let mut expected = with_changes_of(before.clone(), &served);
    expected["customer_id"] = json!(alice.id);
    expected["billing_address"] = served["billing_address"].clone();
    assert_eq!(served, expected);
    assert_eq!(served["billing_address"]["email"], alice.email);
    assert_eq!(served["billing_address"]["first_name"], alice.first_name);
    assert_ne!(served["date_modified"], before["date_modified"]);
    assert_eq!(handle.orders_of(alice.id), [321, 364, 365, 367, 369]);
    assert!(
        handle
            .orders_of(before["customer_id"].as_u64().unwrap())
            .is_empty()
    );
    assert_eq!(handle.order_customer(365), Some(alice.id));
    assert_eq!(archived.0, 200);
    assert_eq!(archived.1["is_deleted"], true);
    assert_eq!(
        store.ids("v2/orders?customer_id=1").await,
        [321, 364, 365, 369]
    );
    assert_eq!(
        missing,
        (404, v2_error(404, "The requested resource was not found."))
    );
    assert_eq!(
        not_an_object,
        (
            400,
            v2_error(400, "The request body is not a valid JSON object.")
        )
    );
    store.running.stop().await;
}
