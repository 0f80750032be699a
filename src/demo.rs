//! `order-metafields demo`: the sandbox's stores and the service against them, in one
//! process, in app mode: an embedded SQLite database in a temporary directory, and the app
//! installed on every sandbox store through the real OAuth flow at start. It prints each
//! store's control panel, a ready token and curl lines that work exactly as printed, and
//! points the sandbox's webhooks at the service. Nothing here is used by `serve`; the demo's
//! secrets are the sandbox's public demo values and a key made for this run.

use std::fmt::Write as _;
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::time::{Duration, SystemTime};

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use jsonwebtoken::Algorithm;
use secrecy::{ExposeSecret, SecretString};
use tokio::task::JoinHandle;
use url::Url;

use order_metafields_sandbox::{self as sandbox, RunningSandbox, SandboxConfig, TokenCustomer};
use order_metafields_service::config::Settings;
use order_metafields_service::startup::Application;

use crate::address::reachable;

/// Where the demo listens.
#[derive(Clone, Copy, Debug)]
pub struct DemoOptions {
    /// The service's address (`--host`, `--port`); port 0 picks a free one.
    pub service: SocketAddr,
    /// The sandbox store's address (`--host`, `--sandbox-port`); port 0 picks a free one.
    pub sandbox: SocketAddr,
}

/// The scopes the demo's app asks for and is granted: `APP_SCOPES`' default with Orders
/// modify instead of read-only (shoppers edit their gift message), the Storefront API's
/// private tokens, sites and channels, and Content (modify) for the merchant page's
/// storefront script.
const DEMO_APP_SCOPES: [&str; 5] = [
    "store_v2_orders",
    "store_storefront_api",
    "store_sites_read_only",
    "store_channel_settings_read_only",
    "store_v2_content",
];

/// The sandbox and the running service, with the app installed on every store.
pub struct Demo {
    pub sandbox: RunningSandbox,
    /// The service's root as a browser or curl reaches it, without a trailing slash.
    pub service_url: String,
    /// Every sandbox store, as the demo prints it; the first is the main store.
    pub stores: Vec<DemoStore>,
    service: Option<(
        actix_web::dev::ServerHandle,
        JoinHandle<std::io::Result<()>>,
    )>,
    /// The first store's root as a browser or curl reaches it.
    sandbox_url: Url,
    /// The sandbox's public demo values, for the printed metafield change and token line.
    sandbox_config: SandboxConfig,
    /// The app's database lives here for the demo's run.
    _database: tempfile::TempDir,
    /// A customer access token of the main store's shopper, from the sandbox's GraphQL
    /// `login` mutation on its headless channel, as a Catalyst server holds one.
    customer_access_token: Option<SecretString>,
}

/// One sandbox store in the demo.
pub struct DemoStore {
    pub hash: String,
    pub name: String,
    /// Its storefront's root, as a browser reaches it.
    pub storefront: Url,
    /// Its control panel, where the app can be opened, uninstalled and installed again.
    pub control_panel: Url,
    /// A Current Customer JWT of this store's demo shopper.
    token: SecretString,
    /// That shopper's email.
    pub shopper: String,
}

/// The seeded shopper the printed token speaks for (Alice: four orders with metafields).
pub const DEMO_CUSTOMER_ID: u64 = 1;
/// One of Alice's orders with storefront-visible metafields.
pub const DEMO_ORDER_ID: u64 = 369;
/// Bob's order: Alice asking for it gets a `404`.
pub const OTHER_CUSTOMERS_ORDER_ID: u64 = 365;
/// Where the service takes BigCommerce's webhooks; the sandbox delivers its order events there.
pub const WEBHOOK_PATH: &str = "/webhooks/bigcommerce";
/// How long the printed token is valid: a real storefront's Current Customer JWT lives as long.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

impl DemoStore {
    /// The ready token of this store's demo shopper.
    pub fn token(&self) -> &str {
        self.token.expose_secret()
    }
}

impl Demo {
    /// Starts the sandbox and the service against it, installs the app on every sandbox
    /// store, and allows the sandbox storefronts' origins to call it from a browser.
    pub async fn start(options: DemoOptions) -> anyhow::Result<Self> {
        Self::start_with_allowed_origins(options, None).await
    }

