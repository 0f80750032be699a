//! Several stores in one sandbox: each with its own data under overlapping ids, its own access
//! token, quota window, hooks, webhook deliveries and request counters, and its own storefront
//! origin minting Current Customer tokens for itself. Each test starts its own sandbox.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use order_metafields_sandbox::{
    self as sandbox, DEMO_PASSWORD, RequestKind, RunningSandbox, SandboxConfig, StoreConfig,
};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const FIRST: &str = "sandbox1";
const SECOND: &str = "sandbox2";
const FIRST_TOKEN: &str = "sandbox-demo-access-token";
const SECOND_TOKEN: &str = "sandbox2-demo-access-token";

struct Stores {
    running: RunningSandbox,
    config: SandboxConfig,
    client: reqwest::Client,
}

impl Stores {
    async fn start(config: SandboxConfig) -> Self {
        let running = sandbox::start(config.clone()).await.unwrap();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            running,
            config,
            client,
        }
    }

    async fn demo() -> Self {
        Self::start(SandboxConfig::demo_defaults()).await
    }

    fn api(&self, hash: &str, tail: &str) -> String {
        format!("{}stores/{hash}/{tail}", self.running.api_base_url())
    }

    async fn get(&self, hash: &str, token: &str, tail: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(self.api(hash, tail))
            .header("X-Auth-Token", token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn sign_in(&self, storefront: &Url, email: &str) -> reqwest::Response {
        self.client
            .post(format!("{storefront}login"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("email={email}&password={DEMO_PASSWORD}"))
            .send()
            .await
            .unwrap()
    }
}

fn ids(orders: &Value) -> Vec<u64> {
    let mut ids: Vec<u64> = orders
        .as_array()
        .unwrap()
        .iter()
        .map(|order| order["id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

fn field_values(metafields: &Value) -> Vec<(String, String)> {
    metafields["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| {
            (
                format!("{}/{}", field["namespace"], field["key"]),
                field["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_demo_serves_two_stores_on_two_storefront_origins_and_one_api() {
    let stores = Stores::demo().await;

    let hashes: Vec<String> = stores
        .running
        .stores()
        .iter()
        .map(|store| store.hash().to_owned())
        .collect();
    let first = stores.running.storefront_url_of(FIRST).unwrap();
    let second = stores.running.storefront_url_of(SECOND).unwrap();

    assert_eq!(hashes, [FIRST, SECOND]);
    assert_eq!(stores.running.store_hash(), FIRST);
    assert_eq!(stores.running.store().hash(), FIRST);
    assert_eq!(first, stores.running.storefront_url());
    assert_eq!(first, stores.running.base_url());
    assert_ne!(first.port(), second.port());
    assert_eq!(
        stores.running.store_of(SECOND).unwrap().name(),
        "Sandbox Tea Shop"
    );
    assert!(stores.running.store_of("sandbox3").is_none());
    let home = stores.client.get(second.clone()).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    let html = home.text().await.unwrap();
    assert!(
        html.contains("<title>Sandbox Tea Shop - Sandbox Tea Shop</title>"),
        "{html}"
    );
    // The platform lives on the first listener only, as api.bigcommerce.com is one host.
    let (status, _) = {
        let response = stores
            .client
            .get(format!("{second}stores/{SECOND}/v2/orders"))
            .header("X-Auth-Token", SECOND_TOKEN)
            .send()
            .await
            .unwrap();
        (response.status(), ())
    };
    assert_eq!(status, StatusCode::NOT_FOUND);
    stores.running.stop().await;
}

#[tokio::test]
async fn each_store_accepts_only_its_own_access_token() {
    let stores = Stores::demo().await;

    let cases = [
        (FIRST, FIRST_TOKEN, StatusCode::OK),
        (SECOND, SECOND_TOKEN, StatusCode::OK),
        (FIRST, SECOND_TOKEN, StatusCode::UNAUTHORIZED),
        (SECOND, FIRST_TOKEN, StatusCode::UNAUTHORIZED),
    ];

    for (hash, token, expected) in cases {
        let (status, body) = stores.get(hash, token, "v2/orders?customer_id=1").await;
        assert_eq!(status, expected, "{hash} with {token}: {body}");
        if expected == StatusCode::UNAUTHORIZED {
            assert_eq!(
                body,
                json!([{"status": 401, "message": "No valid credentials were found in this request"}])
            );
        }
    }
    stores.running.stop().await;
}

#[tokio::test]
async fn the_same_customer_and_order_ids_are_other_shoppers_and_orders_in_each_store() {
    let stores = Stores::demo().await;

    let (_, first_orders) = stores
        .get(FIRST, FIRST_TOKEN, "v2/orders?customer_id=1")
        .await;
    let (_, second_orders) = stores
        .get(SECOND, SECOND_TOKEN, "v2/orders?customer_id=1")
        .await;
    let (_, first_order) = stores.get(FIRST, FIRST_TOKEN, "v2/orders/369").await;
    let (_, second_order) = stores.get(SECOND, SECOND_TOKEN, "v2/orders/369").await;
    let (_, first_fields) = stores
        .get(FIRST, FIRST_TOKEN, "v3/orders/369/metafields")
        .await;
    let (_, second_fields) = stores
        .get(SECOND, SECOND_TOKEN, "v3/orders/369/metafields")
        .await;
    let (_, bob_in_first) = stores.get(FIRST, FIRST_TOKEN, "v2/orders/365").await;
    let (_, noah_in_second) = stores.get(SECOND, SECOND_TOKEN, "v2/orders/365").await;

    assert_eq!(ids(&first_orders), [321, 364, 367, 369]);
    assert_eq!(ids(&second_orders), [321, 323, 365, 369, 371]);
    assert_eq!(first_order["customer_id"], 1);
    assert_eq!(second_order["customer_id"], 1);
    assert_eq!(first_order["billing_address"]["email"], "alice@example.com");
    assert_eq!(second_order["billing_address"]["email"], "noah@example.com");
    assert_eq!(
        second_order["products"]["url"],
        format!(
            "{}stores/{SECOND}/v2/orders/369/products",
            stores.running.api_base_url()
        )
    );
    let (first_fields, second_fields) = (field_values(&first_fields), field_values(&second_fields));
    assert!(second_fields.contains(&(
        "\"gift\"/\"message\"".to_owned(),
        "Enjoy the oolong, Noah!".to_owned()
    )));
    assert!(
        second_fields
            .iter()
            .all(|field| !first_fields.contains(field)),
        "{first_fields:?} / {second_fields:?}"
    );
    assert_eq!(bob_in_first["customer_id"], 2);
    assert_eq!(noah_in_second["customer_id"], 1);
    stores.running.stop().await;
}

#[tokio::test]
async fn each_store_spends_its_own_quota_window() {
    let stores = Stores::start(SandboxConfig {
        quota: 2,
        quota_window: Duration::from_secs(3_600),
        ..SandboxConfig::demo_defaults()
    })
    .await;

    let mut first_statuses = Vec::new();
    for _ in 0..3 {
        first_statuses.push(stores.get(FIRST, FIRST_TOKEN, "v2/orders/count").await.0);
    }
    let response = stores
        .client
        .get(stores.api(SECOND, "v2/orders/count"))
        .header("X-Auth-Token", SECOND_TOKEN)
        .send()
        .await
        .unwrap();

    assert_eq!(
        first_statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-rate-limit-requests-left"], "1");
    stores.running.stop().await;
}

#[tokio::test]
async fn each_store_counts_its_own_requests_and_a_store_that_does_not_exist_counts_nowhere() {
    let stores = Stores::demo().await;
    let (first, second) = (
        stores.running.store(),
        stores.running.store_of(SECOND).unwrap(),
    );

    stores.get(FIRST, FIRST_TOKEN, "v2/orders/321").await;
    stores
        .get(SECOND, SECOND_TOKEN, "v2/orders?customer_id=1")
        .await;
    stores.get(SECOND, SECOND_TOKEN, "v2/orders/count").await;
    let (missing, body) = stores.get("sandbox9", FIRST_TOKEN, "v2/orders").await;

    assert_eq!(missing, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!([{"status": 404, "message": "The requested store was not found."}])
    );
    assert_eq!(first.management_requests(), 1);
    assert_eq!(first.management_requests_of(RequestKind::Order), 1);
    assert_eq!(second.management_requests(), 2);
    assert_eq!(second.management_requests_of(RequestKind::OrdersList), 1);
    assert_eq!(second.management_requests_of(RequestKind::OrdersCount), 1);
    stores.running.stop().await;
}

#[tokio::test]
async fn hooks_and_their_deliveries_belong_to_one_store() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let stores = Stores::demo().await;
    let destination = format!("{}/hooks", receiver.uri());
    let created = stores
        .client
        .post(stores.api(SECOND, "v3/hooks"))
        .header("X-Auth-Token", SECOND_TOKEN)
        .json(&json!({"scope": "store/order/metafield/updated", "destination": destination}))
        .send()
        .await
        .unwrap();
    let created: Value = created.json().await.unwrap();
    let (_, first_hooks) = stores.get(FIRST, FIRST_TOKEN, "v3/hooks").await;
    let (first, second) = (
        stores.running.store(),
        stores.running.store_of(SECOND).unwrap(),
    );

    let first_field = first.metafields_of(369)[0].id;
    let second_field = second.metafields_of(369)[0].id;
    assert!(first.set_metafield_value(first_field, "changed in the first store"));
    assert!(second.set_metafield_value(second_field, "changed in the second store"));
    let delivered = second.wait_for_deliveries(1, Duration::from_secs(10)).await;

    assert_eq!(created["data"]["store_hash"], SECOND);
    assert_eq!(first_hooks["data"], json!([]));
    assert!(
        first
            .wait_for_deliveries(0, Duration::from_secs(10))
            .await
            .is_empty()
    );
    assert_eq!(delivered.len(), 1, "{delivered:#?}");
    let received = receiver.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let payload: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(payload["producer"], "stores/sandbox2");
    assert_eq!(payload["store_id"], "1001197569");
    assert_eq!(payload["data"]["resource_id"], "369");
    stores.running.stop().await;
}

#[tokio::test]
async fn each_storefront_signs_in_its_own_shoppers_and_mints_tokens_for_its_own_store() {
    let stores = Stores::demo().await;
    let second = stores.running.storefront_url_of(SECOND).unwrap();

    let alice_there = stores.sign_in(&second, "alice@example.com").await;
    let noah = stores.sign_in(&second, "noah@example.com").await;
    let cookie = noah.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    let cookie = cookie.split(';').next().unwrap();
    let first_origin = stores
        .client
        .get(format!(
            "{}customer/current.jwt?app_client_id={}",
            stores.running.storefront_url(),
            stores.config.client_id
        ))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    let token = stores
        .client
        .get(format!(
            "{second}customer/current.jwt?app_client_id={}",
            stores.config.client_id
        ))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert_eq!(alice_there.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(noah.status(), StatusCode::SEE_OTHER);
    // A session of one store's storefront means nothing on another's.
    assert_eq!(first_origin.status(), StatusCode::NOT_FOUND);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[&stores.config.client_id]);
    let claims = decode::<Value>(
        &token,
        &DecodingKey::from_secret(stores.config.client_secret.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["store_hash"], SECOND);
    assert_eq!(claims["sub"], SECOND);
    assert_eq!(
        claims["customer"],
        json!({"id": 1, "email": "noah@example.com", "group_id": "1"})
    );
    stores.running.stop().await;
}

#[tokio::test]
async fn a_store_hash_used_twice_or_not_lowercase_is_refused_at_start() {
    let twice = SandboxConfig {
        more_stores: vec![StoreConfig {
            store_hash: FIRST.to_owned(),
            ..StoreConfig::second_demo_store()
        }],
        ..SandboxConfig::demo_defaults()
    };
    let uppercase = SandboxConfig {
        store_hash: "Sandbox/1".to_owned(),
        ..SandboxConfig::demo_defaults()
    };

    let twice = sandbox::start(twice).await.err().unwrap();
    let uppercase = sandbox::start(uppercase).await.err().unwrap();

    assert_eq!(
        twice.to_string(),
        "sandbox store hash sandbox1 is used twice"
    );
    assert_eq!(
        uppercase.to_string(),
        "sandbox store hash \"Sandbox/1\" must be lowercase letters and digits"
    );
}

#[tokio::test]
async fn a_sandbox_of_one_store_is_what_it_was_before_stores_multiplied() {
    let stores = Stores::start(SandboxConfig {
        more_stores: Vec::new(),
        ..SandboxConfig::demo_defaults()
    })
    .await;

    assert_eq!(stores.running.stores().len(), 1);
    assert_eq!(stores.running.store_hash(), FIRST);
    let (status, _) = stores.get(FIRST, FIRST_TOKEN, "v2/orders/369").await;
    assert_eq!(status, StatusCode::OK);
    stores.running.stop().await;
}
