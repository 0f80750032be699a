//! A fake BigCommerce with several stores and one app: the Management API of every store (v2
//! orders, filtered by id, customer, status and dates, archived and moved between customers,
//! v3 order metafields with writes, v3 hooks, channels and sites, scripts, Storefront API
//! private tokens, OAuth scopes, a quota window per store), signed webhook callbacks, the login
//! service (`POST /oauth2/token`), and per store two channels, each with a site of its own: the
//! Stencil storefront (sign-in, `/customer/current.jwt`, account and order confirmation pages
//! carrying the installed scripts, `/graphql`) and a headless site (`/graphql`); and a control
//! panel (`/manage`) that installs, opens and uninstalls the app through its callbacks and
//! changes orders' statuses, with deterministic seed data. `demo`, `sandbox`,
//! benchmarks and end-to-end tests start it; it imports nothing from the service, which is
//! tested against it exactly as against BigCommerce.
//!
//! # Using it
//!
//! `start(SandboxConfig::demo_defaults())` serves `sandbox1` (the demo store) and `sandbox2` (a
//! second store whose customer and order ids coincide with the first's for other shoppers and
//! orders). `RunningSandbox::api_base_url` is every store's Management API
//! (`{base}/stores/{hash}/…`, each store with its own access token) and `login_base_url` the
//! login service; the first store's storefront shares that listener (`storefront_url`), every
//! other store has its own origin (`storefront_url_of`), and each store's control panel is
//! `control_panel_url`. `SandboxStore` (from `store`, `store_of` or `stores`) reads and changes
//! one store's data and counts its requests.
//!
//! Each store's second channel (`HEADLESS_CHANNEL_ID`, a Catalyst storefront) has its site on
//! another loopback origin (`headless_url_of`); the Sites API lists both. Both sites serve the
//! GraphQL Storefront API (`graphql_url_of`): `login`, `logout` and `customer`, authenticated by
//! a private token (`POST /v3/storefront/api-token-private`, or
//! `SandboxStore::issue_private_token`) and the shopper's `CUSTOMER_ACCESS_TOKEN_HEADER`. `graphql_login` logs a
//! shopper in through it; `SandboxStore::log_in_customer` does the same without HTTP, and
//! `expire_customer_access_token`, `revoke_customer_access_token`, `expire_private_tokens`,
//! `revoke_private_token`, `private_tokens`, `customer_access_tokens` and `graphql_requests`
//! serve tests of refusals, renewal and single-flight. For the demo: `set_order_metafield`
//! (alice's gift message) and `set_order_status` (an order's status, as the control panel's
//! Orders page does).
//!
//! For a mirror of a store's orders and their metafields, kept in step by `date_modified`
//! high-water marks, webhooks and reconciliation: v2 `GET /orders` and `/orders/count` filter by
//! `min_`/`max_date_created` and `min_`/`max_date_modified` (RFC 2822 or ISO 8601, inclusive)
//! and sort by `date_modified`; `DELETE /v2/orders/{id}` (or `PUT` with `is_deleted: true`)
//! archives an order, which then only `is_deleted=true` lists and its own URL serves; `PUT
//! /v2/orders/{id}` moves it to another `customer_id` (or changes its `status_id`); the batch
//! `GET /v3/orders/metafields` pages by cursor from a `date_modified:min`. The same changes are
//! handle methods, each returning before its webhooks are sent: `archive_order`,
//! `set_order_customer`, `add_metafield` (owned by the app) and `delete_metafield`, with
//! `order_is_archived` and `order_customer` to read back; `set_webhooks_paused` drops every
//! event of a store, as if BigCommerce had given up delivering them. Metafield changes leave
//! the order's `date_modified` alone, as BigCommerce does. A `SeedSpec` with
//! `extra_customers` and `extra_orders_per_customer` generates a benchmark-sized store (100,000
//! orders in well under a second in a release build) whose orders follow each other in time and
//! carry metafields of three apps in every permission set.
//!
//! The app (`SandboxConfig::client_id`, `client_secret`, `app_scopes`) has its callbacks at
//! `{app}/bigcommerce/auth|load|uninstall|remove_user` once `set_app_url` names the app. What the
//! control panel's buttons do is callable from Rust too: `install_app` (a code, then `GET` of the
//! auth callback, as the merchant's browser does; the app installs itself by exchanging the code),
//! `install_callback_url` (the same URL without the `GET`), `load_url`, `uninstall_app`,
//! `remove_user`; `signed_payload` and `sign_payload` make `signed_payload_jwt`s with any claims
//! and key, for tests of forged, expired and replayed payloads.
//!
//! # Its modules
//!
//! They depend on each other one way, from the HTTP surface down to plain data (`a → b`: `a`
//! uses `b`):
//!
//! - `management` (routes, the gate, v2 order reads) → `order_writes` (v2 order `PUT` and
//!   `DELETE`), `metafields`, `hooks`, `channels` (channels and sites), `scripts` (the Scripts
//!   API), `storefront_tokens` (private tokens; it also issues customer access tokens, →
//!   `codes`) → `api` (the handlers' state, the store a request is for, request parsing and
//!   BigCommerce's error answers) → `store`, `stores`; the handlers also use `listing` (queries), `metafield_query` (the metafield collections' query), `wire`
//!   (response shapes), `data` (the model and scopes), `events` (what a write reports), `quota`
//!   (the gate's decisions), `order_status` and the input parsers `metafield_input`,
//!   `script_input` and `hook_input` (→ `metafield_input`, `events`);
//! - `login` (`POST /oauth2/token`) → `app`, `codes`, `store`, `stores`;
//! - `control_panel` (`/manage`) → `lifecycle`, `store`, `panel_frame`, `html`; `orders_page`
//!   (`/manage/orders`, the status form) → `control_panel`, `panel_frame`, `order_status`,
//!   `wire`, `html`; `panel_frame` (the control panel's page frame) → `html`; `lifecycle`
//!   (Install, Open, Uninstall, Remove user) → `app`, `signed_payload`, `store`; `app` (the
//!   app's profile and codes) → `codes`;
//! - `storefront` (home, sign-in, `current.jwt`) → `session`, `theme`, `html`, `token`;
//!   `account` (the account pages and order confirmation) → `session`, `theme`, `script_tags`,
//!   `html`, `data`, `order_status`; neither uses the other, and this file registers both;
//!   `headless` (the second channel's site) → `store`, `data`, `html`; `graphql` (`POST
//!   /graphql` on both sites: the tokens' checks) → `graphql_exec` (the schema and execution,
//!   with `graphql-parser`) → `storefront_tokens`, `data`; `store_graphql` (`SandboxStore`'s
//!   and `RunningSandbox`'s token handles) → `storefront_tokens`, `graphql_exec`, `store`;
//! - `theme` (the page frame) → `session`, `script_tags`, `html`; `script_tags` (the installed
//!   scripts a page carries) → `data`, `html`; `session` (who is signed in) → `store`;
//! - `stores` (the stores by hash) → `store`;
//! - `store` (one store's locked handle: identity, changes, quota, tokens, the app's
//!   installation, users, counters, publishing webhooks) → `seed`, `events`, `delivery`, `data`,
//!   `order_status`, `quota`;
//! - `config` (what to start) → `seed`;
//! - `seed` (with its data sets `seed::demo`, `seed::second_store`, `seed::generated`, which
//!   use only their parent) and `wire` → `data` (the data model), `order_status`; `listing`,
//!   `metafield_input` and `script_input` → `data`;
//! - `data`, `order_status`, `events`, `delivery`, `quota`, `token`, `signed_payload`, `codes`,
//!   `html` use no other module.
//!
//! This file starts the servers and is the only place that knows every module.