    /// As `start`, but the service allows `allowed_origins` (comma-separated, as in
    /// `CORS_ALLOWED_ORIGINS`) instead of the sandbox storefronts' origins; any other origin
    /// shows the browser blocking the storefront, as a misconfigured service would.
    pub async fn start_with_allowed_origins(
        options: DemoOptions,
        allowed_origins: Option<&str>,
    ) -> anyhow::Result<Self> {
        Self::start_with(options, allowed_origins, "on-demand").await
    }

    /// As `start_with_allowed_origins`, with `SYNC_MODE` set to `sync_mode` (`on-demand` or
    /// `mirror`: the stores are copied into the demo's database and read from there).
    pub async fn start_with(
        options: DemoOptions,
        allowed_origins: Option<&str>,
        sync_mode: &str,
    ) -> anyhow::Result<Self> {
        let mut config = SandboxConfig {
            listen: options.sandbox,
            app_scopes: DEMO_APP_SCOPES.map(str::to_owned).to_vec(),
            ..SandboxConfig::demo_defaults()
        };
        // The other stores' storefronts listen on the demo's host too (`--host`).
        for store in &mut config.more_stores {
            store.listen = SocketAddr::new(options.sandbox.ip(), 0);
        }
        let sandbox = sandbox::start(config.clone())
            .await
            .map_err(|error| explain_listen_error(error, "--sandbox-port", options.sandbox))?;
        let sandbox_url = reachable_url(&sandbox.base_url())?;
        let mut storefronts = Vec::new();
        for store in sandbox.stores() {
            let url = sandbox
                .storefront_url_of(store.hash())
                .context("a sandbox store has no storefront")?;
            storefronts.push((store, reachable_url(&url)?));
        }
        let browser_origins: Vec<String> = storefronts
            .iter()
            .map(|(_, url)| browser_origins(url))
            .collect();
        let cors = browser_origins.join(",");
        let frame_ancestors = browser_origins.join(",").replace(',', " ");
        // The service's port is its public address (APP_URL): known before it starts.
        let service_address = reachable(SocketAddr::new(
            options.service.ip(),
            choose_port(options.service)?,
        ));
        let service_url = format!("http://{service_address}");
        let listen = SocketAddr::new(options.service.ip(), service_address.port()).to_string();
        let directory = tempfile::tempdir().context("making the demo's database directory")?;
        let database_url = format!("sqlite://{}/demo.db", directory.path().display());
        let key = demo_key();
        let api_base = sandbox_url.to_string();
        // Exactly what the sandbox's app asks for, whatever APP_SCOPES' default holds.
        let app_scopes = config.app_scopes.join(" ");
        let settings = Settings::from_pairs([
            ("BC_CLIENT_ID", config.client_id.as_str()),
            ("BC_CLIENT_SECRET", config.client_secret.as_str()),
            ("APP_URL", service_url.as_str()),
            ("TOKEN_ENCRYPTION_KEY", key.expose_secret()),
            ("BC_API_BASE_URL", api_base.as_str()),
            ("BC_LOGIN_BASE_URL", api_base.as_str()),
            ("APP_SCOPES", app_scopes.as_str()),
            ("DATABASE_URL", database_url.as_str()),
            ("LISTEN_ADDR", listen.as_str()),
            ("SYNC_MODE", sync_mode),
            ("CONTROL_PANEL_ORIGINS", frame_ancestors.as_str()),
            (
                "CORS_ALLOWED_ORIGINS",
                allowed_origins.unwrap_or(cors.as_str()),
            ),
        ])
        .context("the demo's settings are invalid")?;
        let database_url = settings.database_url.clone();
        let application = Application::build(settings)
            .await
            .map_err(|error| explain_listen_error(error, "--port", options.service))?;
        let handle = application.server_handle();
        let task = tokio::spawn(application.run_until_stopped());
        let service = Url::parse(&service_url).context("forming the demo service's url")?;
        sandbox.set_app_url(service.clone());
        sandbox.set_service_url(service);
        // The sandbox answers a metafield write once this destination took its webhook, so
        // that a change shows on the very next request. (The hooks the app registers at
        // install deliver there too, in the background, as BigCommerce's do.)
        let webhook_url = Url::parse(&format!("{service_url}{WEBHOOK_PATH}"))
            .with_context(|| format!("forming the demo's webhook url from {service_url}"))?;
        // Before the install, which reads the store's definitions.
        make_gift_message_editable(&sandbox, &sandbox_url, &config, &database_url).await?;
        let mut stores = Vec::new();
        for (store, storefront) in storefronts {
            store.set_webhook_destination(Some(webhook_url.clone()));
            let answer = sandbox
                .install_app(store.hash())
                .await
                .with_context(|| format!("installing the app on sandbox store {}", store.hash()))?;
            if answer.status != 200 {
                bail!(
                    "installing the app on sandbox store {} answered {}",
                    store.hash(),
                    answer.status
                );
            }
            let customer = store
                .customers()
                .into_iter()
                .find(|customer| customer.id == DEMO_CUSTOMER_ID)
                .context("the demo shopper is missing from the seed data")?;
            let token = sandbox::mint_current_customer_token(
                &config.client_id,
                config.client_secret.as_bytes(),
                store.hash(),
                &TokenCustomer {
                    id: customer.id,
                    email: customer.email.clone(),
                    group_id: customer.group_id,
                },
                Algorithm::HS256,
                TOKEN_LIFETIME,
            )?;
            stores.push(DemoStore {
                hash: store.hash().to_owned(),
                name: store.name().to_owned(),
                control_panel: storefront.join("manage").context("a control panel url")?,
                storefront,
                token: SecretString::from(token),
                shopper: customer.email,
            });
        }
        // A headless storefront's shopper: logged in through the GraphQL Storefront API of
        // the main store's headless channel. Only a printed line depends on it, so a failure
        // leaves that line out rather than the demo.
        let login = match stores.first() {
            Some(main) => Some(
                sandbox
                    .graphql_login(&main.hash, &main.shopper, sandbox::DEMO_PASSWORD)
                    .await,
            ),
            None => None,
        };
        let customer_access_token = match login {
            Some(Ok(login)) => Some(SecretString::from(login.value)),
            Some(Err(error)) => {
                tracing::warn!(error = %error, "no customer access token for the demo's headless line");
                None
            }
            None => None,
        };
        Ok(Self {
            sandbox,
            sandbox_url,
            service_url,
            stores,
            service: Some((handle, task)),
            sandbox_config: config,
            _database: directory,
            customer_access_token,
        })
    }

