//! A flood of held-open connections must not stop the service from answering others: 20,000
//! sockets that send a webhook delivery's head with `Content-Length: 1000` and never the
//! body (half of them with plausible signature headers, half with none), all from one
//! client address (127.0.0.1), while `/healthz` asked from another (127.0.0.2) must keep
//! answering within a second. It is its own test binary because it needs the open-file budget of a whole
//! process: the sockets are held by two child processes (this binary run again in holder
//! mode, each with its own open-file limit), the service runs here. Loopback only; every
//! loop is bounded in count and time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use order_metafields_service::config::Settings;
use order_metafields_service::startup::Application;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;

/// Set in a child's environment: `address;count;kind` makes it hold sockets instead.
const HOLDER: &str = "ORDER_METAFIELDS_FLOOD_HOLDER";
const TEST_NAME: &str = "held_sockets_do_not_stop_healthz_from_answering_within_a_second";
const HOLDERS: [(&str, usize); 2] = [("unsigned", 10_000), ("signed", 10_000)];
/// The address `/healthz` is asked from; the flood comes from 127.0.0.1. (Binding each of
/// 20,000 flood sockets to a chosen address would make the kernel search its ephemeral
/// ports once per socket, slower and slower as they fill; `connect` alone does not.)
const HEALTH_SOURCE: [u8; 4] = [127, 0, 0, 2];
/// The longest a holder may take to open its sockets, and hold them.
const HOLDER_OPENING_LIMIT: Duration = Duration::from_secs(90);
const HOLDER_HOLDING_LIMIT: Duration = Duration::from_secs(120);
const HEALTH_CHECKS: usize = 10;
/// How many connections a holder opens at once.
const CONNECTING_AT_ONCE: usize = 200;

#[test]
fn held_sockets_do_not_stop_healthz_from_answering_within_a_second() {
    if let Ok(spec) = std::env::var(HOLDER) {
        hold(&spec);
        return;
    }
    // The service's side of 20,000 connections needs the open files of this process.
    rlimit::increase_nofile_limit(u64::MAX).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let address = spawn_service().await;
        // Built before the flood: building it reads the system's certificates, which needs
        // open files too.
        let client = health_client();
        let mut holders: Vec<Holder> = HOLDERS
            .iter()
            .map(|(kind, count)| Holder::start(address, kind, *count))
            .collect();
        let held: usize = holders.iter_mut().map(Holder::wait_until_holding).sum();

        let answers = health_answers(&client, address).await;

        for holder in &mut holders {
            holder.stop();
        }
        assert_eq!(
            answers,
            vec![Ok(200); HEALTH_CHECKS],
            "/healthz within one second, each on a new connection, with {held} sockets held"
        );
        assert_eq!(held, 20_000, "the holders opened their sockets");
    });
}

/// The service with default limits, on a free port; nothing upstream is called.
async fn spawn_service() -> SocketAddr {
    let settings = Settings::from_pairs([
        ("BC_STORE_HASH", "floodstore"),
        ("BC_ACCESS_TOKEN", "flood-access-token"),
        ("BC_CLIENT_ID", "flood-client-id"),
        ("BC_CLIENT_SECRET", "flood-client-secret"),
        ("BC_API_BASE_URL", "http://127.0.0.1:9"),
        ("LISTEN_ADDR", "127.0.0.1:0"),
    ])
    .unwrap();
    let application = Application::build(settings).await.unwrap();
    let address = SocketAddr::from(([127, 0, 0, 1], application.port()));
    tokio::spawn(application.run_until_stopped());
    address
}

/// A client asking from [`HEALTH_SOURCE`] on a new connection each time, with one second
/// for each answer.
fn health_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .local_address(std::net::IpAddr::from(HEALTH_SOURCE))
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap()
}

/// Each `/healthz` answer's status, or why there was none.
async fn health_answers(client: &reqwest::Client, address: SocketAddr) -> Vec<Result<u16, String>> {
    let mut answers = Vec::new();
    for _ in 0..HEALTH_CHECKS {
        let answer = client
            .get(format!("http://{address}/healthz"))
            .send()
            .await
            .map(|response| response.status().as_u16())
            .map_err(|error| error.to_string());
        answers.push(answer);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    answers
}

/// A child process holding sockets open against the service.
struct Holder {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Holder {
    fn start(address: SocketAddr, kind: &str, count: usize) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env(HOLDER, format!("{address};{count};{kind}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Self { child, lines }
    }

    /// The sockets the holder reports holding, once it has opened them all (or given up).
    fn wait_until_holding(&mut self) -> usize {
        let deadline = Instant::now() + HOLDER_OPENING_LIMIT + Duration::from_secs(10);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    // libtest may print its own `test … ` before it on the same line.
                    if let Some((_, count)) = line.rsplit_once("held ") {
                        return count.trim().parse().unwrap();
                    }
                }
                Err(_) => break,
            }
        }
        0
    }

    fn stop(&mut self) {
        // Closing its stdin tells the holder to let go; killing it is the fallback.
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Holder mode: opens `count` connections to `address`, sends each a
/// delivery's head (`kind` `signed`: with plausible Standard Webhooks headers) declaring a
/// body that never comes, reports `held N`, and keeps them until its stdin closes.
fn hold(spec: &str) {
    let mut parts = spec.split(';');
    let address: SocketAddr = parts.next().unwrap().parse().unwrap();
    let count: usize = parts.next().unwrap().parse().unwrap();
    let signed = parts.next() == Some("signed");
    rlimit::increase_nofile_limit(u64::MAX).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let held = runtime.block_on(async {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let credentials = if signed {
            format!(
                "webhook-id: msg_flood\r\nwebhook-timestamp: {now}\r\n\
                 webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\r\n"
            )
        } else {
            String::new()
        };
        let head = format!(
            "POST /webhooks/bigcommerce HTTP/1.1\r\nHost: flood\r\nContent-Length: 1000\r\n{credentials}\r\n"
        );
        let started = Instant::now();
        let mut streams = Vec::with_capacity(count);
        // Connections are opened a batch at a time, each batch concurrently.
        while streams.len() < count && started.elapsed() < HOLDER_OPENING_LIMIT {
            let batch = (count - streams.len()).min(CONNECTING_AT_ONCE);
            let opened = futures_util::future::join_all(
                (0..batch).map(|_| open_and_send(address, head.as_bytes())),
            )
            .await;
            streams.extend(opened.into_iter().flatten());
        }
        streams
    });
    println!("\nheld {}", held.len());
    // Hold until the test closes stdin, or the holding limit passes.
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        let _ = done.send(());
    });
    let _ = finished.recv_timeout(HOLDER_HOLDING_LIMIT);
    drop(held);
}

/// One connection with `head` sent on it, or `None` when it could not
/// be opened within two seconds.
async fn open_and_send(address: SocketAddr, head: &[u8]) -> Option<tokio::net::TcpStream> {
    let socket = TcpSocket::new_v4().ok()?;
    let mut stream = tokio::time::timeout(Duration::from_secs(2), socket.connect(address))
        .await
        .ok()?
        .ok()?;
    // A connection the service already shut down refuses the write: still held here.
    let _ = tokio::time::timeout(Duration::from_millis(200), stream.write_all(head)).await;
    Some(stream)
}
