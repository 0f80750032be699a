//! Verifies a JWT that BigCommerce signs with this app's client secret, whatever its kind:
//! the JOSE header (`alg` from `JWT_ALGORITHMS`, no `crit`), the HMAC with the client secret
//! or the one being rotated out, `aud` the client id, `iss`, `exp`, `nbf`, `iat` and the
//! lifetime, then the store the token speaks for. What differs between kinds of token (the
//! Current Customer JWT today, the app's `signed_payload_jwt` later) is a [`ClaimProfile`];
//! which stores are acceptable (one in single-store mode, any installed one in app mode) is
//! an [`ExpectedStore`]. This module keeps no memory of tokens: that is the profile's choice.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::auth::AuthError;
use crate::config::{AuthSettings, MAX_LEEWAY};

/// A kind of token signed with the app's client secret: its issuer, the claims it must carry
/// and the checks of its own claims.
pub trait ClaimProfile {
    /// The claims, deserialised strictly: a claim of the wrong type refuses the token.
    type Claims: DeserializeOwned + Serialize;
    /// What a token that passed every check proves.
    type Verified;
    /// The kind of token, for log lines (`current customer token`).
    const NAME: &'static str;
    /// The only accepted `iss`.
    const ISSUER: &'static str;
    /// Registered claims that must be present (RFC 7519 section 4.1 names).
    const REQUIRED_CLAIMS: &'static [&'static str];
    /// The longest lifetime (`exp - iat`) accepted.
    const MAX_LIFETIME: Duration;

    /// The token's `iat` and `exp`.
    fn times(claims: &Self::Claims) -> TokenTimes;
    /// The store the token speaks for, as its claims say; `None` when they name none.
    fn store_hash(claims: &Self::Claims) -> Option<&str>;
    /// The profile's own checks, after the signature, audience, issuer, times and store.
    fn check(claims: Self::Claims) -> Result<Self::Verified, AuthError>;
    /// Claims of a valid token for `audience` and `store_hash`, issued at `now`: what the
    /// start-up self-test signs.
    fn example(audience: &str, store_hash: &str, now: u64) -> Self::Claims;
}

/// Which stores a token may speak for.
pub trait ExpectedStore {
    /// Whether a token for `store_hash` is acceptable.
    fn admits(&self, store_hash: &str) -> bool;
}

/// A single store (single-store mode): exactly its hash.
impl ExpectedStore for str {
    fn admits(&self, store_hash: &str) -> bool {
        self == store_hash
    }
}

/// A token's registered times, in seconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenTimes {
    pub issued_at: u64,
    pub expires: u64,
}

/// Checks tokens of one [`ClaimProfile`] against this app's secrets; built once at start-up.
pub struct JwtVerifier<P> {
    /// The client secret's key first, then the previous secret's during a rotation.
    keys: Vec<DecodingKey>,
    accepted: Vec<Algorithm>,
    validations: HashMap<Algorithm, Validation>,
    leeway: Duration,
    profile: PhantomData<fn() -> P>,
}

