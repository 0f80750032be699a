//! `PUT /v1/orders/{order_id}/metafields/{namespace}/{key}`: a shopper edits an editable
//! field of their own order. Every refusal (401, 404 as for reads, 403, 409, 422 with every
//! broken rule, 412, 429), what BigCommerce is asked (and what it is not), the next read
//! showing the value, a webhook for the write changing nothing, concurrent writes with
//! `If-Match`, and the CORS preflight of a write.

use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    STORE_HASH, TestApp, assert_problem, metafield_page, spawn_app_with, token_for, v2_order,
    v3_metafield,
};

const WEBHOOK_SECRET: &str = "a-long-random-webhook-secret";
const STORE_ORIGIN: &str = "https://store.example.com";

/// The app with these field definitions: `Gifts.note` editable (status 11 only, at most
/// 200 characters), `Gifts.po` editable with a pattern, `Shipping.slot` a choice without
/// limits, `Shipping.tracking_url` shown but not editable, `Internal.cost` editable by
/// mistake while its metafield is `app_only`.
async fn spawn_writes_app(overrides: &[(&str, &str)]) -> (TestApp, tempfile::TempDir) {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("fields.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&json!({"version": 1, "definitions": [
            {"namespace": "Gifts", "key": "note", "label": "Gift message", "type": "multiline_text",
             "customer_editable": true, "max_length": 200, "editable_statuses": [11]},
            {"namespace": "Gifts", "key": "po", "label": "PO number", "customer_editable": true,
             "pattern": "PO-[0-9]{4}"},
            {"namespace": "Gifts", "key": "long", "customer_editable": true},
            {"namespace": "Gifts", "key": "slow", "customer_editable": true, "pattern": "(a+)+$"},
            {"namespace": "Shipping", "key": "slot", "type": "choice", "customer_editable": true,
             "choices": ["Morning", "Evening"]},
            {"namespace": "Shipping", "key": "tracking_url", "type": "url"},
            {"namespace": "Internal", "key": "cost", "customer_editable": true, "hidden": false}
        ]}))
        .unwrap(),
    )
    .unwrap();
    let mut pairs = vec![
        ("FIELD_DEFINITIONS_FILE", file.to_str().unwrap()),
        ("WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("CORS_ALLOWED_ORIGINS", STORE_ORIGIN),
    ];
    pairs.extend_from_slice(overrides);
    let app = spawn_app_with(&pairs).await;
    (app, directory)
}

fn metafield(id: u64, permission_set: &str, namespace: &str, key: &str, value: &str) -> Value {
    let mut metafield = v3_metafield(id, 100, permission_set, namespace, key);
    metafield["value"] = json!(value);
    metafield
}

/// Customer 7's orders (100 awaiting fulfillment, 101 shipped) and order 100's metafields
/// as the reads load them.
async fn mount_store(app: &TestApp, metafields: Vec<Value>) {
    let mut shipped = v2_order(101, 7, 2);
    shipped["status_id"] = json!(2);
    shipped["status"] = json!("Shipped");
    // A guest order, which BigCommerce should never list for customer 7: dropped if it does.
    let guest = v2_order(300, 0, 3);
    app.mount_orders(7, vec![v2_order(100, 7, 1), shipped, guest], ..)
        .await;
    app.mount_orders(8, vec![v2_order(200, 8, 1)], ..).await;
    app.mount_metafields(100, metafields.clone(), ..).await;
    app.mount_metafields(101, metafields, ..).await;
}

/// What BigCommerce holds now for one key of an order (the write's fresh read).
async fn mount_key(app: &TestApp, order: u64, namespace: &str, key: &str, found: Vec<Value>) {
    let total = found.len() as u64;
    Mock::given(method("GET"))
        .and(path(format!(
            "/stores/{STORE_HASH}/v3/orders/{order}/metafields"
        )))
        .and(query_param("namespace", namespace))
        .and(query_param("key", key))
        .respond_with(ResponseTemplate::new(200).set_body_json(metafield_page(found, 1, 1, total)))
        .with_priority(1)
        .named(format!("metafields of {namespace}.{key} on order {order}"))
        .mount(&app.management)
        .await;
}

