//! The store's channel-orders setting applied to one request: with it on, a shopper sees
//! only the orders of the storefront (channel) the request comes from, and any other order
//! answers the same `404` as an order that is not theirs. The channel is the one a customer
//! access token was checked on (`X-Bc-Channel-Id`), else the channel whose site the
//! browser's `Origin` is. A request that names no channel (a server with a Current Customer
//! JWT, an origin that is no site of the store) sees all of the customer's orders: the
//! setting chooses what a storefront shows; every order is the customer's own either way.

use actix_web::http::header;
use actix_web::{HttpRequest, web};

use crate::access::Access;
use crate::domain::OrderId;
use crate::origins::AllowedOrigins;
use crate::problem::ApiError;
use crate::throttle::ThrottledCustomer;

/// The channel whose orders alone this request is shown, or `None` for all of them.
pub fn shown_channel(request: &HttpRequest, customer: &ThrottledCustomer) -> Option<u64> {
    if !customer.store.channel_orders() {
        return None;
    }
    customer.channel.or_else(|| {
        let origin = request.headers().get(header::ORIGIN)?.to_str().ok()?;
        request
            .app_data::<web::Data<AllowedOrigins>>()?
            .channel_of(&customer.store.hash, origin)
    })
}

/// `Ok` when the order may be shown on `channel` (or no channel is asked for); the reads'
/// `404` otherwise. Ownership is checked here too, from the customer's cached list.
pub async fn ensure_shown(
    access: &Access,
    customer: &ThrottledCustomer,
    order: OrderId,
    channel: Option<u64>,
) -> Result<(), ApiError> {
    let Some(channel) = channel else {
        return Ok(());
    };
    let owned = access
        .order(&customer.store.scope, customer.id, order)
        .await?;
    if owned.channel_id == channel {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}
