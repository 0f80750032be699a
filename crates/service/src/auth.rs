//! Verifies the shopper's Current Customer JWT and yields the authenticated customer through
//! an actix extractor, so a handler that asks for an [`AuthenticatedCustomer`] cannot run
//! without a verified token. Every failure becomes the same `401` (the precise reason goes
//! to a debug log line); nothing here reads anything but the `Authorization` header.

use std::collections::HashMap;
use std::future::{Ready, ready};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::config::AuthSettings;
use crate::domain::CustomerId;
use crate::metrics::{AuthFailureReason, Metrics};
use crate::problem::ApiError;
use crate::throttle::CustomerThrottle;

/// The longest token looked at; anything larger is refused before parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The longest lifetime (`exp - iat`) accepted; BigCommerce's tokens live 15 minutes.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// The issuer BigCommerce puts in every Current Customer JWT.
pub const ISSUER: &str = "bc/apps";
/// The `operation` claim of a Current Customer JWT.
pub const OPERATION: &str = "current_customer";

/// Checks tokens against this app and store; built once at start-up.
pub struct TokenVerifier {
    /// The client secret's key first, then the previous secret's during a rotation.
    keys: Vec<DecodingKey>,
    accepted: Vec<Algorithm>,
    validations: HashMap<Algorithm, Validation>,
    store_hash: String,
    leeway: Duration,
    verified: VerifiedTokens,
}

/// A customer whose token was verified for this request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthenticatedCustomer {
    pub id: CustomerId,
}

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
}

/// The claims of a Current Customer JWT, as BigCommerce documents them
/// (`current_customer.yml`); every field is checked.
#[derive(Debug, Deserialize, Serialize)]
pub struct CurrentCustomerClaims {
    pub customer: ClaimedCustomer,
    pub iss: String,
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    /// A single string: a list of audiences is refused by deserialisation.
    pub aud: String,
    pub store_hash: String,
    pub operation: String,
}

/// The `customer` claim; only the id is used (the email is never read or logged).
#[derive(Debug, Deserialize, Serialize)]
pub struct ClaimedCustomer {
    pub id: u64,
}

impl TokenVerifier {
    /// Builds the verifier for `store_hash` from the auth settings.
    pub fn new(settings: &AuthSettings, store_hash: &str) -> Self {
        let leeway = settings.leeway.min(crate::config::MAX_LEEWAY);
        let validations = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512]
            .into_iter()
            .map(|algorithm| {
                let mut validation = Validation::new(algorithm);
                validation.leeway = leeway.as_secs();
                validation.validate_exp = true;
                validation.validate_nbf = true;
                validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
                validation.set_issuer(&[ISSUER]);
                validation.set_audience(&[settings.client_id.as_str()]);
                validation.sub = Some(store_hash.to_owned());
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
            store_hash: store_hash.to_owned(),
            leeway,
            verified: VerifiedTokens::default(),
        }
    }

