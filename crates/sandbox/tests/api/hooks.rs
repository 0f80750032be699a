//! The sandbox store's `/v3/hooks` over HTTP, checked against BigCommerce's webhooks.v3.yml made
//! strict (every documented field present, nothing undocumented): create, read, list with
//! filters and paging, update, delete, and the 400, 401, 404 and 422 answers.
#![allow(clippy::unwrap_used)]

use jsonschema::Validator;
use order_metafields_sandbox::{self as sandbox, RequestKind, RunningSandbox, SandboxConfig};
use serde_json::{Value, json};

use crate::reference::{Mutation, assert_valid, build, load_components};

/// BigCommerce returns `events_history_enabled`, and clients read it back, but the reference
/// snapshot's `webhook_Full` does not declare it.
const UNDECLARED_HOOK_FIELDS: [(&str, &str); 1] = [("events_history_enabled", "boolean")];

struct HookReference {
    single: Validator,
    collection: Validator,
    error: Validator,
    detailed_error: Validator,
}

impl HookReference {
    fn load() -> Self {
        let schemas = load_components("webhooks.v3");
        let mut undeclared = serde_json::Map::new();
        for (name, kind) in UNDECLARED_HOOK_FIELDS {
            undeclared.insert(name.to_owned(), json!({"type": kind}));
        }
        let hook = json!({
            "allOf": [{"$ref": "#/components/schemas/webhook_Full"}],
            "required": ["id", "client_id", "store_hash", "created_at", "updated_at", "scope", "destination", "is_active", "headers"],
            "properties": undeclared,
            "unevaluatedProperties": false
        });
        Self {
            single: build(
                &schemas,
                json!({
                    "type": "object",
                    "required": ["data", "meta"],
                    "properties": {"data": hook, "meta": {"type": "object", "maxProperties": 0}},
                    "additionalProperties": false
                }),
            ),
            collection: build(
                &schemas,
                json!({
                    "type": "object",
                    "required": ["data", "meta"],
                    "properties": {
                        "data": {"type": "array", "items": hook},
                        "meta": {
                            "type": "object",
                            "required": ["pagination"],
                            "properties": {"pagination": {
                                "allOf": [{"$ref": "#/components/schemas/Pagination"}],
                                "required": ["total", "count", "per_page", "current_page", "total_pages", "links"],
                                "properties": {"links": {"required": ["current"]}}
                            }}
                        }
                    },
                    "additionalProperties": false
                }),
            ),
            error: build(
                &schemas,
                json!({"$ref": "#/components/schemas/error_Full", "required": ["status", "title", "type"]}),
            ),
            detailed_error: build(
                &schemas,
                json!({"$ref": "#/components/schemas/errorDetailed_Full", "required": ["status", "title", "type", "errors"]}),
            ),
        }
    }
}

struct HookApi {
    running: RunningSandbox,
    config: SandboxConfig,
    client: reqwest::Client,
}

impl HookApi {
    async fn start() -> Self {
        let config = SandboxConfig {
            quota: 10_000,
            ..SandboxConfig::demo_defaults()
        };
        let running = sandbox::start(config.clone()).await.unwrap();
        Self {
            running,
            config,
            client: reqwest::Client::new(),
        }
    }

    fn url(&self, tail: &str) -> String {
        format!(
            "{}stores/{}/v3/hooks{tail}",
            self.running.api_base_url(),
            self.config.store_hash
        )
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request
            .header("X-Auth-Token", &self.config.access_token)
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, tail: &str) -> (u16, Value) {
        self.send(self.client.get(self.url(tail))).await
    }

    async fn post(&self, body: &Value) -> (u16, Value) {
        self.send(self.client.post(self.url("")).json(body)).await
    }

    async fn put(&self, hook_id: u64, body: &Value) -> (u16, Value) {
        self.send(self.client.put(self.url(&format!("/{hook_id}"))).json(body))
            .await
    }

    async fn delete(&self, hook_id: u64) -> (u16, Value) {
        self.send(self.client.delete(self.url(&format!("/{hook_id}"))))
            .await
    }

    async fn create(&self, scope: &str, destination: &str) -> u64 {
        let (status, body) = self
            .post(&json!({"scope": scope, "destination": destination}))
            .await;
        assert_eq!(status, 200, "creating {scope}: {body}");
        body["data"]["id"].as_u64().unwrap()
    }
}

