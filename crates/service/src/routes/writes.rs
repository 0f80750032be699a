//! `PUT /v1/orders/{order_id}/metafields/{namespace}/{key}`: a shopper sets the value of one
//! of their order's editable fields. The decisions are `shopper_writes`'; this maps the
//! request to them and the result to a response (`200` with the field as the reads show it
//! and its `ETag`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Deserializer};

use crate::access::Access;
use crate::domain::OrderId;
use crate::problem::ApiError;
use crate::routes::channels::shown_channel;
use crate::routes::customer_data;
use crate::shopper_writes::{ShopperWrites, WriteRequest};
use crate::throttle::ThrottledCustomer;

/// The largest body: a value of 65,535 characters, each escaped in JSON as a surrogate
/// pair (`\uXXXX\uXXXX`, 12 bytes), and room for the frame.
pub const BODY_LIMIT: usize = 65_535 * 12 + 1024;

/// The path: the order, and the field's namespace and key (percent-decoded).
#[derive(Debug, Deserialize)]
pub struct FieldPath {
    #[serde(deserialize_with = "order_id")]
    order_id: OrderId,
    namespace: String,
    key: String,
}

/// `PUT /v1/orders/{order_id}/metafields/{namespace}/{key}` with `{"value": "…"}`.
pub async fn put_order_metafield(
    customer: ThrottledCustomer,
    path: web::Path<FieldPath>,
    request: HttpRequest,
    body: web::Bytes,
    access: web::Data<Access>,
    writes: web::Data<ShopperWrites>,
) -> Result<HttpResponse, ApiError> {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(&body) else {
        return Err(ApiError::BadRequest {
            detail: "The body must be a JSON object: {\"value\": \"…\"}.".to_owned(),
        });
    };
    let if_match = request
        .headers()
        .get(header::IF_MATCH)
        // A header that is not visible ASCII names no ETag of ours: it never matches.
        .map(|value| value.to_str().unwrap_or(""));
    let write = WriteRequest {
        order: path.order_id,
        namespace: &path.namespace,
        key: &path.key,
        value: object.get("value").and_then(serde_json::Value::as_str),
        if_match,
        channel: shown_channel(&request, &customer),
    };
    let written = writes
        .write(&access, &customer.store, customer.id, &write)
        .await?;
    Ok(customer_data(None)
        .insert_header((header::ETAG, written.etag))
        .content_type("application/json")
        .body(written.body))
}

fn order_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OrderId, D::Error> {
    let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
    OrderId::parse(&text)
        .ok_or_else(|| serde::de::Error::custom(crate::routes::orders::BAD_ORDER_ID))
}
