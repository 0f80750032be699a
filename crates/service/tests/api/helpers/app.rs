//! The app-mode harness: the real application without `BC_STORE_HASH`, on a fresh database
//! (SQLite, or PostgreSQL with `TEST_POSTGRES_URL`), against one wiremock server playing
//! both BigCommerce's login service (`/oauth2/token`) and every store's Management API
//! (`/stores/{hash}/…`). Installs go through the real auth callback; signed payloads and
//! customer tokens are minted as BigCommerce mints them.

use jsonwebtoken::Algorithm;
use order_metafields_service::config::Settings;
use order_metafields_service::startup::Application;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate, Times};

use crate::helpers::{CLIENT_ID, CLIENT_SECRET, metafield_page, now, sign};
use crate::test_database::TestDatabase;

/// `APP_URL` of every app-mode test application.
pub const APP_URL: &str = "https://app.example.com";
/// The scopes the app expects and the fake login service grants.
pub const SCOPES: &str = "store_v2_orders_read_only";
/// `TOKEN_ENCRYPTION_KEY` of the tests: 32 bytes, base64.
pub const TOKEN_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// The owner of every store the fake login service installs.
pub const OWNER_ID: i64 = 7_654_321;

/// A running application in app mode, its database and its fake BigCommerce.
pub struct AppMode {
    pub address: String,
    pub bigcommerce: MockServer,
    pub client: reqwest::Client,
    pub database: TestDatabase,
    /// The settings it was built with, to build it again (a restart).
    pairs: Vec<(String, String)>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    stop: Option<actix_web::dev::ServerHandle>,
    /// The running application's own database pool.
    pool: Option<order_metafields_service::database::Database>,
}

impl AppMode {
    /// An application in app mode with no store installed yet.
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// The same, with some settings overridden.
    pub async fn spawn_with(overrides: &[(&str, &str)]) -> Self {
        let bigcommerce = MockServer::start().await;
        let database = TestDatabase::new().await;
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
        pairs.push(("BC_API_BASE_URL".to_owned(), bigcommerce.uri()));
        pairs.push(("BC_LOGIN_BASE_URL".to_owned(), bigcommerce.uri()));
        pairs.push(("DATABASE_URL".to_owned(), database.url_text.clone()));
        for (name, value) in overrides {
            pairs.retain(|(other, _)| other != name);
            pairs.push(((*name).to_owned(), (*value).to_owned()));
        }
        let mut app = Self {
            address: String::new(),
            bigcommerce,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("the test http client builds"),
            database,
            pairs,
            server: None,
            stop: None,
            pool: None,
        };
        app.start().await;
        app
    }

