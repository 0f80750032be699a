//! Settings: every environment variable the service reads, parsed once into real types.
//! The variables themselves (name, default, meaning, secret or not) are one table,
//! [`variables`]; `.env.example` and the documentation's table are generated from it
//! ([`documents`]). Nothing else in the crate reads the environment; a missing, malformed or
//! placeholder value becomes a [`ConfigError`] naming the variable and what is expected
//! (never the value), and secrets stay in [`SecretString`], whose `Debug` prints
//! `[REDACTED]` and which has no `Display`.

pub mod documents;
pub mod variables;

use std::collections::{BTreeSet, HashMap};
use std::env::VarError;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::config::variables::{self as var, DefaultValue, PLACEHOLDER_PREFIX, Variable};
use crate::database::DatabaseUrl;
use crate::sealing::EncryptionKey;

/// The service's whole configuration, validated.
#[derive(Clone, Debug)]
pub struct Settings {
    /// One store configured by hand, or an app that merchants install.
    pub mode: Mode,
    /// Base of the Management API (`BC_API_BASE_URL`).
    pub api_base_url: Url,
    /// The GraphQL Storefront API, `{store_hash}` and `{channel_id}` to be replaced
    /// (`BC_GRAPHQL_URL`).
    pub graphql_url: String,
    /// Where stores, users and settings live (`DATABASE_URL`, or the mode's default).
    pub database_url: DatabaseUrl,
    pub auth: AuthSettings,
    pub http: HttpSettings,
    pub cache: CacheSettings,
    pub upstream: UpstreamSettings,
    pub visibility: VisibilitySettings,
    pub sync: SyncSettings,
    pub log: LogSettings,
}

/// Where reads come from (`SYNC_MODE`) and how a mirror is kept in step.
#[derive(Clone, Debug)]
pub struct SyncSettings {
    pub mode: SyncMode,
    pub catch_up_interval: Duration,
    pub reconcile_interval: Duration,
}

/// `SYNC_MODE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    /// Each customer's first read asks the Management API.
    OnDemand,
    /// Each store is copied into the database and read from there.
    Mirror,
}

/// How the service learns its stores (app.md, "Two modes, one code path").
#[derive(Clone, Debug)]
pub enum Mode {
    /// `BC_STORE_HASH` is set: that one store, with `BC_ACCESS_TOKEN`; it cannot be
    /// uninstalled.
    SingleStore(StoreSettings),
    /// `BC_STORE_HASH` is unset: stores arrive through the install callbacks.
    App(AppSettings),
}

/// What app mode needs to install stores and keep their tokens.
#[derive(Clone, Debug)]
pub struct AppSettings {
    /// The public base URL of this service (`APP_URL`), without a trailing slash.
    pub app_url: Url,
    pub token_key: EncryptionKey,
    pub previous_token_key: Option<EncryptionKey>,
    /// Where install codes are exchanged (`BC_LOGIN_BASE_URL`).
    pub login_base_url: Url,
    /// The OAuth scopes an install must grant, exactly (`APP_SCOPES`).
    pub scopes: BTreeSet<String>,
    /// How often each store's sites are read again (`SITES_REFRESH_INTERVAL`).
    pub sites_refresh_interval: Duration,
}

impl AppSettings {
    /// `{APP_URL}/bigcommerce/auth`: the OAuth `redirect_uri`.
    pub fn redirect_uri(&self) -> String {
        format!(
            "{}/bigcommerce/auth",
            self.app_url.as_str().trim_end_matches('/')
        )
    }

    /// `{APP_URL}/webhooks/bigcommerce`: where each store's webhooks deliver.
    pub fn webhook_destination(&self) -> String {
        format!(
            "{}/webhooks/bigcommerce",
            self.app_url.as_str().trim_end_matches('/')
        )
    }
}

impl Settings {
    /// The one store of single-store mode; `None` in app mode.
    pub fn single_store(&self) -> Option<&StoreSettings> {
        match &self.mode {
            Mode::SingleStore(store) => Some(store),
            Mode::App(_) => None,
        }
    }
}

/// The store of single-store mode and the Management API credentials.
#[derive(Clone, Debug)]
pub struct StoreSettings {
    pub store_hash: String,
    pub access_token: SecretString,
    pub api_base_url: Url,
}

/// What a Current Customer JWT must satisfy, and how webhook deliveries are authenticated.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    pub client_id: String,
    pub client_secret: SecretString,
    /// The secret being rotated out: tokens and webhook signatures made with it still verify.
    pub previous_client_secret: Option<SecretString>,
    /// The `X-Webhook-Secret` header value the service registers its hooks with.
    pub webhook_secret: Option<SecretString>,
    pub algorithms: Vec<Algorithm>,
    pub leeway: Duration,
}

impl AuthSettings {
    /// The client secret, then the previous one when a rotation is under way.
    pub fn secrets(&self) -> impl Iterator<Item = &SecretString> {
        std::iter::once(&self.client_secret).chain(self.previous_client_secret.as_ref())
    }
}

/// Where the server listens, who may call it from a browser, and how often a customer may.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    pub listen_addr: SocketAddr,
    /// Where `/metrics` is served instead of `listen_addr`, when set.
    pub metrics_addr: Option<SocketAddr>,
    /// Sustained requests per minute per customer; `None` turns the limit off.
    pub customer_rate_per_minute: Option<NonZeroU32>,
    pub customer_burst: NonZeroU32,
    /// Sustained field edits per minute per customer; `None` turns the limit off.
    pub write_rate_per_minute: Option<NonZeroU32>,
    pub write_burst: NonZeroU32,
    pub cors_allowed_origins: Vec<String>,
    pub cors_max_age: Duration,
    /// How long in-flight requests may take to finish after SIGTERM or Ctrl-C.
    pub shutdown_grace: Duration,
    /// How long a new connection may take to send its first request's head.
    pub header_timeout: Duration,
    /// How long a request's body may take to arrive after its head.
    pub body_timeout: Duration,
    /// How long an idle connection is kept open for a next request; zero closes it after
    /// each answer.
    pub keep_alive: Duration,
    /// Connections the server holds at once, over all workers.
    pub max_connections: usize,
    /// Connections one client address may hold at once; `0` for no bound.
    pub max_connections_per_client: usize,
    /// Who may frame the app's pages: a `frame-ancestors` source list.
    pub control_panel_origins: String,
}

