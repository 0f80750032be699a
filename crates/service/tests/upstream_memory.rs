//! What oversized upstream answers cost in memory, measured on this process's own resident
//! set, so it is a test binary of its own: no other test shares the process while it
//! runs. An upstream on loopback answers every request with a body far over the 16 MiB an
//! answer may be, streamed without a length or announced with one; 40 customers ask at
//! once. Every loop here is bounded in count and in time.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use order_metafields_service::config::Settings;
use order_metafields_service::startup::Application;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

const STORE_HASH: &str = "memorystore";
const CLIENT_ID: &str = "memory-client-id";
const CLIENT_SECRET: &str = "memory-client-secret-value";
/// Customers asking at once, each for their own list (so no single flight shares a load).
const CUSTOMERS: u64 = 40;
/// What the upstream offers per answer: four times the most an answer may be.
const OFFERED_BYTES: usize = 64 * 1024 * 1024;
/// How much the resident set may grow, at its peak and afterwards, while 40 oversized
/// answers arrive at once. Without a bound per answer and on large answers at once the
/// peak was about 950 MiB: each answer buffered 16 MiB and more.
const MAX_GROWTH_MIB: u64 = 200;

/// How the upstream sends its oversized body.
#[derive(Clone, Copy, Debug)]
enum Framing {
    /// `Transfer-Encoding: chunked`: the size shows only while reading.
    Chunked,
    /// `Content-Length` announcing the whole size.
    Announced,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_concurrent_oversized_upstream_answers_leave_the_resident_set_bounded() {
    for framing in [Framing::Chunked, Framing::Announced] {
        let upstream = oversized_upstream(framing).await;
        let address = spawn_app(&upstream).await;
        let client = reqwest::Client::new();
        let before = resident_mib();
        let sampler = PeakSampler::start();

        let requests = (1..=CUSTOMERS).map(|customer| {
            let request = client
                .get(format!("{address}/v1/orders"))
                .bearer_auth(token_for(customer));
            async move { request.send().await.unwrap() }
        });
        let responses = timeout(
            Duration::from_secs(60),
            futures_util::future::join_all(requests),
        )
        .await
        .expect("every request is answered within a minute");
        let mut statuses = Vec::new();
        let mut types = Vec::new();
        for response in responses {
            statuses.push(response.status().as_u16());
            let problem: Value = response.json().await.unwrap();
            types.push(problem["type"].as_str().unwrap_or_default().to_owned());
        }
        // Time for freed buffers to leave the resident set.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let peak = sampler.stop();
        let after = resident_mib();

        println!(
            "{framing:?}: resident {before} MiB before, {peak} MiB at the peak, {after} MiB after"
        );
        assert!(
            statuses.iter().all(|status| *status == 502),
            "case: {framing:?}: {statuses:?}"
        );
        assert!(
            types
                .iter()
                .all(|kind| kind == "urn:order-metafields:problem:upstream-error"),
            "case: {framing:?}: {types:?}"
        );
        assert!(
            peak.saturating_sub(before) <= MAX_GROWTH_MIB,
            "case: {framing:?}: the peak grew from {before} to {peak} MiB"
        );
        assert!(
            after.saturating_sub(before) <= MAX_GROWTH_MIB,
            "case: {framing:?}: {after} MiB stayed resident, from {before} MiB"
        );
    }
}

/// Starts the service against `upstream` on a free loopback port; returns its base URL.
async fn spawn_app(upstream: &str) -> String {
    let settings = Settings::from_pairs([
        ("BC_STORE_HASH", STORE_HASH),
        ("BC_ACCESS_TOKEN", "memory-access-token"),
        ("BC_CLIENT_ID", CLIENT_ID),
        ("BC_CLIENT_SECRET", CLIENT_SECRET),
        ("BC_API_BASE_URL", upstream),
        ("LISTEN_ADDR", "127.0.0.1:0"),
        ("UPSTREAM_MAX_RETRIES", "0"),
        ("UPSTREAM_TIMEOUT", "30s"),
        ("UPSTREAM_RETRY_BUDGET", "30s"),
    ])
    .unwrap();
    let application = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    address
}

/// A loopback upstream answering each request `200` with [`OFFERED_BYTES`] of body, for
/// at most 100 connections, giving up on a connection once the client closes it.
async fn oversized_upstream(framing: Framing) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        for _ in 0..100 {
            let Ok(Ok((stream, _))) = timeout(Duration::from_secs(30), listener.accept()).await
            else {
                return;
            };
            tokio::spawn(timeout(Duration::from_secs(30), answer(stream, framing)));
        }
    });
    base
}

async fn answer(mut stream: TcpStream, framing: Framing) {
    let mut head = Vec::new();
    let mut buffer = [0_u8; 1024];
    while head.len() < 16 * 1024 && !head.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let chunk = vec![b' '; 64 * 1024];
    let header = match framing {
        Framing::Chunked => "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_owned(),
        Framing::Announced => format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {OFFERED_BYTES}\r\n\r\n"
        ),
    };
    if stream.write_all(header.as_bytes()).await.is_err() {
        return;
    }
    for _ in 0..OFFERED_BYTES / chunk.len() {
        let written = match framing {
            Framing::Chunked => {
                let size = format!("{:x}\r\n", chunk.len());
                let mut framed = size.into_bytes();
                framed.extend_from_slice(&chunk);
                framed.extend_from_slice(b"\r\n");
                stream.write_all(&framed).await
            }
            Framing::Announced => stream.write_all(&chunk).await,
        };
        if written.is_err() {
            return;
        }
    }
}

/// This process's resident set, in MiB.
fn resident_mib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // Linux on every platform CI uses has 4 KiB pages.
    pages * 4096 / (1024 * 1024)
}

/// Reads the resident set every 5 ms on a thread of its own, keeping the largest.
struct PeakSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl PeakSampler {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(resident_mib()));
        let thread = {
            let (stop, peak) = (Arc::clone(&stop), Arc::clone(&peak));
            // At most two minutes of samples, whatever happens to the test.
            std::thread::spawn(move || {
                for _ in 0..24_000 {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    peak.fetch_max(resident_mib(), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        Self { stop, peak, thread }
    }

    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        self.peak.load(Ordering::Relaxed)
    }
}

fn token_for(customer: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "customer": {"id": customer, "email": "shopper@example.com", "group_id": "0"},
        "iss": "bc/apps", "sub": STORE_HASH, "iat": now, "exp": now + 900,
        "version": 1, "aud": CLIENT_ID, "application_id": CLIENT_ID,
        "store_hash": STORE_HASH, "operation": "current_customer"
    });
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(CLIENT_SECRET.as_bytes()),
    )
    .unwrap()
}
