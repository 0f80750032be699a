//! `order-metafields healthcheck`, the container's HEALTHCHECK: exit 0 when the service on
//! LISTEN_ADDR answers `/healthz` with 200, exit 1 for anything else (Docker reserves 2).

use crate::harness::fixtures::{ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, STORE_HASH};
use crate::harness::process::{ScratchDirectory, Service, free_port, run_args_to_exit};

/// The service's settings listening on `listen`; the Management API is never called.
fn environment(listen: &str) -> Vec<(&'static str, String)> {
    vec![
        ("BC_STORE_HASH", STORE_HASH.to_owned()),
        ("BC_ACCESS_TOKEN", ACCESS_TOKEN.to_owned()),
        ("BC_CLIENT_ID", CLIENT_ID.to_owned()),
        ("BC_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("BC_API_BASE_URL", "http://127.0.0.1:9".to_owned()),
        ("LISTEN_ADDR", listen.to_owned()),
    ]
}

fn pairs<'a>(environment: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    environment
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

/// Runs `healthcheck` with `environment`, answering its exit code, stdout and stderr.
fn healthcheck(environment: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let directory = ScratchDirectory::new();
    run_args_to_exit(&directory, environment, &["healthcheck", "--timeout", "2s"])
}

#[tokio::test]
async fn healthcheck_exits_0_when_the_service_answers() {
    let port = free_port();
    let environment = environment(&format!("127.0.0.1:{port}"));
    let mut service = Service::start(&pairs(&environment));
    service
        .wait_until_healthy(&reqwest::Client::new(), &format!("http://127.0.0.1:{port}"))
        .await;

    let (code, stdout, stderr) = healthcheck(&pairs(&environment));

    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        format!("healthy: http://127.0.0.1:{port}/healthz answered 200 OK\n")
    );
    service.stop();
}

#[tokio::test]
async fn healthcheck_asks_over_loopback_when_the_service_listens_on_every_interface() {
    let port = free_port();
    let environment = environment(&format!("0.0.0.0:{port}"));
    let mut service = Service::start(&pairs(&environment));
    service
        .wait_until_healthy(&reqwest::Client::new(), &format!("http://127.0.0.1:{port}"))
        .await;

    let (code, stdout, stderr) = healthcheck(&pairs(&environment));

    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.starts_with(&format!("healthy: http://127.0.0.1:{port}/healthz")),
        "{stdout}"
    );
    service.stop();
}

#[test]
fn healthcheck_exits_1_when_nothing_answers() {
    let port = free_port();
    let environment = environment(&format!("127.0.0.1:{port}"));

    let (code, stdout, stderr) = healthcheck(&pairs(&environment));

    assert_eq!(code, Some(1));
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with(&format!(
            "order-metafields: unhealthy: http://127.0.0.1:{port}/healthz: "
        )),
        "{stderr}"
    );
}

#[tokio::test]
async fn healthcheck_with_an_address_needs_no_configuration() {
    let port = free_port();
    let environment = environment(&format!("127.0.0.1:{port}"));
    let mut service = Service::start(&pairs(&environment));
    service
        .wait_until_healthy(&reqwest::Client::new(), &format!("http://127.0.0.1:{port}"))
        .await;
    let directory = ScratchDirectory::new();

    let (code, stdout, stderr) = run_args_to_exit(
        &directory,
        &[],
        &["healthcheck", "--address", &format!("0.0.0.0:{port}")],
    );

    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        format!("healthy: http://127.0.0.1:{port}/healthz answered 200 OK\n")
    );
    service.stop();
}

#[test]
fn healthcheck_exits_1_not_2_when_the_configuration_is_missing() {
    let (code, _, stderr) = healthcheck(&[]);

    assert_eq!(code, Some(1), "2 would mean something else to Docker");
    assert_eq!(
        stderr,
        // No BC_STORE_HASH: an app, which needs its APP_URL first.
        "order-metafields: configuration error: APP_URL: required in app mode (set BC_STORE_HASH and BC_ACCESS_TOKEN instead to serve one store)\n"
    );
}
