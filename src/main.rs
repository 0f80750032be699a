//! The `order-metafields` binary: parses the command line, loads settings, installs
//! telemetry and runs the chosen command. Nothing else.

#[cfg(feature = "demo")]
use std::net::IpAddr;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use jsonwebtoken::Algorithm;
use secrecy::ExposeSecret;

use order_metafields::address::reachable;
#[cfg(feature = "demo")]
use order_metafields::demo::{Demo, DemoOptions};
use order_metafields::token::DevelopmentToken;
#[cfg(feature = "demo")]
use order_metafields_sandbox::{self as sandbox, SandboxConfig, SeedSpec};
use order_metafields_service::config::{LogSettings, Settings, TokenSettings};
use order_metafields_service::hook_registration;
use order_metafields_service::management::ManagementClient;
use order_metafields_service::startup::Application;
use order_metafields_service::telemetry;

/// Shows signed-in BigCommerce shoppers their own orders and order metafields.
///
/// Configuration comes from environment variables (and a .env file in the working
/// directory, which never overrides them); see .env.example and docs/configuration.md.
#[derive(Parser)]
#[command(name = "order-metafields", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default when no command is given).
    Serve,
    /// Run the service against a built-in sandbox store: no BigCommerce account needed.
    #[cfg(feature = "demo")]
    ///
    /// Prints the storefront URL, the API URL, a ready token for a seeded shopper and curl
    /// lines that work as printed. Ctrl-C stops everything.
    Demo {
        /// Address both servers listen on; 0.0.0.0 in a container (the printed URLs then
        /// name 127.0.0.1, which a published port reaches).
        #[arg(long, default_value = "127.0.0.1", value_name = "ADDRESS")]
        host: IpAddr,
        /// Port of the service (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Port of the sandbox store (0 picks a free one).
        #[arg(long, default_value_t = 8081)]
        sandbox_port: u16,
        /// Origins allowed to call the service from a browser (comma-separated), instead of
        /// the sandbox storefront's own as localhost (as 127.0.0.1 it is the store's site,
        /// which app mode always allows). Open the storefront as localhost to see what a
        /// CORS_ALLOWED_ORIGINS that misses the store looks like: the browser blocks the
        /// storefront's calls.
        #[arg(long, value_name = "ORIGINS")]
        cors_allowed_origins: Option<String>,
        /// Where reads come from (`SYNC_MODE`): `on-demand` asks the sandbox's Management API
        /// on a customer's first read; `mirror` copies every store into the demo's database
        /// first and reads from there.
        #[arg(long, default_value = "on-demand", value_parser = ["on-demand", "mirror"])]
        sync_mode: String,
    },
    /// Run the sandbox BigCommerce store alone, for a separately started service or client.
    #[cfg(feature = "demo")]
    #[command(long_about = SANDBOX_HELP)]
    Sandbox {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8081)]
        port: u16,
        /// Management API requests allowed per quota window.
        #[arg(long, default_value_t = 150)]
        quota: u32,
        /// Length of the quota window (e.g. 30s).
        #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
        quota_window: Duration,
        /// Delay added to every Management API answer (e.g. 150ms).
        #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
        latency: Duration,
        /// Generated shoppers added to the hand-written ones.
        #[arg(long, default_value_t = 0)]
        extra_customers: u32,
        /// Orders per generated shopper.
        #[arg(long, default_value_t = 0)]
        extra_orders_per_customer: u32,
        /// Where the app runs (its APP_URL): the control panels load its callbacks there.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        app_url: url::Url,
    },
    /// Manage the store's webhooks that keep this service's cache fresh.
    ///
    /// Uses the service's configuration (BC_STORE_HASH, BC_ACCESS_TOKEN, ... and
    /// WEBHOOK_SECRET, sent by BigCommerce as the X-Webhook-Secret header of every delivery).
    /// The access token needs the Information & Settings scope (modify) for webhooks.
    Webhooks {
        #[command(subcommand)]
        action: WebhooksCommand,
    },
    /// The stores that installed the app (app mode): list, show or forget them.
    ///
    /// Reads the app's configuration (DATABASE_URL, TOKEN_ENCRYPTION_KEY, ...). Never prints
    /// an access token or an email.
    Stores {
        #[command(subcommand)]
        action: StoresCommand,
    },
    /// A store's field definitions as JSON: export them, or import a file (replacing them).
    ///
    /// App mode names the store with --store; single-store mode uses BC_STORE_HASH. Without
    /// DATABASE_URL, single-store mode keeps definitions in memory: `export` prints
    /// FIELD_DEFINITIONS_FILE's and `import` checks a file for it.
    Fields {
        #[command(subcommand)]
        action: FieldsCommand,
    },
    /// Ask the running service's /healthz: exit 0 when it answers 200, else 1.
    ///
    /// For a container's HEALTHCHECK (the image has no curl). It reads the service's
    /// configuration like `serve` and asks LISTEN_ADDR, over loopback when that is 0.0.0.0
    /// or [::].
    Healthcheck {
        /// Ask this address instead of reading the configuration (e.g. 127.0.0.1:8080 for
        /// a demo, which has no BC_* settings).
        #[arg(long, value_name = "ADDRESS")]
        address: Option<SocketAddr>,
        /// How long to wait for the answer (e.g. 3s).
        #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
        timeout: Duration,
    },
    /// Mint a Current Customer JWT for local development and curl.
    ///
    /// Uses BC_CLIENT_ID, BC_CLIENT_SECRET and BC_STORE_HASH from the environment (or
    /// .env). Such tokens are for development only: a real storefront gets them from
    /// /customer/current.jwt.
    Token {
        /// The customer the token speaks for.
        #[arg(long)]
        customer_id: u64,
        /// The email claim.
        #[arg(long, default_value = "developer@example.com")]
        email: String,
        /// How long the token is valid (e.g. 15m).
        #[arg(long, default_value = "15m", value_parser = humantime::parse_duration)]
        lifetime: Duration,
        /// HS256, HS384 or HS512.
        #[arg(long, default_value = "HS256", value_parser = parse_algorithm)]
        algorithm: Algorithm,
    },
}

