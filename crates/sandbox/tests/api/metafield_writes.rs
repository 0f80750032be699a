//! Order metafield writes as BigCommerce's (orders.v3.yml): create, update and delete with
//! their 403, 404, 409 and 422 answers, what another app (another client id) may see and
//! change, the limit of 250 metafields per order and app, the modify scope, and the batch
//! collection's date filters and cursor paging. Each test starts its own sandbox.

use std::time::Duration;

use order_metafields_sandbox::{self as sandbox, RunningSandbox, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Alice's open order: `delivery/slot` (this app, `write_and_sf_access`), `gift/message` (this
/// app, `read_and_sf_access`) and `erp/sync_state` (the ERP app, `write`).
const OPEN_ORDER: u64 = 369;
/// Alice's shipped order: `warehouse/pick_bin` (the ERP app, `read`) and `Sales Department/Staff
/// Name` (this app, `app_only`).
const SHIPPED_ORDER: u64 = 367;
const OTHER_APP_TOKEN: &str = "other-app-token";
const OTHER_APP: &str = "other0app0client0id";
const READ_ONLY_TOKEN: &str = "read-only-token";
const V3_ERRORS: &str =
    "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes";

struct Store {
    running: RunningSandbox,
    config: SandboxConfig,
    client: reqwest::Client,
}

impl Store {
    async fn start() -> Self {
        let config = SandboxConfig {
            quota: 10_000,
            ..SandboxConfig::demo_defaults()
        };
        let running = sandbox::start(config.clone()).await.unwrap();
        let store = running.store();
        store.add_api_account(OTHER_APP_TOKEN, OTHER_APP, &["store_v2_orders"]);
        store.add_api_account(READ_ONLY_TOKEN, OTHER_APP, &["store_v2_orders_read_only"]);
        Self {
            running,
            config,
            client: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        method: Method,
        tail: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = format!(
            "{}stores/{}/v3/{tail}",
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
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, body)
    }

    /// As this app (the store's own API account, whose client id is the app's).
    async fn ours(&self, method: Method, tail: &str, body: Option<Value>) -> (StatusCode, Value) {
        let token = self.config.access_token.clone();
        self.call(method, tail, &token, body).await
    }

    fn metafield_id(&self, order_id: u64, namespace: &str, key: &str) -> u64 {
        self.running
            .store()
            .metafield(order_id, namespace, key)
            .unwrap()
            .id
    }
}

fn v3_error(status: u16, title: &str) -> Value {
    json!({"status": status, "title": title, "type": V3_ERRORS, "errors": {}})
}

/// The body with its two dates checked (RFC 3339, within a minute of now) and blanked.
fn undated(mut body: Value) -> Value {
    for field in ["date_created", "date_modified"] {
        let text = body["data"][field].as_str().unwrap();
        let moment = OffsetDateTime::parse(text, &Rfc3339).unwrap();
        let age = OffsetDateTime::now_utc() - moment;
        assert!(age.whole_seconds().abs() < 60, "{field} {text}");
        body["data"][field] = json!("");
    }
    body
}

#[tokio::test]
async fn a_created_metafield_is_answered_whole_served_and_announced() {
    let store = Store::start().await;
    let tail = format!("orders/{OPEN_ORDER}/metafields");

    let (status, created) = store
        .ours(
            Method::POST,
            &tail,
            Some(
                json!({"permission_set": "write_and_sf_access", "namespace": "delivery",
                        "key": "note", "value": "Leave it at the back door",
                        "description": "Courier note"}),
            ),
        )
        .await;

    assert_eq!(status, StatusCode::OK);
    let id = created["data"]["id"].as_u64().unwrap();
    let (_, fetched) = store.ours(Method::GET, &format!("{tail}/{id}"), None).await;
    assert_eq!(fetched, created);
    assert_eq!(
        created["data"]["date_created"],
        created["data"]["date_modified"]
    );
    assert_eq!(
        undated(created),
        json!({"data": {"id": id, "key": "note", "value": "Leave it at the back door",
                        "namespace": "delivery", "permission_set": "write_and_sf_access",
                        "resource_type": "order", "resource_id": OPEN_ORDER,
                        "description": "Courier note", "date_created": "", "date_modified": "",
                        "owner_client_id": store.config.client_id},
               "meta": {}})
    );
    let records = store.running.store().webhook_deliveries();
    assert!(records.is_empty(), "nothing is subscribed: {records:?}");
    store.running.stop().await;
}

#[tokio::test]
async fn bad_writes_get_bigcommerce_s_answers_and_change_nothing() {
    let store = Store::start().await;
    let tail = format!("orders/{OPEN_ORDER}/metafields");
    let before = store.running.store().metafields_of(OPEN_ORDER);
    let slot = store.metafield_id(OPEN_ORDER, "delivery", "slot");
    let message = store.metafield_id(OPEN_ORDER, "gift", "message");

    let duplicate = store
        .ours(
            Method::POST,
            &tail,
            Some(json!({"permission_set": "read", "namespace": "gift", "key": "message", "value": "again"})),
        )
        .await;
    let invalid = store
        .ours(
            Method::POST,
            &tail,
            Some(json!({"permission_set": "public", "namespace": "", "key": "k", "value": 5})),
        )
        .await;
    let too_long = store
        .ours(
            Method::PUT,
            &format!("{tail}/{slot}"),
            Some(json!({"value": "x".repeat(65_536)})),
        )
        .await;
    let renamed_onto_another = store
        .ours(
            Method::PUT,
            &format!("{tail}/{slot}"),
            Some(json!({"namespace": "gift", "key": "message"})),
        )
        .await;
    let syntax = store
        .ours(Method::PUT, &format!("{tail}/{message}"), Some(json!([1])))
        .await;
    let unknown_order = store
        .ours(
            Method::POST,
            "orders/99999/metafields",
            Some(json!({"permission_set": "read", "namespace": "n", "key": "k", "value": "v"})),
        )
        .await;
    let wrong_order = store
        .ours(
            Method::DELETE,
            &format!("orders/364/metafields/{slot}"),
            None,
        )
        .await;

    assert_eq!(
        duplicate,
        (
            StatusCode::CONFLICT,
            v3_error(
                409,
                "A metafield with this namespace and key already exists on this order for this app"
            )
        )
    );
    assert_eq!(
        invalid,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"status": 422, "title": "JSON data is missing or invalid", "type": V3_ERRORS,
                   "errors": {
                       "permission_set": "permission_set must be one of app_only, read, write, read_and_sf_access, write_and_sf_access",
                       "namespace": "namespace must be between 1 and 64 characters",
                       "value": "value must be a string"}})
        )
    );
    assert_eq!(too_long.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        too_long.1["errors"],
        json!({"value": "value must be between 1 and 65535 characters"})
    );
    assert_eq!(renamed_onto_another.0, StatusCode::CONFLICT);
    assert_eq!(
        syntax,
        (
            StatusCode::BAD_REQUEST,
            json!({"status": 400, "title": "Input is invalid", "type": V3_ERRORS, "detail": "Syntax error"})
        )
    );
    assert_eq!(unknown_order.0, StatusCode::NOT_FOUND);
    assert_eq!(unknown_order.1["title"], "Order not found");
    assert_eq!(
        wrong_order,
        (
            StatusCode::NOT_FOUND,
            json!({"status": 404, "title": "Metafield not found", "type": V3_ERRORS, "errors": []})
        )
    );
    assert_eq!(store.running.store().metafields_of(OPEN_ORDER), before);
    store.running.stop().await;
}

