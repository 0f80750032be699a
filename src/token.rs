//! `order-metafields token`: signs a Current Customer JWT for local development and curl,
//! with the claims BigCommerce's storefront puts in one (`current_customer.yml`). Real
//! storefronts get their tokens from `/customer/current.jwt`; nothing here is used by `serve`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

/// What a development token says and how it is signed.
#[derive(Debug)]
pub struct DevelopmentToken<'a> {
    pub client_id: &'a str,
    pub store_hash: &'a str,
    pub customer_id: u64,
    pub email: &'a str,
    pub algorithm: Algorithm,
    pub lifetime: Duration,
}

#[derive(Serialize)]
struct Claims<'a> {
    customer: Customer<'a>,
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
struct Customer<'a> {
    id: u64,
    email: &'a str,
    group_id: &'static str,
}

impl DevelopmentToken<'_> {
    /// Signs the token with `client_secret`; only the HMAC algorithms BigCommerce uses.
    pub fn sign(&self, client_secret: &[u8]) -> anyhow::Result<String> {
        if !matches!(
            self.algorithm,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) {
            bail!(
                "current customer tokens are signed with an HMAC algorithm, not {:?}",
                self.algorithm
            );
        }
        let issued_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("system clock is before the unix epoch")?
            .as_secs();
        let claims = Claims {
            customer: Customer {
                id: self.customer_id,
                email: self.email,
                group_id: "0",
            },
            iss: "bc/apps",
            sub: self.store_hash,
            iat: issued_at,
            exp: issued_at + self.lifetime.as_secs(),
            version: 1,
            aud: self.client_id,
            application_id: self.client_id,
            store_hash: self.store_hash,
            operation: "current_customer",
        };
        jsonwebtoken::encode(
            &Header::new(self.algorithm),
            &claims,
            &EncodingKey::from_secret(client_secret),
        )
        .with_context(|| format!("signing a token for customer {}", self.customer_id))
    }
}
