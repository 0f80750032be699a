//! Sends webhook callbacks: one spawned task per message, signed the Standard Webhooks way with
//! the app's client secret, retried a bounded number of times, and recorded so tests can wait
//! for quiet. A synchronous message (the configured destination's) hands its task back, so the
//! write that caused it can wait for it before answering. It knows nothing about the store's
//! data; `store` decides what to send where and which messages are synchronous.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use tokio::runtime::Handle;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use url::Url;
use uuid::Uuid;

/// How long one delivery attempt may take, connection included.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// Attempts per message, the first included. BigCommerce retries for 48 hours (Webhooks
/// Overview, "Callback retry mechanism"); a sandbox gives up within seconds instead.
const MAX_ATTEMPTS: u32 = 4;
/// The wait before the second attempt; it doubles before each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Background messages being sent at once; the rest wait their turn. Synchronous messages do
/// not wait for a turn: each has a write waiting for it, so they are bounded by the writes.
const CONCURRENT_DELIVERIES: usize = 16;

/// One message that was delivered, or given up on, as tests need to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryRecord {
    /// The callback's scope, such as `store/order/metafield/updated`.
    pub scope: String,
    /// Where it was sent.
    pub destination: String,
    /// The hook it was sent for; `None` for `SandboxConfig::webhook_destination`.
    pub hook_id: Option<u64>,
    /// The `webhook-id` header, the same on every attempt.
    pub webhook_id: String,
    /// The status of the last answer; `None` when the last attempt got no answer at all.
    pub status: Option<u16>,
    /// Attempts made, the first included.
    pub attempts: u32,
}

impl DeliveryRecord {
    /// Whether the destination finally answered with a `2xx`.
    pub fn succeeded(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }
}

/// Where one message goes, with which custom headers, and whether the write waits for it.
pub(crate) struct Target {
    pub destination: Url,
    pub hook_id: Option<u64>,
    pub headers: BTreeMap<String, String>,
    /// The write that caused the message answers only once it finished (answered, or given up
    /// on), like a synchronous hook; otherwise it is sent in the background.
    pub synchronous: bool,
}

/// The synchronous messages of a write, still being sent.
#[must_use = "a write answers after its synchronous messages finished; `finished` waits for them"]
#[derive(Default)]
pub(crate) struct Pending(Vec<JoinHandle<()>>);

impl Pending {
    /// Adds the messages of `other`.
    pub(crate) fn extend(&mut self, other: Pending) {
        self.0.extend(other.0);
    }

    /// Waits until every message finished: delivered, or given up on after its retries.
    pub(crate) async fn finished(self) {
        for task in self.0 {
            // A task that panicked has finished too; its record is missing, which tests see.
            let _ = task.await;
        }
    }
}

/// The sender of a sandbox store's webhooks, shared by its HTTP handlers and `SandboxStore`.
pub(crate) struct Deliveries {
    runtime: Handle,
    shared: Arc<Shared>,
    destination: Mutex<Option<Url>>,
}

struct Shared {
    client: reqwest::Client,
    key: hmac::Key,
    log: watch::Sender<DeliveryLog>,
    permits: Semaphore,
}

#[derive(Default)]
struct DeliveryLog {
    records: Vec<DeliveryRecord>,
    in_flight: usize,
}

struct Message {
    scope: String,
    target: Target,
    webhook_id: String,
    body: String,
}

