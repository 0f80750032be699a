//! Single-store mode's field definitions from `FIELD_DEFINITIONS_FILE`: loaded at start-up
//! and applied to the storefront's answers (label, type, position; a hidden field left out;
//! never an `app_only` one shown, whatever the file says), and a file with an invalid
//! definition stops start-up naming the variable and the problem.

use serde_json::{Value, json};

use crate::helpers::{spawn_app_with, token_for, v2_order, v3_metafield};

#[tokio::test]
async fn definitions_from_the_file_label_order_and_hide_fields_and_never_show_app_only_ones() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("fields.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&json!({"version": 1, "definitions": [
            {"namespace": "Shipping", "key": "tracking_url", "label": "Track your parcel", "type": "url", "position": 2},
            {"namespace": "Shipping", "key": "slot", "label": "Delivery slot", "position": 1},
            {"namespace": "Gifts", "key": "note", "hidden": true},
            {"namespace": "Internal", "key": "cost", "label": "Our cost", "position": 0}
        ]}))
        .unwrap(),
    )
    .unwrap();
    let app = spawn_app_with(&[("FIELD_DEFINITIONS_FILE", file.to_str().unwrap())]).await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;
    app.mount_metafields(
        100,
        vec![
            v3_metafield(1, 100, "read_and_sf_access", "Shipping", "tracking_url"),
            v3_metafield(2, 100, "read_and_sf_access", "Shipping", "slot"),
            v3_metafield(3, 100, "write_and_sf_access", "Gifts", "note"),
            v3_metafield(4, 100, "app_only", "Internal", "cost"),
            v3_metafield(5, 100, "read_and_sf_access", "Other", "plain"),
        ],
        1,
    )
    .await;

    let body: Value = app
        .get_metafields(&token_for(7), "100")
        .await
        .json()
        .await
        .unwrap();

    let shown: Vec<(u64, &str, &str, Value)> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["id"].as_u64().unwrap(),
                item["label"].as_str().unwrap(),
                item["type"].as_str().unwrap(),
                item["position"].clone(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (2, "Delivery slot", "text", json!(1)),
            (1, "Track your parcel", "url", json!(2)),
            (5, "about plain", "text", Value::Null),
        ]
    );
}

#[tokio::test]
async fn an_invalid_definitions_file_stops_start_up_naming_the_variable_and_the_problem() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("fields.json");
    std::fs::write(
        &file,
        br#"{"version": 1, "definitions": [{"namespace": "Gifts", "key": "note", "pattern": "(?<=a)b"}]}"#,
    )
    .unwrap();
    let settings = order_metafields_service::config::Settings::from_pairs([
        ("BC_STORE_HASH", "abc123"),
        ("BC_ACCESS_TOKEN", "access-token-value"),
        ("BC_CLIENT_ID", "client-id"),
        ("BC_CLIENT_SECRET", "client-secret-value"),
        ("LISTEN_ADDR", "127.0.0.1:0"),
        ("FIELD_DEFINITIONS_FILE", file.to_str().unwrap()),
    ])
    .unwrap();

    let error = order_metafields_service::startup::Application::build(settings)
        .await
        .err()
        .expect("start-up fails");

    let message = format!("{error:#}");
    assert!(message.starts_with("FIELD_DEFINITIONS_FILE: "), "{message}");
    assert!(message.contains("Gifts.note.pattern"), "{message}");
    assert!(message.contains("look-around"), "{message}");
}
