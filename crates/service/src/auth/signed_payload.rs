//! BigCommerce's `signed_payload_jwt`, sent to the app's `load`, `uninstall` and
//! `remove_user` callbacks ("Single-Click App Callback Handlers": `iss` `bc`, `sub`
//! `stores/{hash}`, `nbf`/`iat`/`exp` 24 hours apart, a `jti`, the user and the owner),
//! verified by the same [`JwtVerifier`] as the Current Customer JWT: the same algorithms,
//! secrets, audience and leeway, with this claim profile. Single use of a `jti` is the
//! caller's business (it needs the database).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::auth::AuthError;
use crate::auth::verifier::{ClaimProfile, ExpectedStore, JwtVerifier, TokenTimes};
use crate::config::AuthSettings;
use crate::domain::StoreHash;

/// The issuer of every app callback payload.
pub const ISSUER: &str = "bc";
/// BigCommerce's payloads live 24 hours (`exp` is 24 hours after `nbf`).
pub const MAX_PAYLOAD_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest `jti` accepted; BigCommerce's are UUIDs.
pub const MAX_JTI_BYTES: usize = 128;

/// The app callback payload as a [`ClaimProfile`].
pub struct SignedPayload;

/// The claims of a `signed_payload_jwt`, as the callbacks guide documents them.
#[derive(Deserialize, Serialize)]
pub struct SignedPayloadClaims {
    /// A single string: a list of audiences is refused by deserialisation.
    pub aud: String,
    pub iss: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub jti: String,
    pub sub: String,
    pub user: PayloadUser,
    pub owner: PayloadUser,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub channel_id: Option<u64>,
}

/// A control-panel user named by a payload.
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct PayloadUser {
    pub id: i64,
    #[serde(default)]
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

/// What a verified payload proves: which store and user it speaks for, its `jti` and when
/// it expires.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedPayload {
    pub store: StoreHash,
    pub user: PayloadUser,
    pub owner: PayloadUser,
    pub jti: String,
    pub expires: u64,
}

/// Verifies app callback payloads; built once at start-up.
pub struct PayloadVerifier {
    verifier: JwtVerifier<SignedPayload>,
}

/// Any store a `stores/{hash}` subject can name: whether it is installed is the caller's
/// question.
struct AnyStore;

impl ExpectedStore for AnyStore {
    fn admits(&self, store_hash: &str) -> bool {
        StoreHash::parse(store_hash).is_some()
    }
}

impl PayloadVerifier {
    /// The verifier for the app of `settings`.
    pub fn new(settings: &AuthSettings) -> Self {
        Self {
            verifier: JwtVerifier::new(settings),
        }
    }

    /// Every check of a payload at `now` (seconds since the Unix epoch), except its single
    /// use.
    pub fn verify(&self, token: &str, now: u64) -> Result<VerifiedPayload, AuthError> {
        if token.len() > crate::auth::MAX_TOKEN_BYTES {
            return Err(AuthError::TooLarge);
        }
        self.verifier.verify(token, &AnyStore, now)
    }

    /// Proves at start-up that payloads sign and verify with the configured secret.
    pub fn self_test(&self, settings: &AuthSettings) -> Result<(), String> {
        self.verifier
            .self_test(&settings.client_secret, &settings.client_id, "selftest")
    }
}

impl ClaimProfile for SignedPayload {
    type Claims = SignedPayloadClaims;
    type Verified = VerifiedPayload;

    const NAME: &'static str = "app callback payload";
    const ISSUER: &'static str = ISSUER;
    const REQUIRED_CLAIMS: &'static [&'static str] = &["exp", "nbf", "iss", "aud", "sub"];
    const MAX_LIFETIME: Duration = MAX_PAYLOAD_LIFETIME;

    fn times(claims: &SignedPayloadClaims) -> TokenTimes {
        TokenTimes {
            issued_at: claims.iat,
            expires: claims.exp,
        }
    }

    fn store_hash(claims: &SignedPayloadClaims) -> Option<&str> {
        claims.sub.strip_prefix("stores/")
    }

    fn check(claims: SignedPayloadClaims) -> Result<VerifiedPayload, AuthError> {
        let store = StoreHash::from_context(&claims.sub).ok_or(AuthError::Claim("sub"))?;
        if claims.jti.is_empty() || claims.jti.len() > MAX_JTI_BYTES {
            return Err(AuthError::Claim("jti"));
        }
        if claims.user.id <= 0 {
            return Err(AuthError::Claim("user.id"));
        }
        if claims.owner.id <= 0 {
            return Err(AuthError::Claim("owner.id"));
        }
        Ok(VerifiedPayload {
            store,
            user: claims.user,
            owner: claims.owner,
            jti: claims.jti,
            expires: claims.exp,
        })
    }

    fn example(audience: &str, store_hash: &str, now: u64) -> SignedPayloadClaims {
        SignedPayloadClaims {
            aud: audience.to_owned(),
            iss: ISSUER.to_owned(),
            iat: now,
            nbf: now,
            exp: now + 60,
            jti: "self-test".to_owned(),
            sub: format!("stores/{store_hash}"),
            user: PayloadUser {
                id: 1,
                email: String::new(),
                locale: None,
            },
            owner: PayloadUser {
                id: 1,
                email: String::new(),
                locale: None,
            },
            url: Some("/".to_owned()),
            channel_id: None,
        }
    }
}

impl VerifiedPayload {
    /// Whether the payload's user is the store's owner.
    pub fn user_is_owner(&self) -> bool {
        self.user.id == self.owner.id
    }
}