/// `PUT /v3/orders/{order}/metafields/{id}` with exactly `{"value": value}`, `times` times.
async fn mount_update(app: &TestApp, order: u64, id: u64, value: &str, times: u64) {
    let mut updated = metafield(id, "write_and_sf_access", "Gifts", "note", value);
    updated["date_modified"] = json!("2024-03-07T10:00:00+00:00");
    Mock::given(method("PUT"))
        .and(path(format!(
            "/stores/{STORE_HASH}/v3/orders/{order}/metafields/{id}"
        )))
        .and(body_json(json!({"value": value})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": updated})))
        .expect(times)
        .named(format!("update metafield {id}"))
        .mount(&app.management)
        .await;
}

impl TestApp {
    async fn put_field(
        &self,
        token: Option<&str>,
        route: &str,
        body: Value,
        if_match: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .put(format!("{}/v1/orders/{route}", self.address))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(if_match) = if_match {
            request = request.header("if-match", if_match);
        }
        request.send().await.unwrap()
    }

    async fn writes_upstream(&self) -> (usize, usize) {
        let requests = self.management.received_requests().await.unwrap();
        let key_reads = requests
            .iter()
            .filter(|request| {
                request
                    .url
                    .query()
                    .is_some_and(|query| query.contains("key="))
            })
            .count();
        let writes = requests
            .iter()
            .filter(|request| request.method.as_str() != "GET")
            .count();
        (key_reads, writes)
    }
}

fn gift_note(value: &str) -> Value {
    metafield(3, "write_and_sf_access", "Gifts", "note", value)
}

#[tokio::test]
async fn a_shopper_edits_their_gift_message_and_the_next_read_shows_it_even_after_the_webhook() {
    let (app, _definitions) = spawn_writes_app(&[]).await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], ..).await;
    // BigCommerce's answers before the write, once, then after it.
    Mock::given(method("GET"))
        .and(path(format!(
            "/stores/{STORE_HASH}/v3/orders/100/metafields"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(metafield_page(
            vec![gift_note("Old")],
            1,
            1,
            1,
        )))
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.management)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/stores/{STORE_HASH}/v3/orders/100/metafields"
        )))
        .and(wiremock::matchers::query_param_is_missing("key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(metafield_page(
            vec![gift_note("Happy birthday!")],
            1,
            1,
            1,
        )))
        .expect(2)
        .mount(&app.management)
        .await;
    mount_key(&app, 100, "Gifts", "note", vec![gift_note("Old")]).await;
    mount_update(&app, 100, 3, "Happy birthday!", 1).await;
    let token = token_for(7);
    assert_eq!(app.get_metafields(&token, "100").await.status(), 200);

    let response = app
        .put_field(
            Some(&token),
            "100/metafields/Gifts/note",
            json!({"value": "Happy birthday!"}),
            None,
        )
        .await;

    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() == 34,
        "{etag}"
    );
    assert_eq!(response.headers()["cache-control"], "private, no-store");
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"data": {
            "id": 3, "namespace": "Gifts", "key": "note", "value": "Happy birthday!",
            "description": "about note", "date_created": "2024-03-05T10:00:00Z",
            "date_modified": "2024-03-07T10:00:00Z", "label": "Gift message",
            "type": "multiline_text", "position": 0, "editable": true, "max_length": 200
        }})
    );
    let read: Value = app
        .get_metafields(&token, "100")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["data"][0]["value"], "Happy birthday!");

    // BigCommerce's webhook for the same write arrives afterwards: it changes nothing.
    let delivery = json!({"scope": "store/order/metafield/updated", "store_id": "1",
        "data": {"metafield_id": 3, "resource_id": "100", "namespace": "Gifts"},
        "hash": "write-1", "created_at": crate::helpers::now(), "producer": format!("stores/{STORE_HASH}")});
    let answered = app
        .client
        .post(format!("{}/webhooks/bigcommerce", app.address))
        .header("content-type", "application/json")
        .header("x-webhook-secret", WEBHOOK_SECRET)
        .body(delivery.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 200);
    let read: Value = app
        .get_metafields(&token, "100")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["data"][0]["value"], "Happy birthday!");
    assert_eq!(app.writes_upstream().await, (1, 1));
}

