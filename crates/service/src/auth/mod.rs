//! Who is calling: the shopper's Current Customer JWT, read from the `Authorization` header,
//! verified, and handed to handlers through the [`extractor::VerifiedCustomer`] extractor (the
//! per-customer limit builds on it, in `throttle`). Every failure becomes the same `401`; the
//! precise [`AuthError`] only goes to a debug log line. Nothing here reads anything but the
//! `Authorization` header.
//!
//! The parts, each small: [`bearer`] reads the header, [`verifier`] checks any token this
//! app's client secret signs against a claim profile and an expected store,
//! [`current_customer`] is the Current Customer profile with its [`memory`] of verified
//! tokens, and [`extractor`] turns a request into a verified customer.

pub mod bearer;
pub mod current_customer;
pub mod customer_access;
pub mod extractor;
pub mod memory;
pub mod session;
pub mod signed_payload;
pub mod verifier;

use jsonwebtoken::Algorithm;

use crate::metrics::AuthFailureReason;

/// The longest token looked at; anything larger is refused before parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Why a token was refused; only ever logged, never sent to the caller.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token in the authorization header")]
    Missing,
    #[error("the authorization header is not a single well-formed bearer token")]
    MalformedHeader,
    #[error("the token is larger than {MAX_TOKEN_BYTES} bytes")]
    TooLarge,
    #[error("the token is not a well-formed jwt")]
    Malformed,
    #[error(
        "the token's header has a crit parameter, naming extensions this service does not support"
    )]
    CriticalExtension,
    #[error("the token is signed with {0:?}, which JWT_ALGORITHMS does not accept")]
    AlgorithmNotAccepted(Algorithm),
    #[error("the token's signature does not match the client secret")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet (nbf or iat in the future)")]
    NotYetValid,
    #[error("claim {0} is missing or wrong")]
    Claim(&'static str),
    #[error("the token's store is not served here (not installed, or uninstalled)")]
    StoreNotServed,
}

impl AuthError {
    /// The reason's class, for metrics: six values, whatever the token said.
    pub fn class(&self) -> AuthFailureReason {
        match self {
            AuthError::Missing => AuthFailureReason::Missing,
            AuthError::MalformedHeader
            | AuthError::TooLarge
            | AuthError::Malformed
            | AuthError::CriticalExtension => AuthFailureReason::Malformed,
            AuthError::AlgorithmNotAccepted(_) => AuthFailureReason::Algorithm,
            AuthError::BadSignature => AuthFailureReason::Signature,
            AuthError::Expired => AuthFailureReason::Expired,
            AuthError::NotYetValid | AuthError::Claim(_) | AuthError::StoreNotServed => {
                AuthFailureReason::Claims
            }
        }
    }
}