#[tokio::test]
async fn hooks_created_read_listed_updated_and_deleted_match_the_reference() {
    let reference = HookReference::load();
    let api = HookApi::start().await;

    let (created_status, created) = api
        .post(&json!({
            "scope": "store/order/metafield/*",
            "destination": "https://app.example.com/webhooks/bigcommerce",
            "is_active": true,
            "headers": {"X-Webhook-Secret": "s3cret"},
            "events_history_enabled": true
        }))
        .await;
    let hook_id = created["data"]["id"].as_u64().unwrap();
    let (fetched_status, fetched) = api.get(&format!("/{hook_id}")).await;
    let (listed_status, listed) = api.get("").await;
    let (updated_status, updated) = api
        .put(hook_id, &json!({"is_active": false, "headers": null}))
        .await;
    let (deleted_status, deleted) = api.delete(hook_id).await;
    let (gone_status, gone) = api.get(&format!("/{hook_id}")).await;

    assert_eq!(created_status, 200);
    assert_valid(&reference.single, &created, "created hook");
    let data = &created["data"];
    assert_eq!(data["client_id"], "sandbox-demo-client-id");
    assert_eq!(data["store_hash"], "sandbox1");
    assert_eq!(data["scope"], "store/order/metafield/*");
    assert_eq!(
        data["destination"],
        "https://app.example.com/webhooks/bigcommerce"
    );
    assert_eq!(data["headers"], json!({"X-Webhook-Secret": "s3cret"}));
    assert_eq!(data["is_active"], true);
    assert_eq!(data["events_history_enabled"], true);
    assert_eq!(data["created_at"], data["updated_at"]);
    assert_eq!(fetched_status, 200);
    assert_valid(&reference.single, &fetched, "fetched hook");
    assert_eq!(fetched, created);
    assert_eq!(listed_status, 200);
    assert_valid(&reference.collection, &listed, "hook list");
    assert_eq!(listed["data"], json!([created["data"]]));
    assert_eq!(updated_status, 200);
    assert_valid(&reference.single, &updated, "updated hook");
    assert_eq!(updated["data"]["is_active"], false);
    assert_eq!(updated["data"]["headers"], Value::Null);
    assert_eq!(updated["data"]["scope"], "store/order/metafield/*");
    assert_eq!(deleted_status, 200);
    assert_valid(&reference.single, &deleted, "deleted hook");
    assert_eq!(deleted, updated);
    assert_eq!(gone_status, 404);
    assert_valid(&reference.error, &gone, "404 body");
    assert_eq!(
        gone["title"],
        format!("Webhook with id [{hook_id}] not found")
    );
    api.running.stop().await;
}

#[tokio::test]
async fn hook_check_fails_on_a_wrong_type_a_missing_field_or_an_unknown_field() {
    let reference = HookReference::load();
    let api = HookApi::start().await;
    let (_, hook) = api
        .post(&json!({"scope": "store/order/*", "destination": "https://app.example.com/h", "headers": {"a": "b"}}))
        .await;
    assert_valid(&reference.single, &hook, "unchanged hook");
    let mutations: [Mutation; 5] = [
        ("created_at as a date string", |body| {
            body["data"]["created_at"] = json!("2019-06-25T18:41:46Z")
        }),
        ("a header value that is a number", |body| {
            body["data"]["headers"] = json!({"a": 1})
        }),
        ("client id missing", |body| {
            body["data"].as_object_mut().unwrap().remove("client_id");
        }),
        ("headers missing rather than null", |body| {
            body["data"].as_object_mut().unwrap().remove("headers");
        }),
        ("an undocumented field", |body| {
            body["data"]["secret"] = json!("x")
        }),
    ];

    for (description, mutate) in mutations {
        let mut mutated = hook.clone();
        mutate(&mut mutated);
        assert!(
            !reference.single.is_valid(&mutated),
            "{description} should fail"
        );
    }
    api.running.stop().await;
}

#[tokio::test]
async fn a_hook_created_without_optional_fields_is_active_with_null_headers() {
    let reference = HookReference::load();
    let api = HookApi::start().await;

    let (status, body) = api
        .post(&json!({"scope": "store/order/created", "destination": "http://127.0.0.1:9/hooks"}))
        .await;

    assert_eq!(status, 200);
    assert_valid(&reference.single, &body, "minimal hook");
    assert_eq!(body["data"]["is_active"], true);
    assert_eq!(body["data"]["headers"], Value::Null);
    assert_eq!(body["data"]["events_history_enabled"], false);
    api.running.stop().await;
}