/// Cache lifetimes and bounds.
#[derive(Clone, Debug)]
pub struct CacheSettings {
    pub orders_ttl: Duration,
    pub orders_refresh_interval: Duration,
    pub metafields_ttl: Duration,
    pub max_orders: u64,
    pub metafields_max_bytes: u64,
    pub stale_if_error: Duration,
}

/// How the Management API is called.
#[derive(Clone, Debug)]
pub struct UpstreamSettings {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub retry_budget: Duration,
    pub max_retries: u32,
    pub orders_max_pages: u32,
    /// The part of the store's API window this service may spend (0 < share ≤ 1).
    pub quota_share: f64,
    /// Callers that may wait for the next window at once; more get 503 at once.
    pub queue_max: usize,
    /// How long an answer of the Management API (to traffic or a probe) keeps the service
    /// ready, and so how often readiness may probe at most.
    pub readiness_interval: Duration,
}

/// Which metafields a customer may see besides the storefront-marked ones.
#[derive(Clone, Debug, Default)]
pub struct VisibilitySettings {
    pub extra_namespaces: BTreeSet<String>,
    /// `FIELD_DEFINITIONS_FILE`: single-store mode's field definitions (the `fields export`
    /// format), read at start-up.
    pub field_definitions_file: Option<std::path::PathBuf>,
}

/// Log output.
#[derive(Clone, Debug)]
pub struct LogSettings {
    pub format: LogFormat,
    pub filter: String,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
    /// Pretty on a terminal, JSON otherwise (containers).
    Auto,
}

/// A variable that is missing or does not hold what is expected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

/// The longest clock-skew leeway the contract allows.
pub const MAX_LEEWAY: Duration = Duration::from_secs(60);
/// The longest duration any setting accepts.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// What `order-metafields token` needs: the app and store a development token is for.
#[derive(Clone, Debug)]
pub struct TokenSettings {
    pub store_hash: String,
    pub client_id: String,
    pub client_secret: SecretString,
}

impl TokenSettings {
    /// Reads `BC_STORE_HASH`, `BC_CLIENT_ID` and `BC_CLIENT_SECRET` (after `.env`).
    pub fn from_env() -> Result<Self, ConfigError> {
        let environment = Environment::read()?;
        Ok(Self {
            store_hash: store_hash(&environment)?,
            client_id: required(&environment, &var::BC_CLIENT_ID)?,
            client_secret: required_secret(&environment, &var::BC_CLIENT_SECRET)?,
        })
    }
}

impl LogSettings {
    /// `LOG_LEVEL` (or `RUST_LOG`) and `LOG_FORMAT` alone, with `default_filter` when
    /// neither is set: for the demo and sandbox commands, which need no store settings.
    pub fn from_env(default_filter: &str) -> Result<Self, ConfigError> {
        Self::read(&Environment::read()?, default_filter)
    }

    fn read(environment: &Environment, default_filter: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            format: parse_log_format(environment)?,
            filter: log_filter(environment, default_filter)?,
        })
    }
}

