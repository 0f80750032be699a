//! The actix extractor of a verified customer: a handler (or another extractor, such as the
//! per-customer throttle's) that asks for a [`VerifiedCustomer`] cannot run without a verified
//! Current Customer JWT of a store this service serves now. A refusal is counted, logged at
//! debug level with its reason, and answered with the one `401`: a token of a store that is
//! not installed (or no longer) looks like any other refused token.
//!
//! The token comes from the `Authorization` header or, when that header is absent, from the
//! session cookie (`auth::session`); a write made with the cookie must also prove its page
//! (`403` otherwise). [`BearerCustomer`] takes the header only (`POST /v1/session`).

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::Arc;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::future::Either;

use crate::auth::AuthError;
use crate::auth::bearer::bearer_token;
use crate::auth::current_customer::CustomerTokenVerifier;
use crate::auth::customer_access::{CustomerAccessError, CustomerAccessTokens};
use crate::auth::memory::VerifiedCustomerToken;
use crate::auth::session;
use crate::domain::CustomerId;
use crate::management::storefront::{
    CHANNEL_ID_HEADER, CUSTOMER_ACCESS_TOKEN_HEADER, DEFAULT_CHANNEL_ID,
};
use crate::metrics::{AuthFailureReason, Metrics};
use crate::origins::AllowedOrigins;
use crate::problem::ApiError;
use crate::request_context;
use crate::stores::{Store, StoreRegistry};

/// A customer whose token was verified for this request, and the store it is of. Only the
/// extractor makes one.
// A private field rather than `#[non_exhaustive]`: only this module may make one, not the
// whole crate.
#[allow(clippy::manual_non_exhaustive)]
#[derive(Clone)]
pub struct VerifiedCustomer {
    pub id: CustomerId,
    pub store: Arc<Store>,
    /// The channel a customer access token was checked on (`X-Bc-Channel-Id`); `None` for
    /// a Current Customer JWT, which names no channel.
    pub channel: Option<u64>,
    _verified: (),
}

/// The header naming the store of a customer access token.
pub const STORE_HASH_HEADER: &str = "x-bc-store-hash";

/// The largest channel id accepted: 2^31 - 1, like customer ids.
const MAX_CHANNEL_ID: u64 = (1 << 31) - 1;

/// What an extractor of a customer returns: ready at once for a JWT (the hot path allocates
/// nothing), a boxed future for a customer access token, which may need a GraphQL call.
pub type CustomerFuture<T> =
    Either<Ready<Result<T, ApiError>>, Pin<Box<dyn Future<Output = Result<T, ApiError>>>>>;

impl FromRequest for VerifiedCustomer {
    type Error = ApiError;
    type Future = CustomerFuture<Self>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        if !request.headers().contains_key(CUSTOMER_ACCESS_TOKEN_HEADER) {
            let verified =
                verified_customer(request, Sources::HeaderOrCookie).map(|(customer, _)| customer);
            return Either::Left(ready(verified));
        }
        let request = request.clone();
        Either::Right(Box::pin(
            async move { verified_by_access_token(&request).await },
        ))
    }
}

/// A customer access token with its store (`X-Bc-Store-Hash`), checked through
/// `customer_access`. Server to server only: with an `Origin` header it is a `400`, whatever
/// the token.
async fn verified_by_access_token(request: &HttpRequest) -> Result<VerifiedCustomer, ApiError> {
    let headers = request.headers();
    if headers.contains_key(actix_web::http::header::ORIGIN) {
        tracing::debug!("refused a customer access token sent with an origin header");
        return Err(ApiError::BadRequest {
            detail: "A customer access token is for servers only: a request with X-Bc-Customer-Access-Token must not carry an Origin header.".to_owned(),
        });
    }
    let (Some(tokens), Some(stores)) = (
        request.app_data::<web::Data<CustomerAccessTokens>>(),
        request.app_data::<web::Data<StoreRegistry>>(),
    ) else {
        tracing::error!("the customer access tokens or the store registry are not registered");
        return Err(ApiError::Internal);
    };
    let refuse = |reason: &str, class: AuthFailureReason| {
        tracing::debug!(reason, "refused the request's customer access token");
        if let Some(metrics) = request.app_data::<web::Data<Metrics>>() {
            metrics.auth.failed(class);
        }
        ApiError::Unauthorized { token_sent: true }
    };
    let single = |name: &str| {
        let mut values = headers.get_all(name);
        match (values.next(), values.next()) {
            (Some(value), None) => value.to_str().ok(),
            _ => None,
        }
    };
    // The channel whose storefront issued the token (Catalyst's BIGCOMMERCE_CHANNEL_ID).
    let channel = match headers.get(CHANNEL_ID_HEADER) {
        None => DEFAULT_CHANNEL_ID,
        Some(_) => single(CHANNEL_ID_HEADER)
            .and_then(|text| text.parse::<u64>().ok())
            .filter(|channel| (1..=MAX_CHANNEL_ID).contains(channel))
            .ok_or_else(|| ApiError::BadRequest {
                detail: "X-Bc-Channel-Id must be a channel id, a whole number from 1.".to_owned(),
            })?,
    };
    let Some(token) = single(CUSTOMER_ACCESS_TOKEN_HEADER) else {
        return Err(refuse("malformed header", AuthFailureReason::Malformed));
    };
    let Some(store) = single(STORE_HASH_HEADER).and_then(|hash| stores.get(hash)) else {
        return Err(refuse(
            "no store hash, or a store not served",
            AuthFailureReason::Claims,
        ));
    };
    // A channel the store's sites do not name costs no private token and no check: each
    // new channel would cost the store a Management API call. (Before the sites are read,
    // and in single-store mode, which never reads them, any channel is tried.)
    let unknown_channel = channel != DEFAULT_CHANNEL_ID
        && request
            .app_data::<web::Data<AllowedOrigins>>()
            .and_then(|origins| origins.has_channel(&store.hash, channel))
            == Some(false);
    if unknown_channel {
        return Err(ApiError::BadRequest {
            detail: "X-Bc-Channel-Id names no channel with a site in this store.".to_owned(),
        });
    }
    match tokens.customer(&store, channel, token).await {
        Ok(id) => {
            request_context::note_customer(store.hash.clone(), id);
            Ok(VerifiedCustomer {
                id,
                store,
                channel: Some(channel),
                _verified: (),
            })
        }
        Err(CustomerAccessError::Refused(reason)) => {
            Err(refuse(reason, AuthFailureReason::Expired))
        }
        Err(error) => Err(ApiError::from(&error)),
    }
}