#[tokio::test]
async fn invalid_hook_bodies_are_refused_with_the_reference_error_bodies() {
    let reference = HookReference::load();
    let api = HookApi::start().await;
    api.create("store/order/*", "https://app.example.com/hooks")
        .await;
    let cases = [
        (
            json!({"scope": "store/order/*"}),
            "destination",
            "missing destination",
        ),
        (
            json!({"scope": "store/product/updated", "destination": "https://app.example.com/p"}),
            "scope",
            "a scope outside orders and metafields",
        ),
        (
            json!({"scope": "store/order/*", "destination": "http://app.example.com/hooks"}),
            "destination",
            "plain http to a remote host",
        ),
        (
            json!({"scope": "store/order/*", "destination": "https://app.example.com/x", "headers": {"X-Secret": 42}}),
            "headers",
            "a header value that is not a string",
        ),
        (
            json!({"scope": "store/order/*", "destination": "https://app.example.com/hooks"}),
            "destination",
            "the same scope and destination again",
        ),
    ];

    for (body, field, description) in cases {
        let (status, answer) = api.post(&body).await;
        assert_eq!(status, 422, "{description}: {answer}");
        assert_valid(&reference.detailed_error, &answer, description);
        assert!(
            answer["errors"].get(field).is_some(),
            "{description} names {field}: {answer}"
        );
    }
    let (status, answer) = api
        .send(
            api.client
                .post(api.url(""))
                .header("Content-Type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(status, 400);
    assert_valid(&reference.error, &answer, "400 body");
    let (_, listed) = api.get("").await;
    assert_eq!(
        listed["meta"]["pagination"]["total"], 1,
        "nothing was created"
    );
    api.running.stop().await;
}

#[tokio::test]
async fn updating_refuses_an_empty_body_a_duplicate_and_an_unknown_hook() {
    let reference = HookReference::load();
    let api = HookApi::start().await;
    let first = api
        .create("store/order/created", "https://app.example.com/hooks")
        .await;
    api.create("store/order/updated", "https://app.example.com/hooks")
        .await;

    let (empty_status, empty) = api.put(first, &json!({})).await;
    let (duplicate_status, duplicate) = api
        .put(first, &json!({"scope": "store/order/updated"}))
        .await;
    let (missing_status, missing) = api.put(999_999, &json!({"is_active": false})).await;
    let (deleted_status, _) = api.delete(999_999).await;

    assert_eq!(empty_status, 422);
    assert_valid(&reference.detailed_error, &empty, "empty update");
    assert_eq!(duplicate_status, 422);
    assert_valid(&reference.detailed_error, &duplicate, "duplicate update");
    assert_eq!(missing_status, 404);
    assert_valid(&reference.error, &missing, "unknown hook");
    assert_eq!(deleted_status, 404);
    api.running.stop().await;
}

#[tokio::test]
async fn hook_list_filters_by_scope_destination_and_activity_and_pages() {
    let reference = HookReference::load();
    let api = HookApi::start().await;
    let destinations = ["https://a.example.com/hooks", "https://b.example.com/hooks"];
    for destination in destinations {
        for scope in [
            "store/order/created",
            "store/order/updated",
            "store/order/metafield/*",
        ] {
            api.create(scope, destination).await;
        }
    }
    let (_, listed) = api.get("").await;
    let inactive = listed["data"][4]["id"].as_u64().unwrap();
    api.put(inactive, &json!({"is_active": false})).await;

    let (_, by_scope) = api.get("?scope=store/order/updated").await;
    let (_, by_destination) = api.get("?destination=https://b.example.com/hooks").await;
    let (_, active) = api.get("?is_active=true").await;
    let (_, second_page) = api.get("?limit=4&page=2").await;
    let (bad_status, _) = api.get("?is_active=sometimes").await;

    let count = |body: &Value| body["data"].as_array().unwrap().len();
    assert_eq!(count(&by_scope), 2);
    assert!(
        by_scope["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|hook| hook["scope"] == "store/order/updated")
    );
    assert_eq!(count(&by_destination), 3);
    assert_eq!(count(&active), 5);
    assert_eq!(count(&second_page), 2);
    assert_valid(&reference.collection, &second_page, "second page");
    assert_eq!(
        second_page["meta"]["pagination"],
        json!({
            "total": 6, "count": 2, "per_page": 4, "current_page": 2, "total_pages": 2,
            "links": {"previous": "?page=1&limit=4", "current": "?page=2&limit=4"}
        })
    );
    assert_eq!(bad_status, 400);
    api.running.stop().await;
}

#[tokio::test]
async fn hooks_need_the_access_token_and_spend_the_quota() {
    let api = HookApi::start().await;

    let anonymous = api.client.get(api.url("")).send().await.unwrap();
    let anonymous_status = anonymous.status().as_u16();
    let signed = api
        .client
        .get(api.url(""))
        .header("X-Auth-Token", &api.config.access_token)
        .send()
        .await
        .unwrap();

    assert_eq!(anonymous_status, 401);
    assert_eq!(signed.status(), 200);
    assert_eq!(
        signed.headers()["x-rate-limit-requests-quota"],
        api.config.quota.to_string().as_str()
    );
    assert_eq!(
        signed.headers()["x-rate-limit-requests-left"],
        (api.config.quota - 1).to_string().as_str()
    );
    assert_eq!(
        api.running
            .store()
            .management_requests_of(RequestKind::Hooks),
        2
    );
    api.running.stop().await;
}