impl Settings {
    /// Reads the process environment (after `.env`, which never overrides it) once.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(&Environment::read()?)
    }

    /// Builds settings from `(name, value)` pairs, as if they were the environment; a name
    /// that is not one of [`variables::VARIABLES`] is refused.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ConfigError> {
        Self::read(&Environment::from_pairs(pairs)?)
    }

    fn read(environment: &Environment) -> Result<Self, ConfigError> {
        let api_base_url = parse_base_url(environment)?;
        let graphql_url = parse_graphql_url(environment)?;
        let mode = match optional_store_hash(environment)? {
            Some(store_hash) => Mode::SingleStore(StoreSettings {
                store_hash,
                access_token: required_secret(environment, &var::BC_ACCESS_TOKEN)?,
                api_base_url: api_base_url.clone(),
            }),
            None => Mode::App(app_settings(environment)?),
        };
        let database_url = database_url(environment, &mode)?;
        let client_id = required(environment, &var::BC_CLIENT_ID)?;
        let client_secret = required_secret(environment, &var::BC_CLIENT_SECRET)?;
        let algorithms = parse_algorithms(environment.value(&var::JWT_ALGORITHMS)?)?;
        let leeway = duration(environment, &var::JWT_LEEWAY)?;
        if leeway > MAX_LEEWAY {
            return Err(invalid(
                var::JWT_LEEWAY.name,
                "expected at most 60s of clock-skew leeway",
            ));
        }
        let listen_addr = socket_address(environment, &var::LISTEN_ADDR)?
            .ok_or_else(|| invalid(var::LISTEN_ADDR.name, "required but not set"))?;
        let metrics_addr = socket_address(environment, &var::METRICS_ADDR)?;
        let cors_allowed_origins = parse_origins(environment.value(&var::CORS_ALLOWED_ORIGINS)?)?;
        let cors_max_age = duration(environment, &var::CORS_MAX_AGE)?;

        let cache = CacheSettings {
            orders_ttl: positive_duration(environment, &var::ORDERS_CACHE_TTL)?,
            // Zero would let every unknown order id reload the list: no bound on cost.
            orders_refresh_interval: positive_duration(environment, &var::ORDERS_REFRESH_INTERVAL)?,
            metafields_ttl: positive_duration(environment, &var::METAFIELDS_CACHE_TTL)?,
            max_orders: count(environment, &var::CACHE_MAX_ORDERS)?,
            metafields_max_bytes: count(environment, &var::METAFIELDS_CACHE_MAX_BYTES)?,
            stale_if_error: duration(environment, &var::STALE_IF_ERROR)?,
        };
        let upstream = UpstreamSettings {
            connect_timeout: positive_duration(environment, &var::UPSTREAM_CONNECT_TIMEOUT)?,
            request_timeout: positive_duration(environment, &var::UPSTREAM_TIMEOUT)?,
            retry_budget: positive_duration(environment, &var::UPSTREAM_RETRY_BUDGET)?,
            max_retries: small_count(environment, &var::UPSTREAM_MAX_RETRIES)?,
            orders_max_pages: u32::try_from(count(environment, &var::ORDERS_MAX_PAGES)?).map_err(
                |_| invalid(var::ORDERS_MAX_PAGES.name, "expected a small whole number"),
            )?,
            quota_share: parse_share(environment)?,
            queue_max: usize::try_from(count_or_zero(environment, &var::UPSTREAM_QUEUE_MAX)?)
                .map_err(|_| invalid(var::UPSTREAM_QUEUE_MAX.name, "expected a whole number"))?,
            readiness_interval: positive_duration(environment, &var::READINESS_INTERVAL)?,
        };
        let visibility = VisibilitySettings {
            extra_namespaces: list(environment.value(&var::METAFIELD_NAMESPACES)?)
                .map(str::to_owned)
                .collect(),
            field_definitions_file: environment
                .value(&var::FIELD_DEFINITIONS_FILE)?
                .map(std::path::PathBuf::from),
        };
        let sync = SyncSettings {
            mode: match environment
                .value(&var::SYNC_MODE)?
                .unwrap_or_else(|| default_text(&var::SYNC_MODE))
            {
                "on-demand" => SyncMode::OnDemand,
                "mirror" => SyncMode::Mirror,
                _ => return Err(invalid(var::SYNC_MODE.name, "expected on-demand or mirror")),
            },
            catch_up_interval: positive_duration(environment, &var::MIRROR_CATCH_UP_INTERVAL)?,
            reconcile_interval: positive_duration(environment, &var::MIRROR_RECONCILE_INTERVAL)?,
        };
        let log = LogSettings::read(environment, default_text(&var::LOG_LEVEL))?;

        Ok(Settings {
            mode,
            api_base_url,
            graphql_url,
            database_url,
            auth: AuthSettings {
                client_id,
                client_secret,
                previous_client_secret: optional_secret(
                    environment,
                    &var::BC_CLIENT_SECRET_PREVIOUS,
                )?,
                webhook_secret: webhook_secret(environment)?,
                algorithms,
                leeway,
            },
            http: HttpSettings {
                listen_addr,
                metrics_addr,
                customer_rate_per_minute: NonZeroU32::new(small_count(
                    environment,
                    &var::CUSTOMER_RATE_LIMIT,
                )?),
                customer_burst: NonZeroU32::new(small_count(
                    environment,
                    &var::CUSTOMER_RATE_BURST,
                )?)
                .ok_or_else(|| {
                    invalid(
                        var::CUSTOMER_RATE_BURST.name,
                        "expected a whole number above zero such as 1200",
                    )
                })?,
                write_rate_per_minute: NonZeroU32::new(small_count(
                    environment,
                    &var::SHOPPER_WRITE_RATE_LIMIT,
                )?),
                write_burst: NonZeroU32::new(small_count(
                    environment,
                    &var::SHOPPER_WRITE_RATE_BURST,
                )?)
                .ok_or_else(|| {
                    invalid(
                        var::SHOPPER_WRITE_RATE_BURST.name,
                        "expected a whole number above zero such as 10",
                    )
                })?,
                cors_allowed_origins,
                cors_max_age,
                shutdown_grace: duration(environment, &var::SHUTDOWN_GRACE)?,
                header_timeout: positive_duration(environment, &var::HTTP_HEADER_TIMEOUT)?,
                body_timeout: positive_duration(environment, &var::HTTP_BODY_TIMEOUT)?,
                keep_alive: duration(environment, &var::HTTP_KEEP_ALIVE)?,
                max_connections: whole_usize(
                    count(environment, &var::HTTP_MAX_CONNECTIONS)?,
                    &var::HTTP_MAX_CONNECTIONS,
                )?,
                max_connections_per_client: whole_usize(
                    count_or_zero(environment, &var::HTTP_MAX_CONNECTIONS_PER_CLIENT)?,
                    &var::HTTP_MAX_CONNECTIONS_PER_CLIENT,
                )?,
                control_panel_origins: frame_ancestors(environment)?,
            },
            cache,
            upstream,
            visibility,
            sync,
            log,
        })
    }
}

/// The values of the table's variables, as the environment (or the pairs) gave them
/// (`None`: not UTF-8); only ever read through [`Environment::value`], which refuses
/// placeholders. Never printed.
struct Environment {
    values: HashMap<&'static str, Option<String>>,
}

impl Environment {
    /// The process environment, after `.env` (which never overrides it).
    fn read() -> Result<Self, ConfigError> {
        // Only the working directory's .env is read: dotenvy::dotenv() would also search
        // every parent directory and pick up an unrelated file. A missing .env is normal; a
        // malformed one is reported by name.
        match dotenvy::from_path(".env") {
            Ok(_) => {}
            Err(error) if error.not_found() => {}
            Err(error) => {
                return Err(ConfigError {
                    variable: ".env",
                    problem: format!("cannot be read ({error})"),
                });
            }
        }
        let mut values = HashMap::new();
        for variable in var::VARIABLES {
            // Not UTF-8 is refused only if the command reads the variable.
            match std::env::var(variable.name) {
                Ok(value) => {
                    values.insert(variable.name, Some(value));
                }
                Err(VarError::NotPresent) => {}
                Err(VarError::NotUnicode(_)) => {
                    values.insert(variable.name, None);
                }
            }
        }
        Ok(Self { values })
    }

    /// `(name, value)` pairs as if they were the environment; later pairs win.
    fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ConfigError> {
        let mut values = HashMap::new();
        for (name, value) in pairs {
            let variable = var::VARIABLES
                .iter()
                .find(|variable| variable.name == name)
                .ok_or_else(|| ConfigError {
                    variable: "environment",
                    problem: format!("{name} is not a variable this service reads"),
                })?;
            values.insert(variable.name, Some(value.to_owned()));
        }
        Ok(Self { values })
    }

    /// The value of `variable`, trimmed, when it is set and not blank. A value still
    /// holding a placeholder of `.env.example` or `deploy/kubernetes` is refused (without
    /// printing it): a deployment that forgot to fill one in must not start.
    fn value(&self, variable: &Variable) -> Result<Option<&str>, ConfigError> {
        let value = match self.values.get(variable.name) {
            None => return Ok(None),
            Some(None) => return Err(invalid(variable.name, "expected UTF-8 text")),
            Some(Some(value)) => value.trim(),
        };
        if value.is_empty() {
            return Ok(None);
        }
        let prefix = PLACEHOLDER_PREFIX.as_bytes();
        if value
            .as_bytes()
            .get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
        {
            return Err(invalid(
                variable.name,
                "still holds a replace-with-... placeholder; set the real value",
            ));
        }
        Ok(Some(value))
    }

