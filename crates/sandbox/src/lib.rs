//! A fake BigCommerce store: Management API (v2 orders, v3 order metafields, v3 hooks, quota),
//! signed webhook callbacks, a storefront with sign-in and `/customer/current.jwt`, and
//! deterministic seed data. `demo`, `sandbox`, benchmarks and end-to-end tests start it; it
//! imports nothing from the service.
//!
//! Its modules depend on each other one way, from the HTTP surface down to plain data
//! (`a → b`: `a` uses `b`):
//!
//! - `management` (routes, the gate, v2 orders) → `metafields`, `hooks` → `api` (the handlers'
//!   state, request parsing and BigCommerce's error answers) → `store`, `quota`;
//!   the handlers also use `listing` (queries), `wire` (response shapes) and the input parsers
//!   `metafield_input` and `hook_input` (→ `metafield_input`, `events`);
//! - `storefront` (home, sign-in, `current.jwt`) → `session`, `theme`, `html`, `token`;
//!   `account` (the account pages) → `session`, `theme`, `html`, `data`, `order_status`; neither
//!   uses the other, and this file registers both;
//! - `theme` (the page frame) → `session`, `html`; `session` (who is signed in) → `store`;
//! - `store` (the locked handle: changes, counters, publishing webhooks) → `seed`, `events`,
//!   `delivery`, `data`, `order_status`;
//! - `seed` and `wire` → `data` (the data model), `order_status`; `listing` and
//!   `metafield_input` → `data`;
//! - `data`, `order_status`, `events`, `delivery`, `quota`, `token`, `html` use no other module.
//!
//! This file starts the server and is the only place that knows every module.

mod account;
mod api;
mod data;
mod delivery;
mod events;
mod hook_input;
mod hooks;
mod html;
mod listing;
mod management;
mod metafield_input;
mod metafields;
mod order_status;
mod quota;
mod seed;
mod session;
mod store;
mod storefront;
mod theme;
mod token;
mod wire;

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use anyhow::{Context, bail};
use jsonwebtoken::Algorithm;
use tokio::task::JoinHandle;
use url::Url;

use crate::api::ManagementState;
use crate::delivery::Deliveries;
use crate::quota::QuotaWindow;
use crate::session::StorefrontState;

// The sandbox's public API lives in its submodules; these re-exports give callers the short
// `sandbox::…` paths the `demo`, `sandbox` and `token` subcommands and the tests use.
pub use crate::delivery::DeliveryRecord;
pub use crate::seed::{DEMO_PASSWORD, SeedSpec};
pub use crate::store::{RequestKind, SandboxStore, SeedCustomerInfo, SeedMetafieldInfo};
pub use crate::token::{TokenCustomer, mint_current_customer_token};

/// How to run a sandbox store.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The store hash in Management API paths and in minted tokens.
    pub store_hash: String,
    /// The `X-Auth-Token` the Management API accepts.
    pub access_token: String,
    /// The app client id: the only `app_client_id` that `current.jwt` answers for, and the
    /// owner of the metafields the app itself wrote.
    pub client_id: String,
    /// The HMAC key of minted Current Customer tokens.
    pub client_secret: String,
    /// The algorithm of minted tokens (real stores may use HS512).
    pub jwt_algorithm: Algorithm,
    /// Management API requests per window.
    pub quota: u32,
    /// Length of the quota window.
    pub quota_window: Duration,
    /// Delay added before every Management API answer.
    pub latency: Duration,
    /// What data to generate.
    pub seed: SeedSpec,
    /// Where to send every order webhook (`store/order/*`, order metafield events included)
    /// besides the hooks registered through `/v3/hooks`; `None` sends them nowhere else.
    /// Unlike a registered hook it is synchronous: a metafield write through the Management API
    /// answers only once this destination answered its webhook (or the retries gave up), so a
    /// change made there shows on the service's very next request.
    /// `RunningSandbox::set_webhook_destination` changes it after start.
    pub webhook_destination: Option<Url>,
    /// The order-metafields service the storefront's account pages load the client from
    /// and call; without it they say so. `RunningSandbox::set_service_url` sets it later.
    pub service_url: Option<Url>,
}

impl std::fmt::Debug for SandboxConfig {
    /// Shows everything but the access token and client secret.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SandboxConfig")
            .field("listen", &self.listen)
            .field("store_hash", &self.store_hash)
            .field("access_token", &"[REDACTED]")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("jwt_algorithm", &self.jwt_algorithm)
            .field("quota", &self.quota)
            .field("quota_window", &self.quota_window)
            .field("latency", &self.latency)
            .field("seed", &self.seed)
            .field("webhook_destination", &self.webhook_destination)
            .field("service_url", &self.service_url.as_ref().map(Url::as_str))
            .finish()
    }
}