    /// Serves until the service stops (Ctrl-C or SIGTERM), then stops the sandbox.
    pub async fn run_until_stopped(mut self) -> anyhow::Result<()> {
        if let Some((_, task)) = self.service.take() {
            task.await.context("the service's task failed")??;
        }
        self.sandbox.stop().await;
        Ok(())
    }

    /// Stops the service and the sandbox.
    pub async fn stop(mut self) {
        if let Some((handle, task)) = self.service.take() {
            handle.stop(true).await;
            let _ = task.await;
        }
        self.sandbox.stop().await;
    }

    /// The sandbox store's root as a browser or curl reaches it: the address it listens on,
    /// or loopback when it listens on every interface (`--host 0.0.0.0`).
    pub fn storefront_url(&self) -> &Url {
        &self.sandbox_url
    }

    /// The shell line that mints a new token for the demo shopper once the printed one has
    /// expired: `order-metafields token` with the sandbox's public demo credentials.
    pub fn new_token_line(&self) -> String {
        let config = &self.sandbox_config;
        format!(
            "BC_STORE_HASH={} BC_CLIENT_ID={} BC_CLIENT_SECRET={} order-metafields token --customer-id {DEMO_CUSTOMER_ID}",
            config.store_hash, config.client_id, config.client_secret
        )
    }

    /// Where a signed-in shopper's browser gets a fresh token, as a storefront page does.
    pub fn current_jwt_url(&self) -> String {
        format!(
            "{}customer/current.jwt?app_client_id={}",
            self.sandbox_url, self.sandbox_config.client_id
        )
    }

    /// The ready token of the main store's shopper (a demo token for the sandbox's public
    /// demo secret).
    pub fn token(&self) -> &str {
        self.stores[0].token()
    }