impl fmt::Debug for PayloadUser {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An email never reaches a log line through Debug.
        formatter
            .debug_struct("PayloadUser")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for VerifiedPayload {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("VerifiedPayload")
            .field("store", &self.store)
            .field("user", &self.user)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use secrecy::SecretString;
    use serde_json::{Value, json};

    use super::*;
    use crate::auth::verifier::unix_now;

    const SECRET: &str = "app-client-secret";

    fn settings() -> AuthSettings {
        AuthSettings {
            client_id: "app-client-id".to_owned(),
            client_secret: SecretString::from(SECRET),
            previous_client_secret: None,
            webhook_secret: None,
            algorithms: vec![Algorithm::HS256],
            leeway: Duration::from_secs(30),
        }
    }

    /// The callbacks guide's example payload, at `now`.
    fn claims(now: u64) -> Value {
        json!({
            "aud": "app-client-id", "iss": "bc", "iat": now, "nbf": now - 5,
            "exp": now + 86_395, "jti": "c5f0bcf5-a504-4ae6-8dcc-0e40eaa5a070",
            "sub": "stores/z4zn3wo",
            "user": {"id": 9_876_543, "email": "authorized_user@example.com", "locale": "en-US"},
            "owner": {"id": 7_654_321, "email": "owner@example.com"},
            "url": "/", "channel_id": null
        })
    }

    fn sign(claims: &Value, algorithm: Algorithm, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(algorithm),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn with(mut claims: Value, key: &str, value: Value) -> Value {
        claims[key] = value;
        claims
    }

    #[test]
    fn the_guides_example_payload_verifies_to_its_store_user_and_jti() {
        let verifier = PayloadVerifier::new(&settings());
        let now = unix_now();

        let verified = verifier
            .verify(&sign(&claims(now), Algorithm::HS256, SECRET), now)
            .unwrap();

        assert_eq!(verified.store.as_str(), "z4zn3wo");
        assert_eq!(verified.user.id, 9_876_543);
        assert_eq!(verified.owner.id, 7_654_321);
        assert_eq!(verified.jti, "c5f0bcf5-a504-4ae6-8dcc-0e40eaa5a070");
        assert!(!verified.user_is_owner());
        assert!(!format!("{verified:?}").contains("example.com"));
    }

    #[test]
    fn every_wrong_claim_or_key_is_refused_with_its_reason() {
        let verifier = PayloadVerifier::new(&settings());
        let now = unix_now();
        let cases: Vec<(&str, String, AuthError)> = vec![
            (
                "another audience",
                sign(
                    &with(claims(now), "aud", json!("other-app")),
                    Algorithm::HS256,
                    SECRET,
                ),
                AuthError::Claim("aud"),
            ),
            (
                "an audience list",
                sign(
                    &with(claims(now), "aud", json!(["app-client-id"])),
                    Algorithm::HS256,
                    SECRET,
                ),
                AuthError::Claim("claims shape"),
            ),
            (
                "a customer token's issuer",
                sign(
                    &with(claims(now), "iss", json!("bc/apps")),
                    Algorithm::HS256,
                    SECRET,
                ),
                AuthError::Claim("iss"),
            ),
            (
                "a subject that is not a store",
                sign(
                    &with(claims(now), "sub", json!("z4zn3wo")),
                    Algorithm::HS256,
                    SECRET,
                ),
                AuthError::Claim("sub"),
            ),
            (
                "a malformed store hash",
                sign(
                    &with(claims(now), "sub", json!("stores/a-b")),
                    Algorithm::HS256,
                    SECRET,
                ),
                AuthError::Claim("sub"),
            ),
            (
                "expired",
                sign(
                    &json!({"exp": now - 120, "iat": now - 3_000, "nbf": now - 3_000})
                        .as_object()
                        .unwrap()
                        .iter()
                        .fold(claims(now), |claims, (key, value)| {
                            with(claims, key, value.clone())
                        }),
                    Algorithm::HS256,
                    SECRET,
                ),
                AuthError::Expired,
            ),
            (
                "not valid yet",
                sign(
                    &with(claims(now), "nbf", json!(now + 600)),
                    Algorithm::HS256,
                    SECRET,
                ),
                AuthError::NotYetValid,
            ),
            (
                "issued in the future",
                sign(
                    &with(claims(now), "iat", json!(now + 600)),
                    Algorithm::HS256,
                    SECRET,
                ),
                AuthError::NotYetValid,
            ),
            (
                "living longer than a day",
                sign(
                    &with(claims(now), "exp", json!(now + 90_000)),
                    Algorithm::HS256,
                    SECRET,
                ),
                AuthError::Claim("exp"),
            ),
            (
                "no jti",
                sign(
                    &with(claims(now), "jti", json!("")),
                    Algorithm::HS256,
                    SECRET,
                ),
                AuthError::Claim("jti"),
            ),
            (
                "no nbf",
                sign(
                    &{
                        let mut claims = claims(now);
                        claims.as_object_mut().unwrap().remove("nbf");
                        claims
                    },
                    Algorithm::HS256,
                    SECRET,
                ),
                AuthError::Claim("claims shape"),
            ),
            (
                "another secret",
                sign(&claims(now), Algorithm::HS256, "another-secret"),
                AuthError::BadSignature,
            ),
            (
                "an algorithm JWT_ALGORITHMS does not accept",
                sign(&claims(now), Algorithm::HS512, SECRET),
                AuthError::AlgorithmNotAccepted(Algorithm::HS512),
            ),
        ];
        for (case, token, expected) in cases {
            assert_eq!(
                verifier.verify(&token, now).unwrap_err(),
                expected,
                "case: {case}"
            );
        }
    }

    #[test]
    fn the_self_test_passes() {
        assert_eq!(
            PayloadVerifier::new(&settings()).self_test(&settings()),
            Ok(())
        );
    }
}
