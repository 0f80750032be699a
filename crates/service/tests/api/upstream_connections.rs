//! Broken connections to the Management API, below what wiremock can fake: an upstream that
//! hangs up without answering, one that sends half a response, one that never answers.
//! Each is a tiny TCP server that counts the connections it accepts, so the tests can
//! prove that retries happen and stay within `UPSTREAM_MAX_RETRIES`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

use crate::helpers::{assert_problem, spawn_app_with, token_for};

/// The most connections a fake upstream accepts before it stops listening.
const MAX_CONNECTIONS: usize = 32;
/// How long a fake upstream waits for anything before giving up.
const PATIENCE: Duration = Duration::from_secs(5);

/// What the fake upstream does with each connection, after reading the request head.
#[derive(Clone, Copy, Debug)]
enum Misbehaviour {
    /// Closes the connection without a byte of answer.
    HangUp,
    /// Sends part of the status line and headers, then closes.
    HalfHeaders,
    /// Sends the headers and part of the announced body, then closes.
    HalfBody,
    /// Keeps the connection open and says nothing.
    Silence,
}

/// A running fake upstream.
struct BrokenUpstream {
    base_url: String,
    connections: Arc<AtomicUsize>,
}

#[tokio::test]
async fn an_upstream_that_hangs_up_without_answering_is_502_after_at_most_the_configured_retries() {
    for max_retries in [0_usize, 3] {
        let upstream = BrokenUpstream::start(Misbehaviour::HangUp).await;
        let retries = max_retries.to_string();
        let app = spawn_app_with(&[
            ("BC_API_BASE_URL", &upstream.base_url),
            ("UPSTREAM_MAX_RETRIES", &retries),
        ])
        .await;

        let response = app.get_orders(&token_for(7), "").await;

        assert_problem(response, 502, "upstream-error").await;
        assert_eq!(
            upstream.connections(),
            1 + max_retries,
            "case: UPSTREAM_MAX_RETRIES={max_retries}: one try and each retry on a new connection"
        );
    }
}

#[tokio::test]
async fn an_upstream_that_sends_half_a_response_then_closes_is_502_after_bounded_retries() {
    for misbehaviour in [Misbehaviour::HalfHeaders, Misbehaviour::HalfBody] {
        let upstream = BrokenUpstream::start(misbehaviour).await;
        let app = spawn_app_with(&[
            ("BC_API_BASE_URL", &upstream.base_url),
            ("UPSTREAM_MAX_RETRIES", "2"),
        ])
        .await;

        let response = app.get_orders(&token_for(7), "").await;

        let body = assert_problem(response, 502, "upstream-error").await;
        assert!(
            !body.to_string().contains("customer_id"),
            "case: {misbehaviour:?}: no upstream bytes in {body}"
        );
        assert_eq!(upstream.connections(), 3, "case: {misbehaviour:?}");
    }
}

#[tokio::test]
async fn an_upstream_that_accepts_but_never_answers_is_504_without_retrying() {
    let upstream = BrokenUpstream::start(Misbehaviour::Silence).await;
    let app = spawn_app_with(&[
        ("BC_API_BASE_URL", &upstream.base_url),
        ("UPSTREAM_TIMEOUT", "300ms"),
        ("UPSTREAM_MAX_RETRIES", "3"),
    ])
    .await;

    let response = app.get_orders(&token_for(7), "").await;

    assert_problem(response, 504, "upstream-timeout").await;
    assert_eq!(upstream.connections(), 1);
}

impl BrokenUpstream {
    /// Listens on a free loopback port and misbehaves on every connection, for at most
    /// [`MAX_CONNECTIONS`] connections and [`PATIENCE`] between them.
    async fn start(misbehaviour: Misbehaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        tokio::spawn(async move {
            for _ in 0..MAX_CONNECTIONS {
                let Ok(Ok((stream, _))) = timeout(PATIENCE, listener.accept()).await else {
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(misbehave(stream, misbehaviour));
            }
        });
        Self {
            base_url,
            connections,
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn misbehave(mut stream: TcpStream, misbehaviour: Misbehaviour) {
    read_request_head(&mut stream).await;
    let partial: &[u8] = match misbehaviour {
        Misbehaviour::HangUp => b"",
        Misbehaviour::HalfHeaders => b"HTTP/1.1 200 OK\r\nContent-Type: appli",
        Misbehaviour::HalfBody => {
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n[{\"id\": 100, \"customer_id\": 7, "
        }
        Misbehaviour::Silence => {
            tokio::time::sleep(PATIENCE).await;
            b""
        }
    };
    // Errors are ignored: the client may already have given up, which is the point.
    let _ = stream.write_all(partial).await;
    let _ = stream.flush().await;
}

/// Reads until the blank line that ends the request head (a GET has no body), within
/// [`PATIENCE`] and 16 KiB, so that closing afterwards is a clean hang-up, not a reset.
async fn read_request_head(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut buffer = [0_u8; 1024];
    let _ = timeout(PATIENCE, async {
        while head.len() < 16 * 1024 && !head.windows(4).any(|window| window == b"\r\n\r\n") {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(read) => head.extend_from_slice(&buffer[..read]),
            }
        }
    })
    .await;
}
