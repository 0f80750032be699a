//! Every path of the HTTP API, registered in one readable function. Handlers extract (the
//! authenticated customer first), ask `access` for what the customer may see, and map it
//! to a response; statuses for errors come from `problem`.

mod bigcommerce;
mod channels;
mod client;
mod docs;
mod health;
mod index;
mod merchant;
mod metafields;
mod metrics;
mod openapi;
mod orders;
mod session;
mod webhooks;
mod writes;

use std::time::Duration;

use actix_web::error::QueryPayloadError;
use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, web};
use serde::Serialize;

use crate::problem::ApiError;

/// Registers all routes but `/metrics` (see [`configure_metrics`]); unknown paths answer a
/// `404` problem, other methods a `405`.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        // A malformed path or query parameter is a `400` problem naming it, never actix's
        // own answer.
        .app_data(web::PathConfig::default().error_handler(|_, _| {
            ApiError::BadRequest {
                detail: orders::BAD_ORDER_ID.to_owned(),
            }
            .into()
        }))
        .app_data(web::QueryConfig::default().error_handler(|error, _| {
            let detail = match &error {
                QueryPayloadError::Deserialize(error) => {
                    orders::query_error_detail(&error.to_string())
                }
                _ => orders::query_error_detail(""),
            };
            ApiError::BadRequest { detail }.into()
        }))
        .service(
            web::resource("/v1/session")
                .route(web::post().to(session::create_session))
                .route(web::delete().to(session::delete_session))
                .default_service(web::to(post_or_delete_only)),
        )
        .service(
            web::resource("/v1/orders")
                .route(web::get().to(orders::list_orders))
                .route(web::head().to(orders::list_orders))
                .default_service(web::to(get_only)),
        )
        // Before `/v1/orders/{order_id}`: the patterns never overlap, and actix tries them
        // in order, so the busiest page (metafields) is matched with one regex, not two.
        .service(
            web::resource("/v1/orders/{order_id}/metafields")
                .route(web::get().to(metafields::list_order_metafields))
                .route(web::head().to(metafields::list_order_metafields))
                .default_service(web::to(get_only)),
        )
        .service(
            web::resource("/v1/orders/{order_id}/metafields/{namespace}/{key}")
                .app_data(web::PayloadConfig::new(writes::BODY_LIMIT))
                .route(web::put().to(writes::put_order_metafield))
                .default_service(web::to(put_only)),
        )
        .service(
            web::resource("/v1/orders/{order_id}")
                .route(web::get().to(orders::get_order))
                .route(web::head().to(orders::get_order))
                .default_service(web::to(get_only)),
        )
        .service(
            web::resource("/healthz")
                .route(web::get().to(health::get_health))
                .route(web::head().to(health::get_health))
                .default_service(web::to(get_only)),
        )
        .service(
            web::resource("/readyz")
                .route(web::get().to(health::get_readiness))
                .route(web::head().to(health::get_readiness))
                .default_service(web::to(get_only)),
        )
        .service(
            web::resource("/webhooks/bigcommerce")
                .route(web::post().to(webhooks::receive_bigcommerce_webhook))
                .default_service(web::to(post_only)),
        )
        .service(
            web::resource("/client/v1/order-metafields.js")
                .route(web::get().to(client::get_client_module))
                .route(web::head().to(client::get_client_module))
                .default_service(web::to(get_only)),
        )
        .service(
            web::resource("/")
                .route(web::get().to(index::get_index))
                .route(web::head().to(index::get_index))
                .default_service(web::to(get_only)),
        )
        .service(
            web::resource("/docs")
                .route(web::get().to(docs::get_docs))
                .route(web::head().to(docs::get_docs))
                .default_service(web::to(get_only)),
        )
        .service(
            web::resource("/docs/redoc.standalone.js")
                .route(web::get().to(docs::get_docs_script))
                .route(web::head().to(docs::get_docs_script))
                .default_service(web::to(get_only)),
        )
        .service(
            web::resource("/openapi.yaml")
                .route(web::get().to(openapi::get_openapi_document))
                .route(web::head().to(openapi::get_openapi_document))
                .default_service(web::to(get_only)),
        )
        .default_service(web::to(not_found));
}

pub use bigcommerce::FrameAncestors;
pub use merchant::PageFacts;

