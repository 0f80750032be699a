//! The sandbox store's webhook callbacks, received by wiremock servers: which hooks hear of which
//! change, payloads checked against BigCommerce's `webhooks-callbacks/` schemas made strict,
//! custom headers, Standard Webhooks signatures verified independently, bounded retries, and the
//! demo pointing the sandbox at the service.
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use order_metafields_sandbox::{self as sandbox, DeliveryRecord, RunningSandbox, SandboxConfig};
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::reference::{Mutation, assert_valid, callback_schema, example_keys, keys};

const WAIT: Duration = Duration::from_secs(10);
/// One of the seeded orders with storefront-visible metafields (Alice's).
const DEMO_ORDER_ID: u64 = 369;

struct Harness {
    running: RunningSandbox,
    config: SandboxConfig,
    receiver: MockServer,
    client: reqwest::Client,
}

impl Harness {
    async fn start() -> Self {
        Self::start_with(|_| None).await
    }

    /// Starts a wiremock receiver answering `200` to every `POST`, then a sandbox configured by
    /// `adjust` (which may point it at the receiver).
    async fn start_with(adjust: impl FnOnce(&mut SandboxConfig) -> Option<&'static str>) -> Self {
        let receiver = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&receiver)
            .await;
        let mut config = SandboxConfig {
            quota: 10_000,
            ..SandboxConfig::demo_defaults()
        };
        if let Some(tail) = adjust(&mut config) {
            config.webhook_destination =
                Some(Url::parse(&format!("{}{tail}", receiver.uri())).unwrap());
        }
        let running = sandbox::start(config.clone()).await.unwrap();
        Self {
            running,
            config,
            client: reqwest::Client::new(),
            receiver,
        }
    }

    fn destination(&self, tail: &str) -> String {
        format!("{}{tail}", self.receiver.uri())
    }

    fn api(&self, tail: &str) -> String {
        format!(
            "{}stores/{}/{tail}",
            self.running.api_base_url(),
            self.config.store_hash
        )
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request
            .header("X-Auth-Token", &self.config.access_token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn register(&self, body: Value) -> u64 {
        let (status, created) = self
            .call(self.client.post(self.api("v3/hooks")).json(&body))
            .await;
        assert_eq!(status, 200, "registering {body}: {created}");
        created["data"]["id"].as_u64().unwrap()
    }

    async fn received_at(&self, tail: &str) -> Vec<Request> {
        self.receiver
            .received_requests()
            .await
            .unwrap()
            .into_iter()
            .filter(|request| request.url.path() == tail)
            .collect()
    }

    async fn wait_for(&self, count: usize) -> Vec<DeliveryRecord> {
        self.running.store().wait_for_deliveries(count, WAIT).await
    }
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

fn header<'a>(request: &'a Request, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("{name} is missing"))
        .to_str()
        .unwrap()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

/// Checks the Standard Webhooks signature of `request` with `secret` as the raw HMAC key,
/// computing the HMAC here rather than trusting the sandbox's own signing code.
fn signature_verifies(request: &Request, secret: &str) -> bool {
    let signed = format!(
        "{}.{}.{}",
        header(request, "webhook-id"),
        header(request, "webhook-timestamp"),
        String::from_utf8(request.body.clone()).unwrap()
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    header(request, "webhook-signature")
        .split(' ')
        .filter_map(|signature| signature.strip_prefix("v1,"))
        .filter_map(|encoded| BASE64.decode(encoded).ok())
        .any(|tag| hmac::verify(&key, signed.as_bytes(), &tag).is_ok())
}

#[tokio::test]
async fn a_metafield_changed_through_the_api_reaches_only_the_active_matching_hook_signed() {
    let harness = Harness::start().await;
    let matching = harness
        .register(json!({
            "scope": "store/order/metafield/*",
            "destination": harness.destination("/matching"),
            "headers": {"X-Webhook-Secret": "s3cret"}
        }))
        .await;
    harness
        .register(json!({
            "scope": "store/order/metafield/*",
            "destination": harness.destination("/inactive"),
            "is_active": false
        }))
        .await;
    harness
        .register(json!({"scope": "store/order/created", "destination": harness.destination("/other-scope")}))
        .await;
    let metafield = harness.running.store().metafields_of(DEMO_ORDER_ID)[0].clone();

    let (status, _) = harness
        .call(
            harness
                .client
                .put(harness.api(&format!(
                    "v3/orders/{DEMO_ORDER_ID}/metafields/{}",
                    metafield.id
                )))
                .json(&json!({"value": "changed"})),
        )
        .await;
    let records = harness.wait_for(1).await;

    assert_eq!(status, 200);
    assert_eq!(records.len(), 1, "{records:#?}");
    let record = &records[0];
    assert_eq!(record.scope, "store/order/metafield/updated");
    assert_eq!(record.destination, harness.destination("/matching"));
    assert_eq!(record.hook_id, Some(matching));
    assert_eq!((record.status, record.attempts), (Some(200), 1));
    assert!(harness.received_at("/inactive").await.is_empty());
    assert!(harness.received_at("/other-scope").await.is_empty());
    let received = harness.received_at("/matching").await;
    assert_eq!(received.len(), 1);
    let request = &received[0];
    let payload = body(request);
    let schema = callback_schema(
        "store_order_metafield_updated",
        "store/order/metafield/updated",
    );
    assert_valid(&schema, &payload, "order metafield callback");
    assert_eq!(payload["scope"], "store/order/metafield/updated");
    assert_eq!(
        payload["data"],
        json!({"metafield_id": metafield.id, "resource_id": DEMO_ORDER_ID.to_string(), "namespace": metafield.namespace})
    );
    assert_eq!(payload["producer"], "stores/sandbox1");
    assert!((payload["created_at"].as_i64().unwrap() - unix_now()).abs() < 60);
    let hash = payload["hash"].as_str().unwrap();
    assert!(hash.len() == 40 && hash.bytes().all(|byte| byte.is_ascii_hexdigit()));
    assert_eq!(header(request, "x-webhook-secret"), "s3cret");
    assert_eq!(header(request, "content-type"), "application/json");
    assert_eq!(header(request, "webhook-id"), record.webhook_id);
    assert!(record.webhook_id.starts_with("msg_"));
    let timestamp: i64 = header(request, "webhook-timestamp").parse().unwrap();
    assert!((timestamp - unix_now()).abs() < 60);
    assert!(signature_verifies(request, &harness.config.client_secret));
    assert!(!signature_verifies(request, "another-secret"));
    harness.running.stop().await;
}

#[test]
fn callback_check_fails_on_a_wrong_type_a_missing_field_or_an_unknown_field() {
    let schema = callback_schema(
        "store_order_metafield_updated",
        "store/order/metafield/updated",
    );
    let good = json!({
        "scope": "store/order/metafield/updated", "store_id": "1", "producer": "stores/h",
        "hash": "0", "created_at": 1,
        "data": {"metafield_id": 1, "resource_id": "369", "namespace": "n"}
    });
    assert!(schema.is_valid(&good));
    let mutations: [Mutation; 4] = [
        ("resource id as a number", |body| {
            body["data"]["resource_id"] = json!(369)
        }),
        ("namespace missing", |body| {
            body["data"].as_object_mut().unwrap().remove("namespace");
        }),
        ("producer missing", |body| {
            body.as_object_mut().unwrap().remove("producer");
        }),
        ("an undocumented data field", |body| {
            body["data"]["resource_type"] = json!("order")
        }),
    ];

    for (description, mutate) in mutations {
        let mut mutated = good.clone();
        mutate(&mut mutated);
        assert!(!schema.is_valid(&mutated), "{description} should fail");
    }
}

#[tokio::test]
async fn order_events_carry_the_reference_payloads() {
    let harness = Harness::start().await;
    harness
        .register(json!({"scope": "store/order/*", "destination": harness.destination("/orders")}))
        .await;
    let store = harness.running.store();

    let order_id = store.add_order(1);
    store.wait_for_deliveries(1, WAIT).await;
    let changed = store.set_order_status(order_id, 2);
    let unchanged = store.set_order_status(order_id, 2);
    let unknown_order = store.set_order_status(999_999, 2);
    let unknown_status = store.set_order_status(order_id, 15);
    let records = harness.wait_for(3).await;

    assert!(changed && unchanged);
    assert!(!unknown_order && !unknown_status);
    let scopes: Vec<&str> = records.iter().map(|record| record.scope.as_str()).collect();
    assert_eq!(scopes.len(), 3, "{records:#?}");
    assert_eq!(scopes[0], "store/order/created");
    assert!(
        scopes.contains(&"store/order/statusUpdated") && scopes.contains(&"store/order/updated")
    );
    let received = harness.received_at("/orders").await;
    assert_eq!(received.len(), 3);
    for request in &received {
        let payload = body(request);
        let scope = payload["scope"].as_str().unwrap().to_owned();
        let file = scope.replace('/', "_");
        assert_valid(&callback_schema(&file, &scope), &payload, &scope);
        assert_eq!(keys(&payload), example_keys(&file), "{scope} keys");
        assert_eq!(payload["data"]["type"], "order");
        assert_eq!(payload["data"]["id"], order_id);
        if scope == "store/order/statusUpdated" {
            assert_eq!(
                payload["data"]["status"],
                json!({"previous_status_id": 11, "new_status_id": 2})
            );
        }
    }
    let (_, order) = harness
        .call(
            harness
                .client
                .get(harness.api(&format!("v2/orders/{order_id}"))),
        )
        .await;
    assert_eq!(order["status_id"], 2);
    harness.running.stop().await;
}

/// The body of a callback without its `hash` and `created_at`, which the test cannot know.
fn settled(mut payload: Value) -> Value {
    let fields = payload.as_object_mut().unwrap();
    assert_eq!(fields.remove("hash").unwrap().as_str().unwrap().len(), 40);
    assert!(fields.remove("created_at").unwrap().is_i64());
    payload
}

#[tokio::test]
async fn archives_and_customer_moves_carry_the_reference_payloads() {
    let harness = Harness::start().await;
    harness
        .register(json!({"scope": "store/order/*", "destination": harness.destination("/orders")}))
        .await;
    let store = harness.running.store();

    let archived = store.archive_order(364);
    store.wait_for_deliveries(1, WAIT).await;
    let archived_again = store.archive_order(364);
    let moved = store.set_order_customer(365, 1);
    let records = harness.wait_for(2).await;
    let unknown_order = store.archive_order(999_999) || store.set_order_customer(999_999, 1);
    let unknown_customer = store.set_order_customer(365, 999_999);

    assert!(archived && archived_again && moved);
    assert!(!unknown_order && !unknown_customer);
    let scopes: Vec<&str> = records.iter().map(|record| record.scope.as_str()).collect();
    assert_eq!(scopes, ["store/order/archived", "store/order/updated"]);
    let received = harness.received_at("/orders").await;
    let producer = format!("stores/{}", harness.config.store_hash);
    let payloads: Vec<Value> = received.iter().map(body).collect();
    // `store_order_archived.yml` has the same fields as `store_order_updated.yml`.
    for payload in &payloads {
        assert_valid(
            &callback_schema("store_order_updated", "store/order/updated"),
            payload,
            "order callback",
        );
        assert_eq!(keys(payload), example_keys("store_order_updated"));
    }
    assert_eq!(
        payloads.into_iter().map(settled).collect::<Vec<_>>(),
        [
            json!({"scope": "store/order/archived", "store_id": "1001197568",
                   "data": {"type": "order", "id": 364}, "producer": producer}),
            json!({"scope": "store/order/updated", "store_id": "1001197568",
                   "data": {"type": "order", "id": 365}, "producer": producer}),
        ]
    );
    harness.running.stop().await;
}

#[tokio::test]
async fn metafields_added_and_deleted_through_the_handle_are_announced_and_leave_the_order_alone() {
    let harness = Harness::start().await;
    harness
        .register(json!({"scope": "store/order/metafield/*", "destination": harness.destination("/metafields")}))
        .await;
    let store = harness.running.store();
    let order_url = harness.api(&format!("v2/orders/{DEMO_ORDER_ID}"));
    let (_, before) = harness.call(harness.client.get(&order_url)).await;

    let added = store
        .add_metafield(
            DEMO_ORDER_ID,
            "gift",
            "wrapping",
            "red paper",
            "write_and_sf_access",
        )
        .unwrap();
    let duplicate = store.add_metafield(DEMO_ORDER_ID, "gift", "wrapping", "blue", "read");
    let bad_permission = store.add_metafield(DEMO_ORDER_ID, "gift", "bow", "yes", "public");
    let no_order = store.add_metafield(999_999, "gift", "bow", "yes", "read");
    let info = store.metafield(DEMO_ORDER_ID, "gift", "wrapping").unwrap();
    store.wait_for_deliveries(1, WAIT).await;
    let deleted = store.delete_metafield(added);
    let deleted_again = store.delete_metafield(added);
    let records = harness.wait_for(2).await;
    let (_, after) = harness.call(harness.client.get(&order_url)).await;

    assert_eq!((duplicate, bad_permission, no_order), (None, None, None));
    assert_eq!(
        info,
        sandbox::SeedMetafieldInfo {
            id: added,
            order_id: DEMO_ORDER_ID,
            namespace: "gift".to_owned(),
            key: "wrapping".to_owned(),
            value: "red paper".to_owned(),
            permission_set: "write_and_sf_access".to_owned(),
            owner_client_id: harness.config.client_id.clone(),
        }
    );
    assert!(deleted && !deleted_again);
    assert!(store.metafield(DEMO_ORDER_ID, "gift", "wrapping").is_none());
    let scopes: Vec<&str> = records.iter().map(|record| record.scope.as_str()).collect();
    assert_eq!(
        scopes,
        [
            "store/order/metafield/created",
            "store/order/metafield/deleted"
        ]
    );
    let payloads: Vec<Value> = harness
        .received_at("/metafields")
        .await
        .iter()
        .map(|request| settled(body(request))["data"].clone())
        .collect();
    let data = json!({"metafield_id": added, "resource_id": DEMO_ORDER_ID.to_string(), "namespace": "gift"});
    assert_eq!(payloads, [data.clone(), data]);
    assert_eq!(
        after, before,
        "metafield changes leave the order's date_modified alone"
    );
    harness.running.stop().await;
}

#[tokio::test]
async fn paused_webhooks_drop_every_event_until_resumed() {
    let harness = Harness::start_with(|_| Some("/configured")).await;
    harness
        .register(json!({"scope": "store/order/*", "destination": harness.destination("/orders")}))
        .await;
    let store = harness.running.store();

    store.set_webhooks_paused(true);
    let paused = store.webhooks_paused();
    store.add_order(1);
    store.set_order_status(DEMO_ORDER_ID, 2);
    store.set_metafield_value(1, "while paused");
    let (status, _) = harness
        .call(harness.client.delete(harness.api("v2/orders/364")))
        .await;
    let while_paused = store.wait_for_deliveries(0, WAIT).await;
    store.set_webhooks_paused(false);
    store.archive_order(367);
    let records = harness.wait_for(2).await;

    assert!(paused && !store.webhooks_paused());
    assert_eq!(status, 204);
    assert!(while_paused.is_empty(), "{while_paused:#?}");
    let mut sent: Vec<(&str, Option<u64>)> = records
        .iter()
        .map(|record| (record.scope.as_str(), record.hook_id))
        .collect();
    sent.sort_unstable();
    assert_eq!(
        sent,
        [
            ("store/order/archived", None),
            ("store/order/archived", Some(1))
        ]
    );
    assert!(harness.received_at("/orders").await.len() == 1);
    harness.running.stop().await;
}

#[tokio::test]
async fn generic_metafield_scopes_go_only_to_hooks_that_ask_for_them() {
    let harness = Harness::start_with(|_| Some("/configured")).await;
    harness
        .register(
            json!({"scope": "store/metafield/*", "destination": harness.destination("/generic")}),
        )
        .await;
    let url = harness.api(&format!("v3/orders/{DEMO_ORDER_ID}/metafields"));

    let (_, created) = harness
        .call(harness.client.post(&url).json(&json!({
            "permission_set": "read_and_sf_access", "namespace": "delivery", "key": "door", "value": "Back"
        })))
        .await;
    let metafield_id = created["data"]["id"].as_u64().unwrap();
    let (deleted, _) = harness
        .call(harness.client.delete(format!("{url}/{metafield_id}")))
        .await;
    let records = harness.wait_for(4).await;

    assert_eq!(deleted, 204);
    assert_eq!(records.len(), 4, "{records:#?}");
    let configured: Vec<Value> = harness
        .received_at("/configured")
        .await
        .iter()
        .map(body)
        .collect();
    let generic: Vec<Value> = harness
        .received_at("/generic")
        .await
        .iter()
        .map(body)
        .collect();
    let scopes = |bodies: &[Value]| {
        let mut scopes: Vec<String> = bodies
            .iter()
            .map(|body| body["scope"].as_str().unwrap().to_owned())
            .collect();
        scopes.sort();
        scopes
    };
    assert_eq!(
        scopes(&configured),
        [
            "store/order/metafield/created",
            "store/order/metafield/deleted"
        ]
    );
    assert_eq!(
        scopes(&generic),
        ["store/metafield/created", "store/metafield/deleted"]
    );
    for payload in &generic {
        let scope = payload["scope"].as_str().unwrap();
        assert_valid(
            &callback_schema(&scope.replace('/', "_"), scope),
            payload,
            scope,
        );
        assert_eq!(
            payload["data"],
            json!({"metafield_id": metafield_id, "resource_id": DEMO_ORDER_ID.to_string(), "resource_type": "order", "namespace": "delivery"})
        );
    }
    assert!(
        records
            .iter()
            .filter(|record| record.destination.ends_with("/configured"))
            .all(|record| record.hook_id.is_none())
    );
    harness.running.stop().await;
}

#[tokio::test]
async fn the_destination_can_be_set_and_cleared_after_start() {
    let harness = Harness::start().await;
    let store = harness.running.store();
    let metafield_id = store.metafields_of(DEMO_ORDER_ID)[0].id;

    store.set_metafield_value(metafield_id, "nobody hears this");
    let unheard = store.wait_for_deliveries(0, WAIT).await;
    harness
        .running
        .set_webhook_destination(Some(Url::parse(&harness.destination("/late")).unwrap()));
    store.set_metafield_value(metafield_id, "the late destination hears this");
    let heard = store.wait_for_deliveries(1, WAIT).await;
    harness.running.set_webhook_destination(None);
    store.set_metafield_value(metafield_id, "nobody hears this either");
    let after = store.wait_for_deliveries(1, WAIT).await;

    assert!(unheard.is_empty());
    assert_eq!(heard.len(), 1);
    assert_eq!(heard[0].destination, harness.destination("/late"));
    assert_eq!(heard[0].scope, "store/order/metafield/updated");
    assert!(heard[0].succeeded());
    assert_eq!(after, heard);
    assert!(store.webhook_destination().is_none());
    harness.running.stop().await;
}

#[tokio::test]
async fn failing_destinations_are_retried_a_bounded_number_of_times() {
    let harness = Harness::start().await;
    Mock::given(method("POST"))
        .and(path("/down"))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(1)
        .mount(&harness.receiver)
        .await;
    Mock::given(method("POST"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&harness.receiver)
        .await;
    let closed_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for destination in [
        harness.destination("/down"),
        harness.destination("/flaky"),
        format!("http://127.0.0.1:{closed_port}/refused"),
    ] {
        harness
            .register(json!({"scope": "store/order/created", "destination": destination}))
            .await;
    }

    harness.running.store().add_order(2);
    let records = harness.wait_for(3).await;

    let outcome = |tail: &str| {
        records
            .iter()
            .find(|record| record.destination.ends_with(tail))
            .map(|record| (record.status, record.attempts))
    };
    assert_eq!(outcome("/down"), Some((Some(500), 4)));
    assert_eq!(outcome("/flaky"), Some((Some(200), 2)));
    assert_eq!(outcome("/refused"), Some((None, 4)));
    let flaky = harness.received_at("/flaky").await;
    assert_eq!(flaky.len(), 2);
    assert_eq!(
        header(&flaky[0], "webhook-id"),
        header(&flaky[1], "webhook-id")
    );
    assert_eq!(flaky[0].body, flaky[1].body);
    assert!(
        flaky
            .iter()
            .all(|request| signature_verifies(request, &harness.config.client_secret))
    );
    harness.running.stop().await;
}

/// A webhook destination that takes every request but answers none (`200`, empty) until
/// released: a slow destination without a timer.
struct HeldDestination {
    url: String,
    release: tokio::sync::watch::Sender<bool>,
}

impl HeldDestination {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/held", listener.local_addr().unwrap());
        let (release, released) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer_when_released(stream, released.clone()));
            }
        });
        Self { url, release }
    }
}

