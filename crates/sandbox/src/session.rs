//! The storefront's shopper sessions: what the storefront's pages share (the store, the app that
//! mints tokens, the sessions, the service the account pages call) and who is signed in. Sessions
//! live in memory only, keyed by a random cookie value; nothing here renders a page.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError, RwLock};

use actix_web::HttpRequest;
use actix_web::http::header::COOKIE;
use jsonwebtoken::Algorithm;
use rand::RngExt;
use url::Url;

use crate::store::SandboxStore;

/// The storefront's session cookie; BigCommerce storefronts use the same name.
pub(crate) const SESSION_COOKIE: &str = "SHOP_SESSION_TOKEN";

/// What the storefront routes share.
pub(crate) struct StorefrontState {
    pub store: SandboxStore,
    pub client_id: String,
    pub client_secret: String,
    pub algorithm: Algorithm,
    /// Session id → customer id.
    pub sessions: Mutex<HashMap<String, u64>>,
    /// Where the account pages load the client from and send its calls; none, no client.
    pub service_url: RwLock<Option<Url>>,
}

/// The signed-in shopper of a request.
pub(crate) struct Shopper {
    pub id: u64,
    pub email: String,
    pub name: String,
    pub group_id: String,
}

impl StorefrontState {
    /// The shopper whose session cookie the request carries, if any.
    pub(crate) fn signed_in(&self, request: &HttpRequest) -> Option<Shopper> {
        let session_id = session_cookie(request)?;
        let customer_id = *self
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&session_id)?;
        self.store.with_state(|state| {
            state.customers.get(&customer_id).map(|customer| Shopper {
                id: customer.id,
                email: customer.email.clone(),
                name: format!("{} {}", customer.first_name, customer.last_name),
                group_id: customer.group_id.clone(),
            })
        })
    }

    /// Opens a session for `customer_id`; returns its cookie value.
    pub(crate) fn start_session(&self, customer_id: u64) -> String {
        let session_id = new_session_id();
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(session_id.clone(), customer_id);
        session_id
    }

    /// Ends the session the request's cookie names, if any.
    pub(crate) fn end_session(&self, request: &HttpRequest) {
        if let Some(session_id) = session_cookie(request) {
            self.sessions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&session_id);
        }
    }

    /// The service's URL, once the sandbox knows it.
    pub(crate) fn service_url(&self) -> Option<Url> {
        self.service_url
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn session_cookie(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get_all(COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn new_session_id() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    bytes
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_long_and_distinct() {
        let first = new_session_id();
        let second = new_session_id();

        assert_eq!(first.len(), 64);
        assert_ne!(first, second);
    }
}
