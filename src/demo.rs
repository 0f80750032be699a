//! `order-metafields demo`: the sandbox store and the service against it, in one process,
//! with a ready token and curl lines that work exactly as printed, and the sandbox's webhooks
//! pointed at the service. Nothing here is used by `serve`; the demo's secrets are the
//! sandbox's public demo values.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use jsonwebtoken::Algorithm;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use order_metafields_sandbox::{self as sandbox, RunningSandbox, SandboxConfig, TokenCustomer};
use order_metafields_service::config::Settings;
use order_metafields_service::startup::Application;

/// Where the demo listens.
#[derive(Clone, Copy, Debug)]
pub struct DemoOptions {
    pub service: SocketAddr,
    pub sandbox: SocketAddr,
}

/// The sandbox and the built (not yet running) service.
pub struct Demo {
    pub sandbox: RunningSandbox,
    pub application: Application,
    pub service_url: String,
    token: SecretString,
    /// The sandbox's public demo access token, for the printed metafield change.
    sandbox_access_token: String,
}

/// The seeded shopper the printed token speaks for (Alice: four orders with metafields).
pub const DEMO_CUSTOMER_ID: u64 = 1;
/// One of Alice's orders with storefront-visible metafields.
pub const DEMO_ORDER_ID: u64 = 369;
/// Bob's order: Alice asking for it gets a `404`.
pub const OTHER_CUSTOMERS_ORDER_ID: u64 = 365;
/// Where the service takes BigCommerce's webhooks; the sandbox delivers its order events there.
pub const WEBHOOK_PATH: &str = "/webhooks/bigcommerce";

impl Demo {
    /// Starts the sandbox and builds the service against it, allowing the sandbox
    /// storefront's origin to call it from a browser.
    pub async fn start(options: DemoOptions) -> anyhow::Result<Self> {
        Self::start_with_allowed_origins(options, None).await
    }

    /// As `start`, but the service allows `allowed_origins` (comma-separated, as in
    /// `CORS_ALLOWED_ORIGINS`) instead of the sandbox storefront's origin; any other origin
    /// shows the browser blocking the storefront, as a misconfigured service would.
    pub async fn start_with_allowed_origins(
        options: DemoOptions,
        allowed_origins: Option<&str>,
    ) -> anyhow::Result<Self> {
        let config = SandboxConfig {
            listen: options.sandbox,
            ..SandboxConfig::demo_defaults()
        };
        let sandbox = sandbox::start(config.clone()).await?;
        let storefront_origin = sandbox.storefront_url().origin().ascii_serialization();
        let api_base = sandbox.api_base_url().to_string();
        let listen = options.service.to_string();
        let settings = Settings::from_pairs([
            ("BC_STORE_HASH", config.store_hash.as_str()),
            ("BC_ACCESS_TOKEN", config.access_token.as_str()),
            ("BC_CLIENT_ID", config.client_id.as_str()),
            ("BC_CLIENT_SECRET", config.client_secret.as_str()),
            ("BC_API_BASE_URL", api_base.as_str()),
            ("LISTEN_ADDR", listen.as_str()),
            (
                "CORS_ALLOWED_ORIGINS",
                allowed_origins.unwrap_or(storefront_origin.as_str()),
            ),
        ])
        .context("the demo's settings are invalid")?;
        let application = Application::build(settings).await?;
        let service_url = format!("http://127.0.0.1:{}", application.port());
        // Only now is the service's port known. A service without the route yet answers 404,
        // which the sandbox logs and gives up on; the demo runs on regardless.
        let webhook_url = Url::parse(&format!("{service_url}{WEBHOOK_PATH}"))
            .with_context(|| format!("forming the demo's webhook url from {service_url}"))?;
        sandbox.set_webhook_destination(Some(webhook_url));
        sandbox
            .set_service_url(Url::parse(&service_url).context("forming the demo service's url")?);
        let customer = sandbox
            .store()
            .customers()
            .into_iter()
            .find(|customer| customer.id == DEMO_CUSTOMER_ID)
            .context("the demo shopper is missing from the seed data")?;
        let token = sandbox::mint_current_customer_token(
            &config.client_id,
            config.client_secret.as_bytes(),
            &config.store_hash,
            &TokenCustomer {
                id: customer.id,
                email: customer.email,
                group_id: customer.group_id,
            },
            Algorithm::HS256,
            Duration::from_secs(15 * 60),
        )?;
        Ok(Self {
            sandbox,
            application,
            service_url,
            token: SecretString::from(token),
            sandbox_access_token: config.access_token,
        })
    }

    /// The ready token (a demo token for the sandbox's public demo secret).
    pub fn token(&self) -> &str {
        self.token.expose_secret()
    }

    /// The curl lines the demo prints, each runnable exactly as printed.
    pub fn curl_lines(&self) -> Vec<(String, &'static str)> {
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
                what,
            )
        })
        .collect()
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
            self.sandbox.api_base_url(),
            self.sandbox.store_hash(),
            metafield.id,
            self.sandbox_access_token,
        ))
    }

    /// Everything the demo prints on start.
    pub fn instructions(&self) -> String {
        let storefront = self.sandbox.storefront_url();
        let mut text = String::new();
        let _ = writeln!(
            text,
            "order-metafields demo: the service and a sandbox BigCommerce store on this machine.\n"
        );
        let _ = writeln!(
            text,
            "  Storefront (sign in as alice@example.com / {}): {storefront}login",
            sandbox::DEMO_PASSWORD
        );
        let _ = writeln!(
            text,
            "  Orders page (the README's snippets, in a browser): {storefront}account.php?action=order_status"
        );
        let _ = writeln!(
            text,
            "  Sandbox Management API: {}stores/{}/",
            self.sandbox.api_base_url(),
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
            "A Current Customer JWT for alice@example.com (customer {DEMO_CUSTOMER_ID}), valid for 15 minutes:\n\n  {}\n",
            self.token()
        );
        let _ = writeln!(text, "Try:");
        for (line, what) in self.curl_lines() {
            let _ = writeln!(text, "\n  # {what}\n  {line}");
        }
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
