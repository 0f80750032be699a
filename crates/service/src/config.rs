//! Settings: every environment variable the service reads, parsed once into real types.
//! Nothing else in the crate reads the environment; a missing or malformed value becomes a
//! [`ConfigError`] naming the variable and what is expected, and secrets stay in
//! [`SecretString`], whose `Debug` prints `[REDACTED]` and which has no `Display`.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

/// The service's whole configuration, validated.
#[derive(Clone, Debug)]
pub struct Settings {
    pub store: StoreSettings,
    pub auth: AuthSettings,
    pub http: HttpSettings,
    pub cache: CacheSettings,
    pub upstream: UpstreamSettings,
    pub visibility: VisibilitySettings,
    pub log: LogSettings,
}

/// The BigCommerce store and the Management API credentials.
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
    pub customer_rate_per_minute: Option<std::num::NonZeroU32>,
    pub customer_burst: std::num::NonZeroU32,
    pub cors_allowed_origins: Vec<String>,
    pub cors_max_age: Duration,
    /// How long in-flight requests may take to finish after SIGTERM or Ctrl-C.
    pub shutdown_grace: Duration,
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

/// Raw values as envy reads them; every field is a string so that each error can name its
/// variable and say what is expected, which envy's generic messages do not.
#[derive(Deserialize, Default)]
struct RawSettings {
    bc_store_hash: Option<String>,
    bc_access_token: Option<SecretString>,
    bc_client_id: Option<String>,
    bc_client_secret: Option<SecretString>,
    webhook_secret: Option<SecretString>,
    bc_client_secret_previous: Option<SecretString>,
    bc_api_base_url: Option<String>,
    jwt_algorithms: Option<String>,
    jwt_leeway: Option<String>,
    listen_addr: Option<String>,
    metrics_addr: Option<String>,
    cors_allowed_origins: Option<String>,
    cors_max_age: Option<String>,
    customer_rate_limit: Option<String>,
    shutdown_grace: Option<String>,
    customer_rate_burst: Option<String>,
    metafield_namespaces: Option<String>,
    orders_cache_ttl: Option<String>,
    orders_refresh_interval: Option<String>,
    metafields_cache_ttl: Option<String>,
    cache_max_orders: Option<String>,
    metafields_cache_max_bytes: Option<String>,
    stale_if_error: Option<String>,
    upstream_connect_timeout: Option<String>,
    upstream_timeout: Option<String>,
    upstream_retry_budget: Option<String>,
    upstream_max_retries: Option<String>,
    orders_max_pages: Option<String>,
    upstream_quota_share: Option<String>,
    upstream_queue_max: Option<String>,
    readiness_interval: Option<String>,
    log_format: Option<String>,
    log_level: Option<String>,
    rust_log: Option<String>,
}

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
        let raw = read_environment()?;
        Ok(Self {
            store_hash: required("BC_STORE_HASH", raw.bc_store_hash)?,
            client_id: required("BC_CLIENT_ID", raw.bc_client_id)?,
            client_secret: required_secret("BC_CLIENT_SECRET", raw.bc_client_secret)?,
        })
    }
}

impl LogSettings {
    /// `LOG_LEVEL` (or `RUST_LOG`) and `LOG_FORMAT` alone, with `default_filter` when
    /// neither is set: for the demo and sandbox commands, which need no store settings.
    pub fn from_env(default_filter: &str) -> Result<Self, ConfigError> {
        let raw = read_environment()?;
        Ok(Self {
            format: parse_log_format(raw.log_format.as_deref())?,
            filter: log_filter(raw.log_level, raw.rust_log, default_filter)?,
        })
    }
}

fn log_filter(
    log_level: Option<String>,
    rust_log: Option<String>,
    default: &str,
) -> Result<String, ConfigError> {
    // LOG_LEVEL wins; RUST_LOG is honoured too because Rust operators reach for it.
    let filter = [log_level, rust_log]
        .into_iter()
        .flatten()
        .find(|value| !value.trim().is_empty())
        .unwrap_or_else(|| default.to_owned());
    tracing_subscriber::EnvFilter::try_new(&filter).map_err(|_| {
        invalid(
            "LOG_LEVEL",
            "expected a level or tracing filter, e.g. info or info,order_metafields=debug",
        )
    })?;
    Ok(filter)
}

/// Reads the process environment once, after `.env` (which never overrides it).
fn read_environment() -> Result<RawSettings, ConfigError> {
    // Only the working directory's .env is read: dotenvy::dotenv() would also search every
    // parent directory and pick up an unrelated file. A missing .env is normal; a malformed
    // one is reported by name.
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
    envy::from_env().map_err(|error| ConfigError {
        variable: "environment",
        problem: format!("cannot be read ({error})"),
    })
}

