//! Mints Current Customer JWTs exactly as a BigCommerce storefront does at
//! `/customer/current.jwt` (claims from `current_customer.yml`). It is the one place that builds
//! those claims; the storefront routes and the `token` CLI both call it, and it touches no state.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

/// The shopper a Current Customer token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCustomer {
    /// The customer's id in the store (positive).
    pub id: u64,
    /// The customer's email address.
    pub email: String,
    /// The customer group id; BigCommerce sends it as a string ("0" when the shopper has none).
    pub group_id: String,
}

/// Signs a Current Customer JWT for `customer`, valid for `lifetime` from now.
///
/// The header is `{"typ":"JWT","alg":…}` and the claims are those of BigCommerce's
/// `current_customer.yml` example, in the same order. Only HMAC algorithms are accepted, because
/// BigCommerce signs these tokens with the app's client secret.
pub fn mint_current_customer_token(
    client_id: &str,
    client_secret: &[u8],
    store_hash: &str,
    customer: &TokenCustomer,
    algorithm: Algorithm,
    lifetime: Duration,
) -> anyhow::Result<String> {
    if !matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ) {
        bail!("current customer tokens are signed with an HMAC algorithm, not {algorithm:?}");
    }
    let issued_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("system clock is before the unix epoch")?
        .as_secs();
    let claims = CurrentCustomerClaims {
        customer: ClaimsCustomer {
            id: customer.id,
            email: &customer.email,
            group_id: &customer.group_id,
        },
        iss: "bc/apps",
        sub: store_hash,
        iat: issued_at,
        exp: issued_at + lifetime.as_secs(),
        version: 1,
        aud: client_id,
        application_id: client_id,
        store_hash,
        operation: "current_customer",
    };
    jsonwebtoken::encode(
        &Header::new(algorithm),
        &claims,
        &EncodingKey::from_secret(client_secret),
    )
    .with_context(|| {
        format!(
            "signing a current customer token for customer {}",
            customer.id
        )
    })
}

#[derive(Serialize)]
struct CurrentCustomerClaims<'a> {
    customer: ClaimsCustomer<'a>,
    iss: &'static str,
    sub: &'a str,
    iat: u64,
    exp: u64,
    version: u8,
    aud: &'a str,
    application_id: &'a str,
    store_hash: &'a str,
    operation: &'static str,
}

#[derive(Serialize)]
struct ClaimsCustomer<'a> {
    id: u64,
    email: &'a str,
    group_id: &'a str,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
    use serde_json::{Value, json};

    use super::*;

    fn jane() -> TokenCustomer {
        TokenCustomer {
            id: 4927,
            email: "jane@example.com".to_owned(),
            group_id: "6".to_owned(),
        }
    }

    #[test]
    fn minted_token_decodes_with_every_current_customer_claim() {
        let token = mint_current_customer_token(
            "client-1",
            b"secret",
            "abc123",
            &jane(),
            Algorithm::HS256,
            Duration::from_secs(900),
        )
        .unwrap();

        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&["client-1"]);
        validation.set_issuer(&["bc/apps"]);
        let claims = decode::<Value>(&token, &DecodingKey::from_secret(b"secret"), &validation)
            .unwrap()
            .claims;
        let issued_at = claims["iat"].as_u64().unwrap();
        assert_eq!(claims["exp"].as_u64().unwrap(), issued_at + 900);
        let mut fixed = claims.clone();
        fixed["iat"] = json!(0);
        fixed["exp"] = json!(0);
        assert_eq!(
            fixed,
            json!({
                "customer": {"id": 4927, "email": "jane@example.com", "group_id": "6"},
                "iss": "bc/apps", "sub": "abc123", "iat": 0, "exp": 0, "version": 1,
                "aud": "client-1", "application_id": "client-1", "store_hash": "abc123",
                "operation": "current_customer"
            })
        );
    }

    #[test]
    fn minted_token_header_names_the_requested_algorithm() {
        let token = mint_current_customer_token(
            "client-1",
            b"secret",
            "abc123",
            &jane(),
            Algorithm::HS512,
            Duration::from_secs(900),
        )
        .unwrap();

        let header = decode_header(&token).unwrap();

        assert_eq!(header.alg, Algorithm::HS512);
        assert_eq!(header.typ.as_deref(), Some("JWT"));
    }

    #[test]
    fn minting_refuses_a_non_hmac_algorithm() {
        let result = mint_current_customer_token(
            "client-1",
            b"secret",
            "abc123",
            &jane(),
            Algorithm::RS256,
            Duration::from_secs(900),
        );

        assert!(result.is_err());
    }
}
