//! How to run the sandbox: `SandboxConfig` (the platform, the app and the first store) and
//! `StoreConfig` (each further store), with the demo's defaults. Plain values: `lib.rs` checks
//! and starts them; nothing here runs.

use std::net::SocketAddr;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use url::Url;
use uuid::Uuid;

use crate::seed::{DataSet, SeedSpec};

/// How to run the sandbox: BigCommerce's platform (the Management API of every store), the one
/// app it knows, and its stores. The store fields describe the first store, whose storefront
/// shares the platform's listener; `more_stores` adds the others, each on a listener of its own
/// (in BigCommerce each store has its own domain).
#[derive(Clone)]
pub struct SandboxConfig {
    /// Where the platform and the first store listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The first store's hash in Management API paths and in minted tokens.
    pub store_hash: String,
    /// The first store's name on its storefront and control panel.
    pub store_name: String,
    /// The first store's own API account token (a store-level API account, as single-store
    /// mode uses), whose client id is the app's.
    pub access_token: String,
    /// The OAuth scopes of `access_token`; `store_account_scopes()` by default.
    pub access_token_scopes: Vec<String>,
    /// The app client id: the only `app_client_id` that `current.jwt` answers for, the owner
    /// of the metafields the app itself wrote, and the client the login service knows.
    pub client_id: String,
    /// The app's client secret: the HMAC key of minted Current Customer tokens, of
    /// `signed_payload_jwt`s and of webhook signatures, and what the login service checks.
    pub client_secret: String,
    /// The app's base URL: its callbacks are `{app_url}/bigcommerce/auth|load|uninstall|remove_user`
    /// and the login service's registered `redirect_uri` is `{app_url}/bigcommerce/auth`. `None`
    /// until `RunningSandbox::set_app_url` sets it.
    pub app_url: Option<Url>,
    /// The OAuth scopes the app asks for, which an install grants and the auth callback's
    /// `scope` lists, space-separated, in this order.
    pub app_scopes: Vec<String>,
    /// The Developer Portal account that registered the app (`account_uuid`).
    pub account_uuid: Uuid,
    /// How long an install code is good for (BigCommerce does not say; OAuth 2.0 advises at
    /// most ten minutes). `Duration::ZERO` makes every code expired at once, for tests.
    pub install_code_lifetime: Duration,
    /// The algorithm of minted tokens (real stores may use HS512).
    pub jwt_algorithm: Algorithm,
    /// Management API requests per window, per store.
    pub quota: u32,
    /// Length of the quota window.
    pub quota_window: Duration,
    /// Delay added before every Management API answer.
    pub latency: Duration,
    /// What data the first store starts with.
    pub seed: SeedSpec,
    /// Where to send every order webhook (`store/order/*`, order metafield events included)
    /// of the first store besides the hooks registered through `/v3/hooks`; `None` sends them
    /// nowhere else. Unlike a registered hook it is synchronous: a metafield write through the
    /// Management API answers only once this destination answered its webhook (or the retries
    /// gave up), so a change made there shows on the service's very next request.
    /// `RunningSandbox::set_webhook_destination` changes it after start.
    pub webhook_destination: Option<Url>,
    /// The order-metafields service every store's account pages load the client from and
    /// call; without it they say so. `RunningSandbox::set_service_url` sets it later.
    pub service_url: Option<Url>,
    /// The stores after the first; `demo_defaults` has one, `sandbox2`.
    pub more_stores: Vec<StoreConfig>,
}

/// One store after the first.
#[derive(Clone)]
pub struct StoreConfig {
    /// Where its storefront and control panel listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Its hash; different from every other store's.
    pub store_hash: String,
    /// Its name on its storefront and control panel.
    pub store_name: String,
    /// Its own API account token (see `SandboxConfig::access_token`).
    pub access_token: String,
    /// The OAuth scopes of `access_token`.
    pub access_token_scopes: Vec<String>,
    /// What data it starts with.
    pub seed: SeedSpec,
    /// As `SandboxConfig::webhook_destination`, for this store;
    /// `SandboxStore::set_webhook_destination` changes it after start.
    pub webhook_destination: Option<Url>,
}

