//! The actix extractor of a verified customer: a handler (or another extractor, such as the
//! per-customer throttle's) that asks for a [`VerifiedCustomer`] cannot run without a verified
//! Current Customer JWT. A refusal is counted, logged at debug level with its reason, and
//! answered with the one `401`.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::auth::AuthError;
use crate::auth::bearer::bearer_token;
use crate::auth::current_customer::CustomerTokenVerifier;
use crate::domain::CustomerId;
use crate::metrics::Metrics;
use crate::problem::ApiError;
use crate::request_context;

/// A customer whose token was verified for this request. Only the extractor makes one.
// A private field rather than `#[non_exhaustive]`: only this module may make one, not the
// whole crate.
#[allow(clippy::manual_non_exhaustive)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedCustomer {
    pub id: CustomerId,
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
    let Some(verifier) = request.app_data::<web::Data<CustomerTokenVerifier>>() else {
        tracing::error!("the token verifier is not registered with the app");
        return Err(ApiError::Internal);
    };
    match bearer_token(request).and_then(|token| verifier.verify(token)) {
        Ok(id) => {
            request_context::note_customer(id);
            Ok(VerifiedCustomer { id, _verified: () })
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
