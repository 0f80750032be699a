//! Builds the application from settings: the token verifier (self-tested), the metrics
//! registry, the Management API client, the caches, the database and the stores served (one
//! from the environment, or the installed ones), readiness, the middleware and the routes, bound to a listener (port 0 is allowed) with the server's limits (header, body
//! and keep-alive timeouts, connections in all and per client), plus a second listener for
//! `/metrics` when `METRICS_ADDR` is set. Only `main` and the tests use it.

use std::net::TcpListener;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::KeepAlive;
use actix_web::http::{Method, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::access::Access;
use crate::auth::current_customer::CustomerTokenVerifier;
use crate::auth::customer_access::{CustomerAccessTokens, PrivateTokenKeeper};
use crate::auth::session;
use crate::cache::Cache;
use crate::config::{HttpSettings, Mode, Settings, SyncMode};
use crate::database::{Database, Engine, SettingsRecord};
use crate::domain::{StoreHash, VisibilityPolicy};
use crate::fields::FieldDefinitions;
use crate::http_limits::{self, ClientConnections};
use crate::lifecycle::Lifecycle;
use crate::management::ManagementApi;
use crate::management::login::LoginClient;
use crate::management::quota::Spenders;
use crate::merchant::MerchantPages;
use crate::merchant_session::SessionKeys;
use crate::metrics::Metrics;
use crate::origins::AllowedOrigins;
use crate::readiness::Readiness;
use crate::replicas::Replicas;
use crate::routes;
use crate::sealing::TokenSealer;
use crate::shopper_writes::ShopperWrites;
use crate::sites;
use crate::stores::{Origin, StoreRegistry};
use crate::telemetry::{REQUEST_ID_HEADER, ServiceRootSpan, request_identity};
use crate::throttle::CustomerThrottle;
use crate::webhooks::{SharedSecret, WebhookReceiver};

/// A built, listening application.
pub struct Application {
    port: u16,
    server: Server,
    /// The server of the separate metrics address, and its port.
    metrics_server: Option<(u16, Server)>,
    access: Access,
    stores: Arc<StoreRegistry>,
    database: Database,
    replicas: Replicas,
    /// `SYNC_MODE=mirror`: the stores' syncs, stopped with the server.
    syncer: Option<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Builds everything and binds `settings.http.listen_addr`; fails with a message naming
    /// what is wrong.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let verifier = CustomerTokenVerifier::new(&settings.auth);
        verifier.self_test(&settings.auth).map_err(|error| {
            anyhow::anyhow!("start-up check of jwt verification failed: {error}")
        })?;
        // Each application owns its registry: nothing is recorded process-wide.
        let metrics = Metrics::new();
        // How many replicas share each store's quota: one, unless `replicas` counts more.
        let spenders = Spenders::new();
        let api = ManagementApi::new(&settings.api_base_url, &settings.upstream)
            .context("cannot build the management api http client")?
            .with_metrics(metrics.upstream.clone())
            .with_spenders(spenders.clone())
            .with_graphql_url(&settings.graphql_url);
        let database = Database::connect(&settings.database_url).await?;
        // On PostgreSQL this replica listens to the others from now on, before it loads
        // any store, so no install or change between the two is missed.
        let (replicas, fanout) =
            Replicas::join(&database, metrics.replicas.clone(), spenders).await?;
        if database.engine() == Engine::Sqlite && database.shared_with_another_process() {
            tracing::warn!(database = %settings.database_url.display(), "another process uses this SQLite database: SQLite mode is one replica (other replicas would not hear of webhooks, installs or uninstalls); use PostgreSQL for several");
        }
        let cache = Cache::new(&settings.cache, metrics.cache.clone());
        let mut access = Access::new(cache, settings.cache.orders_refresh_interval);
        if let Some(announcer) = replicas.announcer() {
            access = access.announcing(announcer);
        }
        let mut registry = StoreRegistry::new(api);
        if settings.sync.mode == SyncMode::Mirror {
            // A list from the mirror holds what the Management API walk would.
            let max_orders = u64::from(settings.upstream.orders_max_pages)
                * u64::from(crate::management::pagination::PAGE_LIMIT);
            registry = registry.with_mirrors(database.clone(), max_orders);
        }
        let stores = Arc::new(registry);
        let interval = settings.upstream.readiness_interval;
        let allowed_origins = web::Data::new(AllowedOrigins::new(
            settings.http.cors_allowed_origins.clone(),
        ));
        // App mode: each store's sites are its allowed origins too.
        let sites = match &settings.mode {
            Mode::SingleStore(_) => None,
            Mode::App(app) => Some(web::Data::new(sites::start(
                Arc::clone(&stores),
                allowed_origins.clone().into_inner(),
                app.sites_refresh_interval,
            ))),
        };
        let (readiness, lifecycle, shared_secret) = match &settings.mode {
            Mode::SingleStore(one) => {
                let hash = StoreHash::parse(&one.store_hash)
                    .context("BC_STORE_HASH: expected the store hash")?;
                // The environment is the store's configuration; the database holds it like
                // an installed store's (in memory unless DATABASE_URL says otherwise).
                let namespaces = settings.visibility.extra_namespaces.clone();
                database
                    .save_settings(
                        hash.as_str(),
                        &SettingsRecord {
                            metafield_namespaces: namespaces.clone(),
                            channel_orders: false,
                        },
                        0,
                    )
                    .await?;
                // FIELD_DEFINITIONS_FILE replaces what the database held; without it, the
                // database's own (none in memory) stand.
                if let Some(path) = &settings.visibility.field_definitions_file {
                    let definitions = read_field_definitions(path)?;
                    database
                        .replace_field_definitions(hash.as_str(), &definitions, 0)
                        .await?;
                }
                let fields = database.field_definitions(hash.as_str()).await?;
                let store = stores.serve(
                    hash,
                    &one.access_token,
                    VisibilityPolicy::new(namespaces),
                    fields,
                    Origin::Environment,
                    // Single-store mode reads no sites: no channel is ever named by origin.
                    false,
                );
                let readiness =
                    Readiness::new(database.clone(), store.management().clone(), interval);
                let shared = settings
                    .auth
                    .webhook_secret
                    .clone()
                    .map_or(SharedSecret::None, SharedSecret::Fixed);
                (readiness, None, shared)
            }
            Mode::App(app) => {
                let login =
                    LoginClient::new(&app.login_base_url, settings.upstream.request_timeout)
                        .context("cannot build the login service http client")?;
                let lifecycle = Lifecycle::start(
                    database.clone(),
                    Arc::clone(&stores),
                    access.clone(),
                    app,
                    &settings.auth,
                    &settings.visibility,
                    login,
                    replicas.clone(),
                )
                .await?;
                let readiness = Readiness::for_app(database.clone(), Arc::clone(&stores), interval);
                // Each store's hooks carry a secret of its own, derived from WEBHOOK_SECRET
                // (or the client secret when it is unset).
                let key = settings
                    .auth
                    .webhook_secret
                    .clone()
                    .unwrap_or_else(|| settings.auth.client_secret.clone());
                let pages = MerchantPages::new(
                    database.clone(),
                    Arc::clone(&stores),
                    access.clone(),
                    SessionKeys::new(&settings.auth.client_secret),
                );
                let facts = routes::PageFacts {
                    app_url: app.app_url.as_str().trim_end_matches('/').to_owned(),
                    client_id: settings.auth.client_id.clone(),
                };
                (
                    readiness,
                    Some((
                        web::Data::new(lifecycle),
                        web::Data::new(pages),
                        web::Data::new(facts),
                    )),
                    SharedSecret::PerStore(key),
                )
            }
        };
        if let Some(fanout) = fanout {
            fanout.run(
                Arc::clone(&stores),
                access.clone(),
                lifecycle
                    .as_ref()
                    .map(|(lifecycle, _, _)| lifecycle.clone().into_inner()),
            );
        }
        let syncer = (settings.sync.mode == SyncMode::Mirror).then(|| {
            crate::mirror::sync::start(crate::mirror::sync::Syncer {
                stores: Arc::clone(&stores),
                database: database.clone(),
                access: access.clone(),
                settings: settings.sync.clone(),
                metrics: metrics.mirror.clone(),
            })
        });
        let keeper = match &settings.mode {
            Mode::SingleStore(_) => PrivateTokenKeeper::Memory,
            Mode::App(app) => PrivateTokenKeeper::Sealed {
                database: database.clone(),
                sealer: TokenSealer::new(&app.token_key, app.previous_token_key.as_ref()),
            },
        };
        let customer_access = web::Data::new(
            CustomerAccessTokens::new(keeper).map_err(|error| anyhow::anyhow!(error))?,
        );
        let readiness = web::Data::new(readiness);
        let listener = TcpListener::bind(settings.http.listen_addr).with_context(|| {
            format!("cannot listen on LISTEN_ADDR {}", settings.http.listen_addr)
        })?;
        let port = listener.local_addr()?.port();
        let verifier = web::Data::new(verifier);
        let throttle = web::Data::new(CustomerThrottle::new(
            settings.http.customer_rate_per_minute,
            settings.http.customer_burst,
        ));
        let writes = web::Data::new(ShopperWrites::new(
            settings.http.write_rate_per_minute,
            settings.http.write_burst,
            metrics.writes.clone(),
            &settings.auth.client_secret,
            database.clone(),
        ));
        let receiver = web::Data::new(WebhookReceiver::new(settings.auth.secrets(), shared_secret));
        let stores_data = web::Data::from(Arc::clone(&stores));
        let frames = web::Data::new(routes::FrameAncestors(
            settings.http.control_panel_origins.clone(),
        ));
        let access_data = web::Data::new(access.clone());
        let metrics = web::Data::new(metrics);
        let metrics_server = match settings.http.metrics_addr {
            Some(address) => Some(metrics_server(
                address,
                &settings.http,
                &metrics,
                &access_data,
            )?),
            None => None,
        };
        let metrics_on_main = metrics_server.is_none();
        let http = settings.http.clone();
        let body_timeout = settings.http.body_timeout;
        let workers = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        let max_connections = http_limits::connection_budget(settings.http.max_connections);
        let clients = ClientConnections::new(settings.http.max_connections_per_client);

        let server = HttpServer::new(move || {
            let app = App::new();
            let app = if metrics_on_main {
                app.configure(routes::configure_metrics)
            } else {
                app
            };
            let app = match &sites {
                Some(sites) => app.app_data(sites.clone()),
                None => app,
            };
            let app = match &lifecycle {
                Some((lifecycle, pages, facts)) => app
                    .app_data(lifecycle.clone())
                    .app_data(pages.clone())
                    .app_data(facts.clone())
                    .app_data(frames.clone())
                    .configure(routes::configure_app),
                None => app,
            };
            let origins = allowed_origins.clone();
            let logged_origins = allowed_origins.clone();
            app.wrap(from_fn(move |request, next| {
                http_limits::body_deadline(request, next, body_timeout)
            }))
            .wrap(cors(&http, origins.clone().into_inner()))
            .wrap(from_fn(move |request, next| {
                log_refused_preflight(request, next, logged_origins.clone().into_inner())
            }))
            .wrap(TracingLogger::<ServiceRootSpan>::new())
            .wrap(from_fn(request_identity))
            .app_data(verifier.clone())
            .app_data(customer_access.clone())
            .app_data(origins)
            .app_data(throttle.clone())
            .app_data(writes.clone())
            .app_data(stores_data.clone())
            .app_data(receiver.clone())
            .app_data(access_data.clone())
            .app_data(readiness.clone())
            .app_data(metrics.clone())
            .configure(routes::configure)
        })
        .on_connect(move |connection, data| clients.on_connect(connection, data))
        .workers(workers)
        // actix counts connections per worker; the budget is for the whole server.
        .max_connections(max_connections.div_ceil(workers))
        .client_request_timeout(settings.http.header_timeout)
        .keep_alive(keep_alive(settings.http.keep_alive))
        // On SIGTERM or Ctrl-C: stop accepting, let in-flight requests finish within the grace.
        .shutdown_timeout(settings.http.shutdown_grace.as_secs().max(1))
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            metrics_server,
            access,
            stores,
            database,
            replicas,
            syncer,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the separate metrics address, when `METRICS_ADDR` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(port, _)| *port)
    }

    /// The customer-facing read model, for tests and future operational endpoints.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// A handle that stops the server gracefully (as SIGTERM does).
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// The stores served now.
    pub fn stores(&self) -> &StoreRegistry {
        &self.stores
    }

    /// This replica's id: its listening connection is `replicas::listener_name(id)` in
    /// PostgreSQL's `pg_stat_activity`.
    pub fn replica_id(&self) -> uuid::Uuid {
        self.replicas.id()
    }

    /// The database (for tests that take it away, and for operators' commands).
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Serves until the server is stopped (Ctrl-C or SIGTERM stop it gracefully).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // The stores' syncs end with the server (each saves its position page by page).
        let _syncer = self.syncer.map(AbortOnDrop);
        match self.metrics_server {
            Some((_, metrics_server)) => {
                tokio::try_join!(self.server, metrics_server)?;
                Ok(())
            }
            None => self.server.await,
        }
    }
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The server of the separate metrics address: `/metrics` only, one worker, with the same
/// request ids and log lines as the main address.
fn metrics_server(
    address: std::net::SocketAddr,
    http: &HttpSettings,
    metrics: &web::Data<Metrics>,
    access: &web::Data<Access>,
) -> anyhow::Result<(u16, Server)> {
    let listener = TcpListener::bind(address)
        .with_context(|| format!("cannot listen on METRICS_ADDR {address}"))?;
    let port = listener.local_addr()?.port();
    let metrics = metrics.clone();
    let access = access.clone();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(TracingLogger::<ServiceRootSpan>::new())
            .wrap(from_fn(request_identity))
            .app_data(metrics.clone())
            .app_data(access.clone())
            .configure(routes::configure_metrics_only)
    })
    .workers(1)
    .client_request_timeout(http.header_timeout)
    .keep_alive(keep_alive(http.keep_alive))
    .listen(listener)?
    .run();
    Ok((port, server))
}