impl std::fmt::Debug for SandboxConfig {
    /// Shows everything but the access tokens and the client secret.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SandboxConfig")
            .field("listen", &self.listen)
            .field("store_hash", &self.store_hash)
            .field("store_name", &self.store_name)
            .field("access_token", &"[REDACTED]")
            .field("access_token_scopes", &self.access_token_scopes)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("app_url", &self.app_url.as_ref().map(Url::as_str))
            .field("app_scopes", &self.app_scopes)
            .field("account_uuid", &self.account_uuid)
            .field("install_code_lifetime", &self.install_code_lifetime)
            .field("jwt_algorithm", &self.jwt_algorithm)
            .field("quota", &self.quota)
            .field("quota_window", &self.quota_window)
            .field("latency", &self.latency)
            .field("seed", &self.seed)
            .field("webhook_destination", &self.webhook_destination)
            .field("service_url", &self.service_url.as_ref().map(Url::as_str))
            .field("more_stores", &self.more_stores)
            .finish()
    }
}

impl std::fmt::Debug for StoreConfig {
    /// Shows everything but the access token.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("StoreConfig")
            .field("listen", &self.listen)
            .field("store_hash", &self.store_hash)
            .field("store_name", &self.store_name)
            .field("access_token", &"[REDACTED]")
            .field("access_token_scopes", &self.access_token_scopes)
            .field("seed", &self.seed)
            .field("webhook_destination", &self.webhook_destination)
            .finish()
    }
}

/// The scopes of a store's own API account in `demo_defaults`: changing orders and their
/// metafields, scripts (checkout pages included), channels and sites, and creating Storefront
/// API tokens; every read scope is implied by its modify scope.
pub fn store_account_scopes() -> Vec<String> {
    [
        "store_v2_orders",
        "store_v2_content",
        "store_content_checkout",
        "store_channel_settings",
        "store_sites",
        "store_storefront_api",
    ]
    .map(str::to_owned)
    .to_vec()
}

impl SandboxConfig {
    /// The demo: store `sandbox1` ("Sandbox Store", the hand-written demo data set) on
    /// `127.0.0.1:0` with fixed demo credentials (its own API account with
    /// `store_account_scopes()`), BigCommerce's default quota of 150 requests
    /// per 30 seconds, no added latency, no webhook destination; `sandbox2`
    /// (`StoreConfig::second_demo_store`); and the app, asking for `store_v2_orders_read_only`,
    /// with no app URL yet and install codes good for five minutes.
    pub fn demo_defaults() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            store_hash: "sandbox1".to_owned(),
            store_name: "Sandbox Store".to_owned(),
            access_token: "sandbox-demo-access-token".to_owned(),
            access_token_scopes: store_account_scopes(),
            client_id: "sandbox-demo-client-id".to_owned(),
            client_secret: "sandbox-demo-client-secret-not-for-production".to_owned(),
            app_url: None,
            app_scopes: vec!["store_v2_orders_read_only".to_owned()],
            account_uuid: Uuid::from_u128(0x5a4d_b0c4_0b1d_4c5e_9f7a_3e2d_1c0b_9a88),
            install_code_lifetime: Duration::from_secs(5 * 60),
            jwt_algorithm: Algorithm::HS256,
            quota: 150,
            quota_window: Duration::from_secs(30),
            latency: Duration::ZERO,
            seed: SeedSpec::default(),
            webhook_destination: None,
            service_url: None,
            more_stores: vec![StoreConfig::second_demo_store()],
        }
    }
}

impl StoreConfig {
    /// `sandbox2`, "Sandbox Tea Shop", on `127.0.0.1:0`: the second hand-written data set, whose
    /// customer ids and order ids coincide with `sandbox1`'s for other shoppers and orders
    /// (`DataSet::SecondStore`), with its own access token and no webhook destination.
    pub fn second_demo_store() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            store_hash: "sandbox2".to_owned(),
            store_name: "Sandbox Tea Shop".to_owned(),
            access_token: "sandbox2-demo-access-token".to_owned(),
            access_token_scopes: store_account_scopes(),
            seed: SeedSpec {
                data_set: DataSet::SecondStore,
                ..SeedSpec::default()
            },
            webhook_destination: None,
        }
    }
}