    /// The value of `variable`, or its default's text when unset (empty when it has none).
    fn value_or_default(&self, variable: &Variable) -> Result<&str, ConfigError> {
        Ok(self.value(variable)?.unwrap_or(default_text(variable)))
    }
}

/// The default of `variable` as text; empty for a required variable or one without.
fn default_text(variable: &Variable) -> &'static str {
    match variable.default {
        DefaultValue::Value(text) => text,
        DefaultValue::Required { .. }
        | DefaultValue::OneStore { .. }
        | DefaultValue::AppMode
        | DefaultValue::Empty => "",
    }
}

fn invalid(variable: &'static str, problem: &str) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.to_owned(),
    }
}

fn required(environment: &Environment, variable: &Variable) -> Result<String, ConfigError> {
    environment
        .value(variable)?
        .map(str::to_owned)
        .ok_or_else(|| invalid(variable.name, "required but not set"))
}

fn store_hash(environment: &Environment) -> Result<String, ConfigError> {
    optional_store_hash(environment)?
        .ok_or_else(|| invalid(var::BC_STORE_HASH.name, "required but not set"))
}

fn optional_store_hash(environment: &Environment) -> Result<Option<String>, ConfigError> {
    let Some(store_hash) = environment.value(&var::BC_STORE_HASH)? else {
        return Ok(None);
    };
    if crate::domain::StoreHash::parse(store_hash).is_none() {
        return Err(invalid(
            var::BC_STORE_HASH.name,
            "expected the store hash, 1 to 64 letters and digits (e.g. abc123)",
        ));
    }
    Ok(Some(store_hash.to_owned()))
}

/// App mode's settings: `APP_URL` and `TOKEN_ENCRYPTION_KEY` are required there.
fn app_settings(environment: &Environment) -> Result<AppSettings, ConfigError> {
    let app_mode =
        "required in app mode (set BC_STORE_HASH and BC_ACCESS_TOKEN instead to serve one store)";
    let app_url = environment
        .value(&var::APP_URL)?
        .ok_or_else(|| invalid(var::APP_URL.name, app_mode))?;
    let app_url = parse_app_url(app_url)?;
    let token_key = environment
        .value(&var::TOKEN_ENCRYPTION_KEY)?
        .ok_or_else(|| invalid(var::TOKEN_ENCRYPTION_KEY.name, app_mode))?;
    let token_key = EncryptionKey::from_base64(token_key)
        .map_err(|problem| invalid(var::TOKEN_ENCRYPTION_KEY.name, &problem))?;
    let previous_token_key = environment
        .value(&var::TOKEN_ENCRYPTION_KEY_PREVIOUS)?
        .map(EncryptionKey::from_base64)
        .transpose()
        .map_err(|problem| invalid(var::TOKEN_ENCRYPTION_KEY_PREVIOUS.name, &problem))?;
    let login_base_url = http_url(environment, &var::BC_LOGIN_BASE_URL)?;
    let scopes: BTreeSet<String> = environment
        .value_or_default(&var::APP_SCOPES)?
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if scopes.is_empty() {
        return Err(invalid(
            var::APP_SCOPES.name,
            "expected the app's OAuth scopes, space-separated (e.g. store_v2_orders_read_only)",
        ));
    }
    let sites_refresh_interval = positive_duration(environment, &var::SITES_REFRESH_INTERVAL)?;
    Ok(AppSettings {
        app_url,
        token_key,
        previous_token_key,
        login_base_url,
        scopes,
        sites_refresh_interval,
    })
}

/// `CONTROL_PANEL_ORIGINS`: space-separated CSP source expressions (scheme, host with an
/// optional leading `*.`, optional port), nothing that could end the header's directive.
fn frame_ancestors(environment: &Environment) -> Result<String, ConfigError> {
    let variable = &var::CONTROL_PANEL_ORIGINS;
    let sources: Vec<&str> = environment
        .value_or_default(variable)?
        .split_whitespace()
        .collect();
    let valid = |source: &&str| {
        let Some((scheme, host)) = source.split_once("://") else {
            return false;
        };
        matches!(scheme, "http" | "https")
            && !host.is_empty()
            && host
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b".-:*[]".contains(&byte))
    };
    if sources.is_empty() || !sources.iter().all(valid) {
        return Err(invalid(
            variable.name,
            "expected space-separated origins such as https://*.bigcommerce.com",
        ));
    }
    Ok(sources.join(" "))
}

/// `APP_URL`: `https://`, or `http://` on a loopback address; no credentials, query or
/// fragment; a path is allowed (the app may live under one).
fn parse_app_url(text: &str) -> Result<Url, ConfigError> {
    let problem = || {
        invalid(
            var::APP_URL.name,
            "expected the service's public https:// base URL without credentials, query or fragment (http:// only on a loopback address), e.g. https://orders.example.com",
        )
    };
    let url = Url::parse(text).map_err(|_| problem())?;
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    };
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    if !scheme_ok
        || url.host().is_none()
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(problem());
    }
    Ok(url)
}

/// `DATABASE_URL`, or the mode's default: a file in the working directory for an app (its
/// installs must survive a restart), memory for one store (configured by the environment
/// alone, on a read-only filesystem if need be).
fn database_url(environment: &Environment, mode: &Mode) -> Result<DatabaseUrl, ConfigError> {
    match environment.value(&var::DATABASE_URL)? {
        Some(text) => text
            .parse()
            .map_err(|problem: String| invalid(var::DATABASE_URL.name, &problem)),
        None => match mode {
            Mode::SingleStore(_) => Ok(DatabaseUrl::in_memory()),
            Mode::App(_) => "sqlite://order-metafields.db"
                .parse()
                .map_err(|problem: String| invalid(var::DATABASE_URL.name, &problem)),
        },
    }
}

fn required_secret(
    environment: &Environment,
    variable: &Variable,
) -> Result<SecretString, ConfigError> {
    optional_secret(environment, variable)?
        .ok_or_else(|| invalid(variable.name, "required but not set"))
}