#[derive(Subcommand)]
enum StoresCommand {
    /// One line per installed store.
    List,
    /// What is known of one store (its token's state, never the token).
    Show {
        /// The store hash.
        store: String,
    },
    /// Delete a store's access token, users and settings (for a store that can no longer
    /// uninstall the app itself; a running service stops serving it when restarted).
    Forget {
        /// The store hash.
        store: String,
    },
}

#[derive(Subcommand)]
enum FieldsCommand {
    /// Print the store's definitions (the format `import` and FIELD_DEFINITIONS_FILE read).
    Export {
        /// The store hash (app mode).
        #[arg(long)]
        store: Option<String>,
    },
    /// Replace the store's definitions with those of FILE, after validating every one.
    Import {
        /// The JSON file `export` wrote.
        file: std::path::PathBuf,
        /// The store hash (app mode).
        #[arg(long)]
        store: Option<String>,
    },
}

#[derive(Subcommand)]
enum WebhooksCommand {
    /// Create the hooks this service needs (running it again creates nothing new).
    Register {
        /// Where BigCommerce delivers, e.g. https://orders.example.com/webhooks/bigcommerce
        #[arg(long)]
        destination: url::Url,
    },
    /// List the app's hooks on the store (header values are not shown).
    List,
    /// Delete this service's hooks that deliver to the destination.
    Remove {
        /// The destination the hooks were registered with.
        #[arg(long)]
        destination: url::Url,
    },
}

#[cfg(feature = "demo")]
const SANDBOX_HELP: &str = "Run the sandbox BigCommerce platform alone, for a separately started \
service or another client.