mod account;
mod api;
mod app;
mod channels;
mod codes;
mod config;
mod control_panel;
mod data;
mod delivery;
mod events;
mod graphql;
mod graphql_exec;
mod headless;
mod hook_input;
mod hooks;
mod html;
mod lifecycle;
mod listing;
mod login;
mod management;
mod metafield_input;
mod metafield_query;
mod metafields;
mod order_status;
mod order_writes;
mod orders_page;
mod panel_frame;
mod quota;
mod script_input;
mod script_tags;
mod scripts;
mod seed;
mod session;
mod signed_payload;
mod store;
mod store_graphql;
mod storefront;
mod storefront_tokens;
mod stores;
mod theme;
mod token;
mod wire;

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use actix_web::dev::ServerHandle;
use actix_web::{HttpServer, web};
use anyhow::{Context, bail};
use jsonwebtoken::Algorithm;
use tokio::task::JoinHandle;
use url::Url;

use crate::api::ManagementState;
use crate::app::App;
use crate::control_panel::ControlPanelState;
use crate::data::ApiAccount;
use crate::delivery::Deliveries;
use crate::graphql::GraphqlSite;
use crate::headless::HeadlessSite;
use crate::lifecycle::Lifecycle;
use crate::login::LoginState;
use crate::quota::QuotaWindow;
use crate::session::StorefrontState;
use crate::store::StoreIdentity;
use crate::stores::Stores;

