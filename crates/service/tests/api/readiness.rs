//! `/readyz` answers for this replica: ready (`200`) while its database answers, whatever
//! BigCommerce does. BigCommerce's state is in the body (judged by the latest answer to
//! traffic or else by a probe made at most once per `READINESS_INTERVAL`) and in
//! `/metrics`; a `503` problem names the part of this replica that is not ready.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::timeout;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{STORE_HASH, spawn_app, spawn_app_with, token_for, v2_order};

/// The most connections a gate forwards or refuses, and how long it waits for the next.
const GATE_CONNECTIONS: usize = 64;
const GATE_PATIENCE: Duration = Duration::from_secs(20);

#[tokio::test]
async fn readyz_stays_200_when_the_api_is_unreachable_and_says_so_in_body_and_metrics() {
    let store = MockServer::start().await;
    mount_count(
        &store,
        ResponseTemplate::new(200).set_body_json(json!({"count": 3})),
    )
    .await;
    let gate = Gate::open_to(&store).await;
    let app = spawn_app_with(&[
        ("BC_API_BASE_URL", &gate.base_url),
        ("READINESS_INTERVAL", "300ms"),
    ])
    .await;

    let before = app.get("/readyz", None).await;
    gate.close();
    tokio::time::sleep(Duration::from_millis(350)).await;
    let cut_off = app.get("/readyz", None).await;
    gate.reopen();
    let just_after = app.get("/readyz", None).await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    let after = app.get("/readyz", None).await;

    assert_ready(before).await;
    let unreachable =
        json!({"status": "down", "detail": "the Management API could not be reached"});
    assert_ready_with(cut_off, &unreachable).await;
    assert_ready_with(just_after, &unreachable).await;
    assert_ready(after).await;
    assert_eq!(
        probes(&store).await,
        2,
        "the cut-off probe never got through"
    );
    assert!(gate.refused() >= 1);
}

#[tokio::test]
async fn readyz_probes_at_most_once_per_interval_however_often_it_is_asked() {
    let app = spawn_app_with(&[("READINESS_INTERVAL", "1m")]).await;
    mount_count(
        &app.management,
        ResponseTemplate::new(200).set_body_json(json!({"count": 0})),
    )
    .await;

    let concurrent = futures_util::future::join_all((0..5).map(|_| app.get("/readyz", None))).await;
    let later = app.get("/readyz", None).await;

    for response in concurrent {
        assert_ready(response).await;
    }
    assert_ready(later).await;
    assert_eq!(probes(&app.management).await, 1);
}

#[tokio::test]
async fn readyz_spends_nothing_when_traffic_reached_the_api_recently() {
    let app = spawn_app().await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;

    let orders = app.get_orders(&token_for(7), "").await;
    let ready = [
        app.get("/readyz", None).await,
        app.get("/readyz", None).await,
    ];

    assert_eq!(orders.status(), 200);
    for response in ready {
        assert_ready(response).await;
    }
    assert_eq!(probes(&app.management).await, 0);
}

#[tokio::test]
async fn readyz_says_the_access_token_is_refused_when_the_probe_gets_401() {
    let app = spawn_app().await;
    mount_count(
        &app.management,
        ResponseTemplate::new(401).set_body_string("bad token"),
    )
    .await;

    let response = app.get("/readyz", None).await;

    assert_ready_with(
        response,
        &json!({"status": "refused", "detail": "the Management API refused the access token (401)"}),
    )
    .await;
}

#[tokio::test]
async fn readyz_reports_a_refusal_without_a_probe_when_traffic_was_just_refused() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE_HASH}/v2/orders")))
        .respond_with(ResponseTemplate::new(403))
        .mount(&app.management)
        .await;

    let orders = app.get_orders(&token_for(7), "").await;
    let response = app.get("/readyz", None).await;

    assert_eq!(orders.status(), 502);
    assert_ready_with(
        response,
        &json!({"status": "refused", "detail": "the Management API refused the access token (403)"}),
    )
    .await;
    assert_eq!(probes(&app.management).await, 0);
}

