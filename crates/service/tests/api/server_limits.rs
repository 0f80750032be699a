//! What one connection or client may hold of the server, seen from a raw socket: a body
//! that never comes, a head that never ends, an idle connection, too many connections from
//! one address. Each bound is set small here and each wait is bounded well above it, so a
//! slow machine makes these tests slower, never wrong.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, spawn_app_with};
use crate::raw_http::{PATIENCE, assert_closed_by_server, connect, parse, read_response};

#[tokio::test]
async fn a_get_with_a_body_that_never_comes_is_answered_and_closed() {
    let app = spawn_app_with(&[("HTTP_BODY_TIMEOUT", "1s")]).await;
    let mut stream = connect(&app).await;

    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        .await
        .unwrap();
    let response = read_response(&mut stream).await;

    assert_eq!(response.status, 200);
    assert_eq!(response.header("connection"), Some("close"));
    assert_closed_by_server(&mut stream).await;
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_keep_alive() {
    let app = spawn_app_with(&[("HTTP_KEEP_ALIVE", "1s")]).await;
    let mut stream = connect(&app).await;

    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let response = read_response(&mut stream).await;

    assert_eq!(response.status, 200);
    assert_closed_by_server(&mut stream).await;
}

#[tokio::test]
async fn a_client_over_its_connection_bound_is_closed_before_anything_is_read() {
    let app = spawn_app_with(&[
        ("HTTP_MAX_CONNECTIONS_PER_CLIENT", "2"),
        ("HTTP_KEEP_ALIVE", "60s"),
    ])
    .await;
    // Each answered, so the server has counted both before the third arrives (two workers
    // may otherwise take up connections out of order).
    let first = answered_connection(&app).await;
    let second = answered_connection(&app).await;

    let mut third = connect(&app).await;
    // The request may or may not be written before the server shuts the socket down.
    let _ = third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut received = Vec::new();
    let read = tokio::time::timeout(PATIENCE, third.read_to_end(&mut received)).await;

    assert!(read.is_ok(), "the server kept the third connection open");
    assert_eq!(
        String::from_utf8_lossy(&received),
        "",
        "the third connection is closed without an answer"
    );
    drop((first, second));
    let freed = answered_health(&app).await;

    assert_eq!(freed, 200, "closed connections free their slots");
}

/// A connection on which `/healthz` was answered, kept open.
async fn answered_connection(app: &TestApp) -> tokio::net::TcpStream {
    let mut stream = connect(app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut stream).await.status, 200);
    stream
}

/// A fresh connection's `/healthz` status, retried while the server may still be counting
/// the connections just dropped (it notices a closed socket on its next read).
async fn answered_health(app: &TestApp) -> u16 {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let mut stream = connect(app).await;
        let written = stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await;
        let mut received = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut received)).await;
        if let (Ok(_), Ok(_), Some(response)) = (written, read, parse(&received)) {
            return response.status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/healthz never answered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// The answers below are written by actix-http's request parser, before any middleware of
// the service runs: actix (3.x) offers no hook to render them, so they cannot be problem
// documents and carry no X-Request-Id. These tests pin that behaviour, so that a change in
// actix (or a way found to render them) is noticed and the README's security model updated.

#[tokio::test]
async fn a_malformed_request_gets_actix_s_bare_400_and_is_closed() {
    let app = spawn_app_with(&[]).await;
    let mut stream = connect(&app).await;

    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost x\r\n\r\n")
        .await
        .unwrap();
    let response = read_response(&mut stream).await;

    assert_eq!(response.status, 400);
    assert_eq!(response.body, "");
    assert_eq!(response.header("x-request-id"), None);
    assert_eq!(response.header("content-type"), None);
    assert_closed_by_server(&mut stream).await;
}

#[tokio::test]
async fn oversized_headers_get_actix_s_bare_431_and_are_closed() {
    let app = spawn_app_with(&[]).await;
    let mut stream = connect(&app).await;
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(160 * 1024)
    );

    // The server may close before reading it all.
    let _ = stream.write_all(request.as_bytes()).await;
    let response = read_response(&mut stream).await;

    assert_eq!(response.status, 431);
    assert_eq!(response.body, "");
    assert_eq!(response.header("x-request-id"), None);
    assert_closed_by_server(&mut stream).await;
}

#[tokio::test]
async fn a_head_that_never_ends_gets_actix_s_bare_408_after_the_header_timeout() {
    let app = spawn_app_with(&[("HTTP_HEADER_TIMEOUT", "1s")]).await;
    let mut stream = connect(&app).await;

    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let response = read_response(&mut stream).await;

    assert_eq!(response.status, 408);
    assert_eq!(response.body, "");
    assert_eq!(response.header("x-request-id"), None);
    assert_closed_by_server(&mut stream).await;
}
