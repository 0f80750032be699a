//! `POST /webhooks/bigcommerce`: authenticates a BigCommerce delivery, drops what it names
//! from the cache (an in-memory operation, finished before the answer), and acknowledges it.
//! An authentic delivery is always `200`, so BigCommerce neither retries nor disables the hook.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::header::HeaderMap;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::access::Access;
use crate::cache::changes::Change;
use crate::problem::ApiError;
use crate::webhooks::{DeliveryHeaders, Invalidation, WebhookReceiver};

/// `POST /webhooks/bigcommerce`.
pub async fn receive_bigcommerce_webhook(
    request: HttpRequest,
    body: web::Bytes,
    receiver: web::Data<WebhookReceiver>,
    access: web::Data<Access>,
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
    if let Err(reason) = receiver.authenticate(&delivery, &body, now) {
        tracing::warn!(reason = %reason, "refused a webhook delivery");
        return Err(ApiError::WebhookUnauthorized);
    }
    match receiver.accept(delivery.webhook_id, &body) {
        None => tracing::info!("ignored a duplicate webhook delivery"),
        Some(Invalidation::Order(order)) => {
            access.invalidate(Change::Order(order));
            tracing::info!(
                order_id = order.get(),
                "webhook: dropped the order, its metafields and every list holding it"
            );
        }
        Some(Invalidation::OrderMetafields(order)) => {
            access.invalidate(Change::OrderMetafields(order));
            tracing::info!(
                order_id = order.get(),
                "webhook: dropped the order's metafields"
            );
        }
        Some(Invalidation::Ignore(reason)) => {
            tracing::info!(reason, "webhook delivery acknowledged without effect");
        }
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "accepted"})))
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}
