//! Graceful shutdown of the real binary: on SIGTERM it stops accepting, lets an in-flight
//! request finish, and exits 0.

use std::time::{Duration, Instant};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::fixtures::{
    ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, STORE_HASH, token_for, v2_order,
};
use crate::harness::process::{Service, free_port};

#[tokio::test]
async fn sigterm_during_a_slow_request_lets_it_finish_and_exits_zero() {
    let management = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE_HASH}/v2/orders")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(vec![v2_order(100, 7, 1)])
                .set_delay(Duration::from_millis(1500)),
        )
        .mount(&management)
        .await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let base = management.uri();
    let mut service = Service::start(&[
        ("BC_STORE_HASH", STORE_HASH),
        ("BC_ACCESS_TOKEN", ACCESS_TOKEN),
        ("BC_CLIENT_ID", CLIENT_ID),
        ("BC_CLIENT_SECRET", CLIENT_SECRET),
        ("BC_API_BASE_URL", base.as_str()),
        ("LISTEN_ADDR", listen.as_str()),
        ("SHUTDOWN_GRACE", "10s"),
    ]);
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    service.wait_until_healthy(&client, &address).await;
    let in_flight = {
        let client = client.clone();
        let url = format!("{address}/v1/orders");
        tokio::spawn(async move { client.get(url).bearer_auth(token_for(7)).send().await })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;

    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &service.child.id().to_string()])
        .status()
        .unwrap();
    let response = in_flight.await.unwrap().unwrap();
    let started = Instant::now();
    let exit = loop {
        if let Some(status) = service.child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(10) {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    assert!(signalled.success());
    assert_eq!(response.status(), 200, "the in-flight request finished");
    assert_eq!(
        exit.map(|status| status.code()),
        Some(Some(0)),
        "{}",
        service.stop().stderr
    );
}