It serves two stores, sandbox1 and sandbox2 (whose customer and order ids overlap), each with \
a Management API (v2 orders, v3 order metafields and hooks, BigCommerce's quota headers and \
429s) under /stores/{hash}/, a storefront with a sign-in page and \
/customer/current.jwt?app_client_id=sandbox-demo-client-id, and a control panel at \
{storefront}/manage that installs, opens and uninstalls the app; and BigCommerce's login \
service (POST /oauth2/token).

Run the service against it as an app (the control panels install it):
  BC_CLIENT_ID=sandbox-demo-client-id
  BC_CLIENT_SECRET=sandbox-demo-client-secret-not-for-production
  BC_API_BASE_URL=http://127.0.0.1:<port>/  BC_LOGIN_BASE_URL=http://127.0.0.1:<port>/
  APP_URL=http://127.0.0.1:8080  TOKEN_ENCRYPTION_KEY=$(openssl rand -base64 32)
(`order-metafields demo` does all of this for you.) Or for the one store sandbox1:
  BC_STORE_HASH=sandbox1
  BC_ACCESS_TOKEN=sandbox-demo-access-token
  BC_CLIENT_ID=sandbox-demo-client-id
  BC_CLIENT_SECRET=sandbox-demo-client-secret-not-for-production
  BC_API_BASE_URL=http://127.0.0.1:<port>/

Seeded shoppers (password for all: sandbox-password):
  alice@example.com  customer 1  4 orders (321, 364, 367, 369), tracking, licence, delivery and gift metafields
  bob@example.com    customer 2  1 order (365)
  carol@example.com  customer 3  no orders
  dave@example.com   customer 4  260 orders (more than one page of 250)
  erin@example.com   customer 5  3 orders (342, 368, 370)
Guest orders (customer 0): 361, 363, 366.";

/// mimalloc: every request allocates and frees a few dozen small blocks (request, span, log
/// line, response), and glibc's allocator spent about 8,000 instructions a request on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(),
        #[cfg(feature = "demo")]
        Command::Demo {
            host,
            port,
            sandbox_port,
            cors_allowed_origins,
            sync_mode,
        } => demo(
            DemoOptions {
                service: SocketAddr::new(host, port),
                sandbox: SocketAddr::new(host, sandbox_port),
            },
            cors_allowed_origins,
            &sync_mode,
        ),
        #[cfg(feature = "demo")]
        Command::Sandbox {
            port,
            quota,
            quota_window,
            latency,
            extra_customers,
            extra_orders_per_customer,
            app_url,
        } => run_sandbox(SandboxConfig {
            app_url: Some(app_url),
            listen: loopback(port),
            quota,
            quota_window,
            latency,
            seed: SeedSpec {
                extra_customers,
                extra_orders_per_customer,
                ..SeedSpec::default()
            },
            ..SandboxConfig::demo_defaults()
        }),
        Command::Webhooks { action } => webhooks(action),
        Command::Stores { action } => stores(action),
        Command::Fields { action } => fields(action),
        Command::Healthcheck { address, timeout } => healthcheck(address, timeout),
        Command::Token {
            customer_id,
            email,
            lifetime,
            algorithm,
        } => token(customer_id, email, lifetime, algorithm),
    }
}

fn serve() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("order-metafields: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let _log = match telemetry::init(&settings.log) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("order-metafields: cannot start logging: {error}");
            return ExitCode::FAILURE;
        }
    };
    report(actix_web::rt::System::new().block_on(async move {
        let application = Application::build(settings).await?;
        tracing::info!(port = application.port(), "order-metafields is listening");
        application.run_until_stopped().await?;
        anyhow::Ok(())
    }))
}

#[cfg(feature = "demo")]
fn demo(options: DemoOptions, cors_allowed_origins: Option<String>, sync_mode: &str) -> ExitCode {
    let _log = match init_quiet_logs() {
        Ok(guard) => guard,
        Err(code) => return code,
    };
    report(actix_web::rt::System::new().block_on(async move {
        let demo = Demo::start_with(options, cors_allowed_origins.as_deref(), sync_mode).await?;
        println!("{}", demo.instructions());
        // The service stops on Ctrl-C or SIGTERM by itself; the sandbox follows it.
        demo.run_until_stopped().await
    }))
}

