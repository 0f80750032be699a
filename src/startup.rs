//! Builds the application from settings: the token verifier (self-tested), the Management
//! API client, the caches, the middleware and the routes, bound to a listener (port 0 is
//! allowed). Only `main` and the tests use it.

use std::net::TcpListener;
use std::sync::Arc;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::{Method, header};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::access::Access;
use crate::auth::TokenVerifier;
use crate::cache::Cache;
use crate::config::{HttpSettings, Settings};
use crate::domain::VisibilityPolicy;
use crate::management::ManagementClient;
use crate::routes;
use crate::telemetry::{REQUEST_ID_HEADER, ServiceRootSpan, request_identity};
use crate::throttle::CustomerThrottle;
use crate::webhooks::WebhookReceiver;

/// A built, listening application.
pub struct Application {
    port: u16,
    server: Server,
    access: Access,
}

impl Application {
    /// Builds everything and binds `settings.http.listen_addr`; fails with a message naming
    /// what is wrong.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let verifier = TokenVerifier::new(&settings.auth, &settings.store.store_hash);
        verifier.self_test(&settings.auth).map_err(|error| {
            anyhow::anyhow!("start-up check of jwt verification failed: {error}")
        })?;
        let management = ManagementClient::new(&settings.store, &settings.upstream)
            .context("cannot build the management api http client")?;
        let cache = Cache::new(&settings.cache);
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
        let verifier = web::Data::new(Arc::new(verifier));
        let throttle = settings.http.customer_rate_per_minute.map(|per_minute| {
            web::Data::new(CustomerThrottle::new(
                per_minute,
                settings.http.customer_burst,
            ))
        });
        let receiver = web::Data::new(WebhookReceiver::new(
            settings.auth.secrets(),
            settings.auth.webhook_secret.clone(),
        ));
        let access_data = web::Data::new(access.clone());
        let http = settings.http.clone();
        let server = HttpServer::new(move || {
            let app = App::new();
            let app = match &throttle {
                Some(throttle) => app.app_data(throttle.clone()),
                None => app,
            };
            app.wrap(cors(&http))
                .wrap(TracingLogger::<ServiceRootSpan>::new())
                .wrap(from_fn(request_identity))
                .app_data(verifier.clone())
                .app_data(receiver.clone())
                .app_data(access_data.clone())
                .configure(routes::configure)
        })
        // On SIGTERM or Ctrl-C: stop accepting, let in-flight requests finish within the grace.
        .shutdown_timeout(settings.http.shutdown_grace.as_secs().max(1))
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            access,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The customer-facing read model, for tests and future operational endpoints.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// Serves until the server is stopped (Ctrl-C or SIGTERM stop it gracefully).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
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