#[tokio::test]
async fn readyz_stays_200_and_says_the_api_is_failing_when_the_probe_gets_a_server_error() {
    let app = spawn_app().await;
    mount_count(&app.management, ResponseTemplate::new(503)).await;

    let response = app.get("/readyz", None).await;
    let metrics = app.get("/metrics", None).await.text().await.unwrap();

    assert_ready_with(
        response,
        &json!({"status": "down", "detail": "the Management API is failing (503)"}),
    )
    .await;
    assert!(
        metrics.contains("\norder_metafields_upstream_up 0\n"),
        "{metrics}"
    );
    assert_eq!(probes(&app.management).await, 1, "a probe is not retried");
}

#[tokio::test]
async fn the_probe_respects_quota_pacing_and_a_spent_quota_still_counts_as_reachable() {
    let app = spawn_app_with(&[("READINESS_INTERVAL", "100ms")]).await;
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE_HASH}/v2/orders")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([v2_order(100, 7, 1)]))
                .insert_header("X-Rate-Limit-Requests-Left", "10")
                .insert_header("X-Rate-Limit-Requests-Quota", "150")
                .insert_header("X-Rate-Limit-Time-Reset-Ms", "20000"),
        )
        .mount(&app.management)
        .await;
    mount_count(
        &app.management,
        ResponseTemplate::new(200).set_body_json(json!({"count": 1})),
    )
    .await;

    let orders = app.get_orders(&token_for(7), "").await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let response = app.get("/readyz", None).await;

    assert_eq!(orders.status(), 200);
    assert_ready(response).await;
    assert_eq!(
        probes(&app.management).await,
        0,
        "the store's quota is all but spent: the pacer keeps the probe back"
    );
}

async fn mount_count(store: &MockServer, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE_HASH}/v2/orders/count")))
        .respond_with(response)
        .mount(store)
        .await;
}

/// How many readiness probes reached the store.
async fn probes(store: &MockServer) -> usize {
    store
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|request| request.url.path() == format!("/stores/{STORE_HASH}/v2/orders/count"))
        .count()
}

async fn assert_ready(response: reqwest::Response) {
    assert_ready_with(response, &json!({"status": "up"})).await;
}

/// Ready, with `upstream` as BigCommerce's state.
async fn assert_ready_with(response: reqwest::Response, upstream: &Value) {
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"status": "ready", "upstream": upstream}));
}

/// A TCP front for a mock server that can be cut off: while closed it hangs up every new
/// connection at once and severs the open ones, as an unreachable API would.
struct Gate {
    base_url: String,
    open: watch::Sender<bool>,
    refused: Arc<AtomicUsize>,
}

impl Gate {
    async fn open_to(store: &MockServer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let target = *store.address();
        let (open, _) = watch::channel(true);
        let refused = Arc::new(AtomicUsize::new(0));
        let gate = open.clone();
        let refusals = Arc::clone(&refused);
        tokio::spawn(async move {
            for _ in 0..GATE_CONNECTIONS {
                let Ok(Ok((inbound, _))) = timeout(GATE_PATIENCE, listener.accept()).await else {
                    return;
                };
                if !*gate.borrow() {
                    refusals.fetch_add(1, Ordering::SeqCst);
                    drop(inbound);
                    continue;
                }
                tokio::spawn(forward(inbound, target, gate.subscribe()));
            }
        });
        Self {
            base_url,
            open,
            refused,
        }
    }

    fn close(&self) {
        self.open.send_replace(false);
    }

    fn reopen(&self) {
        self.open.send_replace(true);
    }

    fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

/// Copies bytes both ways until either side closes, or the gate does.
async fn forward(
    mut inbound: TcpStream,
    target: std::net::SocketAddr,
    mut open: watch::Receiver<bool>,
) {
    let Ok(mut outbound) = TcpStream::connect(target).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
        _ = open.wait_for(|open| !open) => {}
    }
}