    /// The curl lines the demo prints, each runnable exactly as printed.
    pub fn curl_lines(&self) -> Vec<(String, String)> {
        let token = self.token();
        let url = &self.service_url;
        [
            (format!("{url}/v1/orders"), "Alice's orders, newest first"),
            (
                format!("{url}/v1/orders/{DEMO_ORDER_ID}"),
                "one of her orders",
            ),
            (
                format!("{url}/v1/orders/{DEMO_ORDER_ID}/metafields"),
                "its storefront-visible metafields",
            ),
            (
                format!("{url}/v1/orders/{OTHER_CUSTOMERS_ORDER_ID}"),
                "Bob's order: 404, exactly like a missing one",
            ),
        ]
        .into_iter()
        .map(|(url, what)| {
            (
                format!("curl -s -i '{url}' -H 'Authorization: Bearer {token}'"),
                what.to_owned(),
            )
        })
        .chain(self.stores.iter().skip(1).map(|store| {
            (
                format!(
                    "curl -s -i '{url}/v1/orders/{DEMO_ORDER_ID}/metafields' -H 'Authorization: Bearer {}'",
                    store.token()
                ),
                format!(
                    "the same order id in store {} ({}), as its customer {DEMO_CUSTOMER_ID}, {}: other data",
                    store.hash, store.name, store.shopper
                ),
            )
        }))
        .collect()
    }

    /// A curl line as a headless storefront's server (Catalyst) sends it: the shopper's
    /// customer access token from the GraphQL Storefront API, the store and the channel.
    pub fn headless_line(&self) -> Option<String> {
        let token = self.customer_access_token.as_ref()?;
        Some(format!(
            "curl -s -i '{}/v1/orders/{DEMO_ORDER_ID}/metafields' -H 'X-Bc-Customer-Access-Token: {}' -H 'X-Bc-Store-Hash: {}' -H 'X-Bc-Channel-Id: {}'",
            self.service_url,
            token.expose_secret(),
            self.stores.first()?.hash,
            sandbox::HEADLESS_CHANNEL_ID,
        ))
    }

    /// A curl line that changes one of the demo order's storefront-visible metafields in the
    /// sandbox through its Management API, which then sends the service a signed webhook.
    pub fn change_metafield_line(&self) -> Option<String> {
        let metafield = self
            .sandbox
            .store()
            .metafields_of(DEMO_ORDER_ID)
            .into_iter()
            .find(|metafield| metafield.permission_set.ends_with("_sf_access"))?;
        Some(format!(
            "curl -s -X PUT '{}stores/{}/v3/orders/{DEMO_ORDER_ID}/metafields/{}' -H 'X-Auth-Token: {}' -H 'Content-Type: application/json' -d '{{\"value\": \"changed in the store\"}}'",
            self.sandbox_url,
            self.sandbox.store_hash(),
            metafield.id,
            self.sandbox_config.access_token,
        ))
    }

    /// A curl line with which Alice edits her gift message on order 369 through the service,
    /// as the storefront's edit form does.
    pub fn edit_gift_message_line(&self) -> String {
        format!(
            "curl -s -i -X PUT '{}/v1/orders/{DEMO_ORDER_ID}/metafields/gift/message' -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' -d '{{\"value\": \"Happy birthday, Sam! Love from Alice\"}}'",
            self.service_url,
            self.token()
        )
    }