#[tokio::test]
async fn an_absent_editable_field_is_created_with_write_and_sf_access_in_its_namespace() {
    let (app, _definitions) = spawn_writes_app(&[]).await;
    mount_store(&app, vec![]).await;
    mount_key(&app, 100, "Shipping", "slot", vec![]).await;
    let created =
        json!({"data": metafield(9, "write_and_sf_access", "Shipping", "slot", "Evening")});
    Mock::given(method("POST"))
        .and(path(format!(
            "/stores/{STORE_HASH}/v3/orders/100/metafields"
        )))
        .and(body_json(
            json!({"namespace": "Shipping", "key": "slot", "value": "Evening",
            "description": "", "permission_set": "write_and_sf_access"}),
        ))
        .and(header("x-auth-token", crate::helpers::ACCESS_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(created))
        .expect(1)
        .mount(&app.management)
        .await;

    let response = app
        .put_field(
            Some(&token_for(7)),
            "100/metafields/Shipping/slot",
            json!({"value": "Evening"}),
            None,
        )
        .await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["id"], 9);
    assert_eq!(body["data"]["value"], "Evening");
    assert_eq!(body["data"]["editable"], true);
    assert_eq!(app.writes_upstream().await, (1, 1));
}

#[tokio::test]
async fn orders_that_are_not_the_customers_answer_the_reads_404_and_cost_no_write() {
    let (app, _definitions) = spawn_writes_app(&[]).await;
    mount_store(&app, vec![gift_note("Old")]).await;
    let token = token_for(7);
    let read_404 = app.get_metafields(&token, "999").await;
    let read_404: Value = read_404.json().await.unwrap();

    // Another customer's order, a guest order, an order that does not exist.
    for order in ["200", "300", "999"] {
        let response = app
            .put_field(
                Some(&token),
                &format!("{order}/metafields/Gifts/note"),
                json!({"value": "mine now"}),
                None,
            )
            .await;
        let body = assert_problem(response, 404, "not-found").await;
        assert_eq!(body, read_404, "order {order}");
    }
    let unauthenticated = app
        .put_field(
            None,
            "100/metafields/Gifts/note",
            json!({"value": "x"}),
            None,
        )
        .await;
    assert_problem(unauthenticated, 401, "unauthorized").await;
    assert_eq!(app.writes_upstream().await, (0, 0));
    assert_eq!(app.upstream_calls("v3/orders/200").await, 0);
    assert_eq!(app.upstream_calls("v3/orders/300").await, 0);
}

#[tokio::test]
async fn fields_the_shopper_cannot_see_are_404_and_visible_read_only_ones_403() {
    let (app, _definitions) = spawn_writes_app(&[]).await;
    mount_store(
        &app,
        vec![
            metafield(
                4,
                "read_and_sf_access",
                "Shipping",
                "tracking_url",
                "https://t.example",
            ),
            metafield(5, "app_only", "Internal", "cost", "12.00"),
            metafield(6, "read_and_sf_access", "Gifts", "po", "PO-0001"),
        ],
    )
    .await;
    mount_key(
        &app,
        100,
        "Internal",
        "cost",
        vec![metafield(5, "app_only", "Internal", "cost", "12.00")],
    )
    .await;
    mount_key(
        &app,
        100,
        "Gifts",
        "po",
        vec![metafield(6, "read_and_sf_access", "Gifts", "po", "PO-0001")],
    )
    .await;
    let token = token_for(7);
    let cases = [
        // Shown, but its definition does not open it for writing.
        ("Shipping/tracking_url", "PO-1234", 403, "not-editable"),
        // Editable by its definition, but its permission set is read only.
        ("Gifts/po", "PO-1234", 403, "not-editable"),
        // A merchant-only metafield, even with an editable definition: not there for them.
        ("Internal/cost", "0.00", 404, "not-found"),
        // No definition and no metafield.
        ("Other/thing", "x", 404, "not-found"),
        // Longer than BigCommerce's 64 characters: names nothing.
        (&format!("Gifts/{}", "k".repeat(65)), "x", 404, "not-found"),
    ];
    for (field, value, status, kind) in cases {
        let response = app
            .put_field(
                Some(&token),
                &format!("100/metafields/{field}"),
                json!({"value": value}),
                None,
            )
            .await;
        assert_problem(response, status, kind).await;
    }
    // Only the merchant-only key got as far as reading BigCommerce again (the others were
    // decided from what the reads show); nothing was written.
    assert_eq!(app.writes_upstream().await, (1, 0));
}