#[tokio::test]
async fn a_value_of_65535_characters_is_kept_whole() {
    let store = Store::start().await;
    let slot = store.metafield_id(OPEN_ORDER, "delivery", "slot");
    // Multi-byte characters: the limit counts characters, not bytes.
    let value = "é".repeat(65_535);

    let (status, body) = store
        .ours(
            Method::PUT,
            &format!("orders/{OPEN_ORDER}/metafields/{slot}"),
            Some(json!({"value": value})),
        )
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["value"].as_str().unwrap(), value);
    assert_eq!(
        store
            .running
            .store()
            .metafield(OPEN_ORDER, "delivery", "slot")
            .unwrap()
            .value,
        value
    );
    store.running.stop().await;
}

#[tokio::test]
async fn another_app_sees_no_app_only_metafield_and_changes_only_values_it_is_allowed_to() {
    let store = Store::start().await;
    let other = |method: Method, tail: String, body: Option<Value>| {
        let store = &store;
        async move { store.call(method, &tail, OTHER_APP_TOKEN, body).await }
    };
    let slot = store.metafield_id(OPEN_ORDER, "delivery", "slot");
    let message = store.metafield_id(OPEN_ORDER, "gift", "message");
    let staff = store.metafield_id(SHIPPED_ORDER, "Sales Department", "Staff Name");
    let sync_state = store.metafield_id(OPEN_ORDER, "erp", "sync_state");
    let pick_bin = store.metafield_id(SHIPPED_ORDER, "warehouse", "pick_bin");

    let (_, listed) = other(
        Method::GET,
        format!("orders/{SHIPPED_ORDER}/metafields"),
        None,
    )
    .await;
    let hidden = other(
        Method::GET,
        format!("orders/{SHIPPED_ORDER}/metafields/{staff}"),
        None,
    )
    .await;
    let hidden_write = other(
        Method::PUT,
        format!("orders/{SHIPPED_ORDER}/metafields/{staff}"),
        Some(json!({"value": "Mallory"})),
    )
    .await;
    let value_of_writable = other(
        Method::PUT,
        format!("orders/{OPEN_ORDER}/metafields/{slot}"),
        Some(json!({"value": "2025-11-20 08:00-10:00", "namespace": "delivery"})),
    )
    .await;
    let renamed = other(
        Method::PUT,
        format!("orders/{OPEN_ORDER}/metafields/{slot}"),
        Some(json!({"key": "window"})),
    )
    .await;
    let opened = other(
        Method::PUT,
        format!("orders/{OPEN_ORDER}/metafields/{slot}"),
        Some(json!({"permission_set": "write"})),
    )
    .await;
    let read_only = other(
        Method::PUT,
        format!("orders/{OPEN_ORDER}/metafields/{message}"),
        Some(json!({"value": "Not yours"})),
    )
    .await;
    let deleted = other(
        Method::DELETE,
        format!("orders/{OPEN_ORDER}/metafields/{slot}"),
        None,
    )
    .await;
    // And this app, facing the ERP app's metafields.
    let foreign_write = store
        .ours(
            Method::PUT,
            &format!("orders/{OPEN_ORDER}/metafields/{sync_state}"),
            Some(json!({"value": "exported"})),
        )
        .await;
    let foreign_read = store
        .ours(
            Method::PUT,
            &format!("orders/{SHIPPED_ORDER}/metafields/{pick_bin}"),
            Some(json!({"value": "C-1"})),
        )
        .await;
    let foreign_delete = store
        .ours(
            Method::DELETE,
            &format!("orders/{OPEN_ORDER}/metafields/{sync_state}"),
            None,
        )
        .await;

    let keys: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|metafield| metafield["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["tracking_url", "carrier", "pick_bin"]);
    assert_eq!(hidden.0, StatusCode::NOT_FOUND);
    assert_eq!(hidden_write.0, StatusCode::NOT_FOUND);
    assert_eq!(value_of_writable.0, StatusCode::OK);
    assert_eq!(
        value_of_writable.1["data"]["value"],
        "2025-11-20 08:00-10:00"
    );
    assert_eq!(
        value_of_writable.1["data"]["owner_client_id"],
        store.config.client_id.as_str(),
        "a write leaves the owner"
    );
    let rename_refusal = v3_error(
        403,
        "Only the app that created a metafield can change its namespace, key or permission_set",
    );
    assert_eq!(renamed, (StatusCode::FORBIDDEN, rename_refusal.clone()));
    assert_eq!(opened, (StatusCode::FORBIDDEN, rename_refusal));
    assert_eq!(
        read_only,
        (
            StatusCode::FORBIDDEN,
            v3_error(
                403,
                "This metafield belongs to another app and is not open for writing"
            )
        )
    );
    assert_eq!(
        deleted,
        (
            StatusCode::FORBIDDEN,
            v3_error(403, "Only the app that created a metafield can delete it")
        )
    );
    assert_eq!(foreign_write.0, StatusCode::OK);
    assert_eq!(foreign_read.0, StatusCode::FORBIDDEN);
    assert_eq!(foreign_delete.0, StatusCode::FORBIDDEN);
    let handle = store.running.store();
    assert_eq!(
        handle
            .metafield(OPEN_ORDER, "delivery", "slot")
            .unwrap()
            .value,
        "2025-11-20 08:00-10:00"
    );
    assert_eq!(
        handle
            .metafield(SHIPPED_ORDER, "warehouse", "pick_bin")
            .unwrap()
            .value,
        "B-14"
    );
    assert_eq!(handle.metafields_of(OPEN_ORDER).len(), 3);
    store.running.stop().await;
}

#[tokio::test]
async fn each_app_may_hold_250_metafields_per_order_and_the_same_key_as_another_app() {
    let store = Store::start().await;
    let tail = format!("orders/{OPEN_ORDER}/metafields");
    // Alice's open order already carries two of this app's metafields.
    for index in 0..248 {
        let (status, _) = store
            .ours(
                Method::POST,
                &tail,
                Some(json!({"permission_set": "app_only", "namespace": "bulk",
                            "key": format!("k{index}"), "value": "v"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "metafield {index}");
    }

    let over = store
        .ours(
            Method::POST,
            &tail,
            Some(json!({"permission_set": "app_only", "namespace": "bulk", "key": "k248", "value": "v"})),
        )
        .await;
    let other_app = store
        .call(
            Method::POST,
            &tail,
            OTHER_APP_TOKEN,
            Some(json!({"permission_set": "read", "namespace": "gift", "key": "message", "value": "theirs"})),
        )
        .await;

    assert_eq!(
        over,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            v3_error(
                422,
                "The maximum number of metafields allowed on each order is 250 per client ID"
            )
        )
    );
    assert_eq!(other_app.0, StatusCode::OK);
    assert_eq!(other_app.1["data"]["owner_client_id"], OTHER_APP);
    assert_eq!(store.running.store().metafields_of(OPEN_ORDER).len(), 252);
    store.running.stop().await;
}

#[tokio::test]
async fn writes_need_the_modify_scope_and_reads_do_not() {
    let store = Store::start().await;
    let tail = format!("orders/{OPEN_ORDER}/metafields");
    let slot = store.metafield_id(OPEN_ORDER, "delivery", "slot");
    let refusal = json!({"status": 403, "title": "You don't have a required scope to access the endpoint",
                         "type": V3_ERRORS, "errors": {}});

    let read = store.call(Method::GET, &tail, READ_ONLY_TOKEN, None).await;
    let batch = store
        .call(Method::GET, "orders/metafields", READ_ONLY_TOKEN, None)
        .await;
    let writes = [
        (
            Method::POST,
            tail.clone(),
            Some(json!({"permission_set": "read", "namespace": "n", "key": "k", "value": "v"})),
        ),
        (
            Method::PUT,
            format!("{tail}/{slot}"),
            Some(json!({"value": "v"})),
        ),
        (Method::DELETE, format!("{tail}/{slot}"), None),
    ];

    assert_eq!(read.0, StatusCode::OK);
    assert_eq!(batch.0, StatusCode::OK);
    for (method, tail, body) in writes {
        let answer = store
            .call(method.clone(), &tail, READ_ONLY_TOKEN, body)
            .await;
        assert_eq!(
            answer,
            (StatusCode::FORBIDDEN, refusal.clone()),
            "{method} {tail}"
        );
    }
    assert_eq!(store.running.store().metafields_of(OPEN_ORDER).len(), 3);
    store.running.stop().await;
}

#[tokio::test]
async fn the_batch_collection_finds_recent_changes_by_date_and_pages_by_cursor() {
    let store = Store::start().await;
    let handle = store.running.store();
    let since = (OffsetDateTime::now_utc() - time::Duration::seconds(5))
        .replace_nanosecond(0)
        .unwrap();
    let slot = store.metafield_id(OPEN_ORDER, "delivery", "slot");
    assert!(handle.set_metafield_value(slot, "2025-11-21 09:00-12:00"));
    let visible = handle
        .orders_of(0)
        .into_iter()
        .chain((1..=5).flat_map(|customer| handle.orders_of(customer)))
        .flat_map(|order| handle.metafields_of(order))
        .filter(|metafield| {
            metafield.permission_set != "app_only"
                || metafield.owner_client_id == store.config.client_id
        })
        .count();

    let since_text = since.format(&Rfc3339).unwrap();
    let (status, recent) = store
        .ours(
            Method::GET,
            &format!(
                "orders/metafields?date_modified:min={}&include_fields=namespace,key,permission_set",
                since_text.replace('+', "%2B")
            ),
            None,
        )
        .await;
    handle.reset_request_counts();
    let mut walked: Vec<u64> = Vec::new();
    let mut next = Some("?limit=100".to_owned());
    for _ in 0..=visible.div_ceil(100) {
        let Some(link) = next.take() else { break };
        let (status, page) = store
            .ours(Method::GET, &format!("orders/metafields{link}"), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        walked.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|metafield| metafield["id"].as_u64().unwrap()),
        );
        next = page["meta"]["cursor_pagination"]["links"]["next"]
            .as_str()
            .map(str::to_owned);
    }

    assert_eq!(next, None, "the walk ended");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        recent["data"],
        json!([{"id": slot, "namespace": "delivery", "key": "slot", "permission_set": "write_and_sf_access"}])
    );
    assert_eq!(recent["meta"]["pagination"]["total"], 1);
    assert_eq!(recent["meta"]["cursor_pagination"]["count"], 1);
    assert!(recent["meta"]["cursor_pagination"]["links"]["next"].is_null());
    let mut sorted = walked.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, walked, "ascending ids, none twice");
    assert_eq!(walked.len(), visible);
    assert_eq!(
        handle.management_requests(),
        u64::try_from(visible.div_ceil(100)).unwrap()
    );
    store.running.stop().await;
}

