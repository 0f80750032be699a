//! The Current Customer JWT (BigCommerce's `current_customer.yml`): the claim profile, and
//! [`CustomerTokenVerifier`], which verifies it and remembers the tokens that passed until
//! their `exp` (see `memory`). One client secret signs every store's tokens, so the token
//! names its store (`sub` = `store_hash`); whether that store is served is the store
//! registry's answer, asked by the extractor on every request.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::auth::memory::{VerifiedCustomerToken, VerifiedTokens};
use crate::auth::verifier::{ClaimProfile, ExpectedStore, JwtVerifier, TokenTimes, unix_now};
use crate::auth::{AuthError, MAX_TOKEN_BYTES};
use crate::config::AuthSettings;
use crate::domain::{CustomerId, StoreHash};

/// The issuer BigCommerce puts in every Current Customer JWT.
pub const ISSUER: &str = "bc/apps";
/// The `operation` claim of a Current Customer JWT.
pub const OPERATION: &str = "current_customer";
/// The longest lifetime (`exp - iat`) accepted; BigCommerce's tokens live 15 minutes.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// The largest `customer.id` accepted: 2^31 - 1. BigCommerce's reference types customer ids
/// as plain integers, and its ids are 32-bit signed integers in practice; a larger id was
/// not issued by BigCommerce, and would only reach the Management API as a filter no
/// customer can match.
pub const MAX_CUSTOMER_ID: u64 = (1 << 31) - 1;

/// The Current Customer JWT as a [`ClaimProfile`].
pub struct CurrentCustomer;

/// The claims of a Current Customer JWT, as BigCommerce documents them; every field is
/// checked.
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

impl ClaimProfile for CurrentCustomer {
    type Claims = CurrentCustomerClaims;
    type Verified = VerifiedCustomerToken;

    const NAME: &'static str = "current customer token";
    const ISSUER: &'static str = ISSUER;
    const REQUIRED_CLAIMS: &'static [&'static str] = &["exp", "iss", "aud", "sub"];
    const MAX_LIFETIME: Duration = MAX_TOKEN_LIFETIME;

    fn times(claims: &CurrentCustomerClaims) -> TokenTimes {
        TokenTimes {
            issued_at: claims.iat,
            expires: claims.exp,
        }
    }

    /// `sub` is the store hash; `store_hash` must repeat it (checked in [`Self::check`]).
    fn store_hash(claims: &CurrentCustomerClaims) -> Option<&str> {
        Some(&claims.sub)
    }

    fn check(claims: CurrentCustomerClaims) -> Result<VerifiedCustomerToken, AuthError> {
        if claims.operation != OPERATION {
            return Err(AuthError::Claim("operation"));
        }
        if claims.store_hash != claims.sub {
            return Err(AuthError::Claim("store_hash"));
        }
        let store = StoreHash::parse(&claims.sub).ok_or(AuthError::Claim("sub"))?;
        // 0 is a guest, never a signed-in customer.
        CustomerId::new(claims.customer.id)
            .filter(|customer| customer.get() <= MAX_CUSTOMER_ID)
            .map(|customer| VerifiedCustomerToken {
                store,
                customer,
                issued_at: claims.iat,
                expires: claims.exp,
            })
            .ok_or(AuthError::Claim("customer.id"))
    }

    fn example(audience: &str, store_hash: &str, now: u64) -> CurrentCustomerClaims {
        CurrentCustomerClaims {
            customer: ClaimedCustomer { id: 1 },
            iss: ISSUER.to_owned(),
            sub: store_hash.to_owned(),
            iat: now,
            exp: now + 60,
            aud: audience.to_owned(),
            store_hash: store_hash.to_owned(),
            operation: OPERATION.to_owned(),
        }
    }
}

/// Verifies Current Customer JWTs of this app for any store, remembering those that passed;
/// built once at start-up.
pub struct CustomerTokenVerifier {
    verifier: JwtVerifier<CurrentCustomer>,
    memory: VerifiedTokens,
}

/// Any store a hash can name: the claims are checked here, whether the store is served is
/// the registry's answer.
struct AnyStore;

