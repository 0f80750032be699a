//! The several-replicas harness: three (or more) real applications in app mode on one
//! PostgreSQL database (a fresh one in the server `TEST_POSTGRES_URL` names), in front of
//! one wiremock BigCommerce. Without `TEST_POSTGRES_URL` there is nothing to share (SQLite
//! mode is one replica): [`Cluster::spawn`] prints a notice and the test returns.

use std::time::Duration;

use order_metafields_service::config::Settings;
use order_metafields_service::database::{Database, StoreRecord};
use order_metafields_service::domain::StoreHash;
use order_metafields_service::replicas::listener_name;
use order_metafields_service::sealing::{EncryptionKey, TokenSealer};
use order_metafields_service::startup::Application;
use order_metafields_service::webhooks::store_webhook_secret;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::time::Instant;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::app::{APP_URL, OWNER_ID, SCOPES, TOKEN_KEY, with_query};
use crate::helpers::{CLIENT_ID, CLIENT_SECRET};
use crate::test_database::TestDatabase;

/// How often a bounded wait asks again.
const POLL_EVERY: Duration = Duration::from_millis(20);

/// Replicas of one app on one database.
pub struct Cluster {
    pub bigcommerce: MockServer,
    /// The shared database, kept as long as the replicas run.
    database: TestDatabase,
    pub replicas: Vec<Replica>,
    pub client: reqwest::Client,
    /// The PostgreSQL server's URL, to reach into it as an operator would.
    server: String,
}

/// One running replica.
pub struct Replica {
    pub address: String,
    pub id: uuid::Uuid,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Cluster {
    /// `count` replicas against a fresh database, or `None` (with a printed notice) when
    /// `TEST_POSTGRES_URL` is not set.
    pub async fn spawn(test: &str, count: usize, overrides: &[(&str, &str)]) -> Option<Self> {
        let Ok(server) = std::env::var("TEST_POSTGRES_URL") else {
            eprintln!(
                "skipped {test}: several replicas need PostgreSQL; set TEST_POSTGRES_URL=$(tools/postgres/start)"
            );
            return None;
        };
        let bigcommerce = MockServer::start().await;
        let database = TestDatabase::new().await;
        Some(Self::spawn_against(server, bigcommerce, database, count, overrides).await)
    }

    /// `count` replicas in front of another BigCommerce (the sandbox): `api_base` is its
    /// Management API, `client` its app's id and secret, and `stores` (hash, access token)
    /// are installed in the database before the replicas start, as an earlier install would
    /// have left them.
    pub async fn spawn_in_front_of(
        test: &str,
        api_base: &str,
        client: (&str, &str),
        stores: &[(&str, &str)],
        count: usize,
        overrides: &[(&str, &str)],
    ) -> Option<Self> {
        let Ok(server) = std::env::var("TEST_POSTGRES_URL") else {
            eprintln!(
                "skipped {test}: several replicas need PostgreSQL; set TEST_POSTGRES_URL=$(tools/postgres/start)"
            );
            return None;
        };
        let database = TestDatabase::new().await;
        let pool = Database::connect(&database.url)
            .await
            .expect("the test database answers");
        let key = EncryptionKey::from_base64(TOKEN_KEY).expect("the test key is valid");
        let sealer = TokenSealer::new(&key, None);
        for (store, token) in stores {
            let (sealed, key_id) = sealer
                .seal(store, &SecretString::from(*token))
                .expect("the token seals");
            let record = StoreRecord::installed_now(
                (*store).to_owned(),
                sealed,
                key_id,
                SCOPES.to_owned(),
                (OWNER_ID, "owner@example.com".to_owned()),
                None,
            );
            pool.save_store(&record).await.expect("the store is saved");
        }
        pool.close().await;
        let mut pairs = vec![
            ("BC_API_BASE_URL", api_base),
            ("BC_LOGIN_BASE_URL", api_base),
            ("BC_CLIENT_ID", client.0),
            ("BC_CLIENT_SECRET", client.1),
        ];
        pairs.extend_from_slice(overrides);
        let bigcommerce = MockServer::start().await;
        Some(Self::spawn_against(server, bigcommerce, database, count, &pairs).await)
    }

    async fn spawn_against(
        server: String,
        bigcommerce: MockServer,
        database: TestDatabase,
        count: usize,
        overrides: &[(&str, &str)],
    ) -> Self {
        let base = bigcommerce.uri();
        let mut pairs: Vec<(String, String)> = [
            ("BC_CLIENT_ID", CLIENT_ID),
            ("BC_CLIENT_SECRET", CLIENT_SECRET),
            ("APP_URL", APP_URL),
            ("TOKEN_ENCRYPTION_KEY", TOKEN_KEY),
            ("APP_SCOPES", SCOPES),
            ("LISTEN_ADDR", "127.0.0.1:0"),
            ("UPSTREAM_RETRY_BUDGET", "3s"),
            ("UPSTREAM_TIMEOUT", "2s"),
        ]
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
        pairs.push(("BC_API_BASE_URL".to_owned(), base.clone()));
        pairs.push(("BC_LOGIN_BASE_URL".to_owned(), base));
        pairs.push(("DATABASE_URL".to_owned(), database.url_text.clone()));
        for (name, value) in overrides {
            pairs.retain(|(other, _)| other != name);
            pairs.push(((*name).to_owned(), (*value).to_owned()));
        }
        let mut replicas = Vec::with_capacity(count);
        // One after the other: each runs the migrations at start-up.
        for _ in 0..count {
            let settings = Settings::from_pairs(
                pairs
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str())),
            )
            .expect("replica settings are valid");
            let application = Application::build(settings)
                .await
                .expect("the replica builds");
            replicas.push(Replica {
                address: format!("http://127.0.0.1:{}", application.port()),
                id: application.replica_id(),
                server: tokio::spawn(application.run_until_stopped()),
            });
        }
        Self {
            bigcommerce,
            database,
            replicas,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("the test http client builds"),
            server,
        }
    }

    /// The shared database's URL.
    pub fn database_url(&self) -> order_metafields_service::database::DatabaseUrl {
        self.database.url.clone()
    }

    /// Replica `number`, counted from 1.
    pub fn replica(&self, number: usize) -> &Replica {
        &self.replicas[number - 1]
    }

    /// Mounts the login service granting `code` a token for `store`, and the store's hooks.
    pub async fn mount_install(&self, store: &str, code: &str, token: &str) {
        Mock::given(method("POST"))
            .and(path("/oauth2/token"))
            .and(body_partial_json(json!({"code": code})))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": token,
                "scope": SCOPES,
                "user": {"id": OWNER_ID, "username": "owner@example.com", "email": "owner@example.com"},
                "owner": {"id": OWNER_ID, "username": "owner@example.com", "email": "owner@example.com"},
                "context": format!("stores/{store}"),
                "account_uuid": "12345678-90ab-cdef-1234-567890abcdef"
            })))
            .up_to_n_times(1)
            .mount(&self.bigcommerce)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/stores/{store}/v3/hooks")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [], "meta": {}})))
            .mount(&self.bigcommerce)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/stores/{store}/v3/hooks")))
            .respond_with(|request: &wiremock::Request| {
                let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
                ResponseTemplate::new(200).set_body_json(json!({"data": {
                    "id": 1, "client_id": CLIENT_ID, "store_hash": "x", "created_at": 1, "updated_at": 1,
                    "scope": body["scope"], "destination": body["destination"],
                    "is_active": true, "headers": body["headers"]
                }}))
            })
            .mount(&self.bigcommerce)
            .await;
    }

    /// Installs `store` through replica `number`'s auth callback (BigCommerce mocked).
    pub async fn install(&self, number: usize, store: &str, token: &str) {
        let code = format!("code-{store}-{}", uuid::Uuid::new_v4().simple());
        self.mount_install(store, &code, token).await;
        self.auth_callback(number, store, &code).await;
    }

    /// The auth callback, on replica `number`; panics unless it installed the store.
    pub async fn auth_callback(&self, number: usize, store: &str, code: &str) {
        let response = self
            .client
            .get(with_query(
                &format!("{}/bigcommerce/auth", self.replica(number).address),
                &[
                    ("account_uuid", "12345678-90ab-cdef-1234-567890abcdef"),
                    ("code", code),
                    ("context", &format!("stores/{store}")),
                    ("scope", SCOPES),
                ],
            ))
            .send()
            .await
            .expect("the request reaches the replica");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 200, "installing {store}: {body}");
    }

    /// A GET on replica `number`, with a bearer token if given.
    pub async fn get(&self, number: usize, route: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self
            .client
            .get(format!("{}{route}", self.replica(number).address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .expect("the request reaches the replica")
    }

    /// Delivers a webhook about `store` to replica `number`, with the store's own secret.
    pub async fn deliver(&self, number: usize, store: &str, body: &Value) -> reqwest::Response {
        let secret = store_webhook_secret(
            &SecretString::from(CLIENT_SECRET),
            &StoreHash::parse(store).expect("a store hash"),
        );
        self.client
            .post(format!(
                "{}/webhooks/bigcommerce",
                self.replica(number).address
            ))
            .header("x-webhook-secret", secret.expose_secret())
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("the request reaches the replica")
    }

    /// The text of replica `number`'s `/metrics`.
    pub async fn metrics(&self, number: usize) -> String {
        self.get(number, "/metrics", None)
            .await
            .text()
            .await
            .unwrap_or_default()
    }

    /// Ends replica `number`'s listening connection from the server's side, as a database
    /// restart or a network cut would; returns how many connections were ended.
    pub async fn terminate_listener(&self, number: usize) -> i64 {
        let mut connection = sqlx::PgConnection::connect(&self.server)
            .await
            .expect("the PostgreSQL server answers");
        let ended: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        )
        .bind(listener_name(self.replica(number).id))
        .fetch_all(&mut connection)
        .await
        .expect("the listener's connection is found");
        ended.iter().filter(|ended| **ended).count() as i64
    }
}