/// Reads one whole request (headers, then `content-length` bytes), waits for the release and
/// answers `200`.
async fn answer_when_released(
    mut stream: tokio::net::TcpStream,
    mut released: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut request = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        let Ok(read) = stream.read(&mut chunk).await else {
            return;
        };
        if read == 0 {
            return;
        }
        request.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&request);
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, value)| value.trim().parse().ok())
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                break;
            }
        }
    }
    if released.wait_for(|released| *released).await.is_ok() {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await;
    }
}

#[tokio::test]
async fn a_write_answers_once_the_configured_destination_has_its_webhook_but_not_the_hooks() {
    let harness = Harness::start_with(|_| Some("/configured")).await;
    let held = HeldDestination::start().await;
    let hook = harness
        .register(json!({"scope": "store/order/metafield/*", "destination": held.url}))
        .await;
    let store = harness.running.store();
    let url = harness.api(&format!("v3/orders/{DEMO_ORDER_ID}/metafields"));
    let metafield_id = store.metafields_of(DEMO_ORDER_ID)[0].id;

    let (updated, _) = harness
        .call(
            harness
                .client
                .put(format!("{url}/{metafield_id}"))
                .json(&json!({"value": "changed"})),
        )
        .await;
    let when_updated = store.webhook_deliveries();
    let (created, body) = harness
        .call(harness.client.post(&url).json(&json!({
            "permission_set": "read_and_sf_access", "namespace": "delivery", "key": "door", "value": "Back"
        })))
        .await;
    let when_created = store.webhook_deliveries();
    let created_id = body["data"]["id"].as_u64().unwrap();
    let (deleted, _) = harness
        .call(harness.client.delete(format!("{url}/{created_id}")))
        .await;
    let when_deleted = store.webhook_deliveries();
    held.release.send_replace(true);
    let records = harness.wait_for(6).await;

    assert_eq!((updated, created, deleted), (200, 200, 204));
    // Each write answered with its configured-destination webhook delivered, and the held
    // hook's still on its way.
    let scopes = |records: &[DeliveryRecord]| -> Vec<(String, bool, Option<u16>)> {
        records
            .iter()
            .map(|record| {
                (
                    record.scope.clone(),
                    record.hook_id.is_none(),
                    record.status,
                )
            })
            .collect()
    };
    let configured = |scope: &str| (scope.to_owned(), true, Some(200));
    assert_eq!(
        scopes(&when_updated),
        [configured("store/order/metafield/updated")]
    );
    assert_eq!(
        scopes(&when_created),
        [
            configured("store/order/metafield/updated"),
            configured("store/order/metafield/created")
        ]
    );
    assert_eq!(
        scopes(&when_deleted),
        [
            configured("store/order/metafield/updated"),
            configured("store/order/metafield/created"),
            configured("store/order/metafield/deleted")
        ]
    );
    assert_eq!(records.len(), 6, "{records:#?}");
    let mut hooks: Vec<&DeliveryRecord> = records
        .iter()
        .filter(|record| record.hook_id == Some(hook))
        .collect();
    hooks.sort_by_key(|record| record.scope.clone());
    assert_eq!(
        hooks
            .iter()
            .map(|record| (
                record.scope.as_str(),
                record.destination.as_str(),
                record.succeeded()
            ))
            .collect::<Vec<_>>(),
        [
            ("store/order/metafield/created", held.url.as_str(), true),
            ("store/order/metafield/deleted", held.url.as_str(), true),
            ("store/order/metafield/updated", held.url.as_str(), true),
        ]
    );
    harness.running.stop().await;
}
