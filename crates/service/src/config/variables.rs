//! The one table of environment variables: name, default, whether it is a secret, an
//! example and its meaning. Parsing reads defaults from it, and `.env.example` and the
//! documentation table are generated from it (`config::documents`), so adding a variable is
//! one entry here plus the typed field that uses it.

/// An environment variable the service reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variable {
    pub name: &'static str,
    /// Where `.env.example` lists it.
    pub section: Section,
    pub default: DefaultValue,
    /// A secret is never printed: not at start-up, not in a log line, not in an error.
    pub secret: bool,
    /// A typical value, for the documentation.
    pub example: Option<&'static str>,
    /// What it does, in one paragraph (Markdown inline code allowed, no links).
    pub meaning: &'static str,
}

/// What a variable holds when it is unset or blank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultValue {
    /// Start-up fails without it; `.env.example` shows the placeholder, which is refused
    /// too.
    Required { placeholder: &'static str },
    /// Names the one store of single-store mode: set, the service serves that store (and
    /// its companions marked so become required); unset, it runs as an app. `.env.example`
    /// shows the placeholder, so a copy of it configures single-store mode.
    OneStore { placeholder: &'static str },
    /// Required in app mode (no `BC_STORE_HASH`), ignored in single-store mode; listed
    /// commented out.
    AppMode,
    /// Nothing: the feature it configures is off, or the list it holds is empty.
    Empty,
    /// This text, parsed like a value that was set.
    Value(&'static str),
}

/// The groups of `.env.example`, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Required,
    App,
    Secrets,
    BigCommerce,
    CustomerTokens,
    Http,
    Visibility,
    Cache,
    Upstream,
    Logs,
}

impl Section {
    /// The heading of the section.
    pub fn title(self) -> &'static str {
        match self {
            Section::Required => "Required",
            Section::App => {
                "App mode (BC_STORE_HASH unset): installed by merchants, any number of stores"
            }
            Section::Secrets => "Secrets for rotation and webhooks (optional)",
            Section::BigCommerce => "BigCommerce",
            Section::CustomerTokens => "Customer tokens",
            Section::Http => "HTTP",
            Section::Visibility => "Metafield visibility",
            Section::Cache => "Cache",
            Section::Upstream => "Management API calls",
            Section::Logs => "Logs",
        }
    }
}

/// The prefix of every placeholder in `.env.example` and `deploy/kubernetes`; a value that
/// starts with it is refused at start-up, whatever the variable.
pub const PLACEHOLDER_PREFIX: &str = "replace-with-";

/// Defines one constant per variable, named after it, and [`VARIABLES`], all of them in
/// order. An entry is the whole definition of a variable.
macro_rules! variables {
    ($(
        $name:ident {
            section: $section:expr,
            default: $default:expr,
            secret: $secret:expr,
            example: $example:expr,
            meaning: $meaning:literal $(,)?
        }
    )*) => {
        $(
            #[doc = $meaning]
            pub const $name: Variable = Variable {
                name: stringify!($name),
                section: $section,
                default: $default,
                secret: $secret,
                example: $example,
                meaning: $meaning,
            };
        )*

        /// Every variable the service reads, in the order `.env.example` and the
        /// documentation list them.
        pub const VARIABLES: &[Variable] = &[$($name),*];
    };
}

use DefaultValue::{AppMode, Empty, OneStore, Required, Value};

