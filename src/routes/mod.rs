//! Every path of the HTTP API, registered in one readable function. Handlers extract (the
//! authenticated customer first), ask `access` for what the customer may see, and map it
//! to a response; statuses for errors come from `problem`.

mod health;
mod metafields;
mod openapi;
mod orders;

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};

use crate::problem::ApiError;

/// Registers all routes; unknown paths answer a `404` problem, other methods a `405`.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            web::resource("/v1/orders")
                .route(web::get().to(orders::list_orders))
                .default_service(web::to(get_only)),
        )
        .service(
            web::resource("/v1/orders/{order_id}")
                .route(web::get().to(orders::get_order))
                .default_service(web::to(get_only)),
        )
        .service(
            web::resource("/v1/orders/{order_id}/metafields")
                .route(web::get().to(metafields::list_order_metafields))
                .default_service(web::to(get_only)),
        )
        .service(
            web::resource("/healthz")
                .route(web::get().to(health::get_health))
                .default_service(web::to(get_only)),
        )
        .service(
            web::resource("/openapi.yaml")
                .route(web::get().to(openapi::get_openapi_document))
                .default_service(web::to(get_only)),
        )
        .default_service(web::to(not_found));
}

/// `Cache-Control: private, no-store`, for every response that carries customer data.
fn private_no_store() -> CacheControl {
    CacheControl(vec![CacheDirective::Private, CacheDirective::NoStore])
}

async fn get_only() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed { allow: "GET" })
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