/// A secret, trimmed like every value: a secret read from a file often ends with a newline.
fn optional_secret(
    environment: &Environment,
    variable: &Variable,
) -> Result<Option<SecretString>, ConfigError> {
    Ok(environment.value(variable)?.map(SecretString::from))
}

fn webhook_secret(environment: &Environment) -> Result<Option<SecretString>, ConfigError> {
    let secret = optional_secret(environment, &var::WEBHOOK_SECRET)?;
    // A guessable shared secret would let anyone flush the cache and spend the quota.
    if secret
        .as_ref()
        .is_some_and(|secret| secret.expose_secret().len() < 16)
    {
        return Err(invalid(
            var::WEBHOOK_SECRET.name,
            "expected at least 16 characters of random text (e.g. openssl rand -hex 24)",
        ));
    }
    Ok(secret)
}

fn log_filter(environment: &Environment, default: &str) -> Result<String, ConfigError> {
    // LOG_LEVEL wins; RUST_LOG is honoured too because Rust operators reach for it.
    let filter = match environment.value(&var::LOG_LEVEL)? {
        Some(filter) => filter,
        None => environment.value(&var::RUST_LOG)?.unwrap_or(default),
    };
    tracing_subscriber::EnvFilter::try_new(filter).map_err(|_| {
        invalid(
            var::LOG_LEVEL.name,
            "expected a level or tracing filter, e.g. info or info,order_metafields=debug",
        )
    })?;
    Ok(filter.to_owned())
}

fn parse_base_url(environment: &Environment) -> Result<Url, ConfigError> {
    http_url(environment, &var::BC_API_BASE_URL)
}

/// `BC_GRAPHQL_URL`: an http(s) URL once `{store_hash}` is replaced.
fn parse_graphql_url(environment: &Environment) -> Result<String, ConfigError> {
    let template = environment.value_or_default(&var::BC_GRAPHQL_URL)?;
    let url = Url::parse(
        &template
            .replace("{store_hash}", "abc123")
            .replace("{channel_id}", "1"),
    )
    .ok();
    if url.is_none_or(|url| !matches!(url.scheme(), "http" | "https") || url.host().is_none()) {
        return Err(invalid(
            var::BC_GRAPHQL_URL.name,
            "expected an http(s) URL, where {store_hash} and {channel_id} stand for the store's hash and the channel",
        ));
    }
    Ok(template.to_owned())
}

/// An http(s) base URL without credentials, query or fragment.
fn http_url(environment: &Environment, variable: &Variable) -> Result<Url, ConfigError> {
    let problem = || ConfigError {
        variable: variable.name,
        problem: format!(
            "expected an http(s) URL without credentials, query or fragment, e.g. {}",
            default_text(variable)
        ),
    };
    let url = Url::parse(environment.value_or_default(variable)?).map_err(|_| problem())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host().is_none()
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(problem());
    }
    Ok(url)
}

fn socket_address(
    environment: &Environment,
    variable: &Variable,
) -> Result<Option<SocketAddr>, ConfigError> {
    let text = environment.value_or_default(variable)?;
    if text.is_empty() {
        return Ok(None);
    }
    let example = variable.example.unwrap_or("0.0.0.0:8080");
    text.parse().map(Some).map_err(|_| ConfigError {
        variable: variable.name,
        problem: format!("expected an IP address and port, e.g. {example}"),
    })
}

