//! The merchant page's session: a cookie made for the control panel's third-party iframe
//! (`HttpOnly; Secure; SameSite=None; Partitioned`, `__Host-` prefixed), bound to one store
//! and one user, good for at most an hour, and the CSRF token every state-changing request
//! carries. Both are signed (HMAC-SHA256) with a key derived from the client secret, so any
//! replica verifies them without a shared session table; a user removed or a store
//! uninstalled is refused by the page's own checks (database, registry), not here.
//! Nothing here knows HTTP beyond the cookie's text.

use std::time::Duration;

use aws_lc_rs::{constant_time, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};

use crate::domain::StoreHash;

/// The cookie's name. `__Host-`: the browser keeps it only if it is `Secure`, has
/// `Path=/` and no `Domain`, so no other host can set or shadow it.
pub const COOKIE_NAME: &str = "__Host-om_merchant";
/// The longest a session lasts (app.md: at most one hour).
pub const LIFETIME: Duration = Duration::from_secs(3600);
/// What the key is derived for: a new label makes every earlier session invalid.
const KEY_LABEL: &[u8] = b"order-metafields merchant session v1";

/// Signs and verifies sessions and CSRF tokens.
pub struct SessionKeys {
    key: hmac::Key,
}

/// A verified session: this user of this store, until `expires_at` (Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub store: StoreHash,
    pub user_id: i64,
    pub expires_at: u64,
    /// The signed cookie value, from which the CSRF token is derived.
    signature: String,
}

/// Why a cookie does not open the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("no session cookie")]
    Missing,
    #[error("the session cookie is malformed or its signature is wrong")]
    Forged,
    #[error("the session expired")]
    Expired,
}

impl SessionKeys {
    /// Keys derived from the app's client secret.
    pub fn new(client_secret: &SecretString) -> Self {
        let master = hmac::Key::new(hmac::HMAC_SHA256, client_secret.expose_secret().as_bytes());
        let derived = hmac::sign(&master, KEY_LABEL);
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    /// A new session for `user_id` of `store`, from `now` (Unix seconds) for [`LIFETIME`];
    /// returns it and the cookie's value.
    pub fn issue(&self, store: &StoreHash, user_id: i64, now: u64) -> (Session, String) {
        let expires_at = now + LIFETIME.as_secs();
        let nonce: [u8; 16] = rand::random();
        let body = format!(
            "v1.{}.{user_id}.{expires_at}.{}",
            store.as_str(),
            URL_SAFE_NO_PAD.encode(nonce)
        );
        let signature = URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, body.as_bytes()));
        let value = format!("{body}.{signature}");
        (
            Session {
                store: store.clone(),
                user_id,
                expires_at,
                signature,
            },
            value,
        )
    }

    /// The session a cookie value names, if its signature is right and it has not expired.
    pub fn verify(&self, value: &str, now: u64) -> Result<Session, SessionError> {
        if value.len() > 512 {
            return Err(SessionError::Forged);
        }
        let (body, signature) = value.rsplit_once('.').ok_or(SessionError::Forged)?;
        let given = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| SessionError::Forged)?;
        let expected = hmac::sign(&self.key, body.as_bytes());
        constant_time::verify_slices_are_equal(expected.as_ref(), &given)
            .map_err(|_| SessionError::Forged)?;
        let mut parts = body.split('.');
        let (Some("v1"), Some(store), Some(user), Some(expires), Some(_nonce), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(SessionError::Forged);
        };
        let store = StoreHash::parse(store).ok_or(SessionError::Forged)?;
        let user_id: i64 = user.parse().map_err(|_| SessionError::Forged)?;
        let expires_at: u64 = expires.parse().map_err(|_| SessionError::Forged)?;
        // A signed lifetime longer than ours is not one we issued.
        if expires_at > now + LIFETIME.as_secs() {
            return Err(SessionError::Forged);
        }
        if now >= expires_at {
            return Err(SessionError::Expired);
        }
        Ok(Session {
            store,
            user_id,
            expires_at,
            signature: signature.to_owned(),
        })
    }

    /// The CSRF token of `session`: a MAC of the session's own signature, so it is good for
    /// that session only and needs no storage.
    pub fn csrf_token(&self, session: &Session) -> String {
        let mut input = b"csrf.".to_vec();
        input.extend_from_slice(session.signature.as_bytes());
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, &input))
    }

    /// Whether `token` is `session`'s CSRF token (compared in constant time).
    pub fn csrf_matches(&self, session: &Session, token: &str) -> bool {
        let expected = self.csrf_token(session);
        constant_time::verify_slices_are_equal(expected.as_bytes(), token.as_bytes()).is_ok()
    }
}

/// The `Set-Cookie` value of a session: for the control panel's third-party iframe.
pub fn set_cookie(value: &str, now: u64, expires_at: u64) -> String {
    let max_age = expires_at.saturating_sub(now);
    format!(
        "{COOKIE_NAME}={value}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=None; Partitioned"
    )
}

/// The session cookie's value in a `Cookie` request header; a repeated one counts as
/// missing (no cookie tossing).
pub fn cookie_value(header: &str) -> Option<&str> {
    let mut values = header.split(';').filter_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE_NAME).then_some(value)
    });
    match (values.next(), values.next()) {
        (Some(value), None) if !value.is_empty() => Some(value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn keys() -> SessionKeys {
        SessionKeys::new(&SecretString::from("client-secret-value"))
    }

    #[test]
    fn a_session_verifies_until_it_expires_and_never_after_a_change() {
        let keys = keys();
        let store = StoreHash::parse("abc123").unwrap();
        let (session, value) = keys.issue(&store, 42, NOW);

        assert_eq!(keys.verify(&value, NOW + 3599), Ok(session.clone()));
        assert_eq!(keys.verify(&value, NOW + 3600), Err(SessionError::Expired));
        let tampered = value.replacen(".42.", ".43.", 1);
        assert_eq!(keys.verify(&tampered, NOW), Err(SessionError::Forged));
        let other_key = SessionKeys::new(&SecretString::from("another-secret"));
        assert_eq!(other_key.verify(&value, NOW), Err(SessionError::Forged));
        assert_eq!(keys.verify("v1.abc123", NOW), Err(SessionError::Forged));
    }

    #[test]
    fn a_csrf_token_is_good_for_its_own_session_only() {
        let keys = keys();
        let store = StoreHash::parse("abc123").unwrap();
        let (first, _) = keys.issue(&store, 42, NOW);
        let (second, _) = keys.issue(&store, 42, NOW);

        let token = keys.csrf_token(&first);

        assert!(keys.csrf_matches(&first, &token));
        assert!(!keys.csrf_matches(&second, &token));
        assert!(!keys.csrf_matches(&first, ""));
    }

    #[test]
    fn the_cookie_is_found_once_among_others() {
        let value = "v1.abc.1.2.n.s";
        let header = format!("a=b; {COOKIE_NAME}={value}; c=d");

        assert_eq!(cookie_value(&header), Some(value));
        assert_eq!(
            cookie_value(&format!("{COOKIE_NAME}=x; {COOKIE_NAME}=y")),
            None
        );
        assert_eq!(cookie_value("a=b"), None);
    }
}