impl Settings {
    /// Reads the process environment (after `.env`, which never overrides it) once.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_raw(read_environment()?)
    }

    /// Builds settings from `(name, value)` pairs, as if they were the environment.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ConfigError> {
        let raw: RawSettings = envy::from_iter(
            pairs
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned())),
        )
        .map_err(|error| ConfigError {
            variable: "environment",
            problem: format!("cannot be read ({error})"),
        })?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawSettings) -> Result<Self, ConfigError> {
        let store_hash = required("BC_STORE_HASH", raw.bc_store_hash)?;
        if !store_hash
            .chars()
            .all(|character| character.is_ascii_alphanumeric())
        {
            return Err(invalid(
                "BC_STORE_HASH",
                "expected the store hash, letters and digits only (e.g. abc123)",
            ));
        }
        let access_token = required_secret("BC_ACCESS_TOKEN", raw.bc_access_token)?;
        let client_id = required("BC_CLIENT_ID", raw.bc_client_id)?;
        let client_secret = required_secret("BC_CLIENT_SECRET", raw.bc_client_secret)?;
        let api_base_url = parse_base_url(raw.bc_api_base_url)?;
        let algorithms = parse_algorithms(raw.jwt_algorithms.as_deref())?;
        let leeway = duration("JWT_LEEWAY", raw.jwt_leeway, "30s")?;
        if leeway > MAX_LEEWAY {
            return Err(invalid(
                "JWT_LEEWAY",
                "expected at most 60s of clock-skew leeway",
            ));
        }
        let listen_addr = raw
            .listen_addr
            .filter(|value| !value.trim().is_empty())
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen_addr: SocketAddr = listen_addr.trim().parse().map_err(|_| {
            invalid(
                "LISTEN_ADDR",
                "expected an IP address and port, e.g. 0.0.0.0:8080",
            )
        })?;
        let metrics_addr = raw
            .metrics_addr
            .filter(|value| !value.trim().is_empty())
            .map(|value| {
                value.trim().parse::<SocketAddr>().map_err(|_| {
                    invalid(
                        "METRICS_ADDR",
                        "expected an IP address and port, e.g. 0.0.0.0:9090",
                    )
                })
            })
            .transpose()?;
        let cors_allowed_origins = parse_origins(raw.cors_allowed_origins.as_deref())?;
        let cors_max_age = duration("CORS_MAX_AGE", raw.cors_max_age, "10m")?;

        let cache = CacheSettings {
            orders_ttl: positive_duration("ORDERS_CACHE_TTL", raw.orders_cache_ttl, "60s")?,
            // Zero would let every unknown order id reload the list: no bound on cost.
            orders_refresh_interval: positive_duration(
                "ORDERS_REFRESH_INTERVAL",
                raw.orders_refresh_interval,
                "10s",
            )?,
            metafields_ttl: positive_duration(
                "METAFIELDS_CACHE_TTL",
                raw.metafields_cache_ttl,
                "60s",
            )?,
            max_orders: count("CACHE_MAX_ORDERS", raw.cache_max_orders, 200_000)?,
            metafields_max_bytes: count(
                "METAFIELDS_CACHE_MAX_BYTES",
                raw.metafields_cache_max_bytes,
                64 * 1024 * 1024,
            )?,
            stale_if_error: duration("STALE_IF_ERROR", raw.stale_if_error, "5m")?,
        };
        let upstream = UpstreamSettings {
            connect_timeout: positive_duration(
                "UPSTREAM_CONNECT_TIMEOUT",
                raw.upstream_connect_timeout,
                "3s",
            )?,
            request_timeout: positive_duration("UPSTREAM_TIMEOUT", raw.upstream_timeout, "10s")?,
            retry_budget: positive_duration(
                "UPSTREAM_RETRY_BUDGET",
                raw.upstream_retry_budget,
                "15s",
            )?,
            max_retries: u32::try_from(count_or_zero(
                "UPSTREAM_MAX_RETRIES",
                raw.upstream_max_retries,
                3,
            )?)
            .map_err(|_| invalid("UPSTREAM_MAX_RETRIES", "expected a small whole number"))?,
            orders_max_pages: u32::try_from(count("ORDERS_MAX_PAGES", raw.orders_max_pages, 40)?)
                .map_err(|_| {
                invalid("ORDERS_MAX_PAGES", "expected a small whole number")
            })?,
            quota_share: parse_share(raw.upstream_quota_share)?,
            queue_max: usize::try_from(count_or_zero(
                "UPSTREAM_QUEUE_MAX",
                raw.upstream_queue_max,
                256,
            )?)
            .map_err(|_| invalid("UPSTREAM_QUEUE_MAX", "expected a whole number"))?,
            readiness_interval: positive_duration(
                "READINESS_INTERVAL",
                raw.readiness_interval,
                "30s",
            )?,
        };
        let visibility = VisibilitySettings {
            extra_namespaces: list(raw.metafield_namespaces.as_deref())
                .map(str::to_owned)
                .collect(),
        };
        let log = LogSettings {
            format: parse_log_format(raw.log_format.as_deref())?,
            filter: log_filter(raw.log_level, raw.rust_log, "info")?,
        };

        Ok(Settings {
            store: StoreSettings {
                store_hash,
                access_token,
                api_base_url,
            },
            auth: AuthSettings {
                client_id,
                client_secret,
                // Trimmed like the current secret: a rotation read from a file with a trailing
                // newline must not log out every shopper holding a token signed with it.
                previous_client_secret: raw
                    .bc_client_secret_previous
                    .filter(|secret| !secret.expose_secret().trim().is_empty())
                    .map(|secret| SecretString::from(secret.expose_secret().trim())),
                webhook_secret: optional_secret("WEBHOOK_SECRET", raw.webhook_secret)?,
                algorithms,
                leeway,
            },
            http: HttpSettings {
                listen_addr,
                metrics_addr,
                customer_rate_per_minute: std::num::NonZeroU32::new(small_count(
                    "CUSTOMER_RATE_LIMIT",
                    raw.customer_rate_limit,
                    600,
                )?),
                customer_burst: std::num::NonZeroU32::new(small_count(
                    "CUSTOMER_RATE_BURST",
                    raw.customer_rate_burst,
                    1200,
                )?)
                .ok_or_else(|| {
                    invalid(
                        "CUSTOMER_RATE_BURST",
                        "expected a whole number above zero such as 1200",
                    )
                })?,
                cors_allowed_origins,
                cors_max_age,
                shutdown_grace: duration("SHUTDOWN_GRACE", raw.shutdown_grace, "30s")?,
            },
            cache,
            upstream,
            visibility,
            log,
        })
    }
}