#[tokio::test]
async fn writes_are_announced_with_their_webhooks_before_they_answer() {
    let destination = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&destination)
        .await;
    let store = Store::start().await;
    store
        .running
        .set_webhook_destination(Some(destination.uri().parse().unwrap()));
    let tail = format!("orders/{OPEN_ORDER}/metafields");

    let (_, created) = store
        .ours(
            Method::POST,
            &tail,
            Some(json!({"permission_set": "read", "namespace": "n", "key": "k", "value": "v"})),
        )
        .await;
    let id = created["data"]["id"].as_u64().unwrap();
    store
        .ours(
            Method::PUT,
            &format!("{tail}/{id}"),
            Some(json!({"value": "w"})),
        )
        .await;
    store
        .ours(Method::DELETE, &format!("{tail}/{id}"), None)
        .await;

    // The configured destination is synchronous: each write answered after its webhook.
    let received = destination.received_requests().await.unwrap();
    let scopes: Vec<(String, String)> = received
        .iter()
        .map(|request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            (
                body["scope"].as_str().unwrap().to_owned(),
                body["data"]["metafield_id"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        scopes,
        ["created", "updated", "deleted"]
            .map(|change| (format!("store/order/metafield/{change}"), id.to_string()))
    );
    let records = store
        .running
        .store()
        .wait_for_deliveries(3, Duration::from_secs(5))
        .await;
    assert!(
        records.iter().all(|record| record.succeeded()),
        "{records:?}"
    );
    store.running.stop().await;
}