/// `HTTP_KEEP_ALIVE`: how long an idle connection waits for its next request; zero turns
/// keep-alive off.
fn keep_alive(idle: Duration) -> KeepAlive {
    if idle.is_zero() {
        KeepAlive::Disabled
    } else {
        KeepAlive::Timeout(idle)
    }
}

/// Middleware around CORS: drops `Access-Control-Allow-Credentials` from an answer to an
/// origin that is not allowed, and logs refused preflights. A refused preflight is otherwise
/// silent on the server, and the
/// browser's console is the only place that says anything. Logs it at warn level with the
/// origin (bounded, escaped) and what `CORS_ALLOWED_ORIGINS` holds, noticing the classic
/// `www.` versus bare-domain mismatch. Preflights carry no credentials, so nothing secret
/// is logged.
async fn log_refused_preflight<B: MessageBody>(
    request: ServiceRequest,
    next: Next<B>,
    allowed_origins: Arc<AllowedOrigins>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let origin = (request.method() == Method::OPTIONS)
        .then(|| request.headers().get(header::ORIGIN))
        .flatten()
        .filter(|_| {
            request
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        })
        .map(|origin| String::from_utf8_lossy(origin.as_bytes()).into_owned());
    let mut result = next.call(request).await;
    // actix-cors says `Access-Control-Allow-Credentials` to every origin; without an allowed
    // origin it means nothing to a browser, but no CORS header goes to an origin not allowed.
    if let Ok(response) = &mut result {
        let headers = response.headers_mut();
        if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
            headers.remove(header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
        }
    }
    let refused = match &result {
        Ok(response) => response.status().is_client_error(),
        Err(error) => error.as_response_error().status_code().is_client_error(),
    };
    if let Some(origin) = origin.filter(|_| refused) {
        warn_refused_preflight(&origin, &allowed_origins);
    }
    result
}