// The sandbox's public API lives in its submodules; these re-exports give callers the short
// `sandbox::…` paths the `demo`, `sandbox` and `token` subcommands and the tests use.
pub use crate::config::{SandboxConfig, StoreConfig, store_account_scopes};
pub use crate::data::{HEADLESS_CHANNEL_ID, STOREFRONT_CHANNEL_ID};
pub use crate::delivery::DeliveryRecord;
pub use crate::graphql::CUSTOMER_ACCESS_TOKEN_HEADER;
pub use crate::lifecycle::{AppActionError, AppAnswer};
pub use crate::seed::{DEMO_PASSWORD, DataSet, SeedSpec};
pub use crate::signed_payload::{
    PayloadOwner, PayloadUser, SIGNED_PAYLOAD_LIFETIME, SignedPayloadClaims, sign_payload,
};
pub use crate::store::{
    ControlPanelUser, RequestKind, SandboxStore, SeedCustomerInfo, SeedMetafieldInfo,
};
pub use crate::store_graphql::{CustomerAccessTokenInfo, PrivateTokenInfo};
pub use crate::token::{TokenCustomer, mint_current_customer_token};

/// The running sandbox: the platform and every store, serving until `stop` is called.
pub struct RunningSandbox {
    base_url: Url,
    /// Every store with its storefront's root, the first store first.
    stores: Vec<(SandboxStore, Url)>,
    /// Each store's headless site root, in the order of `stores`.
    headless: Vec<Url>,
    storefronts: Vec<web::Data<StorefrontState>>,
    lifecycle: Arc<Lifecycle>,
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

