//! The demo's promise that a metafield changed in the store shows on the next request,
//! checked as a script uses it: write through the sandbox's Management API, then read at once
//! through the service, thirty times. The sandbox answers a write only after the service took
//! its webhook, so no read may be stale.

use order_metafields::demo::{DEMO_ORDER_ID, Demo, DemoOptions};
use order_metafields_sandbox::{RequestKind, SandboxConfig};
use serde_json::{Value, json};

/// Write-then-read rounds; scripted against the old sandbox, 6 of 30 reads were stale.
const ROUNDS: usize = 30;

#[tokio::test]
async fn every_metafield_written_in_the_store_shows_on_the_very_next_read() {
    let demo = Demo::start(DemoOptions {
        service: "127.0.0.1:0".parse().unwrap(),
        sandbox: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .unwrap();
    let access_token = SandboxConfig::demo_defaults().access_token;
    let token = demo.token().to_owned();
    let read_url = format!("{}/v1/orders/{DEMO_ORDER_ID}/metafields", demo.service_url);
    let store = demo.sandbox.store();
    let metafield = store
        .metafields_of(DEMO_ORDER_ID)
        .into_iter()
        .find(|metafield| metafield.permission_set.ends_with("_sf_access"))
        .unwrap();
    let write_url = format!(
        "{}stores/{}/v3/orders/{DEMO_ORDER_ID}/metafields/{}",
        demo.sandbox.api_base_url(),
        demo.sandbox.store_hash(),
        metafield.id
    );
    let client = reqwest::Client::new();
    let read = || async {
        let response = client
            .get(&read_url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|shown| shown["key"] == metafield.key.as_str())
            .map(|shown| shown["value"].clone())
            .unwrap()
    };
    // The first read loads the order's metafields; from then on only a webhook evicts them.
    let first = read().await;
    let requests_before = store.management_requests_of(RequestKind::OrderMetafields);

    let mut stale = Vec::new();
    for round in 0..ROUNDS {
        let value = format!("changed in the store, round {round}");
        let written = client
            .put(&write_url)
            .header("X-Auth-Token", &access_token)
            .json(&json!({ "value": value }))
            .send()
            .await
            .unwrap();
        assert_eq!(written.status(), 200, "write {round}");
        let shown = read().await;
        if shown != value.as_str() {
            stale.push((round, shown));
        }
    }
    // The configured destination's deliveries: the ones a write waits for. (The hooks the
    // app registered at install deliver too, in the background.)
    let deliveries: Vec<_> = store
        .webhook_deliveries()
        .into_iter()
        .filter(|delivery| delivery.hook_id.is_none())
        .collect();
    let metafield_requests =
        store.management_requests_of(RequestKind::OrderMetafields) - requests_before;

    assert_eq!(first, metafield.value.as_str());
    assert!(
        stale.is_empty(),
        "{} of {ROUNDS} reads right after a write were stale: {stale:?}",
        stale.len()
    );
    assert_eq!(deliveries.len(), ROUNDS, "{deliveries:#?}");
    assert!(
        deliveries
            .iter()
            .all(|delivery| delivery.succeeded()
                && delivery.scope == "store/order/metafield/updated"),
        "{deliveries:#?}"
    );
    // Each round: the write itself, and one load by the service after the webhook evicted its
    // copy (the counter counts every request under /v3/orders/{id}/metafields).
    assert_eq!(metafield_requests, 2 * ROUNDS as u64);
    demo.stop().await;
}