#[tokio::test]
async fn an_order_outside_the_status_window_is_409() {
    let (app, _definitions) = spawn_writes_app(&[]).await;
    mount_store(&app, vec![gift_note("Old")]).await;

    let response = app
        .put_field(
            Some(&token_for(7)),
            "101/metafields/Gifts/note",
            json!({"value": "Too late"}),
            None,
        )
        .await;

    let body = assert_problem(response, 409, "not-editable-now").await;
    assert_eq!(
        body["detail"],
        "This field can no longer be changed: the order's status does not allow it."
    );
    assert_eq!(app.writes_upstream().await, (0, 0));
}

#[tokio::test]
async fn a_value_that_breaks_the_definition_is_422_listing_every_broken_rule() {
    let (app, _definitions) = spawn_writes_app(&[("SHOPPER_WRITE_RATE_LIMIT", "0")]).await;
    mount_store(&app, vec![gift_note("Old")]).await;
    let token = token_for(7);

    let response = app
        .put_field(
            Some(&token),
            "100/metafields/Gifts/note",
            json!({"value": format!("{}\u{7}", "x".repeat(200))}),
            None,
        )
        .await;

    assert_eq!(response.status(), 422);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "type": "urn:order-metafields:problem:invalid-value",
            "title": "Unprocessable Content", "status": 422,
            "detail": "The value does not fit this field; see errors for each rule it breaks.",
            "errors": [
                {"field": "value", "message": "Use at most 200 characters (this has 201)."},
                {"field": "value", "message": "Use no control characters other than line breaks and tabs."}
            ]
        })
    );
    for (field, body, message) in [
        (
            "Gifts/po",
            json!({"value": "PO-12"}),
            "The value is not in the format this field asks for.",
        ),
        (
            "Shipping/slot",
            json!({"value": "Noon"}),
            "Choose one of: Morning, Evening.",
        ),
        (
            "Gifts/note",
            json!({"value": 12}),
            "The value must be text: {\"value\": \"…\"}.",
        ),
        (
            "Gifts/note",
            json!({}),
            "The value must be text: {\"value\": \"…\"}.",
        ),
        (
            "Gifts/long",
            json!({"value": "x".repeat(65_536)}),
            "Use at most 65535 characters (this has 65536).",
        ),
    ] {
        let response = app
            .put_field(Some(&token), &format!("100/metafields/{field}"), body, None)
            .await;
        assert_eq!(response.status(), 422, "{field}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["errors"],
            json!([{"field": "value", "message": message}]),
            "{field}"
        );
    }
    let not_json = app
        .client
        .put(format!(
            "{}/v1/orders/100/metafields/Gifts/note",
            app.address
        ))
        .bearer_auth(&token)
        .body("value=x")
        .send()
        .await
        .unwrap();
    assert_problem(not_json, 400, "bad-request").await;
    assert_eq!(app.writes_upstream().await, (0, 0));
}

