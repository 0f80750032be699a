//! `signed_payload_jwt`: the claims BigCommerce signs for the app's `load`, `uninstall` and
//! `remove_user` callbacks (the callbacks guide's example, field for field and in its order),
//! and signing them with the client secret. Public, so that tests of the service can forge,
//! expire and replay payloads; it touches no state.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long a payload is good for: "Currently, 24 hours after `nbf`" (callbacks guide).
pub const SIGNED_PAYLOAD_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// The claims of a `signed_payload_jwt` (callbacks guide, "Data properties in the
/// signed_payload_jwt"). Every field is public so that a test can change any of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedPayloadClaims {
    /// The app's client id.
    pub aud: String,
    /// Always `bc`.
    pub iss: String,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// Not valid before, Unix seconds: "always the same as `iat`".
    pub nbf: u64,
    /// Expires at, Unix seconds: 24 hours after `nbf`.
    pub exp: u64,
    /// A fresh UUID per payload.
    pub jti: String,
    /// `stores/{store hash}`.
    pub sub: String,
    /// The user the callback is about: who opened or uninstalled the app, or who was removed.
    pub user: PayloadUser,
    /// The store owner.
    pub owner: PayloadOwner,
    /// The deep link the app was opened at; `/` from the Apps menu.
    pub url: String,
    /// The channel the click came from; `null` from the Apps menu.
    pub channel_id: Option<u64>,
}

/// The payload's `user`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadUser {
    /// BigCommerce's user id.
    pub id: u64,
    /// The user's email.
    pub email: String,
    /// BCP 47 language tag.
    pub locale: String,
}

/// The payload's `owner`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadOwner {
    /// BigCommerce's user id of the store owner.
    pub id: u64,
    /// The owner's email.
    pub email: String,
}

impl SignedPayloadClaims {
    /// The claims BigCommerce sends now about `user` of store `store_hash`, opened from the
    /// Apps menu: issued and valid from now for `SIGNED_PAYLOAD_LIFETIME`, a fresh `jti`.
    pub fn issued_now(
        client_id: &str,
        store_hash: &str,
        user: PayloadUser,
        owner: PayloadOwner,
    ) -> anyhow::Result<Self> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("system clock is before the unix epoch")?
            .as_secs();
        Ok(Self {
            aud: client_id.to_owned(),
            iss: "bc".to_owned(),
            iat: now,
            nbf: now,
            exp: now + SIGNED_PAYLOAD_LIFETIME.as_secs(),
            jti: Uuid::new_v4().to_string(),
            sub: format!("stores/{store_hash}"),
            user,
            owner,
            url: "/".to_owned(),
            channel_id: None,
        })
    }
}

/// Signs `claims` (a `SignedPayloadClaims`, or any JSON a test wants to forge) as a
/// `signed_payload_jwt` with `key` (the client secret, or any other key) and an HMAC
/// `algorithm`; BigCommerce signs with HS256 and the client secret.
pub fn sign_payload<T: Serialize>(
    claims: &T,
    key: &[u8],
    algorithm: Algorithm,
) -> anyhow::Result<String> {
    if !matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ) {
        bail!("signed payloads are signed with an HMAC algorithm, not {algorithm:?}");
    }
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(key),
    )
    .context("signing a signed_payload_jwt")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
    use serde_json::{Value, json};

    use super::*;

    fn claims() -> SignedPayloadClaims {
        SignedPayloadClaims::issued_now(
            "client-1",
            "abc123",
            PayloadUser {
                id: 9,
                email: "user@example.com".to_owned(),
                locale: "en-GB".to_owned(),
            },
            PayloadOwner {
                id: 7,
                email: "owner@example.com".to_owned(),
            },
        )
        .unwrap()
    }

    #[test]
    fn claims_follow_the_guide_s_rules_and_order() {
        let claims = claims();

        let text = serde_json::to_string(&claims).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();

        let order = [
            "aud",
            "iss",
            "iat",
            "nbf",
            "exp",
            "jti",
            "sub",
            "user",
            "owner",
            "url",
            "channel_id",
        ];
        let positions: Vec<usize> = order
            .iter()
            .map(|key| text.find(&format!("\"{key}\":")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "{text}");
        assert_eq!(claims.nbf, claims.iat);
        assert_eq!(claims.exp, claims.nbf + 86_400);
        assert_eq!(Uuid::parse_str(&claims.jti).unwrap().get_version_num(), 4);
        assert_eq!(
            value,
            json!({
                "aud": "client-1", "iss": "bc", "iat": claims.iat, "nbf": claims.iat,
                "exp": claims.exp, "jti": claims.jti, "sub": "stores/abc123",
                "user": {"id": 9, "email": "user@example.com", "locale": "en-GB"},
                "owner": {"id": 7, "email": "owner@example.com"},
                "url": "/", "channel_id": null
            })
        );
    }

    #[test]
    fn every_payload_gets_its_own_jti() {
        assert_ne!(claims().jti, claims().jti);
    }

    #[test]
    fn a_signed_payload_verifies_with_the_key_and_algorithm_it_was_signed_with() {
        let token = sign_payload(&claims(), b"secret", Algorithm::HS256).unwrap();

        let header = decode_header(&token).unwrap();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&["client-1"]);
        validation.set_issuer(&["bc"]);
        let decoded = decode::<Value>(&token, &DecodingKey::from_secret(b"secret"), &validation);
        let wrong_key = decode::<Value>(&token, &DecodingKey::from_secret(b"other"), &validation);

        assert_eq!(
            (header.alg, header.typ.as_deref()),
            (Algorithm::HS256, Some("JWT"))
        );
        assert_eq!(decoded.unwrap().claims["sub"], "stores/abc123");
        assert!(wrong_key.is_err());
    }

    #[test]
    fn any_json_may_be_signed_but_only_with_hmac() {
        let forged = sign_payload(&json!({"aud": ["a", "b"]}), b"k", Algorithm::HS512).unwrap();

        assert_eq!(decode_header(&forged).unwrap().alg, Algorithm::HS512);
        assert!(sign_payload(&claims(), b"k", Algorithm::RS256).is_err());
    }
}
