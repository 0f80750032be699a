//! The actix extractor of a verified customer: a handler (or another extractor, such as the
//! per-customer throttle's) that asks for a [`VerifiedCustomer`] cannot run without a verified
//! Current Customer JWT of a store this service serves now. A refusal is counted, logged at
//! debug level with its reason, and answered with the one `401`: a token of a store that is
//! not installed (or no longer) looks like any other refused token.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::auth::AuthError;
use crate::auth::bearer::bearer_token;
use crate::auth::current_customer::CustomerTokenVerifier;
use crate::domain::CustomerId;
use crate::metrics::Metrics;
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
    _verified: (),
}

impl FromRequest for VerifiedCustomer {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(verified_customer(request))
    }
}

fn verified_customer(request: &HttpRequest) -> Result<VerifiedCustomer, ApiError> {
    let (Some(verifier), Some(stores)) = (
        request.app_data::<web::Data<CustomerTokenVerifier>>(),
        request.app_data::<web::Data<StoreRegistry>>(),
    ) else {
        tracing::error!("the token verifier or the store registry is not registered with the app");
        return Err(ApiError::Internal);
    };
    let verified = bearer_token(request)
        .and_then(|token| verifier.verify(token))
        .and_then(|verified| {
            // Looked up on every request, remembered token or not: an uninstall refuses the
            // store's tokens from the very next request.
            stores
                .get(verified.store.as_str())
                .map(|store| (store, verified.customer))
                .ok_or(AuthError::StoreNotServed)
        });
    match verified {
        Ok((store, id)) => {
            request_context::note_customer(store.hash.clone(), id);
            Ok(VerifiedCustomer {
                id,
                store,
                _verified: (),
            })
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