#[tokio::test]
async fn a_value_of_65535_characters_is_written_whole() {
    let (app, _definitions) = spawn_writes_app(&[]).await;
    mount_store(&app, vec![]).await;
    mount_key(&app, 100, "Gifts", "long", vec![]).await;
    let value = "é".repeat(65_535);
    Mock::given(method("POST"))
        .and(path(format!(
            "/stores/{STORE_HASH}/v3/orders/100/metafields"
        )))
        .and(body_json(
            json!({"namespace": "Gifts", "key": "long", "value": value,
            "description": "", "permission_set": "write_and_sf_access"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": metafield(10, "write_and_sf_access", "Gifts", "long", &value)}),
        ))
        .expect(1)
        .mount(&app.management)
        .await;

    let response = app
        .put_field(
            Some(&token_for(7)),
            "100/metafields/Gifts/long",
            json!({"value": value}),
            None,
        )
        .await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["data"]["value"].as_str().map(|v| v.chars().count()),
        Some(65_535)
    );
}

#[tokio::test]
async fn a_catastrophic_backtracking_pattern_is_checked_in_linear_time() {
    let (app, _definitions) = spawn_writes_app(&[]).await;
    mount_store(&app, vec![]).await;
    // `(a+)+$` against "aaa…a!" takes a backtracking engine 2^n steps; n = 60,000 here.
    let value = format!("{}!", "a".repeat(60_000));

    let response = app
        .put_field(
            Some(&token_for(7)),
            "100/metafields/Gifts/slow",
            json!({"value": value}),
            None,
        )
        .await;

    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"],
        json!([{"field": "value", "message": "The value is not in the format this field asks for."}])
    );
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_writes_nothing() {
    let (app, _definitions) = spawn_writes_app(&[]).await;
    mount_store(&app, vec![gift_note("Current")]).await;
    mount_key(&app, 100, "Gifts", "note", vec![gift_note("Current")]).await;
    mount_update(&app, 100, 3, "New", 0).await;

    let response = app
        .put_field(
            Some(&token_for(7)),
            "100/metafields/Gifts/note",
            json!({"value": "New"}),
            Some("\"0123456789abcdef0123456789abcdef\""),
        )
        .await;

    assert_problem(response, 412, "precondition-failed").await;
    assert_eq!(app.writes_upstream().await, (1, 0));
}

#[tokio::test]
async fn of_two_concurrent_writes_with_the_same_if_match_one_wins_and_the_other_is_412() {
    let (app, _definitions) = spawn_writes_app(&[]).await;
    mount_store(&app, vec![gift_note("Old")]).await;
    // BigCommerce's state of the key: reads answer it (slowly, so that without the per-key
    // lock both writes would read before either writes), the PUT changes it.
    let state = std::sync::Arc::new(std::sync::Mutex::new("Old".to_owned()));
    let read_state = std::sync::Arc::clone(&state);
    Mock::given(method("GET"))
        .and(path(format!(
            "/stores/{STORE_HASH}/v3/orders/100/metafields"
        )))
        .and(query_param("key", "note"))
        .respond_with(move |_: &wiremock::Request| {
            let value = read_state.lock().unwrap().clone();
            ResponseTemplate::new(200)
                .set_body_json(metafield_page(vec![gift_note(&value)], 1, 1, 1))
                .set_delay(std::time::Duration::from_millis(200))
        })
        .with_priority(1)
        .mount(&app.management)
        .await;
    let write_state = std::sync::Arc::clone(&state);
    Mock::given(method("PUT"))
        .and(path(format!(
            "/stores/{STORE_HASH}/v3/orders/100/metafields/3"
        )))
        .respond_with(move |request: &wiremock::Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            let value = body["value"].as_str().unwrap().to_owned();
            *write_state.lock().unwrap() = value.clone();
            ResponseTemplate::new(200).set_body_json(json!({"data": gift_note(&value)}))
        })
        .expect(1)
        .mount(&app.management)
        .await;
    let token = token_for(7);
    // The ETag the shopper got when they last wrote "Old".
    let old_etag = etag_of(3, "Old");

    let (first, second) = tokio::join!(
        app.put_field(
            Some(&token),
            "100/metafields/Gifts/note",
            json!({"value": "First"}),
            Some(&old_etag)
        ),
        app.put_field(
            Some(&token),
            "100/metafields/Gifts/note",
            json!({"value": "Second"}),
            Some(&old_etag)
        ),
    );

    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412]);
    assert_eq!(app.writes_upstream().await, (2, 1));
}