#[cfg(feature = "demo")]
fn run_sandbox(config: SandboxConfig) -> ExitCode {
    let _log = match init_quiet_logs() {
        Ok(guard) => guard,
        Err(code) => return code,
    };
    report(actix_web::rt::System::new().block_on(async move {
        let sandbox = sandbox::start(config.clone()).await?;
        let base = sandbox.base_url();
        let mut stores = String::new();
        let mut origins = Vec::new();
        for store in sandbox.stores() {
            if let Some(url) = sandbox.storefront_url_of(store.hash()) {
                origins.push(url.origin().ascii_serialization());
            }
            let storefront = sandbox
                .storefront_url_of(store.hash())
                .map(|url| url.to_string())
                .unwrap_or_default();
            stores.push_str(&format!(
                "\n  {hash} ({name})\n    Storefront sign-in: {storefront}login (password {password})\n    Control panel:      {storefront}manage\n    Management API:     {base}stores/{hash}/\n",
                hash = store.hash(),
                name = store.name(),
                password = sandbox::DEMO_PASSWORD,
            ));
        }
        println!(
            "Sandbox BigCommerce platform at {base}\n{stores}\nRun the service against it as an app, then install it from a control panel (they load the app at {app}):\n  BC_CLIENT_ID={client} BC_CLIENT_SECRET={secret} \\\n  BC_API_BASE_URL={base} BC_LOGIN_BASE_URL={base} \\\n  APP_URL={app} TOKEN_ENCRYPTION_KEY=$(openssl rand -base64 32) \\\n  CONTROL_PANEL_ORIGINS='{frames}' CORS_ALLOWED_ORIGINS='{cors}' order-metafields serve\nor for the one store {hash}:\n  BC_STORE_HASH={hash} BC_ACCESS_TOKEN={access} BC_CLIENT_ID={client} \\\n  BC_CLIENT_SECRET={secret} BC_API_BASE_URL={base} order-metafields serve\n\nPress Ctrl-C to stop.",
            hash = config.store_hash,
            access = config.access_token,
            client = config.client_id,
            secret = config.client_secret,
            frames = origins.join(" "),
            cors = origins.join(","),
            app = config
                .app_url
                .as_ref()
                .map(|url| url.as_str().trim_end_matches('/').to_owned())
                .unwrap_or_default(),
        );
        tokio::signal::ctrl_c().await?;
        sandbox.stop().await;
        anyhow::Ok(())
    }))
}

fn webhooks(action: WebhooksCommand) -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("order-metafields: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let _log = match init_quiet_logs() {
        Ok(guard) => guard,
        Err(code) => return code,
    };
    report(actix_web::rt::System::new().block_on(async move {
        let Some(store) = settings.single_store() else {
            anyhow::bail!(
                "BC_STORE_HASH: `webhooks` manages one store's hooks (single-store mode); in app mode every installed store's hooks are registered at install"
            );
        };
        let client = ManagementClient::new(store, &settings.upstream)?;
        match action {
            WebhooksCommand::Register { destination } => {
                let Some(secret) = settings.auth.webhook_secret.as_ref() else {
                    anyhow::bail!(
                        "WEBHOOK_SECRET: required to register hooks (BigCommerce sends it as the X-Webhook-Secret header of every delivery)"
                    );
                };
                if destination.scheme() != "https" {
                    eprintln!("note: BigCommerce only delivers to https destinations on port 443");
                }
                for action in hook_registration::register(&client, destination.as_str(), secret).await? {
                    println!("{action}");
                }
            }
            WebhooksCommand::List => {
                let hooks = client.list_hooks().await?;
                if hooks.is_empty() {
                    println!("no webhooks registered for this app");
                }
                for hook in &hooks {
                    println!("{}", hook_registration::describe(hook));
                }
            }
            WebhooksCommand::Remove { destination } => {
                let actions = hook_registration::remove(&client, destination.as_str()).await?;
                if actions.is_empty() {
                    println!("no hooks of this service deliver to {destination}");
                }
                for action in actions {
                    println!("{action}");
                }
            }
        }
        anyhow::Ok(())
    }))
}