fn warn_refused_preflight(origin: &str, origins: &AllowedOrigins) {
    let origin: String = origin.chars().take(200).collect();
    let allowed_origins = origins.fixed();
    let allowed = allowed_origins.join(",");
    let bare = |text: &str| text.replacen("://www.", "://", 1);
    if origins.allows(origin.as_bytes()) {
        tracing::warn!(
            origin = %origin.escape_debug(),
            cors_allowed_origins = %allowed,
            "refused a cors preflight from an allowed origin: it asks for a method or header the api does not take (GET, POST and DELETE with Authorization, Accept, Content-Type, X-Request-Id, X-Requested-With)"
        );
    } else if allowed_origins
        .iter()
        .any(|allowed| bare(allowed) == bare(&origin))
    {
        tracing::warn!(
            origin = %origin.escape_debug(),
            cors_allowed_origins = %allowed,
            "refused a cors preflight: the origin is not in CORS_ALLOWED_ORIGINS, which lists it with or without www. only; add the origin exactly as the browser sends it"
        );
    } else {
        tracing::warn!(
            origin = %origin.escape_debug(),
            cors_allowed_origins = %allowed,
            "refused a cors preflight: the origin is not in CORS_ALLOWED_ORIGINS"
        );
    }
}

/// CORS for exactly the allowed origins (`CORS_ALLOWED_ORIGINS`, and in app mode the stores'
/// sites), no wildcard: `GET`, and `PUT` for a shopper's field edits, with an `Authorization`
/// header (and `If-Match`); and credentials (the session cookie: `POST`/`DELETE /v1/session`,
/// and writes that carry `X-Requested-With`). A write's `ETag` is readable by the page. A
/// customer access token's header is never allowed: those tokens must not be in a browser.
fn cors(settings: &HttpSettings, origins: Arc<AllowedOrigins>) -> Cors {
    Cors::default()
        // The app's own pages (the control panel's iframe) are never for storefronts: no
        // CORS there, so no storefront script can read a merchant page with its cookie.
        .allowed_origin_fn(move |origin, head| {
            !head.uri.path().starts_with("/bigcommerce/") && origins.allows(origin.as_bytes())
        })
        .allowed_methods([Method::GET, Method::PUT, Method::POST, Method::DELETE])
        .allowed_headers([
            header::AUTHORIZATION,
            header::ACCEPT,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            REQUEST_ID_HEADER.clone(),
            session::X_REQUESTED_WITH.clone(),
        ])
        .supports_credentials()
        .expose_headers([
            REQUEST_ID_HEADER.clone(),
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
            header::ETAG,
        ])
        .max_age(usize::try_from(settings.cors_max_age.as_secs()).unwrap_or(usize::MAX))
        // A request from another origin still gets its answer, without CORS headers: the
        // browser then withholds it from the page, and non-browser clients are unaffected.
        .block_on_origin_mismatch(false)
}

