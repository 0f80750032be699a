//! `GET /v1/orders/{order_id}/metafields`: the storefront-visible metafields of one of the
//! verified customer's orders, served from the pre-rendered cached body.

use actix_web::{HttpResponse, web};

use crate::access::Access;
use crate::problem::ApiError;
use crate::routes::customer_data;
use crate::routes::orders::OrderPath;
use crate::throttle::ThrottledCustomer;

/// `GET /v1/orders/{order_id}/metafields`.
pub async fn list_order_metafields(
    customer: ThrottledCustomer,
    path: web::Path<OrderPath>,
    access: web::Data<Access>,
) -> Result<HttpResponse, ApiError> {
    // The body was rendered, `{"data": [...]}` included, when the metafields were loaded.
    let metafields = access
        .metafields(&customer.store.scope, customer.id, path.order_id)
        .await?;
    Ok(customer_data(metafields.stale_age())
        .content_type("application/json")
        .body(metafields.value().body.clone()))
}
