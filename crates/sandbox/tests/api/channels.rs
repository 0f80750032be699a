//! Each store's two channels (its Stencil storefront and a headless Catalyst storefront) and
//! their sites through the Channels and Sites APIs, checked against BigCommerce's schemas
//! (channels.v3.yml, sites.v3.yml) made strict; the scopes they need; orders' `channel_id`; and
//! the `store/channel/{id}/settings/site/updated` webhook of a moved site.

use std::time::Duration;

use jsonschema::Validator;
use order_metafields_sandbox::{
    self as sandbox, HEADLESS_CHANNEL_ID, RunningSandbox, STOREFRONT_CHANNEL_ID, SandboxConfig,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::reference::{assert_valid, build, load_components};

const ORDERS_ONLY: &str = "orders-only-token";
const SITES_READER: &str = "sites-reader-token";

struct Stack {
    running: RunningSandbox,
    config: SandboxConfig,
    client: reqwest::Client,
}

impl Stack {
    async fn start() -> Self {
        let config = SandboxConfig {
            quota: 10_000,
            ..SandboxConfig::demo_defaults()
        };
        let running = sandbox::start(config.clone()).await.unwrap();
        for store in running.stores() {
            store.add_api_account(ORDERS_ONLY, "another-app", &["store_v2_orders"]);
            store.add_api_account(SITES_READER, "another-app", &["store_sites_read_only"]);
        }
        Self {
            running,
            config,
            client: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        method: Method,
        hash: &str,
        tail: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(
                method,
                format!("{}stores/{hash}/{tail}", self.running.api_base_url()),
            )
            .header("X-Auth-Token", token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, tail: &str) -> (StatusCode, Value) {
        let token = self.config.access_token.clone();
        self.call(Method::GET, "sandbox1", tail, &token, None).await
    }
}

/// `name` of `schemas`, every property required but `deprecated` ones, nothing else allowed.
fn strict(schemas: &Value, name: &str) -> Value {
    let required: Vec<&String> = schemas[name]["properties"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, property)| property["deprecated"] != json!(true))
        .map(|(field, _)| field)
        .collect();
    json!({
        "allOf": [{"$ref": format!("#/components/schemas/{name}")}],
        "required": required,
        "unevaluatedProperties": false
    })
}

struct Reference {
    channels: Validator,
    channel: Validator,
    sites: Validator,
    site: Validator,
    not_found: Validator,
}

impl Reference {
    fn load() -> Self {
        let channels = load_components("channels.v3");
        let sites = load_components("sites.v3");
        let channel = strict(&channels, "ChannelWithoutCurrencies");
        let site = strict(&sites, "_site");
        Self {
            channels: build(
                &channels,
                json!({
                    "type": "object",
                    "required": ["data", "meta"],
                    "properties": {
                        "data": {"type": "array", "items": channel},
                        "meta": {"allOf": [{"$ref": "#/components/schemas/MetaWithFullPagination"}],
                                 "required": ["pagination"]}
                    },
                    "additionalProperties": false
                }),
            ),
            channel: build(
                &channels,
                json!({
                    "type": "object",
                    "required": ["data", "meta"],
                    "properties": {
                        "data": strict(&channels, "ChannelWithCurrencies"),
                        "meta": {"$ref": "#/components/schemas/EmptyMeta"}
                    },
                    "additionalProperties": false
                }),
            ),
            sites: build(
                &sites,
                json!({
                    "type": "object",
                    "required": ["data", "meta"],
                    "properties": {
                        "data": {"type": "array", "items": site.clone()},
                        "meta": {"allOf": [{"$ref": "#/components/schemas/Meta"}],
                                 "properties": {"pagination": {
                                     "required": ["offset", "limit", "total_items"]}},
                                 "required": ["pagination"]}
                    },
                    "additionalProperties": false
                }),
            ),
            site: build(
                &sites,
                json!({
                    "type": "object",
                    "required": ["data", "meta"],
                    "properties": {"data": site, "meta": {"$ref": "#/components/schemas/MetaOpen"}},
                    "additionalProperties": false
                }),
            ),
            not_found: build(
                &channels,
                json!({"allOf": [{"$ref": "#/components/schemas/Error"}],
                       "required": ["status", "title", "type", "errors"]}),
            ),
        }
    }
}

#[tokio::test]
async fn each_store_has_its_stencil_and_its_headless_channel_shaped_as_the_reference() {
    let reference = Reference::load();
    let stack = Stack::start().await;

    let (status, channels) = stack.get("v3/channels").await;
    let (_, one) = stack
        .get(&format!(
            "v3/channels/{HEADLESS_CHANNEL_ID}?include=currencies"
        ))
        .await;
    let (_, storefronts) = stack
        .get("v3/channels?platform:in=catalyst&type:in=storefront&available=true")
        .await;
    let (missing_status, missing) = stack.get("v3/channels/7").await;
    let (bad_status, _) = stack.get("v3/channels?available=perhaps").await;

    assert_eq!(status, StatusCode::OK);
    assert_valid(&reference.channels, &channels, "channel list");
    let summary: Vec<(u64, &str, &str, &str)> = channels["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|channel| {
            (
                channel["id"].as_u64().unwrap(),
                channel["name"].as_str().unwrap(),
                channel["platform"].as_str().unwrap(),
                channel["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                STOREFRONT_CHANNEL_ID,
                "Sandbox Store",
                "bigcommerce",
                "active"
            ),
            (
                HEADLESS_CHANNEL_ID,
                "Sandbox Store (Catalyst)",
                "catalyst",
                "active"
            ),
        ]
    );
    assert_eq!(channels["meta"]["pagination"]["total"], 2);
    assert_valid(&reference.channel, &one, "one channel with its currencies");
    assert_eq!(one["data"]["id"], HEADLESS_CHANNEL_ID);
    assert_eq!(storefronts["data"].as_array().unwrap().len(), 1);
    assert_eq!(missing_status, StatusCode::NOT_FOUND);
    assert_valid(&reference.not_found, &missing, "404 body");
    assert_eq!(bad_status, StatusCode::UNPROCESSABLE_ENTITY);
    stack.running.stop().await;
}

#[tokio::test]
async fn each_channel_s_site_is_the_origin_that_serves_it() {
    let reference = Reference::load();
    let stack = Stack::start().await;
    let storefront = stack.running.storefront_url_of("sandbox1").unwrap();
    let headless = stack.running.headless_url_of("sandbox1").unwrap();

    let (status, sites) = stack.get("v3/sites").await;
    let (_, only_headless) = stack
        .get(&format!("v3/sites?channel_id:in={HEADLESS_CHANNEL_ID}"))
        .await;
    let (_, by_channel) = stack
        .get(&format!("v3/channels/{HEADLESS_CHANNEL_ID}/site"))
        .await;
    let (_, by_id) = stack.get("v3/sites/1000").await;
    let (_, other_store) = stack
        .call(
            Method::GET,
            "sandbox2",
            "v3/sites",
            "sandbox2-demo-access-token",
            None,
        )
        .await;
    let home = stack.client.get(headless.clone()).send().await.unwrap();

    assert_eq!(status, StatusCode::OK);
    assert_valid(&reference.sites, &sites, "site list");
    let urls: Vec<(u64, u64, &str)> = sites["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|site| {
            (
                site["id"].as_u64().unwrap(),
                site["channel_id"].as_u64().unwrap(),
                site["url"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        urls,
        [
            (1000, STOREFRONT_CHANNEL_ID, storefront.as_str()),
            (1001, HEADLESS_CHANNEL_ID, headless.as_str()),
        ]
    );
    assert_ne!(storefront.origin(), headless.origin());
    assert_eq!(
        sites["meta"],
        json!({"pagination": {"offset": 0, "limit": 50, "total_items": 2}})
    );
    assert_eq!(only_headless["data"].as_array().unwrap().len(), 1);
    assert_valid(&reference.site, &by_channel, "a channel's site");
    assert_eq!(by_channel["data"], only_headless["data"][0]);
    assert_eq!(
        by_channel["data"]["urls"],
        json!([
            {"url": headless.as_str(), "type": "primary", "created_at": "2022-11-07T09:30:00.000Z", "updated_at": "2022-11-07T09:30:00.000Z"},
            {"url": headless.as_str(), "type": "canonical", "created_at": "2022-11-07T09:30:00.000Z", "updated_at": "2022-11-07T09:30:00.000Z"},
            {"url": storefront.as_str(), "type": "checkout", "created_at": "2022-11-07T09:30:00.000Z", "updated_at": "2022-11-07T09:30:00.000Z"}
        ])
    );
    assert_valid(&reference.site, &by_id, "a site by id");
    let second_urls: Vec<&str> = other_store["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|site| site["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        second_urls,
        [
            stack
                .running
                .storefront_url_of("sandbox2")
                .unwrap()
                .as_str(),
            stack.running.headless_url_of("sandbox2").unwrap().as_str()
        ]
    );
    assert_eq!(home.status(), StatusCode::OK);
    assert!(
        home.text()
            .await
            .unwrap()
            .contains("Sandbox Store (Catalyst)")
    );
    stack.running.stop().await;
}

#[tokio::test]
async fn channels_and_sites_need_their_own_scopes() {
    let stack = Stack::start().await;
    let refusal = json!({"status": 403, "title": "You don't have a required scope to access the endpoint",
                         "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
                         "errors": {}});
    let calls = [
        (
            Method::GET,
            "v3/channels",
            ORDERS_ONLY,
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            Method::GET,
            "v3/sites",
            ORDERS_ONLY,
            None,
            StatusCode::FORBIDDEN,
        ),
        (Method::GET, "v3/sites", SITES_READER, None, StatusCode::OK),
        (
            Method::GET,
            "v3/channels/1/site",
            SITES_READER,
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            Method::PUT,
            "v3/sites/1000",
            SITES_READER,
            Some(json!({"url": "https://www.example.com/"})),
            StatusCode::FORBIDDEN,
        ),
    ];

    for (method, tail, token, body, expected) in calls {
        let (status, answer) = stack
            .call(method.clone(), "sandbox1", tail, token, body)
            .await;
        assert_eq!(status, expected, "{method} {tail} with {token}");
        if expected == StatusCode::FORBIDDEN {
            assert_eq!(answer, refusal);
        }
    }
    assert_eq!(
        stack
            .running
            .store()
            .site_url(STOREFRONT_CHANNEL_ID)
            .unwrap(),
        stack.running.storefront_url().as_str()
    );
    stack.running.stop().await;
}

#[tokio::test]
async fn a_moved_site_is_served_at_once_and_announced_to_channel_hooks() {
    let stack = Stack::start().await;
    let app = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&app)
        .await;
    let token = stack.config.access_token.clone();
    for scope in ["store/channel/*", "store/order/*"] {
        let (status, _) = stack
            .call(
                Method::POST,
                "sandbox1",
                "v3/hooks",
                &token,
                Some(json!({"scope": scope, "destination": format!("{}/hooks", app.uri())})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{scope}");
    }

    let (status, moved) = stack
        .call(
            Method::PUT,
            "sandbox1",
            "v3/sites/1001",
            &token,
            Some(json!({"url": "https://shop.example.com"})),
        )
        .await;
    let (refused, _) = stack
        .call(
            Method::PUT,
            "sandbox1",
            &format!("v3/channels/{HEADLESS_CHANNEL_ID}/site"),
            &token,
            Some(json!({"url": "shop.example.com"})),
        )
        .await;
    assert!(
        stack
            .running
            .store()
            .set_site_url(STOREFRONT_CHANNEL_ID, "https://www.example.com/")
    );
    let records = stack
        .running
        .store()
        .wait_for_deliveries(2, Duration::from_secs(5))
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(moved["data"]["url"], "https://shop.example.com");
    assert_eq!(
        moved["data"]["urls"][2]["url"],
        stack.running.storefront_url().as_str()
    );
    assert_eq!(refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        stack
            .running
            .store()
            .site_url(HEADLESS_CHANNEL_ID)
            .as_deref(),
        Some("https://shop.example.com")
    );
    let (_, sites) = stack.get("v3/sites").await;
    assert_eq!(sites["data"][0]["url"], "https://www.example.com/");
    assert_eq!(
        sites["data"][1]["urls"][2]["url"],
        "https://www.example.com/"
    );
    let mut scopes: Vec<&str> = records.iter().map(|record| record.scope.as_str()).collect();
    scopes.sort_unstable();
    assert_eq!(
        scopes,
        [
            "store/channel/1/settings/site/updated",
            "store/channel/1573291/settings/site/updated"
        ]
    );
    let bodies: Vec<Value> = app
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| serde_json::from_slice(&request.body).unwrap())
        .collect();
    let headless = bodies
        .iter()
        .find(|body| body["scope"] == "store/channel/1573291/settings/site/updated")
        .unwrap();
    assert_eq!(headless["data"], json!({"site_id": 1001}));
    assert_eq!(headless["producer"], "stores/sandbox1");
    stack.running.stop().await;
}

#[tokio::test]
async fn orders_carry_the_channel_they_were_placed_on() {
    let stack = Stack::start().await;
    let store = stack.running.store();

    let (_, headless_order) = stack.get("v2/orders/321").await;
    let (_, stencil_order) = stack.get("v2/orders/369").await;
    let new_order = store.add_order_on_channel(2, HEADLESS_CHANNEL_ID).unwrap();
    let (_, bobs) = stack
        .get("v2/orders?customer_id=2&sort=channel_id:desc")
        .await;

    assert_eq!(headless_order["channel_id"], HEADLESS_CHANNEL_ID);
    assert_eq!(headless_order["customer_id"], 1);
    assert_eq!(stencil_order["channel_id"], STOREFRONT_CHANNEL_ID);
    assert_eq!(store.order_channel(new_order), Some(HEADLESS_CHANNEL_ID));
    let channels: Vec<u64> = bobs
        .as_array()
        .unwrap()
        .iter()
        .map(|order| order["channel_id"].as_u64().unwrap())
        .collect();
    assert_eq!(channels, [HEADLESS_CHANNEL_ID, STOREFRONT_CHANNEL_ID]);
    assert_eq!(store.add_order_on_channel(2, 99), None);
    assert_eq!(
        stack
            .running
            .store_of("sandbox2")
            .unwrap()
            .order_channel(321),
        Some(HEADLESS_CHANNEL_ID)
    );
    stack.running.stop().await;
}
