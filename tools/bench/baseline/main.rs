//! The hot-path baseline: a bare actix-web endpoint that verifies the same HS256 Current
//! Customer JWT with jsonwebtoken and answers a fixed body. `tools/bench/run` serves it beside the
//! service, pinned to the same core, so the ratio service / baseline says what the service's
//! own work (routing, middleware, cache lookups, serialisation) costs on top of the minimum.
//!
//! It is built from this crate, so it links the very same actix-web and jsonwebtoken versions
//! with the same release profile. Settings: `BC_CLIENT_ID`, `BC_CLIENT_SECRET`,
//! `BC_STORE_HASH` and `LISTEN_ADDR`, as the service reads them.

use std::net::SocketAddr;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// What the endpoint checks, built once.
struct Verifier {
    key: DecodingKey,
    validation: Validation,
    store_hash: String,
}

#[derive(Deserialize)]
struct Claims {
    customer: Customer,
    store_hash: String,
    operation: String,
}

#[derive(Deserialize)]
struct Customer {
    id: u64,
}

const BODY: &[u8] = br#"{"data":[]}"#;

async fn fixed(request: HttpRequest, verifier: web::Data<Verifier>) -> HttpResponse {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(token) = token else {
        return HttpResponse::Unauthorized().finish();
    };
    match jsonwebtoken::decode::<Claims>(token, &verifier.key, &verifier.validation) {
        Ok(data)
            if data.claims.customer.id > 0
                && data.claims.operation == "current_customer"
                && data.claims.store_hash == verifier.store_hash =>
        {
            HttpResponse::Ok()
                .insert_header((
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ))
                .body(BODY)
        }
        _ => HttpResponse::Unauthorized().finish(),
    }
}

fn setting(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("bench-baseline needs {name} in the environment"))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let client_id = setting("BC_CLIENT_ID");
    let store_hash = setting("BC_STORE_HASH");
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.set_issuer(&["bc/apps"]);
    validation.set_audience(&[client_id.as_str()]);
    validation.sub = Some(store_hash.clone());
    let verifier = web::Data::new(Verifier {
        key: DecodingKey::from_secret(setting("BC_CLIENT_SECRET").as_bytes()),
        validation,
        store_hash,
    });
    let listen: SocketAddr = setting("LISTEN_ADDR")
        .parse()
        .expect("LISTEN_ADDR must be an address and port such as 127.0.0.1:8090");
    // The worker count is left at actix's default, as the service leaves it: one worker per
    // core the process may run on, so `taskset -c 0` gives both exactly one.
    HttpServer::new(move || {
        App::new()
            .app_data(verifier.clone())
            .default_service(web::get().to(fixed))
    })
    .bind(listen)?
    .run()
    .await
}
