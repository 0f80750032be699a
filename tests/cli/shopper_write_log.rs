//! The audit line of a shopper's write, from the real binary at trace level: one line per
//! write (target `audit`) with the store, customer, order, key, outcome and the value's length
//! and its HMAC under a key derived from the client secret (not a bare hash, which a short
//! value could be guessed back from), and the value itself nowhere in the output, whatever
//! the log level.

use aws_lc_rs::{digest, hmac};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::fixtures::{
    CLIENT_ID, CLIENT_SECRET, STORE_HASH, metafield_page, token_for, v2_order, v3_metafield,
};
use crate::harness::process::{ScratchDirectory, Service, free_port};

/// A value distinctive enough that finding it in the output cannot be a coincidence.
const VALUE: &str = "distinct-gift-words-4f1c9a";

#[tokio::test]
async fn a_write_leaves_one_audit_line_with_the_values_length_and_hash_never_the_value() {
    let management = MockServer::start().await;
    let note = |value: &str| {
        let mut metafield = v3_metafield(3, 100, "write_and_sf_access", "Gifts", "note");
        metafield["value"] = json!(value);
        metafield
    };
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE_HASH}/v2/orders")))
        .and(query_param("customer_id", "7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([v2_order(100, 7, 1)])))
        .mount(&management)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/stores/{STORE_HASH}/v3/orders/100/metafields"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(metafield_page(
            vec![note("Old")],
            1,
            1,
            1,
        )))
        .mount(&management)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!(
            "/stores/{STORE_HASH}/v3/orders/100/metafields/3"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": note(VALUE)})))
        .expect(1)
        .mount(&management)
        .await;
    let directory = ScratchDirectory::new();
    let definitions = directory.join("fields.json");
    std::fs::write(
        &definitions,
        json!({"version": 1, "definitions": [
            {"namespace": "Gifts", "key": "note", "customer_editable": true}
        ]})
        .to_string(),
    )
    .unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let base = management.uri();
    let definitions = definitions.to_str().unwrap().to_owned();
    let mut service = Service::start(&[
        ("BC_STORE_HASH", STORE_HASH),
        ("BC_ACCESS_TOKEN", "test-access-token"),
        ("BC_CLIENT_ID", CLIENT_ID),
        ("BC_CLIENT_SECRET", CLIENT_SECRET),
        ("BC_API_BASE_URL", base.as_str()),
        ("LISTEN_ADDR", listen.as_str()),
        ("LOG_LEVEL", "trace"),
        ("LOG_FORMAT", "json"),
        ("FIELD_DEFINITIONS_FILE", definitions.as_str()),
    ]);
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    service.wait_until_healthy(&client, &address).await;

    let response = client
        .put(format!("{address}/v1/orders/100/metafields/Gifts/note"))
        .bearer_auth(token_for(7))
        .json(&json!({"value": VALUE}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let output = service.stop();

    let audit: Vec<Value> = output
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["target"] == "audit")
        .collect();
    assert_eq!(audit.len(), 1, "{audit:#?}");
    let secret = hmac::Key::new(hmac::HMAC_SHA256, CLIENT_SECRET.as_bytes());
    let derived = hmac::sign(&secret, b"order-metafields audit value hash v1");
    let key = hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref());
    let hash: String = hmac::sign(&key, VALUE.as_bytes())
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let line = &audit[0];
    let fields = line.get("fields").unwrap_or(line);
    assert_eq!(fields["message"], "shopper wrote an order metafield");
    assert_eq!(fields["store"], STORE_HASH);
    assert_eq!(fields["customer"], 7);
    assert_eq!(fields["order"], 100);
    assert_eq!(fields["namespace"], "Gifts");
    assert_eq!(fields["key"], "note");
    assert_eq!(fields["outcome"], "updated");
    assert_eq!(fields["value_length"], VALUE.len());
    assert_eq!(fields["value_hmac"], hash);
    let bare: String = digest::digest(&digest::SHA256, VALUE.as_bytes())
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert!(
        !output.stdout.contains(&bare),
        "the log holds the bare SHA-256 of the value"
    );
    let everything = format!("{}\n{}", output.stdout, output.stderr);
    assert!(!everything.contains(VALUE), "the log holds the value");
}