    /// The root of the site of the store's second channel, a headless (Catalyst) storefront on
    /// an origin of its own: `GET /v3/sites` lists it, and its `/graphql` serves that channel.
    pub fn headless_url_of(&self, store_hash: &str) -> Option<Url> {
        self.stores
            .iter()
            .zip(&self.headless)
            .find(|((store, _), _)| store.hash() == store_hash)
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

    /// What the app uses as `BC_LOGIN_BASE_URL`: `POST {base}/oauth2/token` exchanges install
    /// codes. The platform's listener.
    pub fn login_base_url(&self) -> Url {
        self.base_url()
    }

    /// The control panel of the store whose hash is `store_hash`: `{its storefront}/manage`.
    pub fn control_panel_url(&self, store_hash: &str) -> Option<Url> {
        self.storefront_url_of(store_hash)?.join("manage").ok()
    }

    /// Points the app's callbacks at `app_url` (`{app_url}/bigcommerce/auth|load|uninstall|
    /// remove_user`), for an app whose address is known only after the sandbox started; the
    /// login service then expects `redirect_uri` = `{app_url}/bigcommerce/auth`.
    pub fn set_app_url(&self, app_url: Url) {
        self.lifecycle.app.set_url(Some(app_url));
    }

    /// Install's first half, as the store owner clicks it: makes a code and returns the auth
    /// callback URL the control panel loads, `{app}/bigcommerce/auth?account_uuid=…&code=…&
    /// context=stores/{hash}&scope=…`. The code is good once, for
    /// `SandboxConfig::install_code_lifetime`, for this store and the app only.
    pub fn install_callback_url(&self, store_hash: &str) -> Result<Url, AppActionError> {
        self.lifecycle.install_url(&self.store_named(store_hash)?)
    }

    /// Install, as the merchant's browser does it: a code, then `GET` of the auth callback,
    /// returning the app's answer. The app is installed once the app exchanged the code at
    /// `POST /oauth2/token` (while answering); `SandboxStore::app_scopes` tells.
    pub async fn install_app(&self, store_hash: &str) -> Result<AppAnswer, AppActionError> {
        self.lifecycle.install(&self.store_named(store_hash)?).await
    }

    /// Open, as control panel user `user_id`: the load callback URL with a fresh
    /// `signed_payload_jwt` (HS256, the client secret), which the control panel loads in its
    /// iframe. The app must be installed and the user allowed to load it.
    pub fn load_url(&self, store_hash: &str, user_id: u64) -> Result<Url, AppActionError> {
        self.lifecycle
            .load_url(&self.store_named(store_hash)?, user_id)
    }

    /// Uninstall, as the store owner: the app's access token stops working and its hooks are
    /// deleted at once, then `GET {app}/bigcommerce/uninstall?signed_payload_jwt=…` tells the
    /// app, whose answer is returned. The store is uninstalled whatever the app answers, even
    /// when it does not answer (`AppActionError::AppUnreachable`).
    pub async fn uninstall_app(&self, store_hash: &str) -> Result<AppAnswer, AppActionError> {
        self.lifecycle
            .uninstall(&self.store_named(store_hash)?)
            .await
    }

    /// Remove user: `user_id` may no longer load the app, then
    /// `GET {app}/bigcommerce/remove_user?signed_payload_jwt=…` (about that user) tells the app.
    pub async fn remove_user(
        &self,
        store_hash: &str,
        user_id: u64,
    ) -> Result<AppAnswer, AppActionError> {
        self.lifecycle
            .remove_user(&self.store_named(store_hash)?, user_id)
            .await
    }

    /// The claims the sandbox would sign now about `user_id` of the store, whether or not the
    /// app is installed: change them and sign them with `sign_payload` to forge, expire or
    /// replay a payload.
    pub fn signed_payload(
        &self,
        store_hash: &str,
        user_id: u64,
    ) -> Result<SignedPayloadClaims, AppActionError> {
        self.lifecycle
            .signed_payload(&self.store_named(store_hash)?, user_id)
    }

    fn store_named(&self, store_hash: &str) -> Result<SandboxStore, AppActionError> {
        self.store_of(store_hash)
            .ok_or_else(|| AppActionError::UnknownStore(store_hash.to_owned()))
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
    access_token_scopes: &'a [String],
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
    let mut headless_listeners = Vec::with_capacity(specs.len());
    for spec in &specs {
        listeners.push(bind(spec.hash, spec.listen)?);
        // The headless site is another origin of its own, on the same address.
        headless_listeners.push(bind(spec.hash, SocketAddr::new(spec.listen.ip(), 0))?);
    }
    let api_base = listeners[0].1.clone();
    let client_id: Arc<str> = Arc::from(config.client_id.as_str());
    let service_url = config.service_url.clone();
    let mut stores = Vec::with_capacity(specs.len());
    for (index, spec) in specs.iter().enumerate() {
        let mut state = seed::build(spec.seed, &config.client_id);
        seed::add_channels(
            &mut state,
            spec.name,
            listeners[index].1.as_str(),
            headless_listeners[index].1.as_str(),
        );
        state.api_tokens.insert(
            spec.access_token.to_owned(),
            ApiAccount {
                client_id: Arc::clone(&client_id),
                scopes: spec.access_token_scopes.to_vec(),
                from_install: false,
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
    let app = Arc::new(App::new(
        config.client_id.clone(),
        config.client_secret.clone(),
        config.account_uuid,
        config.app_scopes.clone(),
        config.app_url.clone(),
        config.install_code_lifetime,
    ));
    let lifecycle = Arc::new(Lifecycle::new(Arc::clone(&app))?);
    let login = web::Data::new(LoginState {
        app,
        stores: Stores::new(stores.clone()),
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
        let control_panel = web::Data::new(ControlPanelState {
            store: stores[index].clone(),
            lifecycle: Arc::clone(&lifecycle),
        });
        let graphql_site = web::Data::new(GraphqlSite {
            store: stores[index].clone(),
            channel_id: STOREFRONT_CHANNEL_ID,
        });
        // The first listener is the platform's too: every store's Management API and the login
        // service.
        let platform = (index == 0).then(|| (management.clone(), login.clone()));
        let server = HttpServer::new(move || {
            let mut app = actix_web::App::new()
                .app_data(storefront.clone())
                .app_data(control_panel.clone())
                .app_data(graphql_site.clone());
            if let Some((management, login)) = &platform {
                app = app
                    .app_data(management.clone())
                    .app_data(login.clone())
                    .configure(management::routes)
                    .configure(login::routes);
            }
            app.configure(storefront::routes)
                .configure(account::routes)
                .configure(control_panel::routes)
                .configure(orders_page::routes)
                .configure(graphql::routes)
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
    let mut headless = Vec::with_capacity(headless_listeners.len());
    for (index, (listener, url)) in headless_listeners.into_iter().enumerate() {
        let site = web::Data::new(HeadlessSite {
            store: stores[index].clone(),
        });
        let graphql_site = web::Data::new(GraphqlSite {
            store: stores[index].clone(),
            channel_id: HEADLESS_CHANNEL_ID,
        });
        let server = HttpServer::new(move || {
            actix_web::App::new()
                .app_data(site.clone())
                .app_data(graphql_site.clone())
                .configure(headless::routes)
                .configure(graphql::routes)
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .with_context(|| {
            format!(
                "starting sandbox store {}'s headless site server",
                specs[index].hash
            )
        })?
        .run();
        servers.push((server.handle(), tokio::spawn(server)));
        headless.push(url);
    }
    Ok(RunningSandbox {
        base_url: api_base,
        stores: stores.into_iter().zip(urls).collect(),
        headless,
        storefronts,
        lifecycle,
        servers,
    })
}

/// Binds one of a store's listeners and reads the URL it is reached at.
fn bind(hash: &str, address: SocketAddr) -> anyhow::Result<(TcpListener, Url)> {
    let listener = TcpListener::bind(address)
        .with_context(|| format!("binding sandbox store {hash} to {address}"))?;
    let bound = listener
        .local_addr()
        .with_context(|| format!("reading sandbox store {hash}'s bound address"))?;
    let url = Url::parse(&format!("http://{bound}/"))
        .with_context(|| format!("forming sandbox store {hash}'s url from {bound}"))?;
    Ok((listener, url))
}

fn store_specs(config: &SandboxConfig) -> Vec<StoreSpec<'_>> {
    let first = StoreSpec {
        listen: config.listen,
        hash: &config.store_hash,
        name: &config.store_name,
        access_token: &config.access_token,
        access_token_scopes: &config.access_token_scopes,
        seed: &config.seed,
        webhook_destination: config.webhook_destination.clone(),
    };
    let others = config.more_stores.iter().map(|store| StoreSpec {
        listen: store.listen,
        hash: &store.store_hash,
        name: &store.store_name,
        access_token: &store.access_token,
        access_token_scopes: &store.access_token_scopes,
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