fn list(value: Option<&str>) -> impl Iterator<Item = &str> {
    value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

fn parse_algorithms(value: Option<&str>) -> Result<Vec<Algorithm>, ConfigError> {
    let variable = var::JWT_ALGORITHMS.name;
    let mut algorithms = Vec::new();
    for name in list(value.or(Some(default_text(&var::JWT_ALGORITHMS)))) {
        let algorithm = match name.to_ascii_uppercase().as_str() {
            "HS256" => Algorithm::HS256,
            "HS384" => Algorithm::HS384,
            "HS512" => Algorithm::HS512,
            _ => {
                return Err(invalid(
                    variable,
                    "expected a comma-separated list of HS256, HS384, HS512 (HMAC only)",
                ));
            }
        };
        if !algorithms.contains(&algorithm) {
            algorithms.push(algorithm);
        }
    }
    if algorithms.is_empty() {
        return Err(invalid(
            variable,
            "expected at least one of HS256, HS384, HS512",
        ));
    }
    Ok(algorithms)
}

fn parse_origins(value: Option<&str>) -> Result<Vec<String>, ConfigError> {
    let mut origins = Vec::new();
    for item in list(value) {
        let url = Url::parse(item).map_err(|_| origin_error())?;
        // An origin is scheme://host[:port] and nothing else; a wildcard is never accepted.
        let origin = url.origin().ascii_serialization();
        if !matches!(url.scheme(), "http" | "https")
            || item.contains('*')
            || origin != item.trim_end_matches('/')
            || url.path() != "/"
        {
            return Err(origin_error());
        }
        origins.push(origin);
    }
    Ok(origins)
}

fn origin_error() -> ConfigError {
    invalid(
        var::CORS_ALLOWED_ORIGINS.name,
        "expected comma-separated exact origins like https://store.example.com (no path, no wildcard)",
    )
}

fn duration(environment: &Environment, variable: &Variable) -> Result<Duration, ConfigError> {
    let problem = || ConfigError {
        variable: variable.name,
        problem: format!(
            "expected a duration such as {}, 500ms or 2m, at most 365 days",
            default_text(variable)
        ),
    };
    // Longer than any sane setting, and long enough to overflow a clock when added to now.
    humantime::parse_duration(environment.value_or_default(variable)?)
        .ok()
        .filter(|duration| *duration <= MAX_DURATION)
        .ok_or_else(problem)
}

fn positive_duration(
    environment: &Environment,
    variable: &Variable,
) -> Result<Duration, ConfigError> {
    let duration = duration(environment, variable)?;
    if duration.is_zero() {
        return Err(ConfigError {
            variable: variable.name,
            problem: format!(
                "expected a duration above zero such as {}",
                default_text(variable)
            ),
        });
    }
    Ok(duration)
}

fn count_or_zero(environment: &Environment, variable: &Variable) -> Result<u64, ConfigError> {
    environment
        .value_or_default(variable)?
        .parse()
        .map_err(|_| ConfigError {
            variable: variable.name,
            problem: format!("expected a whole number such as {}", default_text(variable)),
        })
}

fn whole_usize(count: u64, variable: &Variable) -> Result<usize, ConfigError> {
    usize::try_from(count).map_err(|_| ConfigError {
        variable: variable.name,
        problem: "expected a smaller whole number".to_owned(),
    })
}

fn count(environment: &Environment, variable: &Variable) -> Result<u64, ConfigError> {
    let count = count_or_zero(environment, variable)?;
    if count == 0 {
        return Err(ConfigError {
            variable: variable.name,
            problem: format!(
                "expected a whole number above zero such as {}",
                default_text(variable)
            ),
        });
    }
    Ok(count)
}

fn small_count(environment: &Environment, variable: &Variable) -> Result<u32, ConfigError> {
    u32::try_from(count_or_zero(environment, variable)?)
        .map_err(|_| invalid(variable.name, "expected a smaller whole number"))
}

fn parse_share(environment: &Environment) -> Result<f64, ConfigError> {
    let variable = &var::UPSTREAM_QUOTA_SHARE;
    match environment.value_or_default(variable)?.parse::<f64>() {
        Ok(share) if share > 0.0 && share <= 1.0 => Ok(share),
        _ => Err(invalid(
            variable.name,
            "expected the share of the store's api window this service may use, above 0 and at most 1 (e.g. 0.5)",
        )),
    }
}

fn parse_log_format(environment: &Environment) -> Result<LogFormat, ConfigError> {
    match environment.value_or_default(&var::LOG_FORMAT)? {
        "auto" => Ok(LogFormat::Auto),
        "json" => Ok(LogFormat::Json),
        "pretty" => Ok(LogFormat::Pretty),
        _ => Err(invalid(
            var::LOG_FORMAT.name,
            "expected json, pretty or auto",
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use secrecy::ExposeSecret;

    use super::*;

    const REQUIRED: [(&str, &str); 4] = [
        ("BC_STORE_HASH", "abc123"),
        ("BC_ACCESS_TOKEN", "access-token-value"),
        ("BC_CLIENT_ID", "client-id"),
        ("BC_CLIENT_SECRET", "client-secret-value"),
    ];

    fn settings_with(extra: &[(&'static str, &'static str)]) -> Result<Settings, ConfigError> {
        Settings::from_pairs(REQUIRED.iter().chain(extra.iter()).copied())
    }

    #[test]
    fn settings_take_contract_defaults_when_only_required_values_are_set() {
        let settings = settings_with(&[]).unwrap();

        let store = settings.single_store().unwrap();
        assert_eq!(store.store_hash, "abc123");
        assert_eq!(store.api_base_url.as_str(), "https://api.bigcommerce.com/");
        assert_eq!(settings.auth.algorithms, vec![Algorithm::HS256]);
        assert_eq!(settings.http.listen_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.http.metrics_addr, None);
        assert_eq!(
            settings.upstream.readiness_interval,
            Duration::from_secs(30)
        );
        assert!(settings.http.cors_allowed_origins.is_empty());
        assert_eq!(settings.auth.leeway, Duration::from_secs(30));
        assert_eq!(settings.http.header_timeout, Duration::from_secs(5));
        assert_eq!(settings.http.body_timeout, Duration::from_secs(5));
        assert_eq!(settings.http.keep_alive, Duration::from_secs(5));
        assert_eq!(settings.http.max_connections, 10_000);
        assert_eq!(settings.http.max_connections_per_client, 256);
        assert_eq!(
            settings.auth.client_secret.expose_secret(),
            "client-secret-value"
        );
    }

    /// What app mode needs instead of `BC_STORE_HASH` and `BC_ACCESS_TOKEN`.
    const APP_MODE: [(&str, &str); 4] = [
        ("BC_CLIENT_ID", "client-id"),
        ("BC_CLIENT_SECRET", "client-secret-value"),
        ("APP_URL", "https://orders.example.com"),
        (
            "TOKEN_ENCRYPTION_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ),
    ];

    #[test]
    fn without_a_store_hash_the_service_is_an_app_with_its_defaults() {
        let settings = Settings::from_pairs(APP_MODE).unwrap();

        let Mode::App(app) = &settings.mode else {
            panic!("expected app mode");
        };
        assert_eq!(
            app.redirect_uri(),
            "https://orders.example.com/bigcommerce/auth"
        );
        assert_eq!(
            app.webhook_destination(),
            "https://orders.example.com/webhooks/bigcommerce"
        );
        assert_eq!(
            app.login_base_url.as_str(),
            "https://login.bigcommerce.com/"
        );
        assert_eq!(
            app.scopes,
            BTreeSet::from([
                "store_channel_settings_read_only".to_owned(),
                "store_sites_read_only".to_owned(),
                "store_storefront_api".to_owned(),
                "store_v2_orders_read_only".to_owned()
            ])
        );
        assert_eq!(
            settings.database_url.display(),
            "sqlite://order-metafields.db"
        );
        assert_eq!(
            settings.http.control_panel_origins,
            "https://*.bigcommerce.com"
        );
        assert!(settings.single_store().is_none());
    }

    #[test]
    fn one_store_runs_on_an_in_memory_database_unless_told_otherwise() {
        let in_memory = Settings::from_pairs(REQUIRED).unwrap();
        let mut pairs = REQUIRED.to_vec();
        pairs.push(("DATABASE_URL", "postgres://app:pw@db.internal/orders"));
        let on_postgres = Settings::from_pairs(pairs).unwrap();

        assert_eq!(in_memory.database_url.display(), "sqlite::memory:");
        assert_eq!(
            on_postgres.database_url.display(),
            "postgres://db.internal/orders"
        );
    }

    #[test]
    fn app_mode_names_what_it_misses_or_cannot_use() {
        let without = |name: &str| -> Vec<(&'static str, &'static str)> {
            APP_MODE
                .iter()
                .copied()
                .filter(|(other, _)| *other != name)
                .collect()
        };
        let with = |name: &'static str, value: &'static str| {
            let mut pairs = without(name);
            pairs.push((name, value));
            Settings::from_pairs(pairs).unwrap_err()
        };
        let cases = [
            (
                Settings::from_pairs(without("APP_URL")).unwrap_err(),
                "APP_URL",
                "required in app mode",
            ),
            (
                Settings::from_pairs(without("TOKEN_ENCRYPTION_KEY")).unwrap_err(),
                "TOKEN_ENCRYPTION_KEY",
                "required in app mode",
            ),
            (
                with("TOKEN_ENCRYPTION_KEY", "c2hvcnQ="),
                "TOKEN_ENCRYPTION_KEY",
                "got 5 bytes",
            ),
            (
                with("TOKEN_ENCRYPTION_KEY", "not base64!"),
                "TOKEN_ENCRYPTION_KEY",
                "32 random bytes",
            ),
            (
                with("APP_URL", "http://orders.example.com"),
                "APP_URL",
                "https://",
            ),
            (
                with("APP_URL", "https://orders.example.com/?a=1"),
                "APP_URL",
                "https://",
            ),
            (with("APP_URL", "orders.example.com"), "APP_URL", "https://"),
            (
                with("DATABASE_URL", "mysql://db/orders"),
                "DATABASE_URL",
                "not supported",
            ),
            (
                with("DATABASE_URL", "order-metafields.db"),
                "DATABASE_URL",
                "expected sqlite://PATH",
            ),
            (
                with("CONTROL_PANEL_ORIGINS", "'none'; script-src *"),
                "CONTROL_PANEL_ORIGINS",
                "origins",
            ),
        ];
        for (error, variable, problem) in cases {
            assert_eq!(error.variable, variable, "{error}");
            assert!(error.problem.contains(problem), "{error}");
            assert!(!error.to_string().contains("pw@"), "{error}");
        }
        let loopback = with_ok(&[("APP_URL", "http://127.0.0.1:8080")]);
        assert!(matches!(loopback.mode, Mode::App(_)));
    }

    fn with_ok(overrides: &[(&'static str, &'static str)]) -> Settings {
        let mut pairs: Vec<(&str, &str)> = APP_MODE
            .iter()
            .copied()
            .filter(|(name, _)| !overrides.iter().any(|(other, _)| other == name))
            .collect();
        pairs.extend_from_slice(overrides);
        Settings::from_pairs(pairs).unwrap()
    }

    #[test]
    fn each_missing_required_variable_is_named() {
        // Without BC_STORE_HASH the service is an app, which asks for APP_URL instead.
        for (missing, _) in REQUIRED
            .into_iter()
            .filter(|(name, _)| *name != "BC_STORE_HASH")
        {
            let pairs = REQUIRED
                .iter()
                .copied()
                .filter(|(name, _)| *name != missing);

            let error = Settings::from_pairs(pairs).unwrap_err();

            assert_eq!(error.variable, missing, "case: {missing} missing");
            assert_eq!(
                error.to_string(),
                format!("{missing}: required but not set")
            );
        }
    }

    #[test]
    fn malformed_values_are_refused_with_the_variable_named() {
        let cases: [(&str, &str, &str); 18] = [
            ("JWT_ALGORITHMS", "RS256", "asymmetric algorithm"),
            ("JWT_ALGORITHMS", "HS256,none", "none algorithm"),
            ("JWT_ALGORITHMS", " , ", "empty list"),
            ("JWT_LEEWAY", "61s", "leeway over a minute"),
            ("LISTEN_ADDR", "localhost", "no port"),
            ("BC_API_BASE_URL", "ftp://api.example.com", "not http"),
            (
                "BC_API_BASE_URL",
                "https://user:pw@api.example.com",
                "credentials",
            ),
            ("CORS_ALLOWED_ORIGINS", "*", "wildcard"),
            (
                "CORS_ALLOWED_ORIGINS",
                "https://store.example.com/path",
                "path",
            ),
            ("ORDERS_CACHE_TTL", "forever", "not a duration"),
            ("CACHE_MAX_ORDERS", "0", "zero capacity"),
            ("LOG_FORMAT", "xml", "unknown log format"),
            ("METRICS_ADDR", "9090", "no address"),
            ("READINESS_INTERVAL", "0s", "zero interval"),
            ("HTTP_BODY_TIMEOUT", "0s", "no time for a body"),
            ("HTTP_HEADER_TIMEOUT", "soon", "not a duration"),
            ("HTTP_MAX_CONNECTIONS", "0", "no connections"),
            ("HTTP_MAX_CONNECTIONS_PER_CLIENT", "-1", "negative"),
        ];
        for (variable, value, description) in cases {
            let error = settings_with(&[(variable, value)]).unwrap_err();

            assert_eq!(error.variable, variable, "case: {description}");
        }
    }

    #[test]
    fn lists_are_trimmed_and_algorithms_deduplicated() {
        let settings = settings_with(&[
            ("JWT_ALGORITHMS", "hs512, HS256,HS512"),
            (
                "CORS_ALLOWED_ORIGINS",
                "https://store.example.com, http://localhost:3000/",
            ),
            ("METAFIELD_NAMESPACES", " Shipping ,Gift messages,"),
        ])
        .unwrap();

        assert_eq!(
            settings.auth.algorithms,
            vec![Algorithm::HS512, Algorithm::HS256]
        );
        assert_eq!(
            settings.http.cors_allowed_origins,
            vec!["https://store.example.com", "http://localhost:3000"]
        );
        assert_eq!(
            settings.visibility.extra_namespaces,
            BTreeSet::from(["Shipping".to_owned(), "Gift messages".to_owned()])
        );
    }

    #[test]
    fn a_placeholder_in_any_variable_stops_start_up_naming_it_and_not_its_value() {
        for variable in var::VARIABLES {
            // Each variable in the mode that reads it.
            let base: &[(&str, &str)] = if variable.section == var::Section::App {
                &APP_MODE
            } else {
                &REQUIRED
            };
            for placeholder in ["replace-with-a-real-value", "  Replace-With-Anything\n"] {
                let mut pairs: Vec<(&str, &str)> = base
                    .iter()
                    .copied()
                    .filter(|(name, _)| *name != variable.name)
                    .collect();
                pairs.push((variable.name, placeholder));

                let error = Settings::from_pairs(pairs).unwrap_err();

                assert_eq!(error.variable, variable.name, "{placeholder:?}");
                assert_eq!(
                    error.to_string(),
                    format!(
                        "{}: still holds a replace-with-... placeholder; set the real value",
                        variable.name
                    )
                );
            }
        }
    }

    /// `deploy/kubernetes/secret.yaml` ships this one; it is long enough to pass the
    /// 16-character check, so only the placeholder rule stops it.
    #[test]
    fn the_kubernetes_webhook_secret_placeholder_is_refused() {
        let error = settings_with(&[(
            "WEBHOOK_SECRET",
            "replace-with-at-least-16-random-characters",
        )])
        .unwrap_err();

        assert_eq!(error.variable, "WEBHOOK_SECRET");
    }

    #[test]
    fn the_secrets_are_trimmed_the_previous_one_too() {
        let settings = Settings::from_pairs([
            ("BC_STORE_HASH", "abc123"),
            ("BC_ACCESS_TOKEN", " access-token-value\n"),
            ("BC_CLIENT_ID", "client-id"),
            ("BC_CLIENT_SECRET", "new-client-secret\n"),
            ("BC_CLIENT_SECRET_PREVIOUS", "old-client-secret\r\n"),
            ("WEBHOOK_SECRET", "\twebhook-secret-of-24-chars \n"),
        ])
        .unwrap();

        let exposed = |secret: &SecretString| secret.expose_secret().to_owned();
        assert_eq!(
            exposed(&settings.single_store().unwrap().access_token),
            "access-token-value"
        );
        assert_eq!(exposed(&settings.auth.client_secret), "new-client-secret");
        assert_eq!(
            settings.auth.previous_client_secret.as_ref().map(exposed),
            Some("old-client-secret".to_owned())
        );
        assert_eq!(
            settings.auth.webhook_secret.as_ref().map(exposed),
            Some("webhook-secret-of-24-chars".to_owned())
        );
    }

    #[test]
    fn a_blank_previous_secret_is_no_previous_secret() {
        let settings = settings_with(&[("BC_CLIENT_SECRET_PREVIOUS", " \n")]).unwrap();

        assert!(settings.auth.previous_client_secret.is_none());
    }

    #[test]
    fn a_name_that_is_not_a_variable_is_refused() {
        let error = settings_with(&[("CUSTOMER_RATE_LIMTI", "10")]).unwrap_err();

        assert_eq!(
            error.to_string(),
            "environment: CUSTOMER_RATE_LIMTI is not a variable this service reads"
        );
    }

    #[test]
    fn the_table_names_each_variable_once_and_required_ones_have_placeholders() {
        let mut names = BTreeSet::new();
        for variable in var::VARIABLES {
            assert!(names.insert(variable.name), "{} twice", variable.name);
            assert!(
                variable
                    .name
                    .bytes()
                    .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b'_'),
                "{}",
                variable.name
            );
            if let DefaultValue::Required { placeholder } | DefaultValue::OneStore { placeholder } =
                variable.default
            {
                assert!(
                    placeholder.starts_with(PLACEHOLDER_PREFIX),
                    "{}",
                    variable.name
                );
            }
        }
    }

    #[test]
    fn the_typed_defaults_are_the_documented_ones() {
        let settings = settings_with(&[]).unwrap();
        let (auth, http, cache, upstream) = (
            &settings.auth,
            &settings.http,
            &settings.cache,
            &settings.upstream,
        );
        let cases: [(&str, String, &str); 21] = [
            ("JWT_LEEWAY", format!("{:?}", auth.leeway), "30s"),
            ("CORS_MAX_AGE", format!("{:?}", http.cors_max_age), "600s"),
            (
                "CUSTOMER_RATE_LIMIT",
                format!("{:?}", http.customer_rate_per_minute),
                "Some(600)",
            ),
            (
                "CUSTOMER_RATE_BURST",
                http.customer_burst.to_string(),
                "1200",
            ),
            (
                "SHUTDOWN_GRACE",
                format!("{:?}", http.shutdown_grace),
                "30s",
            ),
            ("ORDERS_CACHE_TTL", format!("{:?}", cache.orders_ttl), "60s"),
            (
                "ORDERS_REFRESH_INTERVAL",
                format!("{:?}", cache.orders_refresh_interval),
                "10s",
            ),
            (
                "METAFIELDS_CACHE_TTL",
                format!("{:?}", cache.metafields_ttl),
                "60s",
            ),
            ("CACHE_MAX_ORDERS", cache.max_orders.to_string(), "200000"),
            (
                "METAFIELDS_CACHE_MAX_BYTES",
                cache.metafields_max_bytes.to_string(),
                "67108864",
            ),
            (
                "STALE_IF_ERROR",
                format!("{:?}", cache.stale_if_error),
                "300s",
            ),
            (
                "UPSTREAM_CONNECT_TIMEOUT",
                format!("{:?}", upstream.connect_timeout),
                "3s",
            ),
            (
                "UPSTREAM_TIMEOUT",
                format!("{:?}", upstream.request_timeout),
                "10s",
            ),
            (
                "UPSTREAM_RETRY_BUDGET",
                format!("{:?}", upstream.retry_budget),
                "15s",
            ),
            (
                "UPSTREAM_MAX_RETRIES",
                upstream.max_retries.to_string(),
                "3",
            ),
            (
                "ORDERS_MAX_PAGES",
                upstream.orders_max_pages.to_string(),
                "40",
            ),
            (
                "UPSTREAM_QUOTA_SHARE",
                upstream.quota_share.to_string(),
                "0.5",
            ),
            ("UPSTREAM_QUEUE_MAX", upstream.queue_max.to_string(), "256"),
            (
                "READINESS_INTERVAL",
                format!("{:?}", upstream.readiness_interval),
                "30s",
            ),
            ("LOG_FORMAT", format!("{:?}", settings.log.format), "Auto"),
            ("LOG_LEVEL", settings.log.filter.clone(), "info"),
        ];
        for (variable, actual, expected) in cases {
            assert_eq!(actual, expected, "case: {variable}");
        }
    }

    #[test]
    fn settings_debug_output_never_contains_a_secret() {
        let settings = settings_with(&[]).unwrap();

        let printed = format!("{settings:?}");

        assert!(!printed.contains("client-secret-value"));
        assert!(!printed.contains("access-token-value"));
        assert!(printed.contains("REDACTED"));
    }
}