/// The service's ETag of a metafield: the first 16 bytes of SHA-256(id, value), quoted.
fn etag_of(id: u64, value: &str) -> String {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    context.update(&id.to_be_bytes());
    context.update(value.as_bytes());
    let digest = context.finish();
    let hex: String = digest.as_ref()[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("\"{hex}\"")
}

#[tokio::test]
async fn the_etag_of_a_write_is_accepted_by_the_next_and_star_needs_an_existing_field() {
    let (app, _definitions) = spawn_writes_app(&[]).await;
    mount_store(&app, vec![gift_note("Old")]).await;
    mount_key(&app, 100, "Gifts", "note", vec![gift_note("Old")]).await;
    mount_key(&app, 100, "Shipping", "slot", vec![]).await;
    mount_update(&app, 100, 3, "Old", 1).await;
    let token = token_for(7);

    let response = app
        .put_field(
            Some(&token),
            "100/metafields/Gifts/note",
            json!({"value": "Old"}),
            Some(&format!("\"nope\", {}", etag_of(3, "Old"))),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["etag"].to_str().unwrap(),
        etag_of(3, "Old")
    );

    let absent = app
        .put_field(
            Some(&token),
            "100/metafields/Shipping/slot",
            json!({"value": "Morning"}),
            Some("*"),
        )
        .await;
    assert_problem(absent, 412, "precondition-failed").await;
    assert_eq!(app.writes_upstream().await, (2, 1));
}

#[tokio::test]
async fn writes_have_their_own_per_customer_limit() {
    let (app, _definitions) = spawn_writes_app(&[
        ("SHOPPER_WRITE_RATE_LIMIT", "1"),
        ("SHOPPER_WRITE_RATE_BURST", "2"),
    ])
    .await;
    mount_store(&app, vec![gift_note("Old")]).await;
    let token = token_for(7);
    let put = || {
        app.put_field(
            Some(&token),
            "101/metafields/Gifts/note",
            json!({"value": "x"}),
            None,
        )
    };

    let first = put().await.status();
    let second = put().await.status();
    let third = put().await;

    assert_eq!((first.as_u16(), second.as_u16()), (409, 409));
    assert_eq!(third.headers()["retry-after"], "60");
    assert_problem(third, 429, "too-many-requests").await;
    // Reads are counted apart: the customer still reads, another customer still writes.
    assert_eq!(app.get_metafields(&token, "100").await.status(), 200);
    let other = app
        .put_field(
            Some(&token_for(8)),
            "999/metafields/Gifts/note",
            json!({"value": "x"}),
            None,
        )
        .await;
    assert_problem(other, 404, "not-found").await;
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    for line in [
        "order_metafields_shopper_writes_total{outcome=\"outside_window\"} 2",
        "order_metafields_shopper_writes_total{outcome=\"rate_limited\"} 1",
        "order_metafields_shopper_writes_total{outcome=\"not_found\"} 1",
        "order_metafields_shopper_writes_total{outcome=\"updated\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}

#[tokio::test]
async fn the_preflight_of_a_write_allows_put_with_if_match_from_allowed_origins_only() {
    let (app, _definitions) = spawn_writes_app(&[]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/v1/orders/100/metafields/Gifts/note", app.address),
            )
            .header("origin", origin)
            .header("access-control-request-method", "PUT")
            .header(
                "access-control-request-headers",
                "authorization, content-type, if-match",
            )
            .send()
    };

    let allowed = preflight(STORE_ORIGIN).await.unwrap();
    let refused = preflight("https://evil.example.com").await.unwrap();

    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        STORE_ORIGIN
    );
    let methods = allowed.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(methods.contains("put"), "{methods}");
    let headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        headers.contains("if-match") && headers.contains("authorization"),
        "{headers}"
    );
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(!refused.status().is_success());
}

