//! A fake BigCommerce with several stores: the Management API of every store (v2 orders, v3
//! order metafields, v3 hooks, OAuth scopes, a quota window per store), signed webhook
//! callbacks, and per store a storefront of its own (sign-in, `/customer/current.jwt`) with
//! deterministic seed data. `demo`, `sandbox`, benchmarks and end-to-end tests start it; it
//! imports nothing from the service.
//!
//! # Using it
//!
//! `start(SandboxConfig::demo_defaults())` serves `sandbox1` (the demo store) and `sandbox2` (a
//! second store whose customer and order ids coincide with the first's for other shoppers and
//! orders). `RunningSandbox::api_base_url` is every store's Management API
//! (`{base}/stores/{hash}/…`, each store with its own access token); the first store's
//! storefront shares that listener (`storefront_url`), every other store has its own origin
//! (`storefront_url_of`). `SandboxStore` (from `store`, `store_of` or `stores`) reads and changes
//! one store's data and counts its requests.
//!
//! # Its modules
//!
//! They depend on each other one way, from the HTTP surface down to plain data (`a → b`: `a`
//! uses `b`):
//!
//! - `management` (routes, the gate, v2 orders) → `metafields`, `hooks` → `api` (the handlers'
//!   state, the store a request is for, request parsing and BigCommerce's error answers) →
//!   `store`, `stores`; the handlers also use `listing` (queries), `wire` (response shapes),
//!   `data` (scopes) and the input parsers `metafield_input` and `hook_input`
//!   (→ `metafield_input`, `events`);
//! - `storefront` (home, sign-in, `current.jwt`) → `session`, `theme`, `html`, `token`;
//!   `account` (the account pages) → `session`, `theme`, `html`, `data`, `order_status`; neither
//!   uses the other, and this file registers both;
//! - `theme` (the page frame) → `session`, `html`; `session` (who is signed in) → `store`;
//! - `stores` (the stores by hash) → `store`;
//! - `store` (one store's locked handle: identity, changes, quota, tokens, counters, publishing
//!   webhooks) → `seed`, `events`, `delivery`, `data`, `order_status`, `quota`;
//! - `config` (what to start) → `seed`;
//! - `seed` and `wire` → `data` (the data model), `order_status`; `listing` and
//!   `metafield_input` → `data`;
//! - `data`, `order_status`, `events`, `delivery`, `quota`, `token`, `html` use no other module.
//!
//! This file starts the servers and is the only place that knows every module.

mod account;
mod api;
mod config;
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
mod stores;
mod theme;
mod token;
mod wire;

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use anyhow::{Context, bail};
use jsonwebtoken::Algorithm;
use tokio::task::JoinHandle;
use url::Url;

use crate::api::ManagementState;
use crate::data::{ApiAccount, ORDERS_MODIFY_SCOPE};
use crate::delivery::Deliveries;
use crate::quota::QuotaWindow;
use crate::session::StorefrontState;
use crate::store::StoreIdentity;
use crate::stores::Stores;

// The sandbox's public API lives in its submodules; these re-exports give callers the short
// `sandbox::…` paths the `demo`, `sandbox` and `token` subcommands and the tests use.
pub use crate::config::{SandboxConfig, StoreConfig};
pub use crate::delivery::DeliveryRecord;
pub use crate::seed::{DEMO_PASSWORD, DataSet, SeedSpec};
pub use crate::store::{
    ControlPanelUser, RequestKind, SandboxStore, SeedCustomerInfo, SeedMetafieldInfo,
};
pub use crate::token::{TokenCustomer, mint_current_customer_token};