variables! {
    BC_STORE_HASH {
        section: Section::Required,
        default: OneStore { placeholder: "replace-with-the-store-hash" },
        secret: false,
        example: Some("abc123"),
        meaning: "Single-store mode: the store's hash, letters and digits, the `abc123` of `https://store-abc123.mybigcommerce.com`; a customer token issued for any other store is refused. Leave it unset to run as an app that merchants install (see the app mode section).",
    }
    BC_ACCESS_TOKEN {
        section: Section::Required,
        default: OneStore { placeholder: "replace-with-the-store-api-account-access-token" },
        secret: true,
        example: None,
        meaning: "Single-store mode (required with `BC_STORE_HASH`): Management API access token, sent upstream as `X-Auth-Token`. A store-level API account with the Orders scope set to read-only is enough (`webhooks register` also needs Information & Settings, modify).",
    }
    BC_CLIENT_ID {
        section: Section::Required,
        default: Required { placeholder: "replace-with-the-app-client-id" },
        secret: false,
        example: None,
        meaning: "Client ID of the app-level API account: the only accepted JWT audience (`aud`), and the `app_client_id` the storefront passes to `/customer/current.jwt`.",
    }
    BC_CLIENT_SECRET {
        section: Section::Required,
        default: Required { placeholder: "replace-with-the-app-client-secret" },
        secret: true,
        example: None,
        meaning: "That app-level account's client secret: the HMAC key of the Current Customer JWT and of BigCommerce's webhook signatures. Surrounding whitespace (a trailing newline from a file) is trimmed.",
    }
    APP_URL {
        section: Section::App,
        default: AppMode,
        secret: false,
        example: Some("https://orders.example.com"),
        meaning: "The public `https://` base URL of this service (plain `http://` only on a loopback address, for local work). The OAuth `redirect_uri` is `{APP_URL}/bigcommerce/auth`, and each store's webhooks are registered to `{APP_URL}/webhooks/bigcommerce`.",
    }
    TOKEN_ENCRYPTION_KEY {
        section: Section::App,
        default: AppMode,
        secret: true,
        example: None,
        meaning: "32 random bytes in base64 (e.g. `openssl rand -base64 32`): seals each installed store's access token in the database (AES-256-GCM, the store hash bound as associated data).",
    }
    TOKEN_ENCRYPTION_KEY_PREVIOUS {
        section: Section::App,
        default: Empty,
        secret: true,
        example: None,
        meaning: "The key being rotated out: tokens it sealed still open, and are sealed again with `TOKEN_ENCRYPTION_KEY` at start-up. Remove it once a start-up has logged that no store needed it.",
    }
    BC_LOGIN_BASE_URL {
        section: Section::App,
        default: Value("https://login.bigcommerce.com"),
        secret: false,
        example: None,
        meaning: "Where the install callback exchanges its code for the store's access token (`POST {BC_LOGIN_BASE_URL}/oauth2/token`).",
    }
    APP_SCOPES {
        section: Section::App,
        default: Value(
            "store_v2_orders_read_only store_storefront_api store_sites_read_only store_channel_settings_read_only"
        ),
        secret: false,
        example: None,
        meaning: "The OAuth scopes the app expects, space-separated as BigCommerce sends `scope` (order does not matter): exactly those configured in the Developer Portal. An install whose granted scopes differ is refused with a page saying which. The default reads orders and their metafields, and (`store_storefront_api`, Storefront API tokens: modify) makes the private token that checks headless storefronts' customer access tokens; `store_sites_read_only` and `store_channel_settings_read_only` read each channel's site URLs (the allowed CORS origins) and receive `store/channel/*` webhooks.",
    }
    SITES_REFRESH_INTERVAL {
        section: Section::App,
        default: Value("1h"),
        secret: false,
        example: None,
        meaning: "How often each installed store's sites (`GET /v3/sites`) are read again; their URLs are the store's allowed CORS origins, beside `CORS_ALLOWED_ORIGINS`. A `store/channel/*` webhook reads them at once.",
    }
    CONTROL_PANEL_ORIGINS {
        section: Section::App,
        default: Value("https://*.bigcommerce.com"),
        secret: false,
        example: None,
        meaning: "Origins allowed to show the app's pages in a frame (`Content-Security-Policy: frame-ancestors`), space-separated: BigCommerce's control panel.",
    }
    DATABASE_URL {
        section: Section::App,
        default: Empty,
        secret: true,
        example: Some("postgres://order-metafields:PASSWORD@db.internal:5432/order_metafields"),
        meaning: "Where installed stores, their users and settings live: `sqlite://PATH` (embedded, created on first start, one replica) or `postgres://...` (several replicas). Empty: `sqlite://order-metafields.db` in the working directory in app mode; an in-memory database in single-store mode. Migrations run at start-up. Treated as a secret (it may hold a password); only its host and database are ever shown.",
    }
    BC_CLIENT_SECRET_PREVIOUS {
        section: Section::Secrets,
        default: Empty,
        secret: true,
        example: None,
        meaning: "The client secret being rotated out: tokens and webhook signatures made with it keep verifying until you remove it, so shoppers holding a token signed with it are not logged out. Trimmed like `BC_CLIENT_SECRET`.",
    }
    WEBHOOK_SECRET {
        section: Section::Secrets,
        default: Empty,
        secret: true,
        example: None,
        meaning: "At least 16 random characters (e.g. `openssl rand -hex 24`). `order-metafields webhooks register` sets it as the `X-Webhook-Secret` header of every delivery, and `POST /webhooks/bigcommerce` accepts deliveries carrying it. Deliveries with a valid Standard Webhooks signature (keyed with `BC_CLIENT_SECRET`) are accepted without it.",
    }
    BC_API_BASE_URL {
        section: Section::BigCommerce,
        default: Value("https://api.bigcommerce.com"),
        secret: false,
        example: None,
        meaning: "Base of the Management API, an http(s) URL without credentials, query or fragment; requests go to `{base}/stores/{hash}/v2/...` and `.../v3/...`.",
    }
    BC_GRAPHQL_URL {
        section: Section::BigCommerce,
        default: Value("https://store-{store_hash}-{channel_id}.mybigcommerce.com/graphql"),
        secret: false,
        example: None,
        meaning: "The GraphQL Storefront API of a store's channel (`{store_hash}` and `{channel_id}` are replaced; the default is the channel's canonical URL, as Catalyst's client builds it), an http(s) URL: where a customer access token (`X-Bc-Customer-Access-Token`) is checked with the store's private token for that channel.",
    }
    JWT_ALGORITHMS {
        section: Section::CustomerTokens,
        default: Value("HS256"),
        secret: false,
        example: Some("HS256,HS512"),
        meaning: "Comma-separated accepted signing algorithms, HMAC only: `HS256`, `HS384`, `HS512`. Real stores may sign with HS512; a token refused only for its algorithm is logged at warn level.",
    }
    JWT_LEEWAY {
        section: Section::CustomerTokens,
        default: Value("30s"),
        secret: false,
        example: None,
        meaning: "Clock-skew leeway for `exp`, `nbf` and `iat`, at most `60s`.",
    }
    LISTEN_ADDR {
        section: Section::Http,
        default: Value("127.0.0.1:8080"),
        secret: false,
        example: Some("0.0.0.0:8080"),
        meaning: "Address and port the HTTP server listens on. The container image sets `0.0.0.0:8080`.",
    }
    CORS_ALLOWED_ORIGINS {
        section: Section::Http,
        default: Empty,
        secret: false,
        example: Some("https://store.example.com,https://store-abc123.mybigcommerce.com"),
        meaning: "Comma-separated exact origins allowed to call the API from a browser; no wildcard, no path. Empty: no cross-origin access.",
    }
    CORS_MAX_AGE {
        section: Section::Http,
        default: Value("10m"),
        secret: false,
        example: None,
        meaning: "How long a browser may cache a CORS preflight answer.",
    }
    CUSTOMER_RATE_LIMIT {
        section: Section::Http,
        default: Value("600"),
        secret: false,
        example: None,
        meaning: "Requests per minute one customer may make (sustained); over it `429` with `Retry-After`, answered from memory. `0` turns the limit off.",
    }
    CUSTOMER_RATE_BURST {
        section: Section::Http,
        default: Value("1200"),
        secret: false,
        example: None,
        meaning: "Requests one customer may make in a burst above the sustained rate.",
    }
    SHOPPER_WRITE_RATE_LIMIT {
        section: Section::Http,
        default: Value("10"),
        secret: false,
        example: None,
        meaning: "Field edits per minute one customer may make (sustained), counted apart from their reads; over it `429` with `Retry-After`. `0` turns the limit off.",
    }
    SHOPPER_WRITE_RATE_BURST {
        section: Section::Http,
        default: Value("10"),
        secret: false,
        example: None,
        meaning: "Field edits one customer may make in a burst above the sustained rate.",
    }
    SHUTDOWN_GRACE {
        section: Section::Http,
        default: Value("30s"),
        secret: false,
        example: None,
        meaning: "After SIGTERM or Ctrl-C, how long in-flight requests may take to finish.",
    }
    HTTP_HEADER_TIMEOUT {
        section: Section::Http,
        default: Value("5s"),
        secret: false,
        example: None,
        meaning: "How long a new connection may take to send its request line and headers (above zero); then actix answers a bare `408` and closes it.",
    }
    HTTP_BODY_TIMEOUT {
        section: Section::Http,
        default: Value("5s"),
        secret: false,
        example: None,
        meaning: "How long a request body (webhook deliveries) may take to arrive after the headers (above zero); then `408` and the connection is closed.",
    }
    HTTP_KEEP_ALIVE {
        section: Section::Http,
        default: Value("5s"),
        secret: false,
        example: None,
        meaning: "How long an idle connection is kept for a next request; `0s` closes it after each answer.",
    }
    HTTP_MAX_CONNECTIONS {
        section: Section::Http,
        default: Value("10000"),
        secret: false,
        example: None,
        meaning: "Most connections held at once over all workers, lowered to fit the process's open-file limit.",
    }
    HTTP_MAX_CONNECTIONS_PER_CLIENT {
        section: Section::Http,
        default: Value("256"),
        secret: false,
        example: None,
        meaning: "Most connections one client IP address may hold; more are closed as soon as accepted. `0` turns the limit off (behind a reverse proxy every connection comes from the proxy).",
    }
    METRICS_ADDR {
        section: Section::Http,
        default: Empty,
        secret: false,
        example: Some("0.0.0.0:9090"),
        meaning: "Serve `GET /metrics` (Prometheus text format) on this separate address and port only, e.g. an internal one; the main address then answers `404` there. Empty: `/metrics` is served on `LISTEN_ADDR`.",
    }
    METAFIELD_NAMESPACES {
        section: Section::Visibility,
        default: Empty,
        secret: false,
        example: Some("shipping_tracking,gift_messages"),
        meaning: "Comma-separated namespaces (exact, case-sensitive) whose `read` and `write` metafields are shown too, besides those marked `read_and_sf_access` or `write_and_sf_access`. `app_only` metafields are never shown. Empty: storefront-marked metafields only.",
    }
    FIELD_DEFINITIONS_FILE {
        section: Section::Visibility,
        default: Empty,
        secret: false,
        example: Some("/etc/order-metafields/fields.json"),
        meaning: "Single-store mode: the store's field definitions (labels, types, order, hidden fields), a JSON file as `order-metafields fields export` writes it, loaded at start-up into the database; start-up fails naming the first invalid definition. Empty: the definitions already in the database (none in memory). Ignored in app mode, where merchants edit definitions on the app's page.",
    }
    ORDERS_CACHE_TTL {
        section: Section::Cache,
        default: Value("60s"),
        secret: false,
        example: Some("1h"),
        meaning: "How long a customer's order list is kept. With webhooks registered (`order-metafields webhooks register`), changes drop cached entries at once and this can be much longer; without them, this is how stale an answer may be.",
    }
    ORDERS_REFRESH_INTERVAL {
        section: Section::Cache,
        default: Value("10s"),
        secret: false,
        example: None,
        meaning: "An order id missing from a customer's cached list reloads the list at most once per this interval, so a just-placed order shows up quickly while probing other ids costs at most one reload per interval.",
    }
    METAFIELDS_CACHE_TTL {
        section: Section::Cache,
        default: Value("60s"),
        secret: false,
        example: None,
        meaning: "How long an order's visible metafields are kept.",
    }
    CACHE_MAX_ORDERS {
        section: Section::Cache,
        default: Value("200000"),
        secret: false,
        example: None,
        meaning: "Most orders held across all cached order lists.",
    }
    METAFIELDS_CACHE_MAX_BYTES {
        section: Section::Cache,
        default: Value("67108864"),
        secret: false,
        example: None,
        meaning: "Most bytes of metafield responses held (64 MiB).",
    }
    STALE_IF_ERROR {
        section: Section::Cache,
        default: Value("5m"),
        secret: false,
        example: None,
        meaning: "When BigCommerce fails or the quota share is spent, an expired answer is still served, marked with an `Age` header, for up to this long past its lifetime. `0` turns it off.",
    }
    SYNC_MODE {
        section: Section::Cache,
        default: Value("on-demand"),
        secret: false,
        example: Some("mirror"),
        meaning: "`on-demand`: a customer's first read asks the Management API, and what it answers is cached. `mirror`: every store's orders and storefront-visible order metafields are copied into the database (`DATABASE_URL`) once, paced within the quota share, then kept in step by webhooks and a periodic catch-up, and reads come from that copy (with the in-memory cache in front): no Management API call per page view. Until a store's copy is complete its reads go to the Management API as with `on-demand`. With several replicas one syncs each store and all read.",
    }
    MIRROR_CATCH_UP_INTERVAL {
        section: Section::Cache,
        default: Value("60s"),
        secret: false,
        example: None,
        meaning: "`SYNC_MODE=mirror`: how often each store is asked what changed since the last time (orders by `min_date_modified`, metafields by `date_modified:min`: two requests when nothing changed), so a change whose webhook never came shows within this long.",
    }
    MIRROR_RECONCILE_INTERVAL {
        section: Section::Cache,
        default: Value("24h"),
        secret: false,
        example: None,
        meaning: "`SYNC_MODE=mirror`: how often each store's order and metafield ids are compared whole with BigCommerce's (one request per 250), to find deletions whose webhook never came (a deletion leaves nothing to find by date).",
    }
    UPSTREAM_CONNECT_TIMEOUT {
        section: Section::Upstream,
        default: Value("3s"),
        secret: false,
        example: None,
        meaning: "Time allowed to open a connection to the Management API.",
    }
    UPSTREAM_TIMEOUT {
        section: Section::Upstream,
        default: Value("10s"),
        secret: false,
        example: None,
        meaning: "Time allowed for one upstream request; a timeout answers `504`.",
    }
    UPSTREAM_RETRY_BUDGET {
        section: Section::Upstream,
        default: Value("15s"),
        secret: false,
        example: None,
        meaning: "Total time one request's upstream work (its order pages, a refresh, its metafields) may take, `429` waits and backoff included. A wait that does not fit answers `503` with `Retry-After`; `5xx` retries that do not fit answer `502`.",
    }
    UPSTREAM_MAX_RETRIES {
        section: Section::Upstream,
        default: Value("3"),
        secret: false,
        example: None,
        meaning: "Retries after a `5xx` or a broken connection; `0` disables them.",
    }
    ORDERS_MAX_PAGES {
        section: Section::Upstream,
        default: Value("40"),
        secret: false,
        example: None,
        meaning: "Most pages of 250 orders read for one customer, newest first; past it the oldest orders are not shown (logged at warn level).",
    }
    UPSTREAM_QUOTA_SHARE {
        section: Section::Upstream,
        default: Value("0.5"),
        secret: false,
        example: Some("0.25"),
        meaning: "The share of the store's API window (`X-Rate-Limit-Requests-Quota`, 150 per 30 s on most plans, shared by every app on the store) this service may spend, above 0 and at most 1: it never pushes the store's remaining requests below the rest. Replicas on one PostgreSQL database hold it together (they count each other and each spends only its part of the room the store's headers show); divide it by hand only among replicas that share no database (single-store mode in memory).",
    }
    UPSTREAM_QUEUE_MAX {
        section: Section::Upstream,
        default: Value("256"),
        secret: false,
        example: None,
        meaning: "Requests that may wait for the next quota window at once; more get `503` at once.",
    }
    READINESS_INTERVAL {
        section: Section::Upstream,
        default: Value("30s"),
        secret: false,
        example: None,
        meaning: "How long `GET /readyz` trusts a finding: it asks the database at most once per interval, and reports BigCommerce's state from the Management API's latest answer (to any request) while younger than this; otherwise, in single-store mode, it probes `GET /v2/orders/count`, at most once per interval however often `/readyz` is asked. BigCommerce's state is in the body and `/metrics`, never the status.",
    }
    LOG_FORMAT {
        section: Section::Logs,
        default: Value("auto"),
        secret: false,
        example: Some("json"),
        meaning: "`json`, `pretty`, or `auto` (pretty when stdout is a terminal, JSON otherwise).",
    }
    LOG_LEVEL {
        section: Section::Logs,
        default: Value("info"),
        secret: false,
        example: Some("info,order_metafields=debug"),
        meaning: "A level or tracing filter; `info,order_metafields=debug` shows why a token was refused. The `demo`, `sandbox` and `webhooks` commands default to `warn`.",
    }
    RUST_LOG {
        section: Section::Logs,
        default: Empty,
        secret: false,
        example: None,
        meaning: "Read instead of `LOG_LEVEL` when that is unset, because Rust operators reach for it.",
    }
}