impl Deliveries {
    /// Prepares to send on the current tokio runtime, signing with `client_secret`.
    pub(crate) fn new(client_secret: &str, destination: Option<Url>) -> anyhow::Result<Self> {
        let runtime = Handle::try_current()
            .context("the sandbox's webhook deliveries need a tokio runtime")?;
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(ATTEMPT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "order-metafields-sandbox/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .context("building the sandbox's webhook http client")?;
        Ok(Self {
            runtime,
            shared: Arc::new(Shared {
                client,
                key: hmac::Key::new(hmac::HMAC_SHA256, client_secret.as_bytes()),
                log: watch::Sender::new(DeliveryLog::default()),
                permits: Semaphore::new(CONCURRENT_DELIVERIES),
            }),
            destination: Mutex::new(destination),
        })
    }

    /// Where every order event goes besides registered hooks, if anywhere.
    pub(crate) fn destination(&self) -> Option<Url> {
        self.destination
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_destination(&self, destination: Option<Url>) {
        *self
            .destination
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = destination;
    }

    /// Sends `body` to every target, each as its own message with its own `webhook-id`, on
    /// tasks of their own; returns at once with the synchronous ones, for the write to wait
    /// for. Dropping them does not stop them. The in-flight count rises before this returns,
    /// so a caller that changed the store and then waits for quiet cannot miss the deliveries
    /// it caused.
    pub(crate) fn send(&self, scope: &str, body: &str, targets: Vec<Target>) -> Pending {
        let mut pending = Pending::default();
        for target in targets {
            let synchronous = target.synchronous;
            let message = Message {
                scope: scope.to_owned(),
                target,
                webhook_id: format!("msg_{}", Uuid::new_v4().simple()),
                body: body.to_owned(),
            };
            self.shared.log.send_modify(|log| log.in_flight += 1);
            let task = self
                .runtime
                .spawn(deliver(Arc::clone(&self.shared), message));
            if synchronous {
                pending.0.push(task);
            }
        }
        pending
    }

    /// Every message finished so far, in the order they finished.
    pub(crate) fn records(&self) -> Vec<DeliveryRecord> {
        self.shared.log.borrow().records.clone()
    }

    /// Waits until at least `count` messages have finished and none is in flight, or until
    /// `timeout`; returns the records either way.
    pub(crate) async fn wait(&self, count: usize, timeout: Duration) -> Vec<DeliveryRecord> {
        let mut receiver = self.shared.log.subscribe();
        let quiet = receiver.wait_for(|log| log.records.len() >= count && log.in_flight == 0);
        // Timing out is an answer too: the caller compares the records with what it expected.
        let _ = tokio::time::timeout(timeout, quiet).await;
        self.records()
    }
}

async fn deliver(shared: Arc<Shared>, message: Message) {
    let record = if message.target.synchronous {
        attempt_until_done(&shared, &message).await
    } else {
        match shared.permits.acquire().await {
            Ok(_permit) => attempt_until_done(&shared, &message).await,
            // The semaphore is never closed; if it were, the message is dropped unsent.
            Err(_) => (None, 0),
        }
    };
    let (status, attempts) = record;
    let record = DeliveryRecord {
        scope: message.scope,
        destination: message.target.destination.to_string(),
        hook_id: message.target.hook_id,
        webhook_id: message.webhook_id,
        status,
        attempts,
    };
    if record.succeeded() {
        tracing::debug!(scope = %record.scope, destination = %record.destination, attempts, "sandbox webhook delivered");
    } else {
        tracing::warn!(
            scope = %record.scope,
            destination = %record.destination,
            // Left out of the event when the destination never answered.
            status = record.status,
            attempts,
            "sandbox webhook delivery gave up"
        );
    }
    shared.log.send_modify(|log| {
        log.in_flight = log.in_flight.saturating_sub(1);
        log.records.push(record);
    });
}

/// Posts the message until a `2xx` or `MAX_ATTEMPTS`; returns the last status and the attempts.
async fn attempt_until_done(shared: &Shared, message: &Message) -> (Option<u16>, u32) {
    let mut backoff = FIRST_BACKOFF;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let timestamp = unix_now();
        let headers = delivery_headers(&shared.key, message, timestamp);
        let sent = shared
            .client
            .post(message.target.destination.clone())
            .headers(headers)
            .body(message.body.clone())
            .send()
            .await;
        let status = match sent {
            Ok(response) => Some(response.status()),
            Err(error) => {
                tracing::debug!(%error, attempts, "sandbox webhook attempt failed");
                None
            }
        };
        if status.is_some_and(|status| status.is_success()) || attempts >= MAX_ATTEMPTS {
            return (status.map(|status| status.as_u16()), attempts);
        }
        tokio::time::sleep(backoff).await;
        backoff *= 2;
    }
}

/// The hook's custom headers, then the content type and the Standard Webhooks headers, which
/// win over a custom header of the same name.
fn delivery_headers(key: &hmac::Key, message: &Message, timestamp: u64) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in &message.target.headers {
        // Hook headers were validated when the hook was saved; an invalid one is skipped.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    let signature = sign(key, &message.webhook_id, timestamp, &message.body);
    let standard = [
        (CONTENT_TYPE, "application/json".to_owned()),
        (
            HeaderName::from_static("webhook-id"),
            message.webhook_id.clone(),
        ),
        (
            HeaderName::from_static("webhook-timestamp"),
            timestamp.to_string(),
        ),
        (HeaderName::from_static("webhook-signature"), signature),
    ];
    for (name, value) in standard {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    headers
}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, as the Standard Webhooks
/// specification signs; the key is the client secret's bytes as they are, not a `whsec_` value.
pub(crate) fn sign(key: &hmac::Key, webhook_id: &str, timestamp: u64, body: &str) -> String {
    let signed = format!("{webhook_id}.{timestamp}.{body}");
    let tag = hmac::sign(key, signed.as_bytes());
    format!("v1,{}", BASE64.encode(tag.as_ref()))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_test_vector() {
        // The specification's example: secret `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`, whose
        // key is the base64 after the prefix.
        let key_bytes = BASE64.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let key = hmac::Key::new(hmac::HMAC_SHA256, &key_bytes);

        let signature = sign(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );

        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn standard_headers_win_over_custom_headers_of_the_same_name() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"secret");
        let message = Message {
            scope: "store/order/created".to_owned(),
            target: Target {
                destination: Url::parse("http://127.0.0.1:1/hooks").unwrap(),
                hook_id: Some(1),
                headers: BTreeMap::from([
                    ("X-Webhook-Secret".to_owned(), "s3cret".to_owned()),
                    ("Content-Type".to_owned(), "text/plain".to_owned()),
                    ("webhook-id".to_owned(), "forged".to_owned()),
                ]),
                synchronous: false,
            },
            webhook_id: "msg_1".to_owned(),
            body: "{}".to_owned(),
        };

        let headers = delivery_headers(&key, &message, 42);

        assert_eq!(headers["x-webhook-secret"], "s3cret");
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        assert_eq!(headers["webhook-id"], "msg_1");
        assert_eq!(headers["webhook-timestamp"], "42");
        assert_eq!(
            headers["webhook-signature"],
            sign(&key, "msg_1", 42, "{}").as_str()
        );
    }
}