    /// Verifies a bearer token and returns the customer it names.
    ///
    /// A storefront sends the same token with every call for its fifteen minutes, so a token
    /// that passed every check is remembered, byte for byte, until its `exp`; the same string
    /// is then accepted without repeating the HMAC and the claim checks. Nothing verification
    /// would refuse is accepted from memory: the string is identical, the secrets are fixed
    /// for the life of the process, and the time checks are repeated on every hit (`exp`
    /// strictly, `iat` with the leeway, in case the clock was stepped back).
    pub fn verify(&self, token: &str) -> Result<CustomerId, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TooLarge);
        }
        let now = unix_now();
        let leeway = self.leeway.as_secs();
        if let Some(customer) = self.verified.get(token, now, leeway) {
            return Ok(customer);
        }
        let verified = self.verify_afresh(token, now)?;
        if now < verified.expires {
            self.verified.insert(token, verified, now);
        }
        Ok(verified.customer)
    }

    /// Every check, with no memory.
    fn verify_afresh(&self, token: &str, now: u64) -> Result<Verified, AuthError> {
        let header = JoseHeader::parse(token).ok_or(AuthError::Malformed)?;
        if header.crit.is_some() {
            return Err(AuthError::CriticalExtension);
        }
        if !self.accepted.contains(&header.alg) {
            // Real stores may sign with HS512 rather than the documented HS256; say so
            // loudly when that is the only thing wrong, so the operator can fix the setting.
            if self.check(token, header.alg, now).is_ok() {
                tracing::warn!(
                    algorithm = ?header.alg,
                    "refused a current customer token only because of its algorithm; add it to JWT_ALGORITHMS if this store signs with it"
                );
            }
            return Err(AuthError::AlgorithmNotAccepted(header.alg));
        }
        self.check(token, header.alg, now)
    }

    fn check(&self, token: &str, algorithm: Algorithm, now: u64) -> Result<Verified, AuthError> {
        let validation = self
            .validations
            .get(&algorithm)
            .ok_or(AuthError::AlgorithmNotAccepted(algorithm))?;
        // During a rotation a token may be signed with either secret; only a signature
        // mismatch moves on to the next key, any other failure is final.
        let mut outcome = Err(AuthError::BadSignature);
        for key in &self.keys {
            outcome = jsonwebtoken::decode::<CurrentCustomerClaims>(token, key, validation)
                .map_err(|error| classify(error.kind()));
            if !matches!(outcome, Err(AuthError::BadSignature)) {
                break;
            }
        }
        let claims = outcome?.claims;
        if claims.iat > now.saturating_add(self.leeway.as_secs()) {
            return Err(AuthError::NotYetValid);
        }
        // BigCommerce issues these tokens for 15 minutes; a token claiming to live longer than
        // a day was not made by it, and would stay usable for as long as it says if leaked.
        if claims.exp <= claims.iat || claims.exp - claims.iat > MAX_TOKEN_LIFETIME.as_secs() {
            return Err(AuthError::Claim("exp"));
        }
        if claims.operation != OPERATION {
            return Err(AuthError::Claim("operation"));
        }
        if claims.store_hash != self.store_hash {
            return Err(AuthError::Claim("store_hash"));
        }
        CustomerId::new(claims.customer.id)
            .map(|customer| Verified {
                customer,
                issued_at: claims.iat,
                expires: claims.exp,
            })
            .ok_or(AuthError::Claim("customer.id"))
    }

    /// Proves at start-up that the crypto backend signs and verifies with the configured
    /// secret, and refuses a tampered token, for every accepted algorithm.
    pub fn self_test(&self, settings: &AuthSettings) -> Result<(), String> {
        let key = EncodingKey::from_secret(settings.client_secret.expose_secret().as_bytes());
        let now = unix_now();
        let claims = CurrentCustomerClaims {
            customer: ClaimedCustomer { id: 1 },
            iss: ISSUER.to_owned(),
            sub: self.store_hash.clone(),
            iat: now,
            exp: now + 60,
            aud: settings.client_id.clone(),
            store_hash: self.store_hash.clone(),
            operation: OPERATION.to_owned(),
        };
        for &algorithm in &self.accepted {
            let token = jsonwebtoken::encode(&Header::new(algorithm), &claims, &key)
                .map_err(|error| format!("jwt signing with {algorithm:?} failed: {error}"))?;
            // Afresh, so that the self-test neither reads nor fills the memory of tokens.
            self.verify_afresh(&token, now)
                .map_err(|error| format!("jwt verification with {algorithm:?} failed: {error}"))?;
            let tampered = format!("{token}x");
            if self.verify_afresh(&tampered, now).is_ok() {
                return Err(format!(
                    "jwt verification with {algorithm:?} accepted a tampered token"
                ));
            }
        }
        Ok(())
    }
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
            AuthError::NotYetValid | AuthError::Claim(_) => AuthFailureReason::Claims,
        }
    }
}