/// Docker runs a HEALTHCHECK command and reads 0 as healthy and 1 as unhealthy (2 is
/// reserved), so every failure here, a configuration error included, exits 1.
fn healthcheck(address: Option<SocketAddr>, timeout: Duration) -> ExitCode {
    let address = match address
        .map(Ok)
        .unwrap_or_else(|| Settings::from_env().map(|settings| settings.http.listen_addr))
    {
        Ok(address) => address,
        Err(error) => {
            eprintln!("order-metafields: configuration error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let url = format!("http://{}/healthz", reachable(address));
    let answer = actix_web::rt::System::new().block_on(async {
        // No proxy: the service is on this machine, whatever HTTP_PROXY says.
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .build()?;
        client.get(&url).send().await
    });
    match answer {
        Ok(response) if response.status() == reqwest::StatusCode::OK => {
            println!("healthy: {url} answered {}", response.status());
            ExitCode::SUCCESS
        }
        Ok(response) => {
            eprintln!(
                "order-metafields: unhealthy: {url} answered {}",
                response.status()
            );
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("order-metafields: unhealthy: {url}: {error}");
            ExitCode::FAILURE
        }
    }
}

fn token(customer_id: u64, email: String, lifetime: Duration, algorithm: Algorithm) -> ExitCode {
    let settings = match TokenSettings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("order-metafields: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    if customer_id == 0 {
        eprintln!("order-metafields: --customer-id must be a customer's id (above 0)");
        return ExitCode::from(2);
    }
    let minted = DevelopmentToken {
        client_id: &settings.client_id,
        store_hash: &settings.store_hash,
        customer_id,
        email: &email,
        algorithm,
        lifetime,
    }
    .sign(settings.client_secret.expose_secret().as_bytes());
    match minted {
        Ok(token) => {
            eprintln!(
                "order-metafields: a development token for customer {customer_id} of store {}; real storefronts get theirs from /customer/current.jwt",
                settings.store_hash
            );
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("order-metafields: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether `error` is the database being out of reach (start-up tried for 5 seconds).
fn is_database_unavailable(error: &anyhow::Error) -> bool {
    use order_metafields_service::database::DatabaseError;
    use order_metafields_service::lifecycle::StartError;
    error.chain().any(|cause| {
        cause
            .downcast_ref::<DatabaseError>()
            .is_some_and(DatabaseError::is_unavailable)
            || matches!(
                cause.downcast_ref::<StartError>(),
                Some(StartError::Database(database)) if database.is_unavailable()
            )
    })
}

/// Demo and sandbox logs: warnings only unless LOG_LEVEL or RUST_LOG says otherwise.
fn init_quiet_logs() -> Result<telemetry::LogGuard, ExitCode> {
    let settings = LogSettings::from_env("warn").map_err(|error| {
        eprintln!("order-metafields: configuration error: {error}");
        ExitCode::from(2)
    })?;
    telemetry::init(&settings).map_err(|error| {
        eprintln!("order-metafields: cannot start logging: {error}");
        ExitCode::FAILURE
    })
}

#[cfg(feature = "demo")]
fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn parse_algorithm(text: &str) -> Result<Algorithm, String> {
    match text.to_ascii_uppercase().as_str() {
        "HS256" => Ok(Algorithm::HS256),
        "HS384" => Ok(Algorithm::HS384),
        "HS512" => Ok(Algorithm::HS512),
        _ => Err("expected HS256, HS384 or HS512".to_owned()),
    }
}

fn stores(action: StoresCommand) -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("order-metafields: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let _log = match init_quiet_logs() {
        Ok(guard) => guard,
        Err(code) => return code,
    };
    report(actix_web::rt::System::new().block_on(async move {
        let text = match action {
            StoresCommand::List => order_metafields::stores::list(&settings).await?,
            StoresCommand::Show { store } => {
                order_metafields::stores::show(&settings, &store).await?
            }
            StoresCommand::Forget { store } => {
                order_metafields::stores::forget(&settings, &store).await?
            }
        };
        print!("{text}");
        anyhow::Ok(())
    }))
}

fn fields(action: FieldsCommand) -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("order-metafields: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let _log = match init_quiet_logs() {
        Ok(guard) => guard,
        Err(code) => return code,
    };
    report(actix_web::rt::System::new().block_on(async move {
        let text = match action {
            FieldsCommand::Export { store } => {
                order_metafields::fields::export(&settings, store.as_deref()).await?
            }
            FieldsCommand::Import { file, store } => {
                order_metafields::fields::import(&settings, store.as_deref(), &file).await?
            }
        };
        print!("{text}");
        anyhow::Ok(())
    }))
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The database (DATABASE_URL) out of reach at start-up: a configuration problem to
        // the operator, like a malformed variable, with the same exit code.
        Err(error) if is_database_unavailable(&error) => {
            tracing::error!(error = format!("{error:#}"), "order-metafields stopped");
            eprintln!("order-metafields: DATABASE_URL: {error:#}");
            ExitCode::from(2)
        }
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "order-metafields stopped");
            eprintln!("order-metafields: {error:#}");
            ExitCode::FAILURE
        }
    }
}
