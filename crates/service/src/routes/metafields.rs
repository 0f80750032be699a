//! `GET /v1/orders/{order_id}/metafields`: the storefront-visible metafields of one of the
//! verified customer's orders, served from the pre-rendered cached body (of an order on the
//! request's channel, when the store's channel-orders setting is on).

use actix_web::{HttpRequest, HttpResponse, web};

use crate::access::Access;
use crate::problem::ApiError;
use crate::routes::channels::{ensure_shown, shown_channel};
use crate::routes::customer_data;
use crate::routes::orders::OrderPath;
use crate::throttle::ThrottledCustomer;

/// `GET /v1/orders/{order_id}/metafields`.
pub async fn list_order_metafields(
    request: HttpRequest,
    customer: ThrottledCustomer,
    path: web::Path<OrderPath>,
    access: web::Data<Access>,
) -> Result<HttpResponse, ApiError> {
    let channel = shown_channel(&request, &customer);
    ensure_shown(&access, &customer, path.order_id, channel).await?;
    // The body was rendered, `{"data": [...]}` included, when the metafields were loaded.
    let metafields = access
        .metafields(&customer.store.scope, customer.id, path.order_id)
        .await?;
    Ok(customer_data(metafields.stale_age())
        .content_type("application/json")
        .body(metafields.value().body.clone()))
}