    /// Changes a setting (`None` removes it) for the next [`Self::start`].
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        self.pairs.retain(|(other, _)| other != name);
        if let Some(value) = value {
            self.pairs.push((name.to_owned(), value.to_owned()));
        }
    }

    /// Builds and starts the application from its settings (again, after [`Self::stop`]).
    pub async fn start(&mut self) {
        let application = self.build().await.expect("the application builds");
        self.address = format!("http://127.0.0.1:{}", application.port());
        self.stop = Some(application.server_handle());
        self.pool = Some(application.database().clone());
        self.server = Some(tokio::spawn(application.run_until_stopped()));
    }

    /// Builds the application from its settings, without starting it.
    pub async fn build(&self) -> anyhow::Result<Application> {
        let settings = Settings::from_pairs(
            self.pairs
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        )
        .expect("app-mode test settings are valid");
        Application::build(settings).await
    }

    /// Stops the application (as SIGTERM would) and waits until it is gone.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.stop(true).await;
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// Takes the database away from the running application: its pool is closed, and every
    /// query fails as the database being out of reach.
    pub async fn break_database(&self) {
        if let Some(pool) = &self.pool {
            pool.close().await;
        }
    }

    /// Mounts what installing `store` needs from BigCommerce: the login service granting
    /// `code` (once) a token for the store, and the store's hooks API.
    pub async fn mount_install(&self, store: &str, code: &str, token: &str) {
        self.mount_install_granting(store, code, token, SCOPES)
            .await;
    }

    /// [`Self::mount_install`], the login service granting `scope`.
    pub async fn mount_install_granting(&self, store: &str, code: &str, token: &str, scope: &str) {
        Mock::given(method("POST"))
            .and(path("/oauth2/token"))
            .and(body_partial_json(json!({
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "code": code,
                "context": format!("stores/{store}"),
                "grant_type": "authorization_code",
                "redirect_uri": format!("{APP_URL}/bigcommerce/auth"),
            })))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": token,
                "scope": scope,
                "user": {"id": OWNER_ID, "username": "owner@example.com", "email": "owner@example.com"},
                "owner": {"id": OWNER_ID, "username": "owner@example.com", "email": "owner@example.com"},
                "context": format!("stores/{store}"),
                "account_uuid": "12345678-90ab-cdef-1234-567890abcdef"
            })))
            .up_to_n_times(1)
            .named(format!("login: code {code} of store {store}"))
            .mount(&self.bigcommerce)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/stores/{store}/v3/hooks")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [], "meta": {}})))
            .named(format!("hooks of store {store}"))
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
            .named(format!("hook creation of store {store}"))
            .mount(&self.bigcommerce)
            .await;
    }

    /// The auth callback as the merchant's browser sends it.
    pub async fn auth_callback(&self, store: &str, code: &str, scope: &str) -> reqwest::Response {
        self.client
            .get(with_query(
                &format!("{}/bigcommerce/auth", self.address),
                &[
                    ("account_uuid", "12345678-90ab-cdef-1234-567890abcdef"),
                    ("code", code),
                    ("context", &format!("stores/{store}")),
                    ("scope", scope),
                ],
            ))
            .send()
            .await
            .expect("the request reaches the app")
    }

    /// Installs `store` through the real auth callback; panics unless it is installed.
    pub async fn install(&self, store: &str, access_token: &str) {
        let code = format!("code-{store}-{}", uuid::Uuid::new_v4().simple());
        self.mount_install(store, &code, access_token).await;
        let response = self.auth_callback(store, &code, SCOPES).await;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 200, "installing {store}: {body}");
    }

    /// One of the callbacks that take a `signed_payload_jwt`.
    pub async fn callback(&self, name: &str, payload: &str) -> reqwest::Response {
        self.client
            .get(with_query(
                &format!("{}/bigcommerce/{name}", self.address),
                &[("signed_payload_jwt", payload)],
            ))
            .send()
            .await
            .expect("the request reaches the app")
    }

    /// A customer API call with a bearer token.
    pub async fn get(&self, route: &str, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{route}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("the request reaches the app")
    }

    /// Mounts the customer's orders of `store` (one page).
    pub async fn mount_orders(
        &self,
        store: &str,
        customer: u64,
        orders: Vec<Value>,
        times: impl Into<Times>,
    ) {
        Mock::given(method("GET"))
            .and(path(format!("/stores/{store}/v2/orders")))
            .and(query_param("customer_id", customer.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(orders))
            .expect(times)
            .named(format!("orders of customer {customer} of store {store}"))
            .mount(&self.bigcommerce)
            .await;
    }

    /// Mounts the metafields of an order of `store`.
    pub async fn mount_metafields(
        &self,
        store: &str,
        order: u64,
        metafields: Vec<Value>,
        times: impl Into<Times>,
    ) {
        let total = metafields.len() as u64;
        Mock::given(method("GET"))
            .and(path(format!(
                "/stores/{store}/v3/orders/{order}/metafields"
            )))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(metafield_page(metafields, 1, 1, total)),
            )
            .expect(times)
            .named(format!("metafields of order {order} of store {store}"))
            .mount(&self.bigcommerce)
            .await;
    }

    /// Requests the fake BigCommerce received on paths starting with `prefix`.
    pub async fn calls(&self, prefix: &str) -> Vec<wiremock::Request> {
        self.bigcommerce
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|request| request.url.path().starts_with(prefix))
            .collect()
    }
}

impl Drop for AppMode {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// The claims of a Current Customer JWT of `store`.
pub fn customer_claims(store: &str, customer: u64) -> Value {
    json!({
        "customer": {"id": customer, "email": "shopper@example.com", "group_id": "0"},
        "iss": "bc/apps", "sub": store, "iat": now(), "exp": now() + 900,
        "version": 1, "aud": CLIENT_ID, "application_id": CLIENT_ID,
        "store_hash": store, "operation": "current_customer"
    })
}

/// A valid Current Customer JWT of `store` for `customer`.
pub fn customer_token(store: &str, customer: u64) -> String {
    sign(
        &customer_claims(store, customer),
        Algorithm::HS256,
        CLIENT_SECRET,
    )
}

/// The claims of a `signed_payload_jwt` of `store` for `user`, as the callbacks guide shows.
pub fn payload_claims(store: &str, user: i64) -> Value {
    json!({
        "aud": CLIENT_ID, "iss": "bc", "iat": now(), "nbf": now(), "exp": now() + 86_400,
        "jti": uuid::Uuid::new_v4().to_string(), "sub": format!("stores/{store}"),
        "user": {"id": user, "email": "user@example.com", "locale": "en-US"},
        "owner": {"id": OWNER_ID, "email": "owner@example.com"},
        "url": "/", "channel_id": null
    })
}

/// A valid `signed_payload_jwt` of `store` for `user`.
pub fn payload(store: &str, user: i64) -> String {
    sign(
        &payload_claims(store, user),
        Algorithm::HS256,
        CLIENT_SECRET,
    )
}

/// `url` with `pairs` as its query string, encoded as a browser encodes a form.
pub fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{url}?{query}")
}
