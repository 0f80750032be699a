//! The OpenAPI document, embedded in the binary at build time so it always matches it.

use actix_web::HttpResponse;

/// The document served at `/openapi.yaml`.
pub const OPENAPI_YAML: &str = include_str!("../../../../openapi.yaml");

/// `GET /openapi.yaml`.
pub async fn get_openapi_document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml")
        .body(OPENAPI_YAML)
}
