//! Checks the sandbox store's real HTTP answers against BigCommerce's official OpenAPI schemas
//! (the fixtures `reference` reads), made strict: every documented field present, no
//! undocumented field, correct types and formats. Negative cases prove the checks can fail.

use jsonschema::Validator;
use order_metafields_sandbox::{self as sandbox, RunningSandbox, SandboxConfig};
use serde_json::{Map, Value, json};

use crate::reference::{Mutation, assert_valid, build, load_components};

/// Fields that BigCommerce's own `order_Resp` examples carry but its schema does not declare.
const UNDECLARED_ORDER_FIELDS: [(&str, &str); 2] =
    [("custom_status", "string"), ("credit_card_type", "null")];
/// `order_Resp` properties only present when asked for with `include=`.
const INCLUDE_ONLY_ORDER_FIELDS: [&str; 2] = ["consignments", "fees"];

struct Reference {
    order: Validator,
    orders_count: Validator,
    metafield_collection: Validator,
    metafield_single: Validator,
    error_response: Validator,
    not_found: Validator,
}

impl Reference {
    fn load() -> Self {
        let v2 = load_components("orders.v2.oas2");
        let v3 = load_components("orders.v3");
        let order = strict_order(&v2);
        let metafield = strict_metafield(&v3);
        Self {
            order: build(&v2, order),
            orders_count: build(
                &v2,
                json!({"$ref": "#/components/schemas/ordersCount_Full", "required": ["statuses", "count"]}),
            ),
            metafield_collection: build(
                &v3,
                json!({
                    "allOf": [{"$ref": "#/components/schemas/MetaFieldCollectionResponse"}],
                    "required": ["data", "meta"],
                    "properties": {
                        "data": {"items": metafield},
                        "meta": {
                            "required": ["pagination"],
                            "properties": {"pagination": {
                                "required": ["total", "count", "per_page", "current_page", "total_pages", "links"],
                                "properties": {"links": {"required": ["current"]}}
                            }}
                        }
                    },
                    "unevaluatedProperties": false
                }),
            ),
            metafield_single: build(
                &v3,
                json!({
                    "allOf": [{"$ref": "#/components/schemas/MetafieldResponse"}],
                    "required": ["data", "meta"],
                    "properties": {"data": metafield},
                    "unevaluatedProperties": false
                }),
            ),
            error_response: build(
                &v3,
                json!({
                    "allOf": [{"$ref": "#/components/schemas/ErrorResponse"}],
                    "required": ["status", "title", "type", "errors"]
                }),
            ),
            not_found: build(
                &v3,
                json!({"$ref": "#/components/schemas/NotFound", "required": ["status", "title"]}),
            ),
        }
    }
}

fn property_names(schemas: &Value, name: &str) -> Vec<String> {
    schemas[name]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{name} has properties"))
        .keys()
        .cloned()
        .collect()
}

fn strict_order(v2: &Value) -> Value {
    let mut required: Vec<String> = property_names(v2, "order_RespOnly");
    required.extend(property_names(v2, "order_Shared"));
    required.retain(|name| !INCLUDE_ONLY_ORDER_FIELDS.contains(&name.as_str()));
    required.sort();
    required.dedup();
    let mut billing_required = property_names(v2, "billingAddress_Base");
    billing_required.push("form_fields".to_owned());
    let mut properties = Map::new();
    for (name, kind) in UNDECLARED_ORDER_FIELDS {
        properties.insert(name.to_owned(), json!({"type": kind}));
    }
    properties.insert(
        "billing_address".to_owned(),
        json!({
            "allOf": [{"$ref": "#/components/schemas/billingAddress_Resp"}],
            "required": billing_required,
            "unevaluatedProperties": false
        }),
    );
    for link in ["products", "shipping_addresses", "coupons"] {
        properties.insert(link.to_owned(), json!({"required": ["url", "resource"]}));
    }
    json!({
        "allOf": [{"$ref": "#/components/schemas/order_Resp"}],
        "required": required,
        "properties": properties,
        "unevaluatedProperties": false
    })
}

