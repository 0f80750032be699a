//! `POST /webhooks/bigcommerce`: authenticates a BigCommerce delivery, drops what it names
//! from the cache (an in-memory operation, finished before the answer), and acknowledges it.
//! An authentic delivery is always `200`, so BigCommerce neither retries nor disables the hook.
//! The headers are judged before any of the body is read: a delivery that carries neither a
//! plausible signature set nor the shared secret costs no body read at all, and the body of
//! one that does must arrive within `HTTP_BODY_TIMEOUT` and 16 KiB.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;

use crate::access::Access;
use crate::cache::changes::Change;
use crate::domain::StoreKey;
use crate::http_limits::is_body_timeout;
use crate::problem::ApiError;
use crate::request_context;
use crate::sites::SitesRefresh;
use crate::stores::StoreRegistry;
use crate::webhooks::{
    Delivery, DeliveryHeaders, Invalidation, MAX_BODY_BYTES, WebhookAuthError, WebhookReceiver,
};

/// `POST /webhooks/bigcommerce`.
pub async fn receive_bigcommerce_webhook(
    request: HttpRequest,
    payload: web::Payload,
    receiver: web::Data<WebhookReceiver>,
    access: web::Data<Access>,
    stores: web::Data<StoreRegistry>,
    sites: Option<web::Data<SitesRefresh>>,
) -> Result<HttpResponse, ApiError> {
    let headers = request.headers();
    let delivery = DeliveryHeaders {
        webhook_id: text(headers, "webhook-id"),
        webhook_timestamp: text(headers, "webhook-timestamp"),
        webhook_signature: text(headers, "webhook-signature"),
        shared_secret: headers
            .get("x-webhook-secret")
            .map(|value| value.as_bytes()),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    // Refused from the headers: the body is never read, and actix closes the connection
    // after the answer rather than wait for it.
    let check = receiver.check_headers(&delivery, now).map_err(refused)?;
    let body = read_body(headers, payload).await?;
    receiver.verify_body(&check, &body).map_err(refused)?;
    match receiver.accept(delivery.webhook_id, &body) {
        None => tracing::info!("ignored a duplicate webhook delivery"),
        Some(Delivery {
            store: None,
            invalidation,
        }) => {
            tracing::info!(
                ?invalidation,
                "webhook delivery names no store (producer); acknowledged without effect"
            );
        }
        Some(Delivery {
            store: Some(hash),
            invalidation,
        }) => {
            request_context::note_store(hash.clone());
            match stores.get(hash.as_str()) {
                Some(store) if invalidation == Invalidation::Channels => {
                    store.scope.figures.note_webhook(unix_now());
                    match &sites {
                        Some(sites) => {
                            sites.refresh(hash);
                            tracing::info!("webhook: the store's sites will be read again");
                        }
                        None => tracing::info!(
                            "webhook: a channel changed; sites are only read in app mode"
                        ),
                    }
                }
                Some(store) => {
                    store.scope.figures.note_webhook(unix_now());
                    // A mirror reads the order again (whichever replica syncs the store);
                    // noted before the webhook is answered, so BigCommerce retries a
                    // delivery the database could not take.
                    if let (Some(mirror), Some(order)) = (store.mirror(), invalidation.order())
                        && let Err(error) = mirror.order_changed(order).await
                    {
                        tracing::error!(error = %error, "cannot note the webhook's order for the mirror");
                        // Its retry must not be taken for a duplicate.
                        receiver.forget(delivery.webhook_id, &body);
                        return Err(ApiError::DatabaseUnavailable);
                    }
                    apply(&access, store.scope.key, invalidation);
                }
                None => tracing::info!(
                    "webhook delivery for a store this service does not serve; acknowledged without effect"
                ),
            }
        }
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "accepted"})))
}

/// Drops what the delivery names from the store's cache.
fn apply(access: &Access, store: StoreKey, invalidation: Invalidation) {
    match invalidation {
        Invalidation::Order(order) => {
            access.invalidate(Change::Order(store, order));
            tracing::info!(
                order_id = order.get(),
                "webhook: dropped the order, its metafields and every list holding it"
            );
        }
        Invalidation::OrderMetafields(order) => {
            access.invalidate(Change::OrderMetafields(store, order));
            tracing::info!(
                order_id = order.get(),
                "webhook: dropped the order's metafields"
            );
        }
        Invalidation::Ignore(reason) => {
            tracing::info!(reason, "webhook delivery acknowledged without effect");
        }
        Invalidation::Channels => {}
    }
}

fn refused(reason: WebhookAuthError) -> ApiError {
    tracing::warn!(reason = %reason, "refused a webhook delivery");
    ApiError::WebhookUnauthorized
}

/// The whole body, at most [`MAX_BODY_BYTES`] (a larger declared length is refused before
/// reading); its deadline is `http_limits::body_deadline`'s.
async fn read_body(
    headers: &HeaderMap,
    mut payload: web::Payload,
) -> Result<web::BytesMut, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(body_error)?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn body_error(error: PayloadError) -> ApiError {
    if is_body_timeout(&error) {
        tracing::warn!(
            "refused a webhook delivery whose body did not arrive within HTTP_BODY_TIMEOUT"
        );
        return ApiError::RequestTimeout;
    }
    match error {
        PayloadError::Overflow => ApiError::PayloadTooLarge,
        error => {
            tracing::info!(error = %error, "a webhook delivery's body could not be read");
            ApiError::BadRequest {
                detail: "The request body could not be read.".to_owned(),
            }
        }
    }
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