impl<P: ClaimProfile> JwtVerifier<P> {
    /// The verifier of `P` tokens for the app of `settings`.
    pub fn new(settings: &AuthSettings) -> Self {
        let leeway = settings.leeway.min(MAX_LEEWAY);
        let validations = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512]
            .into_iter()
            .map(|algorithm| {
                let mut validation = Validation::new(algorithm);
                validation.leeway = leeway.as_secs();
                validation.validate_exp = true;
                validation.validate_nbf = true;
                validation.set_required_spec_claims(P::REQUIRED_CLAIMS);
                validation.set_issuer(&[P::ISSUER]);
                validation.set_audience(&[settings.client_id.as_str()]);
                (algorithm, validation)
            })
            .collect();
        Self {
            keys: settings
                .secrets()
                .map(|secret| DecodingKey::from_secret(secret.expose_secret().as_bytes()))
                .collect(),
            accepted: settings.algorithms.clone(),
            validations,
            leeway,
            profile: PhantomData,
        }
    }

    /// The clock-skew leeway applied to `exp`, `nbf` and `iat`.
    pub fn leeway(&self) -> Duration {
        self.leeway
    }

    /// Every check of `token` at `now` (seconds since the Unix epoch), for a store `store`
    /// admits.
    pub fn verify<S: ExpectedStore + ?Sized>(
        &self,
        token: &str,
        store: &S,
        now: u64,
    ) -> Result<P::Verified, AuthError> {
        let header = JoseHeader::parse(token).ok_or(AuthError::Malformed)?;
        if header.crit {
            return Err(AuthError::CriticalExtension);
        }
        if !self.accepted.contains(&header.alg) {
            // Real stores may sign with HS512 rather than the documented HS256; say so
            // loudly when that is the only thing wrong, so the operator can fix the setting.
            if self.check(token, header.alg, store, now).is_ok() {
                tracing::warn!(
                    algorithm = ?header.alg,
                    "refused a {} only because of its algorithm; add it to JWT_ALGORITHMS if this store signs with it",
                    P::NAME
                );
            }
            return Err(AuthError::AlgorithmNotAccepted(header.alg));
        }
        self.check(token, header.alg, store, now)
    }

    fn check<S: ExpectedStore + ?Sized>(
        &self,
        token: &str,
        algorithm: Algorithm,
        store: &S,
        now: u64,
    ) -> Result<P::Verified, AuthError> {
        let validation = self
            .validations
            .get(&algorithm)
            .ok_or(AuthError::AlgorithmNotAccepted(algorithm))?;
        // During a rotation a token may be signed with either secret; only a signature
        // mismatch moves on to the next key, any other failure is final.
        let mut outcome = Err(AuthError::BadSignature);
        for key in &self.keys {
            outcome = jsonwebtoken::decode::<P::Claims>(token, key, validation)
                .map_err(|error| classify(error.kind()));
            if !matches!(outcome, Err(AuthError::BadSignature)) {
                break;
            }
        }
        let claims = outcome?.claims;
        let times = P::times(&claims);
        if times.issued_at > now.saturating_add(self.leeway.as_secs()) {
            return Err(AuthError::NotYetValid);
        }
        // A token claiming to live longer than its kind does was not made by BigCommerce,
        // and would stay usable for as long as it says if leaked.
        if times.expires <= times.issued_at
            || times.expires - times.issued_at > P::MAX_LIFETIME.as_secs()
        {
            return Err(AuthError::Claim("exp"));
        }
        if !P::store_hash(&claims).is_some_and(|claimed| store.admits(claimed)) {
            return Err(AuthError::Claim("sub"));
        }
        P::check(claims)
    }

    /// Proves at start-up that the crypto backend signs and verifies with `secret`, and
    /// refuses a tampered token, for every accepted algorithm.
    pub fn self_test(
        &self,
        secret: &SecretString,
        audience: &str,
        store_hash: &str,
    ) -> Result<(), String> {
        let key = EncodingKey::from_secret(secret.expose_secret().as_bytes());
        let now = unix_now();
        let claims = P::example(audience, store_hash, now);
        for &algorithm in &self.accepted {
            let token = jsonwebtoken::encode(&Header::new(algorithm), &claims, &key)
                .map_err(|error| format!("jwt signing with {algorithm:?} failed: {error}"))?;
            self.verify(&token, store_hash, now)
                .map_err(|error| format!("jwt verification with {algorithm:?} failed: {error}"))?;
            let tampered = format!("{token}x");
            if self.verify(&tampered, store_hash, now).is_ok() {
                return Err(format!(
                    "jwt verification with {algorithm:?} accepted a tampered token"
                ));
            }
        }
        Ok(())
    }
}

/// Seconds since the Unix epoch, by the wall clock (the clock `exp` and `iat` are read by).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// The parts of a token's JOSE header read before verification.
#[derive(Deserialize)]
struct JoseHeader {
    alg: Algorithm,
    /// RFC 7515 section 4.1.11: a JWS naming critical extensions the recipient does not
    /// understand (this service understands none, e.g. `b64`) is invalid, and the parameter
    /// must be a non-empty array when present, so any `crit` at all, `null` included,
    /// refuses the token. The JWT library ignores the parameter, so it is checked here.
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

impl JoseHeader {
    /// The header of a compact JWS, or `None` when it is not base64url JSON naming a known
    /// algorithm.
    fn parse(token: &str) -> Option<Self> {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;

        let (header, _) = token.split_once('.')?;
        let json = URL_SAFE_NO_PAD.decode(header).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

/// `true` for a parameter that is there, whatever its value (`null` too: serde calls this
/// only when the key is present, and `default` gives `false` when it is not).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

fn classify(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::Claim("iss"),
        ErrorKind::InvalidAudience => AuthError::Claim("aud"),
        ErrorKind::InvalidSubject => AuthError::Claim("sub"),
        ErrorKind::MissingRequiredClaim(claim) | ErrorKind::InvalidClaimFormat(claim) => {
            match claim.as_str() {
                "exp" => AuthError::Claim("exp"),
                "iss" => AuthError::Claim("iss"),
                "aud" => AuthError::Claim("aud"),
                "sub" => AuthError::Claim("sub"),
                "nbf" => AuthError::Claim("nbf"),
                _ => AuthError::Claim("registered claim"),
            }
        }
        ErrorKind::Json(_) => AuthError::Claim("claims shape"),
        _ => AuthError::Malformed,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn header(value: serde_json::Value) -> Option<JoseHeader> {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;

        JoseHeader::parse(&format!(
            "{}.e30.sig",
            URL_SAFE_NO_PAD.encode(value.to_string())
        ))
    }

    #[test]
    fn any_crit_parameter_is_noticed_null_and_empty_included() {
        let cases = [
            (json!({"alg": "HS256"}), false, "no crit"),
            (
                json!({"alg": "HS256", "crit": ["b64"]}),
                true,
                "an extension",
            ),
            (json!({"alg": "HS256", "crit": []}), true, "an empty list"),
            (json!({"alg": "HS256", "crit": null}), true, "null"),
            (json!({"alg": "HS256", "crit": "b64"}), true, "a string"),
        ];
        for (value, expected, description) in cases {
            let parsed = header(value).unwrap();

            assert_eq!(parsed.crit, expected, "case: {description}");
        }
    }

    #[test]
    fn a_header_without_a_known_algorithm_is_not_parsed() {
        for value in [json!({"alg": "none"}), json!({"typ": "JWT"})] {
            assert!(header(value.clone()).is_none(), "case: {value}");
        }
    }
}