/// The parts of a token's JOSE header read before verification.
#[derive(Deserialize)]
struct JoseHeader {
    alg: Algorithm,
    /// RFC 7515 section 4.1.11: a JWS naming critical extensions the recipient does not
    /// understand (this service understands none, e.g. `b64`) is invalid; the JWT library
    /// ignores the parameter, so it is checked here.
    crit: Option<serde::de::IgnoredAny>,
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

/// The largest number of verified tokens remembered, and their largest total size: about
/// one per signed-in shopper active in the last fifteen minutes.
const VERIFIED_TOKENS_MAX: usize = 16_384;
const VERIFIED_TOKENS_MAX_BYTES: usize = 16 * 1024 * 1024;

/// What a token that passed every check says: its customer, `iat` and `exp`.
#[derive(Clone, Copy, Debug)]
struct Verified {
    customer: CustomerId,
    issued_at: u64,
    expires: u64,
}

/// Tokens that passed verification, until their `exp`. Looked up by a keyed hash (the key
/// is random per process, so nobody can aim a token at another's slot) and then compared
/// whole in constant time. When full, expired tokens are dropped; if that frees less than an
/// eighth, everything is (so a full memory is swept once per eighth of its size, never on
/// every insert).
#[derive(Default)]
struct VerifiedTokens {
    hasher: RandomState,
    memory: Mutex<Memory>,
}

#[derive(Default)]
struct Memory {
    tokens: HashMap<u64, VerifiedToken>,
    bytes: usize,
}

struct VerifiedToken {
    token: Box<str>,
    verified: Verified,
}

impl VerifiedTokens {
    /// The slot of a token: a keyed hash of its signature, which is already a MAC of all the
    /// rest (hashing the whole token costs several times more). Tokens that share a slot
    /// only evict each other; the whole token is compared on every hit.
    fn key(&self, token: &str) -> u64 {
        let signature = token
            .rsplit_once('.')
            .map_or(token, |(_, signature)| signature);
        self.hasher.hash_one(signature)
    }

    fn get(&self, token: &str, now: u64, leeway: u64) -> Option<CustomerId> {
        let key = self.key(token);
        let memory = self.memory.lock().unwrap_or_else(PoisonError::into_inner);
        let known = memory.tokens.get(&key)?;
        let same = aws_lc_rs::constant_time::verify_slices_are_equal(
            known.token.as_bytes(),
            token.as_bytes(),
        )
        .is_ok();
        let verified = known.verified;
        let in_time = now < verified.expires && verified.issued_at <= now.saturating_add(leeway);
        (same && in_time).then_some(verified.customer)
    }

