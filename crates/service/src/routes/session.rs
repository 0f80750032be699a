//! `POST /v1/session` and `DELETE /v1/session`: cookie sessions (see `auth::session`). A
//! session starts from a Current Customer JWT sent as a bearer token, and is the token kept
//! by the browser in an `HttpOnly` cookie for at most its remaining lifetime; the `/v1`
//! routes then accept the cookie instead of the header.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::extractor::BearerCustomer;
use crate::auth::session;
use crate::auth::verifier::unix_now;
use crate::origins::AllowedOrigins;
use crate::problem::ApiError;

/// `POST /v1/session`: `204` and the session cookie, for a valid bearer token. A request
/// from a page (it has an `Origin`) must come from an allowed origin.
pub async fn create_session(
    customer: BearerCustomer,
    request: HttpRequest,
    origins: web::Data<AllowedOrigins>,
) -> Result<HttpResponse, ApiError> {
    // A page of one of the token's store's sites (or a configured origin), not another
    // store's.
    if let Some(origin) = request.headers().get(header::ORIGIN)
        && !origin
            .to_str()
            .is_ok_and(|origin| origins.allows_for_store(&customer.customer.store.hash, origin))
    {
        return Err(ApiError::CookieWriteRefused);
    }
    let max_age = customer.expires.saturating_sub(unix_now());
    Ok(HttpResponse::NoContent()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::SET_COOKIE,
            session::set_cookie(&customer.token, max_age),
        ))
        .finish())
}

/// `DELETE /v1/session`: `204` and a cookie that ends the session, for a request from an
/// allowed page (`Origin` and `X-Requested-With`), whether or not a session was open.
pub async fn delete_session(
    request: HttpRequest,
    origins: web::Data<AllowedOrigins>,
) -> Result<HttpResponse, ApiError> {
    if !session::write_allowed(&request, &origins, None) {
        return Err(ApiError::CookieWriteRefused);
    }
    Ok(HttpResponse::NoContent()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::SET_COOKIE, session::clear_cookie()))
        .finish())
}