fn invalid(variable: &'static str, problem: &str) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.to_owned(),
    }
}

fn required(variable: &'static str, value: Option<String>) -> Result<String, ConfigError> {
    match value.map(|value| value.trim().to_owned()) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(invalid(variable, "required but not set")),
    }
}

fn required_secret(
    variable: &'static str,
    value: Option<SecretString>,
) -> Result<SecretString, ConfigError> {
    use secrecy::ExposeSecret;
    match value {
        Some(secret) if !secret.expose_secret().trim().is_empty() => {
            Ok(SecretString::from(secret.expose_secret().trim()))
        }
        _ => Err(invalid(variable, "required but not set")),
    }
}

fn optional_secret(
    variable: &'static str,
    value: Option<SecretString>,
) -> Result<Option<SecretString>, ConfigError> {
    use secrecy::ExposeSecret;
    match value {
        None => Ok(None),
        Some(secret) if secret.expose_secret().trim().is_empty() => Ok(None),
        // A guessable shared secret would let anyone flush the cache and spend the quota.
        Some(secret) if secret.expose_secret().trim().len() < 16 => Err(invalid(
            variable,
            "expected at least 16 characters of random text (e.g. openssl rand -hex 24)",
        )),
        Some(secret) => Ok(Some(SecretString::from(secret.expose_secret().trim()))),
    }
}

fn parse_base_url(value: Option<String>) -> Result<Url, ConfigError> {
    let text = value
        .filter(|value| !value.trim().is_empty())
        .unwrap_or_else(|| "https://api.bigcommerce.com".to_owned());
    let url = Url::parse(text.trim()).map_err(|_| {
        invalid(
            "BC_API_BASE_URL",
            "expected an http(s) URL, e.g. https://api.bigcommerce.com",
        )
    })?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host().is_none()
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(invalid(
            "BC_API_BASE_URL",
            "expected an http(s) URL without credentials, query or fragment, e.g. https://api.bigcommerce.com",
        ));
    }
    Ok(url)
}