    fn insert(&self, token: &str, verified: Verified, now: u64) {
        let key = self.key(token);
        let mut memory = self.memory.lock().unwrap_or_else(PoisonError::into_inner);
        if memory.tokens.len() >= VERIFIED_TOKENS_MAX
            || memory.bytes + token.len() > VERIFIED_TOKENS_MAX_BYTES
        {
            memory
                .tokens
                .retain(|_, known| now < known.verified.expires);
            memory.bytes = memory.tokens.values().map(|known| known.token.len()).sum();
            if memory.tokens.len() > VERIFIED_TOKENS_MAX / 8 * 7
                || memory.bytes + token.len() > VERIFIED_TOKENS_MAX_BYTES / 8 * 7
            {
                memory.tokens.clear();
                memory.bytes = 0;
            }
        }
        let replaced = memory.tokens.insert(
            key,
            VerifiedToken {
                token: token.into(),
                verified,
            },
        );
        memory.bytes = memory.bytes + token.len() - replaced.map_or(0, |known| known.token.len());
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.memory
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .tokens
            .len()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
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

/// The bearer token of the request's single `Authorization` header.
///
/// Works on the header's bytes: a compact JWS is base64url and dots, so checking the token
/// against that alphabet also proves the header is visible ASCII, in one pass over it.
fn bearer_token(request: &HttpRequest) -> Result<&str, AuthError> {
    let mut values = request.headers().get_all(AUTHORIZATION);
    let value = values.next().ok_or(AuthError::Missing)?;
    if values.next().is_some() {
        return Err(AuthError::MalformedHeader);
    }
    if value.len() > MAX_TOKEN_BYTES + 64 {
        return Err(AuthError::TooLarge);
    }
    let value = trim_blanks(value.as_bytes());
    let (scheme, token) = match value.iter().position(|&byte| is_blank(byte)) {
        Some(end) => (&value[..end], trim_blanks(&value[end..])),
        None => (value, &[][..]),
    };
    // RFC 7235: the scheme is case-insensitive. Another scheme means no bearer token was
    // sent, as long as the header is well-formed (visible ASCII, spaces and tabs).
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        let visible = value
            .iter()
            .all(|&byte| byte.is_ascii_graphic() || is_blank(byte));
        return Err(if visible {
            AuthError::Missing
        } else {
            AuthError::MalformedHeader
        });
    }
    if token.is_empty() || !all_jws_bytes(token) {
        return Err(AuthError::MalformedHeader);
    }
    // Only ASCII is left, which is always UTF-8.
    std::str::from_utf8(token).map_err(|_| AuthError::MalformedHeader)
}

fn is_blank(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

fn trim_blanks(mut bytes: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = bytes
        && is_blank(*first)
    {
        bytes = rest;
    }
    while let [rest @ .., last] = bytes
        && is_blank(*last)
    {
        bytes = rest;
    }
    bytes
}

/// Whether every byte is of the compact JWS alphabet: base64url (RFC 4648 section 5) and
/// the dots between parts. Written without an early exit or a branch per byte, so that the
/// compiler checks many bytes per instruction (a token is read on every request).
fn all_jws_bytes(bytes: &[u8]) -> bool {
    let mut outside = 0_u8;
    for &byte in bytes {
        let letter = (byte | 0x20).wrapping_sub(b'a') < 26;
        let digit = byte.wrapping_sub(b'0') < 10;
        let punctuation = (byte == b'-') | (byte == b'_') | (byte == b'.');
        outside |= u8::from(!(letter | digit | punctuation));
    }
    outside == 0
}

impl FromRequest for AuthenticatedCustomer {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let Some(verifier) = request.app_data::<web::Data<Arc<TokenVerifier>>>() else {
            tracing::error!("the token verifier is not registered with the app");
            return ready(Err(ApiError::Internal));
        };
        let result = bearer_token(request).and_then(|token| verifier.verify(token));
        ready(match result {
            Ok(id) => {
                crate::request_context::note_customer(id);
                // Every authenticated request counts against the customer's own limit.
                match request
                    .app_data::<web::Data<CustomerThrottle>>()
                    .map(|throttle| throttle.check(id))
                {
                    Some(Err(retry_after)) => {
                        tracing::info!("customer over their request limit");
                        Err(ApiError::TooManyRequests { retry_after })
                    }
                    _ => Ok(AuthenticatedCustomer { id }),
                }
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
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use actix_web::test::TestRequest;
    use secrecy::SecretString;
    use serde_json::{Value, json};

    use super::*;

    const SECRET: &str = "test-client-secret";

    fn settings(algorithms: Vec<Algorithm>) -> AuthSettings {
        AuthSettings {
            client_id: "client-id".to_owned(),
            client_secret: SecretString::from(SECRET),
            previous_client_secret: None,
            webhook_secret: None,
            algorithms,
            leeway: Duration::from_secs(30),
        }
    }

    fn now() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    fn claims() -> Value {
        json!({
            "customer": {"id": 42, "email": "shopper@example.com", "group_id": "0"},
            "iss": "bc/apps", "sub": "abc123", "iat": now(), "exp": now() + 900,
            "version": 1, "aud": "client-id", "application_id": "client-id",
            "store_hash": "abc123", "operation": "current_customer"
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

    fn with(mut claims: Value, path: &[&str], value: Value) -> Value {
        let mut target = &mut claims;
        for key in &path[..path.len() - 1] {
            target = target.get_mut(*key).unwrap();
        }
        let last = path[path.len() - 1];
        if value.is_null() {
            target.as_object_mut().unwrap().remove(last);
        } else {
            target[last] = value;
        }
        claims
    }

    #[test]
    fn a_valid_current_customer_token_yields_its_customer() {
        let verifier = TokenVerifier::new(&settings(vec![Algorithm::HS256]), "abc123");

        let customer = verifier.verify(&sign(&claims(), Algorithm::HS256, SECRET));

        assert_eq!(customer, Ok(CustomerId::new(42).unwrap()));
    }

    #[test]
    fn a_verified_token_is_remembered_and_only_the_identical_string_matches() {
        let verifier = TokenVerifier::new(&settings(vec![Algorithm::HS256]), "abc123");
        let token = sign(&claims(), Algorithm::HS256, SECRET);
        let customer = CustomerId::new(42).unwrap();

        assert_eq!(verifier.verify(&token), Ok(customer));
        assert_eq!(verifier.verified.len(), 1);
        assert_eq!(verifier.verify(&token), Ok(customer));
        assert_eq!(verifier.verified.len(), 1);

        // The remembered token with its signature changed is verified afresh, and refused.
        // (A character inside the signature: all six of its bits are significant.)
        let mut tampered = token.clone();
        let at = tampered.len() - 5;
        let other = if &tampered[at..=at] == "A" { "B" } else { "A" };
        tampered.replace_range(at..=at, other);
        assert_eq!(verifier.verify(&tampered), Err(AuthError::BadSignature));
        assert_eq!(
            verifier.verify(&format!("{token}A")),
            Err(AuthError::BadSignature)
        );
        assert_eq!(verifier.verified.len(), 1);
    }

    fn verified(customer: u64, issued_at: u64, expires: u64) -> Verified {
        Verified {
            customer: CustomerId::new(customer).unwrap(),
            issued_at,
            expires,
        }
    }

    #[test]
    fn a_remembered_token_is_forgotten_at_its_exp_and_then_refused() {
        let verifier = TokenVerifier::new(&settings(vec![Algorithm::HS256]), "abc123");
        let expired = sign(
            &with(claims(), &["exp"], json!(now() - 120)),
            Algorithm::HS256,
            SECRET,
        );
        let customer = CustomerId::new(42).unwrap();
        let at = unix_now();
        // As if it had been verified while still valid.
        verifier
            .verified
            .insert(&expired, verified(42, at - 1000, at - 120), at - 200);

        assert_eq!(
            verifier.verified.get(&expired, at - 121, 30),
            Some(customer)
        );
        assert_eq!(verifier.verified.get(&expired, at - 120, 30), None);
        assert_eq!(verifier.verify(&expired), Err(AuthError::Expired));
    }

    #[test]
    fn a_remembered_token_is_refused_when_the_clock_goes_back_before_its_iat() {
        let memory = VerifiedTokens::default();
        memory.insert("token", verified(7, 1_000, 1_900), 1_000);

        assert!(memory.get("token", 1_000, 30).is_some());
        assert!(memory.get("token", 970, 30).is_some(), "within the leeway");
        assert_eq!(memory.get("token", 969, 30), None, "the clock stepped back");
    }

    #[test]
    fn refused_tokens_and_the_self_test_leave_nothing_in_memory() {
        let settings = settings(vec![Algorithm::HS256, Algorithm::HS512]);
        let verifier = TokenVerifier::new(&settings, "abc123");

        verifier.self_test(&settings).unwrap();
        let _ = verifier.verify(&sign(&claims(), Algorithm::HS256, "another secret"));
        let _ = verifier.verify(&sign(
            &with(claims(), &["aud"], json!("another-app")),
            Algorithm::HS256,
            SECRET,
        ));

        assert_eq!(verifier.verified.len(), 0);
    }

    #[test]
    fn the_memory_of_tokens_stays_within_its_count_and_byte_bounds() {
        let memory = VerifiedTokens::default();
        let customer = CustomerId::new(7).unwrap();
        let now = 1_000;
        for n in 0..VERIFIED_TOKENS_MAX + 100 {
            memory.insert(&format!("token-{n}"), verified(7, now, now + 900), now);
            assert!(memory.len() <= VERIFIED_TOKENS_MAX);
        }
        assert_eq!(memory.get("token-16483", now, 30), Some(customer));

        let large = VerifiedTokens::default();
        let pad = "x".repeat(MAX_TOKEN_BYTES - 8);
        for n in 0..(VERIFIED_TOKENS_MAX_BYTES / MAX_TOKEN_BYTES) + 10 {
            large.insert(&format!("{n:08}{pad}"), verified(7, now, now + 900), now);
            let memory = large.memory.lock().unwrap();
            assert!(memory.bytes <= VERIFIED_TOKENS_MAX_BYTES);
            assert_eq!(
                memory.bytes,
                memory
                    .tokens
                    .values()
                    .map(|known| known.token.len())
                    .sum::<usize>()
            );
        }
    }

    #[test]
    fn a_full_memory_drops_expired_tokens_before_live_ones() {
        let memory = VerifiedTokens::default();
        let customer = CustomerId::new(7).unwrap();
        memory.insert("live", verified(7, 1_000, 5_000), 1_000);
        for n in 1..VERIFIED_TOKENS_MAX {
            memory.insert(
                &format!("short-lived-{n}"),
                verified(7, 1_000, 1_100),
                1_000,
            );
        }
        assert_eq!(memory.len(), VERIFIED_TOKENS_MAX);

        memory.insert("new", verified(7, 2_000, 5_000), 2_000);

        assert_eq!(memory.len(), 2);
        assert_eq!(memory.get("live", 2_000, 30), Some(customer));
        assert_eq!(memory.get("new", 2_000, 30), Some(customer));
    }

    #[test]
    fn a_full_memory_of_live_tokens_is_swept_once_not_on_every_insert() {
        let memory = VerifiedTokens::default();
        for n in 0..VERIFIED_TOKENS_MAX {
            memory.insert(&format!("live-{n}"), verified(7, 1_000, 5_000), 1_000);
        }
        // Full of live tokens: freeing nothing, the sweep clears everything ...
        memory.insert("next", verified(7, 1_000, 5_000), 1_000);
        assert_eq!(memory.len(), 1);
        // ... so the following inserts find room without sweeping again.
        for n in 0..1_000 {
            memory.insert(&format!("more-{n}"), verified(7, 1_000, 5_000), 1_000);
        }
        assert_eq!(memory.len(), 1_001);
    }

    #[test]
    fn every_wrong_claim_is_refused_with_its_reason() {
        let verifier = TokenVerifier::new(&settings(vec![Algorithm::HS256]), "abc123");
        let cases: Vec<(&str, Value, AuthError)> = vec![
            (
                "expired",
                with(claims(), &["exp"], json!(now() - 120)),
                AuthError::Expired,
            ),
            (
                "exp missing",
                with(claims(), &["exp"], Value::Null),
                AuthError::Claim("claims shape"),
            ),
            (
                "exp a string",
                with(claims(), &["exp"], json!("soon")),
                AuthError::Claim("claims shape"),
            ),
            (
                "exp a float",
                with(claims(), &["exp"], json!(1.5e12)),
                AuthError::Claim("claims shape"),
            ),
            (
                "lives longer than a day",
                with(claims(), &["exp"], json!(now() + 2 * 86_400)),
                AuthError::Claim("exp"),
            ),
            (
                "iat in the future",
                with(claims(), &["iat"], json!(now() + 600)),
                AuthError::NotYetValid,
            ),
            (
                "iat missing",
                with(claims(), &["iat"], Value::Null),
                AuthError::Claim("claims shape"),
            ),
            (
                "nbf in the future",
                with(claims(), &["nbf"], json!(now() + 600)),
                AuthError::NotYetValid,
            ),
            (
                "wrong issuer",
                with(claims(), &["iss"], json!("bc/other")),
                AuthError::Claim("iss"),
            ),
            (
                "wrong audience",
                with(claims(), &["aud"], json!("other-app")),
                AuthError::Claim("aud"),
            ),
            (
                "audience list",
                with(claims(), &["aud"], json!(["client-id"])),
                AuthError::Claim("claims shape"),
            ),
            (
                "wrong subject",
                with(claims(), &["sub"], json!("zzz999")),
                AuthError::Claim("sub"),
            ),
            (
                "wrong store",
                with(claims(), &["store_hash"], json!("zzz999")),
                AuthError::Claim("store_hash"),
            ),
            (
                "wrong operation",
                with(claims(), &["operation"], json!("other")),
                AuthError::Claim("operation"),
            ),
            (
                "guest customer",
                with(claims(), &["customer", "id"], json!(0)),
                AuthError::Claim("customer.id"),
            ),
            (
                "negative customer",
                with(claims(), &["customer", "id"], json!(-4)),
                AuthError::Claim("claims shape"),
            ),
            (
                "string customer",
                with(claims(), &["customer", "id"], json!("42")),
                AuthError::Claim("claims shape"),
            ),
            (
                "no customer",
                with(claims(), &["customer"], Value::Null),
                AuthError::Claim("claims shape"),
            ),
        ];
        for (description, claims, expected) in cases {
            let result = verifier.verify(&sign(&claims, Algorithm::HS256, SECRET));

            assert_eq!(result, Err(expected), "case: {description}");
        }
    }

    #[test]
    fn tokens_with_wrong_keys_algorithms_or_shapes_are_refused() {
        let verifier = TokenVerifier::new(&settings(vec![Algorithm::HS256]), "abc123");
        let good = sign(&claims(), Algorithm::HS256, SECRET);
        let (head, rest) = good.split_once('.').unwrap();
        let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        let cases = [
            (
                "other secret",
                sign(&claims(), Algorithm::HS256, "other"),
                AuthError::BadSignature,
            ),
            (
                "unaccepted hs512",
                sign(&claims(), Algorithm::HS512, SECRET),
                AuthError::AlgorithmNotAccepted(Algorithm::HS512),
            ),
            (
                "alg none",
                format!("{none_header}.{}", rest.rsplit_once('.').unwrap().0) + ".",
                AuthError::Malformed,
            ),
            ("garbage", "not.a.jwt".to_owned(), AuthError::Malformed),
            (
                "critical extension",
                format!(
                    "{}.{rest}",
                    "eyJhbGciOiJIUzI1NiIsImNyaXQiOlsiYjY0Il0sImI2NCI6ZmFsc2V9"
                ),
                AuthError::CriticalExtension,
            ),
            ("two parts", format!("{head}.{head}"), AuthError::Malformed),
            (
                "too large",
                "a".repeat(MAX_TOKEN_BYTES + 1),
                AuthError::TooLarge,
            ),
        ];
        for (description, token, expected) in cases {
            assert_eq!(
                verifier.verify(&token),
                Err(expected),
                "case: {description}"
            );
        }
    }

    #[test]
    fn only_configured_algorithms_are_accepted() {
        let verifier = TokenVerifier::new(&settings(vec![Algorithm::HS512]), "abc123");

        assert!(
            verifier
                .verify(&sign(&claims(), Algorithm::HS512, SECRET))
                .is_ok()
        );
        assert_eq!(
            verifier.verify(&sign(&claims(), Algorithm::HS256, SECRET)),
            Err(AuthError::AlgorithmNotAccepted(Algorithm::HS256))
        );
    }

    #[test]
    fn self_test_passes_with_the_crypto_backend() {
        let settings = settings(vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512]);
        let verifier = TokenVerifier::new(&settings, "abc123");

        assert_eq!(verifier.self_test(&settings), Ok(()));
    }

    #[test]
    fn the_jws_alphabet_is_base64url_and_dots() {
        for byte in 0..=u8::MAX {
            let expected = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.');
            assert_eq!(all_jws_bytes(&[byte]), expected, "byte {byte:#04x}");
            assert_eq!(
                all_jws_bytes(&[b"abc.DEF-_09".as_slice(), &[byte]].concat()),
                expected,
                "byte {byte:#04x} after valid ones"
            );
        }
        assert!(all_jws_bytes(b""));
    }

    #[test]
    fn bearer_token_reads_one_case_insensitive_bearer_header() {
        let cases: Vec<(Vec<&str>, Result<&str, AuthError>, &str)> = vec![
            (vec!["Bearer abc.def.ghi"], Ok("abc.def.ghi"), "canonical"),
            (vec!["bearer abc.def.ghi"], Ok("abc.def.ghi"), "lower case"),
            (
                vec!["BEARER   abc.def.ghi  "],
                Ok("abc.def.ghi"),
                "extra spaces",
            ),
            (vec![], Err(AuthError::Missing), "no header"),
            (
                vec!["Basic dXNlcjpwYXNz"],
                Err(AuthError::Missing),
                "other scheme",
            ),
            (vec!["Bearer"], Err(AuthError::MalformedHeader), "no token"),
            (
                vec!["Bearer a b"],
                Err(AuthError::MalformedHeader),
                "two tokens",
            ),
            (
                vec!["Bearer a", "Bearer b"],
                Err(AuthError::MalformedHeader),
                "two headers",
            ),
            (
                vec!["\tBearer\t abc.def-_0\t "],
                Ok("abc.def-_0"),
                "tabs around",
            ),
            (
                vec!["Bearer abc.d+f/g=="],
                Err(AuthError::MalformedHeader),
                "standard base64, not base64url",
            ),
        ];
        for (headers, expected, description) in cases {
            let mut request = TestRequest::default();
            for header in headers {
                request = request.append_header((AUTHORIZATION, header));
            }
            let request = request.to_http_request();

            assert_eq!(bearer_token(&request), expected, "case: {description}");
        }
        // Bytes past ASCII (obs-text) are the only non-visible ones a header value can hold.
        for (header, description) in [
            (&b"Bearer abc.d\xe9f"[..], "non-ASCII in the token"),
            (&b"Basic dXNl\xe9cjpw"[..], "non-ASCII after another scheme"),
            (&b"B\xe9arer abc"[..], "non-ASCII in the scheme"),
        ] {
            let request = TestRequest::default()
                .append_header((
                    AUTHORIZATION,
                    actix_web::http::header::HeaderValue::from_bytes(header).unwrap(),
                ))
                .to_http_request();

            assert_eq!(
                bearer_token(&request),
                Err(AuthError::MalformedHeader),
                "case: {description}"
            );
        }
    }
}