    /// Everything the demo prints on start.
    pub fn instructions(&self) -> String {
        let storefront = &self.sandbox_url;
        let expires = humantime::format_rfc3339_seconds(SystemTime::now() + TOKEN_LIFETIME);
        let mut text = String::new();
        let _ = writeln!(
            text,
            "order-metafields demo: the service, as a BigCommerce app, and {} sandbox stores on this machine.\n",
            self.stores.len()
        );
        let _ = writeln!(
            text,
            "Open the storefront in your browser and sign in as alice@example.com, password {}:\n\n  {storefront}login\n",
            sandbox::DEMO_PASSWORD
        );
        let _ = writeln!(
            text,
            "Then open \"Orders\" ({storefront}account.php?action=order_status) and one of her orders: the\n\
             account pages run the storefront snippets, which call the service from the browser."
        );
        if let Some(alias) = localhost_alias(storefront) {
            let _ = writeln!(text, "The same store answers as {alias} too.");
        }
        let _ = writeln!(
            text,
            "\n  Sandbox Management API: {storefront}stores/{}/",
            self.sandbox.store_hash()
        );
        let _ = writeln!(text, "  Service API:            {}/", self.service_url);
        let _ = writeln!(
            text,
            "  Its OpenAPI document:   {}/openapi.yaml\n",
            self.service_url
        );
        let _ = writeln!(
            text,
            "A Current Customer JWT for alice@example.com (customer {DEMO_CUSTOMER_ID}), valid for 15 minutes (until {expires}):\n\n  {}\n",
            self.token()
        );
        let _ = writeln!(
            text,
            "When it has expired (the service answers 401), get a new one: signed in as Alice, open\n  {}\nor run\n  {}",
            self.current_jwt_url(),
            self.new_token_line()
        );
        let _ = writeln!(
            text,
            "\nThe app is installed on every sandbox store through BigCommerce's OAuth flow. Each\n\
             store's control panel opens it, uninstalls it and installs it again:\n"
        );
        for store in &self.stores {
            let _ = writeln!(
                text,
                "  {:<10} {:<24} {}",
                store.hash, store.name, store.control_panel
            );
        }
        let _ = writeln!(text, "\nTry:");
        for (line, what) in self.curl_lines() {
            let _ = writeln!(text, "\n  # {what}\n  {line}");
        }
        if let Some(line) = self.headless_line() {
            let _ = writeln!(
                text,
                "\n  # the same metafields as a headless storefront's server asks (Catalyst): Alice's customer\n  # access token from the store's GraphQL Storefront API, no JWT (see docs/headless.md)\n  {line}"
            );
        }
        let _ = writeln!(
            text,
            "\n  # Alice edits her gift message (editable until the order ships; order {DEMO_ORDER_ID}'s page has the form)\n  {}",
            self.edit_gift_message_line()
        );
        let _ = writeln!(
            text,
            "\nWebhooks: the sandbox sends signed order webhooks to {}{WEBHOOK_PATH} whenever its data changes.",
            self.service_url
        );
        if let Some(line) = self.change_metafield_line() {
            let _ = writeln!(
                text,
                "\n  # change one of order {DEMO_ORDER_ID}'s metafields in the store, then ask for its metafields again\n  {line}"
            );
        }
        let _ = writeln!(text, "\nPress Ctrl-C to stop.");
        text
    }
}

/// Alice's gift message as a field she may edit: the merchant marks the metafield
/// storefront-writable (`write_and_sf_access`, through the sandbox's Management API, as the
/// app that wrote it) and defines it as editable until the order ships (its definition
/// stored for the main store before the install reads it).
async fn make_gift_message_editable(
    sandbox: &RunningSandbox,
    sandbox_url: &Url,
    config: &SandboxConfig,
    database_url: &order_metafields_service::database::DatabaseUrl,
) -> anyhow::Result<()> {
    use order_metafields_service::fields::{FieldDefinition, FieldDefinitions, FieldType};

    let store = sandbox.store();
    let message = store
        .metafields_of(DEMO_ORDER_ID)
        .into_iter()
        .find(|metafield| metafield.namespace == "gift" && metafield.key == "message")
        .context("the demo order's gift message is missing from the seed data")?;
    let url = format!(
        "{sandbox_url}stores/{}/v3/orders/{DEMO_ORDER_ID}/metafields/{}",
        sandbox.store_hash(),
        message.id
    );
    let answer = reqwest::Client::new()
        .put(&url)
        .header("X-Auth-Token", &config.access_token)
        .json(&serde_json::json!({"permission_set": "write_and_sf_access"}))
        .send()
        .await
        .context("marking the gift message storefront-writable in the sandbox")?;
    if !answer.status().is_success() {
        bail!(
            "marking the gift message storefront-writable answered {}",
            answer.status()
        );
    }
    let mut definition = FieldDefinition::plain("gift", "message");
    definition.label = Some("Gift message".to_owned());
    definition.field_type = FieldType::MultilineText;
    definition.customer_editable = true;
    definition.max_length = Some(200);
    // Pending, awaiting payment, awaiting pickup, awaiting shipment, awaiting fulfillment.
    definition.editable_statuses = vec![1, 7, 8, 9, 11];
    let definitions = FieldDefinitions::new(vec![definition])
        .map_err(|problems| anyhow!("the demo's field definition is invalid: {problems:?}"))?;
    let database = order_metafields_service::database::Database::connect(database_url)
        .await
        .context("opening the demo's database")?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        });
    database
        .replace_field_definitions(sandbox.store_hash(), &definitions, now)
        .await
        .context("storing the demo's field definition")?;
    Ok(())
}