impl ExpectedStore for AnyStore {
    fn admits(&self, store_hash: &str) -> bool {
        StoreHash::parse(store_hash).is_some()
    }
}

/// The store the start-up self-test signs for.
const SELF_TEST_STORE: &str = "selftest";

impl CustomerTokenVerifier {
    /// The verifier of the app of `settings`.
    pub fn new(settings: &AuthSettings) -> Self {
        Self {
            verifier: JwtVerifier::new(settings),
            memory: VerifiedTokens::new(),
        }
    }

    /// Verifies a bearer token and returns the store and customer it names.
    ///
    /// A token that passed every check is remembered, byte for byte, until its `exp`; the
    /// same string is then accepted without repeating the HMAC and the claim checks. Nothing
    /// verification would refuse is accepted from memory: the string is identical, the
    /// secrets are fixed for the life of the process, and the time checks are repeated on
    /// every hit (`exp` strictly, `iat` with the leeway, in case the clock was stepped back).
    pub fn verify(&self, token: &str) -> Result<VerifiedCustomerToken, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TooLarge);
        }
        let now = unix_now();
        if let Some(verified) = self.memory.get(token, now, self.verifier.leeway()) {
            return Ok(verified);
        }
        let verified = self.verifier.verify(token, &AnyStore, now)?;
        if now < verified.expires {
            self.memory.insert(token, verified.clone());
        }
        Ok(verified)
    }

    /// Proves at start-up that the crypto backend signs and verifies with the configured
    /// secret, and refuses a tampered token, for every accepted algorithm. Neither reads nor
    /// fills the memory of tokens.
    pub fn self_test(&self, settings: &AuthSettings) -> Result<(), String> {
        self.verifier.self_test(
            &settings.client_secret,
            &settings.client_id,
            SELF_TEST_STORE,
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::{SystemTime, UNIX_EPOCH};

    use jsonwebtoken::{Algorithm, EncodingKey, Header};
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

    /// The customer a verification found.
    fn customer_of(
        verified: Result<VerifiedCustomerToken, AuthError>,
    ) -> Result<CustomerId, AuthError> {
        verified.map(|verified| verified.customer)
    }

    #[test]
    fn a_valid_current_customer_token_yields_its_store_and_customer() {
        let verifier = CustomerTokenVerifier::new(&settings(vec![Algorithm::HS256]));

        let verified = verifier
            .verify(&sign(&claims(), Algorithm::HS256, SECRET))
            .unwrap();

        assert_eq!(verified.store.as_str(), "abc123");
        assert_eq!(verified.customer, CustomerId::new(42).unwrap());
    }

    #[test]
    fn a_valid_current_customer_token_yields_its_customer() {
        let verifier = CustomerTokenVerifier::new(&settings(vec![Algorithm::HS256]));

        let customer = customer_of(verifier.verify(&sign(&claims(), Algorithm::HS256, SECRET)));

        assert_eq!(customer, Ok(CustomerId::new(42).unwrap()));
    }

    #[test]
    fn a_verified_token_is_remembered_and_only_the_identical_string_matches() {
        let verifier = CustomerTokenVerifier::new(&settings(vec![Algorithm::HS256]));
        let token = sign(&claims(), Algorithm::HS256, SECRET);
        let customer = CustomerId::new(42).unwrap();

        assert_eq!(customer_of(verifier.verify(&token)), Ok(customer));
        assert_eq!(verifier.memory.usage().0, 1);
        assert_eq!(customer_of(verifier.verify(&token)), Ok(customer));
        assert_eq!(verifier.memory.usage().0, 1);

        // The remembered token with its signature changed is verified afresh, and refused.
        // (A character inside the signature: all six of its bits are significant.)
        let mut tampered = token.clone();
        let at = tampered.len() - 5;
        let other = if &tampered[at..=at] == "A" { "B" } else { "A" };
        tampered.replace_range(at..=at, other);
        assert_eq!(
            customer_of(verifier.verify(&tampered)),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            customer_of(verifier.verify(&format!("{token}A"))),
            Err(AuthError::BadSignature)
        );
        assert_eq!(verifier.memory.usage().0, 1);
    }

    #[test]
    fn a_remembered_token_past_its_exp_is_verified_afresh_and_refused() {
        let verifier = CustomerTokenVerifier::new(&settings(vec![Algorithm::HS256]));
        let at = unix_now();
        let expired = sign(
            &with(claims(), &["exp"], json!(at - 120)),
            Algorithm::HS256,
            SECRET,
        );
        // As if it had been verified while still valid.
        verifier.memory.insert(
            &expired,
            VerifiedCustomerToken {
                store: StoreHash::parse("abc123").unwrap(),
                customer: CustomerId::new(42).unwrap(),
                issued_at: at - 1000,
                expires: at - 120,
            },
        );

        assert_eq!(
            customer_of(verifier.verify(&expired)),
            Err(AuthError::Expired)
        );
    }

    #[test]
    fn refused_tokens_and_the_self_test_leave_nothing_in_memory() {
        let settings = settings(vec![Algorithm::HS256, Algorithm::HS512]);
        let verifier = CustomerTokenVerifier::new(&settings);

        verifier.self_test(&settings).unwrap();
        let _ = customer_of(verifier.verify(&sign(&claims(), Algorithm::HS256, "another secret")));
        let _ = verifier.verify(&sign(
            &with(claims(), &["aud"], json!("another-app")),
            Algorithm::HS256,
            SECRET,
        ));

        assert_eq!(verifier.memory.usage().0, 0);
    }

    #[test]
    fn every_wrong_claim_is_refused_with_its_reason() {
        let verifier = CustomerTokenVerifier::new(&settings(vec![Algorithm::HS256]));
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
                "a subject that is not the store_hash claim",
                with(claims(), &["sub"], json!("zzz999")),
                AuthError::Claim("store_hash"),
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
            (
                "customer id past 2^31 - 1",
                with(claims(), &["customer", "id"], json!(MAX_CUSTOMER_ID + 1)),
                AuthError::Claim("customer.id"),
            ),
            (
                "customer id of 2^63",
                with(claims(), &["customer", "id"], json!(1_u64 << 63)),
                AuthError::Claim("customer.id"),
            ),
            (
                "customer id past u64",
                with(
                    claims(),
                    &["customer", "id"],
                    json!(18_446_744_073_709_551_616.0),
                ),
                AuthError::Claim("claims shape"),
            ),
        ];
        for (description, claims, expected) in cases {
            let result = customer_of(verifier.verify(&sign(&claims, Algorithm::HS256, SECRET)));

            assert_eq!(result, Err(expected), "case: {description}");
        }
    }

    #[test]
    fn tokens_with_wrong_keys_algorithms_or_shapes_are_refused() {
        let verifier = CustomerTokenVerifier::new(&settings(vec![Algorithm::HS256]));
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
            (
                "crit null (RFC 7515 allows only a non-empty array)",
                format!("{}.{rest}", "eyJhbGciOiJIUzI1NiIsImNyaXQiOm51bGx9"),
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
                customer_of(verifier.verify(&token)),
                Err(expected),
                "case: {description}"
            );
        }
    }

    #[test]
    fn only_configured_algorithms_are_accepted() {
        let verifier = CustomerTokenVerifier::new(&settings(vec![Algorithm::HS512]));

        assert!(customer_of(verifier.verify(&sign(&claims(), Algorithm::HS512, SECRET))).is_ok());
        assert_eq!(
            customer_of(verifier.verify(&sign(&claims(), Algorithm::HS256, SECRET))),
            Err(AuthError::AlgorithmNotAccepted(Algorithm::HS256))
        );
    }

    #[test]
    fn the_largest_customer_id_is_accepted() {
        let verifier = CustomerTokenVerifier::new(&settings(vec![Algorithm::HS256]));
        let claims = with(claims(), &["customer", "id"], json!(MAX_CUSTOMER_ID));

        let customer = customer_of(verifier.verify(&sign(&claims, Algorithm::HS256, SECRET)));

        assert_eq!(customer, Ok(CustomerId::new(2_147_483_647).unwrap()));
    }

    #[test]
    fn self_test_passes_with_the_crypto_backend() {
        let settings = settings(vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512]);
        let verifier = CustomerTokenVerifier::new(&settings);

        assert_eq!(verifier.self_test(&settings), Ok(()));
    }
}