fn strict_metafield(v3: &Value) -> Value {
    let mut required = property_names(v3, "MetafieldBase");
    required.extend(["id", "date_created", "date_modified", "owner_client_id"].map(String::from));
    json!({
        "allOf": [{"$ref": "#/components/schemas/Metafield"}],
        "required": required,
        "unevaluatedProperties": false
    })
}

async fn spawn() -> (RunningSandbox, reqwest::Client, String) {
    let config = SandboxConfig {
        quota: 10_000,
        ..SandboxConfig::demo_defaults()
    };
    let token = config.access_token.clone();
    let running = sandbox::start(config).await.unwrap();
    (running, reqwest::Client::new(), token)
}

async fn get_json(client: &reqwest::Client, url: String, token: &str) -> (u16, Value) {
    let response = client
        .get(url)
        .header("X-Auth-Token", token)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn api(running: &RunningSandbox, tail: &str) -> String {
    format!("{}stores/sandbox1/{tail}", running.api_base_url())
}

#[tokio::test]
async fn every_v2_order_listed_or_fetched_matches_order_resp() {
    let reference = Reference::load();
    let (running, client, token) = spawn().await;
    let mut listed = 0;

    for page in 1..=2 {
        let (status, body) = get_json(
            &client,
            api(&running, &format!("v2/orders?limit=250&page={page}")),
            &token,
        )
        .await;
        assert_eq!(status, 200);
        for order in body.as_array().unwrap() {
            assert_valid(
                &reference.order,
                order,
                &format!("listed order {}", order["id"]),
            );
            listed += 1;
        }
    }
    for order_id in [100, 101, 102, 150, 370] {
        let (status, order) = get_json(
            &client,
            api(&running, &format!("v2/orders/{order_id}")),
            &token,
        )
        .await;
        assert_eq!(status, 200, "order {order_id}");
        assert_valid(&reference.order, &order, &format!("order {order_id}"));
    }

    assert_eq!(listed, 271);
    running.stop().await;
}

#[tokio::test]
async fn order_count_matches_orders_count_full() {
    let reference = Reference::load();
    let (running, client, token) = spawn().await;

    let (status, body) = get_json(&client, api(&running, "v2/orders/count"), &token).await;

    assert_eq!(status, 200);
    assert_valid(&reference.orders_count, &body, "order count");
    assert_eq!(body["count"], 271);
    running.stop().await;
}

#[tokio::test]
async fn metafield_collections_match_metafield_collection_response() {
    let reference = Reference::load();
    let (running, client, token) = spawn().await;
    let store = running.store();
    let orders_with_metafields: Vec<u64> = [1, 2, 5, 0]
        .into_iter()
        .flat_map(|customer| store.orders_of(customer))
        .filter(|order| !store.metafields_of(*order).is_empty())
        .collect();
    assert!(orders_with_metafields.len() >= 5);

    for order_id in orders_with_metafields {
        let (status, body) = get_json(
            &client,
            api(&running, &format!("v3/orders/{order_id}/metafields")),
            &token,
        )
        .await;
        assert_eq!(status, 200);
        assert_valid(
            &reference.metafield_collection,
            &body,
            &format!("metafields of {order_id}"),
        );
    }
    for page in 1..=2 {
        let (status, body) = get_json(
            &client,
            api(
                &running,
                &format!("v3/orders/metafields?limit=250&page={page}"),
            ),
            &token,
        )
        .await;
        assert_eq!(status, 200);
        assert_valid(
            &reference.metafield_collection,
            &body,
            &format!("batch page {page}"),
        );
    }
    running.stop().await;
}

#[tokio::test]
async fn single_metafield_answers_match_metafield_response() {
    let reference = Reference::load();
    let (running, client, token) = spawn().await;
    let order_id = running.store().orders_of(1)[0];
    let url = api(&running, &format!("v3/orders/{order_id}/metafields"));

    let created = client
        .post(&url)
        .header("X-Auth-Token", &token)
        .json(&json!({"permission_set": "write_and_sf_access", "namespace": "delivery", "key": "note", "value": "Back door", "description": "Courier note"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let created: Value = created.json().await.unwrap();
    let metafield_id = created["data"]["id"].as_u64().unwrap();
    let (status, fetched) = get_json(&client, format!("{url}/{metafield_id}"), &token).await;
    let updated: Value = client
        .put(format!("{url}/{metafield_id}"))
        .header("X-Auth-Token", &token)
        .json(&json!({"value": "Front door"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(status, 200);
    assert_valid(&reference.metafield_single, &created, "created metafield");
    assert_valid(&reference.metafield_single, &fetched, "fetched metafield");
    assert_valid(&reference.metafield_single, &updated, "updated metafield");
    running.stop().await;
}

#[tokio::test]
async fn v3_error_answers_match_the_reference_error_schemas() {
    let reference = Reference::load();
    let (running, client, token) = spawn().await;
    let order_id = running.store().orders_of(1)[0];
    let url = api(&running, &format!("v3/orders/{order_id}/metafields"));

    let invalid: Value = client
        .post(&url)
        .header("X-Auth-Token", &token)
        .json(&json!({"permission_set": "everyone", "namespace": "n", "key": "k", "value": "v"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (status, missing) = get_json(&client, format!("{url}/999999"), &token).await;

    assert_eq!(invalid["status"], 422);
    assert_valid(&reference.error_response, &invalid, "422 body");
    assert_eq!(status, 404);
    assert_valid(&reference.not_found, &missing, "404 body");
    running.stop().await;
}

#[tokio::test]
async fn order_check_fails_on_a_wrong_type_a_missing_field_or_an_unknown_field() {
    let reference = Reference::load();
    let (running, client, token) = spawn().await;
    let (_, order) = get_json(&client, api(&running, "v2/orders/100"), &token).await;
    assert_valid(&reference.order, &order, "unchanged order");
    let mutations: [Mutation; 6] = [
        ("id as a string", |order| order["id"] = json!("100")),
        ("total as a number", |order| {
            order["total_inc_tax"] = json!(67.84)
        }),
        ("payment status outside the enum", |order| {
            order["payment_status"] = json!("paid-ish")
        }),
        ("currency code missing", |order| {
            order.as_object_mut().unwrap().remove("currency_code");
        }),
        ("billing zip missing", |order| {
            order["billing_address"]
                .as_object_mut()
                .unwrap()
                .remove("zip");
        }),
        ("an undocumented field", |order| {
            order["shopper_password"] = json!("x")
        }),
    ];

    for (description, mutate) in mutations {
        let mut mutated = order.clone();
        mutate(&mut mutated);
        assert!(
            !reference.order.is_valid(&mutated),
            "{description} should fail"
        );
    }
    running.stop().await;
}

#[tokio::test]
async fn metafield_check_fails_on_a_bad_enum_a_bad_date_or_a_missing_field() {
    let reference = Reference::load();
    let (running, client, token) = spawn().await;
    let order_id = running.store().orders_of(1)[2];
    let (_, collection) = get_json(
        &client,
        api(&running, &format!("v3/orders/{order_id}/metafields")),
        &token,
    )
    .await;
    assert_valid(
        &reference.metafield_collection,
        &collection,
        "unchanged collection",
    );
    let mutations: [Mutation; 5] = [
        ("permission set outside the enum", |body| {
            body["data"][0]["permission_set"] = json!("public")
        }),
        ("an RFC 2822 date", |body| {
            body["data"][0]["date_created"] = json!("Tue, 05 Mar 2019 21:40:11 +0000")
        }),
        ("resource id as a string", |body| {
            body["data"][0]["resource_id"] = json!("101")
        }),
        ("key missing", |body| {
            body["data"][0].as_object_mut().unwrap().remove("key");
        }),
        ("pagination total missing", |body| {
            body["meta"]["pagination"]
                .as_object_mut()
                .unwrap()
                .remove("total");
        }),
    ];

    for (description, mutate) in mutations {
        let mut mutated = collection.clone();
        mutate(&mut mutated);
        assert!(
            !reference.metafield_collection.is_valid(&mutated),
            "{description} should fail"
        );
    }
    running.stop().await;
}