impl Cluster {
    /// Stops (`SIGSTOP`) the server processes of replica `number`'s listening connection:
    /// the connection stays open and says nothing, as one a NAT forgot. Returns their pids,
    /// for [`resume`].
    pub async fn silence_listener(&self, number: usize) -> Vec<i32> {
        let mut connection = sqlx::PgConnection::connect(&self.server)
            .await
            .expect("the PostgreSQL server answers");
        let pids: Vec<i32> =
            sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
                .bind(listener_name(self.replica(number).id))
                .fetch_all(&mut connection)
                .await
                .expect("the listener's connection is found");
        for pid in &pids {
            signal(*pid, "STOP");
        }
        pids
    }
}

/// Lets stopped server processes go on (`SIGCONT`).
pub fn resume(pids: &[i32]) {
    for pid in pids {
        signal(*pid, "CONT");
    }
}

fn signal(pid: i32, name: &str) {
    // The shell's own `kill`: no package needed beyond /bin/sh.
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("kill -{name} {pid}"))
        .status()
        .expect("sh runs");
    assert!(status.success(), "kill -{name} {pid}");
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for replica in &self.replicas {
            replica.server.abort();
        }
    }
}

/// Asks `check` again every 20 ms until it says yes or `within` has passed; returns how long
/// it took, or `None` if it never did. Bounded in time (and so in count).
pub async fn within<F, Fut>(within: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return Some(started.elapsed());
        }
        if started.elapsed() >= within {
            return None;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}