impl SandboxConfig {
    /// The demo store: hash `sandbox1`, fixed demo credentials, BigCommerce's default quota of
    /// 150 requests per 30 seconds, no added latency, the hand-written data set, `127.0.0.1:0`,
    /// no webhook destination.
    pub fn demo_defaults() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            store_hash: "sandbox1".to_owned(),
            access_token: "sandbox-demo-access-token".to_owned(),
            client_id: "sandbox-demo-client-id".to_owned(),
            client_secret: "sandbox-demo-client-secret-not-for-production".to_owned(),
            jwt_algorithm: Algorithm::HS256,
            quota: 150,
            quota_window: Duration::from_secs(30),
            latency: Duration::ZERO,
            seed: SeedSpec::default(),
            webhook_destination: None,
            service_url: None,
        }
    }
}

/// A sandbox store serving on a loopback port until `stop` is called.
pub struct RunningSandbox {
    base_url: Url,
    store_hash: String,
    store: SandboxStore,
    storefront: web::Data<StorefrontState>,
    handle: ServerHandle,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT/`.
    pub fn base_url(&self) -> Url {
        self.base_url.clone()
    }

    /// What the service uses as `BC_API_BASE_URL`: requests go to
    /// `{base}/stores/{hash}/v2/...` and `.../v3/...`.
    pub fn api_base_url(&self) -> Url {
        self.base_url()
    }

    /// The storefront's root; `/login` and `/customer/current.jwt` live under it.
    pub fn storefront_url(&self) -> Url {
        self.base_url()
    }

    /// The store hash the Management API answers for.
    pub fn store_hash(&self) -> &str {
        &self.store_hash
    }

    /// A handle on the store's data and request counters.
    pub fn store(&self) -> SandboxStore {
        self.store.clone()
    }

    /// Sends every order webhook to `destination` too (`None`: only to registered hooks), for
    /// a service whose address is known only after the sandbox started.
    pub fn set_webhook_destination(&self, destination: Option<Url>) {
        self.store.set_webhook_destination(destination);
    }

    /// Points the storefront's account pages at the service, for a service started after
    /// the sandbox (its Management API URL is the sandbox's, so it cannot start first).
    pub fn set_service_url(&self, service_url: Url) {
        *self
            .storefront
            .service_url
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(service_url);
    }

    /// Stops the server, letting in-flight requests finish.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        if let Err(error) = self.task.await {
            tracing::warn!(%error, "sandbox server task ended abnormally");
        }
    }
}

/// Seeds a store from `config`, binds its listener and starts serving it on the current tokio
/// runtime, which also carries its webhook deliveries; returns once the port is bound.
pub async fn start(config: SandboxConfig) -> anyhow::Result<RunningSandbox> {
    if !matches!(
        config.jwt_algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ) {
        bail!(
            "sandbox jwt algorithm must be HS256, HS384 or HS512, not {:?}",
            config.jwt_algorithm
        );
    }
    if config.quota == 0 || config.quota_window.is_zero() {
        bail!("sandbox quota and quota window must both be above zero");
    }
    let listener = TcpListener::bind(config.listen)
        .with_context(|| format!("binding the sandbox store to {}", config.listen))?;
    let address = listener
        .local_addr()
        .context("reading the sandbox store's bound address")?;
    let api_base = Url::parse(&format!("http://{address}/"))
        .with_context(|| format!("forming the sandbox store's url from {address}"))?;
    let state = seed::build(&config.seed, &config.client_id);
    let deliveries = Deliveries::new(&config.client_secret, config.webhook_destination.clone())?;
    let store = SandboxStore::new(state, &config.store_hash, deliveries);
    let management = web::Data::new(ManagementState {
        store: store.clone(),
        store_hash: config.store_hash.clone(),
        access_token: config.access_token.clone(),
        app_client_id: Arc::from(config.client_id.as_str()),
        v2_base: format!("{}stores/{}/v2", api_base, config.store_hash),
        quota: Mutex::new(QuotaWindow::new(config.quota, config.quota_window)),
        latency: config.latency,
    });
    let storefront = web::Data::new(StorefrontState {
        store: store.clone(),
        store_hash: config.store_hash.clone(),
        client_id: config.client_id.clone(),
        client_secret: config.client_secret.clone(),
        algorithm: config.jwt_algorithm,
        sessions: Mutex::new(HashMap::new()),
        service_url: RwLock::new(config.service_url.clone()),
    });
    let app_storefront = storefront.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(management.clone())
            .app_data(app_storefront.clone())
            .configure(management::routes)
            .configure(storefront::routes)
            .configure(account::routes)
    })
    .workers(2)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)
    .context("starting the sandbox store's http server")?
    .run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    Ok(RunningSandbox {
        base_url: api_base,
        store_hash: config.store_hash,
        store,
        storefront,
        handle,
        task,
    })
}