/// The service's port: the one asked for, or a free one for port 0 (the port is part of
/// `APP_URL`, so it must be known before the service starts).
fn choose_port(address: SocketAddr) -> anyhow::Result<u16> {
    if address.port() != 0 {
        return Ok(address.port());
    }
    let listener = TcpListener::bind(address)
        .map_err(|error| explain_listen_error(anyhow::Error::new(error), "--port", address))?;
    Ok(listener.local_addr()?.port())
}

/// A `TOKEN_ENCRYPTION_KEY` for this run: the demo's database is thrown away with it.
fn demo_key() -> SecretString {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    SecretString::from(BASE64.encode(bytes))
}

/// Names the command-line flag behind a listener that could not be bound, instead of the
/// `LISTEN_ADDR` the service's own message names (the demo does not read it), and suggests
/// port 0 when the port is taken.
fn explain_listen_error(error: anyhow::Error, flag: &str, address: SocketAddr) -> anyhow::Error {
    let cause = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<std::io::Error>());
    match cause.map(std::io::Error::kind) {
        Some(ErrorKind::AddrInUse) => anyhow!(
            "cannot listen on {address}: port {} is already in use; choose another with {flag}, or {flag} 0 to pick a free one",
            address.port()
        ),
        Some(_) => anyhow!(
            "cannot listen on {address} (--host, {flag}): {}",
            cause.map(ToString::to_string).unwrap_or_default()
        ),
        None => error,
    }
}

/// `url` with its host made reachable (see `reachable`).
fn reachable_url(url: &Url) -> anyhow::Result<Url> {
    let mut reachable_url = url.clone();
    let host = url
        .host_str()
        .and_then(|host| host.trim_matches(['[', ']']).parse::<IpAddr>().ok())
        .with_context(|| format!("the sandbox's url {url} has no ip address"))?;
    let port = url
        .port()
        .with_context(|| format!("the sandbox's url {url} has no port"))?;
    let _ = reachable_url.set_ip_host(reachable(SocketAddr::new(host, port)).ip());
    Ok(reachable_url)
}

/// The same origin under the name `localhost`, when `url`'s host is a loopback address.
fn localhost_alias(url: &Url) -> Option<Url> {
    let host = url
        .host_str()?
        .trim_matches(['[', ']'])
        .parse::<IpAddr>()
        .ok()?;
    if !host.is_loopback() {
        return None;
    }
    let mut alias = url.clone();
    alias.set_host(Some("localhost")).ok()?;
    Some(alias)
}

/// The origins a browser shows for the storefront at `url`, comma-separated as
/// `CORS_ALLOWED_ORIGINS` takes them: its own and, for loopback, `localhost`'s, so the page
/// works whichever name the shopper typed.
fn browser_origins(url: &Url) -> String {
    let mut origins = url.origin().ascii_serialization();
    if let Some(alias) = localhost_alias(url) {
        origins.push(',');
        origins.push_str(&alias.origin().ascii_serialization());
    }
    origins
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn loopback_storefronts_are_allowed_under_both_names() {
        for (storefront, expected) in [
            (
                "http://127.0.0.1:8081/",
                "http://127.0.0.1:8081,http://localhost:8081",
            ),
            (
                "http://[::1]:8081/",
                "http://[::1]:8081,http://localhost:8081",
            ),
            ("http://192.0.2.7:8081/", "http://192.0.2.7:8081"),
        ] {
            let origins = browser_origins(&Url::parse(storefront).unwrap());

            assert_eq!(origins, expected, "{storefront}");
        }
    }

    #[test]
    fn a_taken_port_names_the_flag_and_suggests_port_0() {
        let taken = anyhow::Error::new(std::io::Error::from(ErrorKind::AddrInUse))
            .context("cannot listen on LISTEN_ADDR 127.0.0.1:8080");

        let message = explain_listen_error(taken, "--port", "127.0.0.1:8080".parse().unwrap());

        assert_eq!(
            message.to_string(),
            "cannot listen on 127.0.0.1:8080: port 8080 is already in use; choose another with --port, or --port 0 to pick a free one"
        );
    }
}
