//! `GET /`: a small index of the service, so that whoever opens its address finds where to
//! go (the reference, the document, the probes) instead of a `404`.

use actix_web::HttpResponse;
use serde_json::json;

/// `GET /`.
pub async fn get_index() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "service": "order-metafields",
        "version": env!("CARGO_PKG_VERSION"),
        "links": {
            "docs": "/docs",
            "openapi": "/openapi.yaml",
            "orders": "/v1/orders",
            "client": "/client/v1/order-metafields.js",
            "health": "/healthz",
            "readiness": "/readyz"
        }
    }))
}