/// Reads `FIELD_DEFINITIONS_FILE`; the error names the variable and the first problem,
/// never the file's contents.
fn read_field_definitions(path: &std::path::Path) -> anyhow::Result<FieldDefinitions> {
    let json = std::fs::read(path)
        .with_context(|| format!("FIELD_DEFINITIONS_FILE: cannot read {}", path.display()))?;
    FieldDefinitions::import(&json)
        .map_err(|error| anyhow::anyhow!("FIELD_DEFINITIONS_FILE: {error}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::Write;
    use std::sync::Mutex;

    use actix_web::test::{TestRequest, call_service, init_service};
    use actix_web::{HttpResponse, web};

    use super::*;
    use crate::config::Settings;

    /// Log output collected in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What the CORS layers log for one preflight from `origin` asking for `method`.
    async fn preflight_log(allowed: &str, origin: &str, method: &str) -> (u16, String) {
        let settings = Settings::from_pairs([
            ("BC_STORE_HASH", "abc123"),
            ("BC_ACCESS_TOKEN", "access-token-value"),
            ("BC_CLIENT_ID", "client-id"),
            ("BC_CLIENT_SECRET", "client-secret-value"),
            ("CORS_ALLOWED_ORIGINS", allowed),
        ])
        .unwrap();
        let origins = Arc::new(AllowedOrigins::new(
            settings.http.cors_allowed_origins.clone(),
        ));
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _default = tracing::subscriber::set_default(subscriber);
        let app = init_service(
            App::new()
                .wrap(cors(&settings.http, Arc::clone(&origins)))
                .wrap(from_fn(move |request, next| {
                    log_refused_preflight(request, next, Arc::clone(&origins))
                }))
                .route("/v1/orders", web::get().to(HttpResponse::Ok)),
        )
        .await;
        let request = TestRequest::default()
            .method(Method::OPTIONS)
            .uri("/v1/orders")
            .insert_header((header::ORIGIN, origin))
            .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, method))
            .insert_header((header::AUTHORIZATION, "Bearer not-a-real-token"))
            .to_request();

        let status = call_service(&app, request).await.status().as_u16();

        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        (status, log)
    }

    #[actix_web::test]
    async fn a_refused_preflight_is_logged_at_warn_naming_the_origin_and_the_setting() {
        let allowed = "https://store.example.com";
        let cases = [
            (
                "https://www.store.example.com",
                "GET",
                "lists it with or without www.",
                "the www. mismatch",
            ),
            (
                "https://evil.example.net",
                "GET",
                "the origin is not in CORS_ALLOWED_ORIGINS",
                "another origin",
            ),
            (
                allowed,
                "PATCH",
                "asks for a method or header the api does not take",
                "an allowed origin asking for PATCH",
            ),
        ];
        for (origin, method, expected, description) in cases {
            let (status, log) = preflight_log(allowed, origin, method).await;

            assert_eq!(status, 400, "case: {description}");
            assert!(log.contains("WARN"), "case: {description}: {log}");
            assert!(log.contains(expected), "case: {description}: {log}");
            assert!(log.contains(origin), "case: {description}: {log}");
            assert!(
                log.contains("cors_allowed_origins=https://store.example.com"),
                "case: {description}: {log}"
            );
            assert!(!log.contains("not-a-real-token"), "case: {description}");
        }
    }

    #[actix_web::test]
    async fn an_accepted_preflight_logs_nothing() {
        let (status, log) = preflight_log(
            "https://store.example.com",
            "https://store.example.com",
            "GET",
        )
        .await;

        assert_eq!(status, 200);
        assert_eq!(log, "");
    }
}