#[tokio::test]
async fn a_write_acts_in_the_tokens_own_store_only() {
    use crate::helpers::app::{AppMode, customer_token};
    const FIRST: &str = "abc123";
    const SECOND: &str = "xyz789";
    let app = AppMode::spawn().await;
    // Only the first store's merchant made the gift note editable.
    let database = order_metafields_service::database::Database::connect(&app.database.url)
        .await
        .unwrap();
    let mut note = order_metafields_service::fields::FieldDefinition::plain("Gifts", "note");
    note.customer_editable = true;
    let definitions = order_metafields_service::fields::FieldDefinitions::new(vec![note]).unwrap();
    database
        .replace_field_definitions(FIRST, &definitions, crate::helpers::now())
        .await
        .unwrap();
    app.install(FIRST, "token-of-abc123").await;
    app.install(SECOND, "token-of-xyz789").await;
    for store in [FIRST, SECOND] {
        // Both stores have a customer 7 with an order 100 carrying a writable gift note.
        app.mount_orders(store, 7, vec![v2_order(100, 7, 1)], ..)
            .await;
        app.mount_metafields(store, 100, vec![gift_note("Old")], ..)
            .await;
    }
    Mock::given(method("PUT"))
        .and(path(format!("/stores/{FIRST}/v3/orders/100/metafields/3")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": gift_note("New")})))
        .expect(1)
        .mount(&app.bigcommerce)
        .await;
    let put = |store: &'static str| {
        app.client
            .put(format!(
                "{}/v1/orders/100/metafields/Gifts/note",
                app.address
            ))
            .bearer_auth(customer_token(store, 7))
            .json(&json!({"value": "New"}))
            .send()
    };

    let first = put(FIRST).await.unwrap();
    let second = put(SECOND).await.unwrap();

    assert_eq!(first.status(), 200);
    // The second store's merchant made nothing editable: its gift note is shown, read only.
    assert_problem(second, 403, "not-editable").await;
    let writes = |store: &'static str| {
        let app = &app;
        async move {
            app.calls(&format!("/stores/{store}/v3/orders/"))
                .await
                .into_iter()
                .filter(|request| request.method.as_str() != "GET")
                .collect::<Vec<_>>()
        }
    };
    let first_writes = writes(FIRST).await;
    assert_eq!(first_writes.len(), 1);
    assert_eq!(first_writes[0].headers["x-auth-token"], "token-of-abc123");
    assert!(writes(SECOND).await.is_empty());
}

#[tokio::test]
async fn a_write_with_the_session_cookie_needs_an_allowed_origin_and_x_requested_with() {
    let (app, _definitions) = spawn_writes_app(&[]).await;
    mount_store(&app, vec![gift_note("Old")]).await;
    mount_key(&app, 100, "Gifts", "note", vec![gift_note("Old")]).await;
    mount_update(&app, 100, 3, "From a cookie", 1).await;
    // The session cookie holds the customer's token (see sessions.rs).
    let cookie = format!("__Host-om_session={}", token_for(7));
    let put = |headers: &'static [(&'static str, &'static str)]| {
        let mut request = app
            .client
            .put(format!(
                "{}/v1/orders/100/metafields/Gifts/note",
                app.address
            ))
            .header("cookie", cookie.as_str())
            .json(&json!({"value": "From a cookie"}));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };

    let refusals: [(&[(&str, &str)], &str); 3] = [
        (&[("origin", STORE_ORIGIN)], "no x-requested-with"),
        (&[("x-requested-with", "fetch")], "no origin"),
        (
            &[
                ("origin", "https://evil.example.com"),
                ("x-requested-with", "fetch"),
            ],
            "another origin",
        ),
    ];
    for (headers, description) in refusals {
        let response = put(headers).await.unwrap();
        let body = assert_problem(response, 403, "forbidden").await;
        assert_eq!(
            body["detail"],
            "A request that changes something with the session cookie needs an allowed Origin and the X-Requested-With header.",
            "case {description}"
        );
    }
    assert_eq!(
        app.writes_upstream().await,
        (0, 0),
        "a refused cookie write asks nothing"
    );

    let response = put(&[("origin", STORE_ORIGIN), ("x-requested-with", "fetch")])
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        STORE_ORIGIN
    );
    assert_eq!(
        response.headers()["access-control-allow-credentials"],
        "true"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["value"], "From a cookie");
    assert_eq!(app.writes_upstream().await, (1, 1));
}