/// Registers the app lifecycle callbacks (app mode only; in single-store mode they are
/// `404`s like any unknown path). Before [`configure`], whose default service answers
/// unknown paths.
pub fn configure_app(config: &mut web::ServiceConfig) {
    // One scope: a request for the API is told apart from all of these by one prefix, not
    // by trying each of their patterns (they were 6 % of a metafields request's instructions).
    config.service(
        web::scope("/bigcommerce")
            .service(
                web::resource("/auth")
                    .route(web::get().to(bigcommerce::install_app))
                    .default_service(web::to(get_only)),
            )
            .service(
                web::resource("/load")
                    .route(web::get().to(bigcommerce::load_app))
                    .default_service(web::to(get_only)),
            )
            .service(
                web::resource("/stores/{store}")
                    .route(web::get().to(merchant::get_merchant_page))
                    .default_service(web::to(get_only)),
            )
            .service(
                web::resource("/stores/{store}/fields")
                    .app_data(web::PayloadConfig::new(merchant::FORM_LIMIT))
                    .route(web::post().to(merchant::save_field_definition))
                    .default_service(web::to(post_only)),
            )
            .service(
                web::resource("/stores/{store}/fields/delete")
                    .app_data(web::PayloadConfig::new(merchant::FORM_LIMIT))
                    .route(web::post().to(merchant::delete_field_definition))
                    .default_service(web::to(post_only)),
            )
            .service(
                web::resource("/stores/{store}/script")
                    .app_data(web::PayloadConfig::new(merchant::FORM_LIMIT))
                    .route(web::post().to(merchant::switch_storefront_script))
                    .default_service(web::to(post_only)),
            )
            .service(
                web::resource("/stores/{store}/channels")
                    .app_data(web::PayloadConfig::new(merchant::FORM_LIMIT))
                    .route(web::post().to(merchant::switch_channel_orders))
                    .default_service(web::to(post_only)),
            )
            .service(
                web::resource("/stores/{store}/preview")
                    .app_data(web::PayloadConfig::new(merchant::FORM_LIMIT))
                    .route(web::post().to(merchant::preview_as_customer))
                    .default_service(web::to(post_only)),
            )
            .service(
                web::resource("/uninstall")
                    .route(web::get().to(bigcommerce::uninstall_app))
                    .default_service(web::to(get_only)),
            )
            .service(
                web::resource("/remove_user")
                    .route(web::get().to(bigcommerce::remove_app_user))
                    .default_service(web::to(get_only)),
            )
            .service(
                web::resource("/app.css")
                    .route(web::get().to(bigcommerce::get_app_stylesheet))
                    .route(web::head().to(bigcommerce::get_app_stylesheet))
                    .default_service(web::to(get_only)),
            ),
    );
}

/// Registers `/metrics`, on the main address or on the separate metrics address.
pub fn configure_metrics(config: &mut web::ServiceConfig) {
    config.service(
        web::resource("/metrics")
            .route(web::get().to(metrics::get_metrics))
            .route(web::head().to(metrics::get_metrics))
            .default_service(web::to(get_only)),
    );
}

/// The whole of the separate metrics address: `/metrics`, and a `404` problem elsewhere.
pub fn configure_metrics_only(config: &mut web::ServiceConfig) {
    configure_metrics(config);
    config.default_service(web::to(not_found));
}

/// `Cache-Control: private, no-store`, for every response that carries customer data.
fn private_no_store() -> (header::HeaderName, header::HeaderValue) {
    // A static value: formatting a `CacheControl` list on every response showed in profiles.
    (
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-store"),
    )
}

/// A `200` carrying customer data; a value served stale because BigCommerce failed is
/// marked with its `Age` in seconds (RFC 9111 section 5.1).
fn customer_data(stale_age: Option<Duration>) -> HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response.insert_header(private_no_store());
    if let Some(age) = stale_age {
        response.insert_header((header::AGE, age.as_secs()));
    }
    response
}

/// `{"data": <open><data><close>, "meta": <meta>}`: every customer-data body the handlers
/// frame is framed here, around JSON rendered earlier (`data` is already valid JSON between
/// `open` and `close`). The metafields body is framed the same way by `access` when it is
/// loaded, since it is cached whole.
fn data_envelope(
    open: &[u8],
    data: &[u8],
    close: &[u8],
    meta: Option<&impl Serialize>,
) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::with_capacity(data.len() + 192);
    body.extend_from_slice(b"{\"data\":");
    body.extend_from_slice(open);
    body.extend_from_slice(data);
    body.extend_from_slice(close);
    if let Some(meta) = meta {
        body.extend_from_slice(b",\"meta\":");
        serde_json::to_writer(&mut body, meta).map_err(|_| ApiError::Internal)?;
    }
    body.push(b'}');
    Ok(body)
}

/// `HEAD` is served wherever `GET` is (RFC 9110 section 9.1), without the body.
async fn get_only() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed { allow: "GET, HEAD" })
}

async fn put_only() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed { allow: "PUT" })
}

async fn post_only() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed { allow: "POST" })
}

async fn post_or_delete_only() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed {
        allow: "POST, DELETE",
    })
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
