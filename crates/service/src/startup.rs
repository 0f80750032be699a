//! Builds the application from settings: the token verifier (self-tested), the metrics
//! registry, the Management API client, the caches, readiness, the middleware and the
//! routes, bound to a listener (port 0 is allowed), plus a second listener for `/metrics`
//! when `METRICS_ADDR` is set. Only `main` and the tests use it.

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::{Method, header};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::access::Access;
use crate::auth::current_customer::CustomerTokenVerifier;
use crate::cache::Cache;
use crate::config::{HttpSettings, Settings};
use crate::domain::VisibilityPolicy;
use crate::management::ManagementClient;
use crate::metrics::Metrics;
use crate::readiness::Readiness;
use crate::routes;
use crate::telemetry::{REQUEST_ID_HEADER, ServiceRootSpan, request_identity};
use crate::throttle::CustomerThrottle;
use crate::webhooks::WebhookReceiver;

/// A built, listening application.
pub struct Application {
    port: u16,
    server: Server,
    /// The server of the separate metrics address, and its port.
    metrics_server: Option<(u16, Server)>,
    access: Access,
}

impl Application {
    /// Builds everything and binds `settings.http.listen_addr`; fails with a message naming
    /// what is wrong.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let verifier = CustomerTokenVerifier::new(&settings.auth, &settings.store.store_hash);
        verifier.self_test(&settings.auth).map_err(|error| {
            anyhow::anyhow!("start-up check of jwt verification failed: {error}")
        })?;
        // Each application owns its registry: nothing is recorded process-wide.
        let metrics = Metrics::new();
        let management = ManagementClient::new(&settings.store, &settings.upstream)
            .context("cannot build the management api http client")?
            .with_metrics(metrics.upstream.clone());
        let cache = Cache::new(&settings.cache, metrics.cache.clone());
        let readiness = web::Data::new(Readiness::new(
            management.clone(),
            settings.upstream.readiness_interval,
        ));
        let access = Access::new(
            management,
            cache,
            VisibilityPolicy::new(settings.visibility.extra_namespaces.clone()),
            settings.cache.orders_refresh_interval,
        );
        let listener = TcpListener::bind(settings.http.listen_addr).with_context(|| {
            format!("cannot listen on LISTEN_ADDR {}", settings.http.listen_addr)
        })?;
        let port = listener.local_addr()?.port();
        let verifier = web::Data::new(verifier);
        let throttle = web::Data::new(CustomerThrottle::new(
            settings.http.customer_rate_per_minute,
            settings.http.customer_burst,
        ));
        let receiver = web::Data::new(WebhookReceiver::new(
            settings.auth.secrets(),
            settings.auth.webhook_secret.clone(),
        ));
        let access_data = web::Data::new(access.clone());
        let metrics = web::Data::new(metrics);
        let metrics_server = match settings.http.metrics_addr {
            Some(address) => Some(metrics_server(address, &metrics, &access_data)?),
            None => None,
        };
        let metrics_on_main = metrics_server.is_none();
        let http = settings.http.clone();
        let server = HttpServer::new(move || {
            let app = App::new();
            let app = if metrics_on_main {
                app.configure(routes::configure_metrics)
            } else {
                app
            };
            app.wrap(cors(&http))
                .wrap(TracingLogger::<ServiceRootSpan>::new())
                .wrap(from_fn(request_identity))
                .app_data(verifier.clone())
                .app_data(throttle.clone())
                .app_data(receiver.clone())
                .app_data(access_data.clone())
                .app_data(readiness.clone())
                .app_data(metrics.clone())
                .configure(routes::configure)
        })
        // On SIGTERM or Ctrl-C: stop accepting, let in-flight requests finish within the grace.
        .shutdown_timeout(settings.http.shutdown_grace.as_secs().max(1))
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            metrics_server,
            access,
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

    /// Serves until the server is stopped (Ctrl-C or SIGTERM stop it gracefully).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        match self.metrics_server {
            Some((_, metrics_server)) => {
                tokio::try_join!(self.server, metrics_server)?;
                Ok(())
            }
            None => self.server.await,
        }
    }
}

/// The server of the separate metrics address: `/metrics` only, one worker, with the same
/// request ids and log lines as the main address.
fn metrics_server(
    address: std::net::SocketAddr,
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
    .listen(listener)?
    .run();
    Ok((port, server))
}

/// CORS for exactly the configured origins: `GET` with an `Authorization` header, no
/// credentials (the token travels in the header, never in a cookie), no wildcard.
fn cors(settings: &HttpSettings) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([Method::GET])
        .allowed_headers([
            header::AUTHORIZATION,
            header::ACCEPT,
            header::CONTENT_TYPE,
            REQUEST_ID_HEADER.clone(),
        ])
        .expose_headers([
            REQUEST_ID_HEADER.clone(),
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
        ])
        .max_age(usize::try_from(settings.cors_max_age.as_secs()).unwrap_or(usize::MAX))
        // A request from another origin still gets its answer, without CORS headers: the
        // browser then withholds it from the page, and non-browser clients are unaffected.
        .block_on_origin_mismatch(false);
    for origin in &settings.cors_allowed_origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}
