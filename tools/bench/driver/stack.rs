//! The pieces every scenario shares: the service built in process against a sandbox store,
//! tokens the sandbox's storefront would mint, one pooled HTTP client, and this process's
//! resident memory.

use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use jsonwebtoken::Algorithm;
use order_metafields_sandbox::{self as sandbox, SandboxConfig, TokenCustomer};
use order_metafields_service::access::Access;
use order_metafields_service::config::Settings;
use order_metafields_service::startup::Application;
use url::Url;

/// A service running in this process.
pub struct Service {
    pub base: String,
    pub access: Access,
}

/// One answer of the service, timed from sending to the last body byte.
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
    pub elapsed: Duration,
}

/// The sandbox's credentials with a quota no scenario reaches: quota pacing is not what
/// these scenarios measure, and a 429 would add round trips that are not the cache's.
pub fn sandbox_config() -> SandboxConfig {
    SandboxConfig {
        quota: 1_000_000_000,
        quota_window: Duration::from_secs(1),
        ..SandboxConfig::demo_defaults()
    }
}

/// Builds and starts the service against the sandbox at `api_base`, with `overrides` on
/// top of the sandbox's credentials.
pub async fn start_service(api_base: &Url, overrides: &[(&str, &str)]) -> anyhow::Result<Service> {
    let application = Application::build(settings(api_base, overrides)?).await?;
    let service = Service {
        base: format!("http://127.0.0.1:{}", application.port()),
        access: application.access().clone(),
    };
    tokio::spawn(application.run_until_stopped());
    Ok(service)
}

/// The service's settings against the sandbox at `api_base`: the sandbox's credentials, a
/// free loopback port, then `overrides`.
pub fn settings(api_base: &Url, overrides: &[(&str, &str)]) -> anyhow::Result<Settings> {
    let config = sandbox_config();
    let api_base = api_base.to_string();
    let mut pairs = vec![
        ("BC_STORE_HASH", config.store_hash.as_str()),
        ("BC_ACCESS_TOKEN", config.access_token.as_str()),
        ("BC_CLIENT_ID", config.client_id.as_str()),
        ("BC_CLIENT_SECRET", config.client_secret.as_str()),
        ("BC_API_BASE_URL", api_base.as_str()),
        ("LISTEN_ADDR", "127.0.0.1:0"),
    ];
    pairs.extend_from_slice(overrides);
    Settings::from_pairs(pairs).context("benchmark settings are invalid")
}

/// A Current Customer token for `customer`, as the sandbox storefront mints it, valid for
/// longer than any scenario runs.
pub fn token(customer: u64) -> anyhow::Result<String> {
    let config = sandbox_config();
    sandbox::mint_current_customer_token(
        &config.client_id,
        config.client_secret.as_bytes(),
        &config.store_hash,
        &TokenCustomer {
            id: customer,
            email: format!("shopper{customer}@example.net"),
            group_id: "0".to_owned(),
        },
        Algorithm::HS256,
        Duration::from_secs(3 * 60 * 60),
    )
}

/// One pooled client for all requests of a scenario.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// `GET {base}{path}` with the token, timed.
pub async fn get(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    token: &str,
) -> anyhow::Result<Answer> {
    let started = Instant::now();
    let response = client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("GET {path}"))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .with_context(|| format!("reading GET {path}"))?;
    Ok(Answer {
        status,
        body,
        elapsed: started.elapsed(),
    })
}

/// The ids of the orders in a `GET /v1/orders` body.
pub fn order_ids(body: &[u8]) -> anyhow::Result<Vec<u64>> {
    let value: serde_json::Value = serde_json::from_slice(body).context("orders body")?;
    Ok(value["data"]
        .as_array()
        .map(|orders| {
            orders
                .iter()
                .filter_map(|order| order["id"].as_u64())
                .collect()
        })
        .unwrap_or_default())
}

/// This process's resident memory now and at its peak, in KiB (`VmRSS`, `VmHWM`).
pub fn resident_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|number| number.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