/// A customer whose Current Customer JWT came in the `Authorization` header (never the
/// cookie) and was verified, with the token and its `exp`: what a session is made of.
pub struct BearerCustomer {
    pub customer: VerifiedCustomer,
    /// The token, to put in the session cookie.
    pub token: String,
    /// Its `exp` (Unix seconds).
    pub expires: u64,
}

impl FromRequest for BearerCustomer {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(
            verified_customer(request, Sources::Header).and_then(|(customer, token)| {
                let (token, expires) = token.ok_or(ApiError::Internal)?;
                Ok(BearerCustomer {
                    customer,
                    token,
                    expires,
                })
            }),
        )
    }
}

/// Where a token may come from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sources {
    Header,
    HeaderOrCookie,
}

/// The request's token: the `Authorization` header's, or (when there is no such header and
/// `sources` allows it) the session cookie's, with whether it came from the cookie.
fn token_of(request: &HttpRequest, sources: Sources) -> Result<(&str, bool), AuthError> {
    match bearer_token(request) {
        Err(AuthError::Missing) if sources == Sources::HeaderOrCookie => {
            match session::session_token(request)? {
                Some(token) => Ok((token, true)),
                None => Err(AuthError::Missing),
            }
        }
        other => other.map(|token| (token, false)),
    }
}

/// The verified customer, and (for a header token) the token and its `exp`.
#[allow(clippy::type_complexity)]
fn verified_customer(
    request: &HttpRequest,
    sources: Sources,
) -> Result<(VerifiedCustomer, Option<(String, u64)>), ApiError> {
    let (Some(verifier), Some(stores)) = (
        request.app_data::<web::Data<CustomerTokenVerifier>>(),
        request.app_data::<web::Data<StoreRegistry>>(),
    ) else {
        tracing::error!("the token verifier or the store registry is not registered with the app");
        return Err(ApiError::Internal);
    };
    let mut from_cookie = false;
    let verified = token_of(request, sources).and_then(|(token, cookie)| {
        from_cookie = cookie;
        let verified: VerifiedCustomerToken = verifier.verify(token)?;
        // Looked up on every request, remembered token or not: an uninstall refuses the
        // store's tokens from the very next request.
        let store = stores
            .get(verified.store.as_str())
            .ok_or(AuthError::StoreNotServed)?;
        let kept = (!cookie).then(|| (token.to_owned(), verified.expires));
        Ok((store, verified.customer, kept))
    });
    match verified {
        Ok((store, id, kept)) => {
            if from_cookie && !session::is_safe(request.method()) {
                let proven =
                    request
                        .app_data::<web::Data<AllowedOrigins>>()
                        .is_some_and(|origins| {
                            session::write_allowed(request, origins, Some(&store.hash))
                        });
                if !proven {
                    tracing::debug!(
                        "refused a write with the session cookie from an unproven page"
                    );
                    return Err(ApiError::CookieWriteRefused);
                }
            }
            request_context::note_customer(store.hash.clone(), id);
            Ok((
                VerifiedCustomer {
                    id,
                    store,
                    channel: None,
                    _verified: (),
                },
                kept,
            ))
        }
        Err(reason) => {
            tracing::debug!(reason = %reason, "refused the request's credentials");
            if let Some(metrics) = request.app_data::<web::Data<Metrics>>() {
                metrics.auth.failed(reason.class());
            }
            Err(ApiError::Unauthorized {
                token_sent: reason != AuthError::Missing,
            })
        }
    }
}