/// The running sandbox: the platform and every store, serving until `stop` is called.
pub struct RunningSandbox {
    base_url: Url,
    /// Every store with its storefront's root, the first store first.
    stores: Vec<(SandboxStore, Url)>,
    storefronts: Vec<web::Data<StorefrontState>>,
    servers: Vec<(ServerHandle, JoinHandle<std::io::Result<()>>)>,
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT/`: the platform's listener, which the first store's storefront
    /// shares.
    pub fn base_url(&self) -> Url {
        self.base_url.clone()
    }

    /// What the service uses as `BC_API_BASE_URL`, for every store: requests go to
    /// `{base}/stores/{hash}/v2/...` and `.../v3/...`.
    pub fn api_base_url(&self) -> Url {
        self.base_url()
    }

    /// The first store's storefront root; `/login` and `/customer/current.jwt` live under it.
    pub fn storefront_url(&self) -> Url {
        self.stores[0].1.clone()
    }

    /// The first store's hash.
    pub fn store_hash(&self) -> &str {
        self.stores[0].0.hash()
    }

    /// A handle on the first store's data and request counters.
    pub fn store(&self) -> SandboxStore {
        self.stores[0].0.clone()
    }

    /// Every store, the first store first.
    pub fn stores(&self) -> Vec<SandboxStore> {
        self.stores.iter().map(|(store, _)| store.clone()).collect()
    }

    /// The store whose hash is `store_hash`.
    pub fn store_of(&self, store_hash: &str) -> Option<SandboxStore> {
        self.stores
            .iter()
            .find(|(store, _)| store.hash() == store_hash)
            .map(|(store, _)| store.clone())
    }

    /// The storefront root of the store whose hash is `store_hash`: its own origin.
    pub fn storefront_url_of(&self, store_hash: &str) -> Option<Url> {
        self.stores
            .iter()
            .find(|(store, _)| store.hash() == store_hash)
            .map(|(_, url)| url.clone())
    }

    /// Sends every order webhook of the first store to `destination` too (`None`: only to
    /// registered hooks), for a service whose address is known only after the sandbox started.
    /// `SandboxStore::set_webhook_destination` does the same for any store.
    pub fn set_webhook_destination(&self, destination: Option<Url>) {
        self.stores[0].0.set_webhook_destination(destination);
    }

    /// Points every store's account pages at the service, for a service started after the
    /// sandbox (its Management API URL is the sandbox's, so it cannot start first).
    pub fn set_service_url(&self, service_url: Url) {
        for storefront in &self.storefronts {
            *storefront
                .service_url
                .write()
                .unwrap_or_else(PoisonError::into_inner) = Some(service_url.clone());
        }
    }

    /// Stops every server, letting in-flight requests finish.
    pub async fn stop(self) {
        for (handle, task) in self.servers {
            handle.stop(true).await;
            if let Err(error) = task.await {
                tracing::warn!(%error, "sandbox server task ended abnormally");
            }
        }
    }
}

/// One store to start: the first from `SandboxConfig`'s fields, the others from `more_stores`.
struct StoreSpec<'a> {
    listen: SocketAddr,
    hash: &'a str,
    name: &'a str,
    access_token: &'a str,
    seed: &'a SeedSpec,
    webhook_destination: Option<Url>,
}

/// Seeds every store from `config`, binds every listener and starts serving on the current tokio
/// runtime, which also carries the webhook deliveries; returns once every port is bound.
pub async fn start(config: SandboxConfig) -> anyhow::Result<RunningSandbox> {
    let specs = store_specs(&config);
    check(&config, &specs)?;
    // Every listener is bound before any server starts, so a port in use stops nothing half-way.
    let mut listeners = Vec::with_capacity(specs.len());
    for spec in &specs {
        let listener = TcpListener::bind(spec.listen)
            .with_context(|| format!("binding sandbox store {} to {}", spec.hash, spec.listen))?;
        let address = listener
            .local_addr()
            .with_context(|| format!("reading sandbox store {}'s bound address", spec.hash))?;
        let url = Url::parse(&format!("http://{address}/"))
            .with_context(|| format!("forming sandbox store {}'s url from {address}", spec.hash))?;
        listeners.push((listener, url));
    }
    let api_base = listeners[0].1.clone();
    let client_id: Arc<str> = Arc::from(config.client_id.as_str());
    let service_url = config.service_url.clone();
    let mut stores = Vec::with_capacity(specs.len());
    for (index, spec) in specs.iter().enumerate() {
        let mut state = seed::build(spec.seed, &config.client_id);
        state.api_tokens.insert(
            spec.access_token.to_owned(),
            ApiAccount {
                client_id: Arc::clone(&client_id),
                scopes: vec![ORDERS_MODIFY_SCOPE.to_owned()],
            },
        );
        let deliveries = Deliveries::new(&config.client_secret, spec.webhook_destination.clone())?;
        let identity = StoreIdentity {
            hash: spec.hash.to_owned(),
            name: spec.name.to_owned(),
            store_id: events::store_id(index),
        };
        let quota = QuotaWindow::new(config.quota, config.quota_window);
        stores.push(SandboxStore::new(identity, state, quota, deliveries));
    }
    let management = web::Data::new(ManagementState {
        stores: Stores::new(stores.clone()),
        api_base: api_base.to_string(),
        latency: config.latency,
    });
    let storefronts: Vec<web::Data<StorefrontState>> = stores
        .iter()
        .map(|store| {
            web::Data::new(StorefrontState {
                store: store.clone(),
                client_id: config.client_id.clone(),
                client_secret: config.client_secret.clone(),
                algorithm: config.jwt_algorithm,
                sessions: Mutex::new(HashMap::new()),
                service_url: RwLock::new(service_url.clone()),
            })
        })
        .collect();
    let mut servers = Vec::with_capacity(listeners.len());
    let mut urls = Vec::with_capacity(listeners.len());
    for (index, (listener, url)) in listeners.into_iter().enumerate() {
        let storefront = storefronts[index].clone();
        // The first listener is the platform's too: every store's Management API.
        let platform = (index == 0).then(|| management.clone());
        let server = HttpServer::new(move || {
            let mut app = App::new().app_data(storefront.clone());
            if let Some(management) = &platform {
                app = app
                    .app_data(management.clone())
                    .configure(management::routes);
            }
            app.configure(storefront::routes).configure(account::routes)
        })
        .workers(if index == 0 { 2 } else { 1 })
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .with_context(|| format!("starting sandbox store {}'s http server", specs[index].hash))?
        .run();
        servers.push((server.handle(), tokio::spawn(server)));
        urls.push(url);
    }
    Ok(RunningSandbox {
        base_url: api_base,
        stores: stores.into_iter().zip(urls).collect(),
        storefronts,
        servers,
    })
}

fn store_specs(config: &SandboxConfig) -> Vec<StoreSpec<'_>> {
    let first = StoreSpec {
        listen: config.listen,
        hash: &config.store_hash,
        name: &config.store_name,
        access_token: &config.access_token,
        seed: &config.seed,
        webhook_destination: config.webhook_destination.clone(),
    };
    let others = config.more_stores.iter().map(|store| StoreSpec {
        listen: store.listen,
        hash: &store.store_hash,
        name: &store.store_name,
        access_token: &store.access_token,
        seed: &store.seed,
        webhook_destination: store.webhook_destination.clone(),
    });
    std::iter::once(first).chain(others).collect()
}

/// Refuses a configuration the sandbox cannot serve faithfully.
fn check(config: &SandboxConfig, specs: &[StoreSpec<'_>]) -> anyhow::Result<()> {
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
    let mut seen = HashSet::new();
    for spec in specs {
        // Store hashes are BigCommerce's short lowercase ids; they go into paths and `context`.
        if spec.hash.is_empty()
            || !spec
                .hash
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit())
        {
            bail!(
                "sandbox store hash {:?} must be lowercase letters and digits",
                spec.hash
            );
        }
        if !seen.insert(spec.hash) {
            bail!("sandbox store hash {} is used twice", spec.hash);
        }
    }
    Ok(())
}