fn list(value: Option<&str>) -> impl Iterator<Item = &str> {
    value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

fn parse_algorithms(value: Option<&str>) -> Result<Vec<Algorithm>, ConfigError> {
    let mut algorithms = Vec::new();
    for name in list(value.or(Some("HS256"))) {
        let algorithm = match name.to_ascii_uppercase().as_str() {
            "HS256" => Algorithm::HS256,
            "HS384" => Algorithm::HS384,
            "HS512" => Algorithm::HS512,
            _ => {
                return Err(invalid(
                    "JWT_ALGORITHMS",
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
            "JWT_ALGORITHMS",
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
        "CORS_ALLOWED_ORIGINS",
        "expected comma-separated exact origins like https://store.example.com (no path, no wildcard)",
    )
}

fn duration(
    variable: &'static str,
    value: Option<String>,
    default: &str,
) -> Result<Duration, ConfigError> {
    let text = value
        .filter(|value| !value.trim().is_empty())
        .unwrap_or_else(|| default.to_owned());
    let problem = || ConfigError {
        variable,
        problem: format!("expected a duration such as {default}, 500ms or 2m, at most 365 days"),
    };
    // Longer than any sane setting, and long enough to overflow a clock when added to now.
    humantime::parse_duration(text.trim())
        .ok()
        .filter(|duration| *duration <= MAX_DURATION)
        .ok_or_else(problem)
}

fn positive_duration(
    variable: &'static str,
    value: Option<String>,
    default: &str,
) -> Result<Duration, ConfigError> {
    let duration = duration(variable, value, default)?;
    if duration.is_zero() {
        return Err(ConfigError {
            variable,
            problem: format!("expected a duration above zero such as {default}"),
        });
    }
    Ok(duration)
}

fn count_or_zero(
    variable: &'static str,
    value: Option<String>,
    default: u64,
) -> Result<u64, ConfigError> {
    match value.filter(|value| !value.trim().is_empty()) {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|_| ConfigError {
            variable,
            problem: format!("expected a whole number such as {default}"),
        }),
    }
}

fn count(variable: &'static str, value: Option<String>, default: u64) -> Result<u64, ConfigError> {
    let count = count_or_zero(variable, value, default)?;
    if count == 0 {
        return Err(ConfigError {
            variable,
            problem: format!("expected a whole number above zero such as {default}"),
        });
    }
    Ok(count)
}

fn small_count(
    variable: &'static str,
    value: Option<String>,
    default: u32,
) -> Result<u32, ConfigError> {
    u32::try_from(count_or_zero(variable, value, u64::from(default))?)
        .map_err(|_| invalid(variable, "expected a smaller whole number"))
}

fn parse_share(value: Option<String>) -> Result<f64, ConfigError> {
    let Some(text) = value.filter(|value| !value.trim().is_empty()) else {
        return Ok(0.5);
    };
    match text.trim().parse::<f64>() {
        Ok(share) if share > 0.0 && share <= 1.0 => Ok(share),
        _ => Err(invalid(
            "UPSTREAM_QUOTA_SHARE",
            "expected the share of the store's api window this service may use, above 0 and at most 1 (e.g. 0.5)",
        )),
    }
}

fn parse_log_format(value: Option<&str>) -> Result<LogFormat, ConfigError> {
    match value.map(str::trim).unwrap_or("") {
        "" | "auto" => Ok(LogFormat::Auto),
        "json" => Ok(LogFormat::Json),
        "pretty" => Ok(LogFormat::Pretty),
        _ => Err(invalid("LOG_FORMAT", "expected json, pretty or auto")),
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

        assert_eq!(settings.store.store_hash, "abc123");
        assert_eq!(
            settings.store.api_base_url.as_str(),
            "https://api.bigcommerce.com/"
        );
        assert_eq!(settings.auth.algorithms, vec![Algorithm::HS256]);
        assert_eq!(settings.http.listen_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.http.metrics_addr, None);
        assert_eq!(
            settings.upstream.readiness_interval,
            Duration::from_secs(30)
        );
        assert!(settings.http.cors_allowed_origins.is_empty());
        assert_eq!(settings.auth.leeway, Duration::from_secs(30));
        assert_eq!(
            settings.auth.client_secret.expose_secret(),
            "client-secret-value"
        );
    }

    #[test]
    fn each_missing_required_variable_is_named() {
        for (missing, _) in REQUIRED {
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
        let cases: [(&str, &str, &str); 14] = [
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
    fn settings_debug_output_never_contains_a_secret() {
        let settings = settings_with(&[]).unwrap();

        let printed = format!("{settings:?}");

        assert!(!printed.contains("client-secret-value"));
        assert!(!printed.contains("access-token-value"));
        assert!(printed.contains("REDACTED"));
    }
}
