//! Customer access tokens: how a headless storefront's server (Catalyst) proves its shopper.
//! It sends `X-Bc-Customer-Access-Token` with `X-Bc-Store-Hash`; the token is checked once
//! with the store's GraphQL Storefront API (`customer { entityId }`, with the store's private
//! token) and remembered, by a keyed hash of the token, until its expiry and at most 15
//! minutes. Concurrent requests with the same new token share one check (single-flight), and
//! a refusal is never remembered (the next request asks again).
//!
//! A token belongs to one channel (storefront): the request names it (`X-Bc-Channel-Id`,
//! default 1), and it is checked at that channel's GraphQL endpoint with a private token made
//! for that channel. The private token (`Customer` scope) is the service's own: made through
//! the Management API on first need, kept sealed in the database in app mode (in memory only in single-store
//! mode, which has no encryption key), renewed a day before it expires and at once when
//! GraphQL refuses it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use moka::Expiry;
use moka::future::Cache;
use secrecy::SecretString;

use crate::auth::verifier::unix_now;
use crate::database::{Database, PrivateTokenRecord};
use crate::domain::{CustomerId, StoreKey};
use crate::management::error::ManagementError;
use crate::management::storefront::CustomerAnswer;
use crate::problem::ApiError;
use crate::sealing::TokenSealer;
use crate::stores::Store;

/// The longest a checked token is remembered.
pub const MAX_REMEMBERED: Duration = Duration::from_secs(15 * 60);
/// The longest customer access token looked at (BigCommerce's are about 75 bytes).
pub const MAX_CUSTOMER_ACCESS_TOKEN_BYTES: usize = 512;
/// How long a new private token is asked for.
pub const PRIVATE_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// A private token this close to its expiry is renewed before use.
pub const PRIVATE_TOKEN_RENEWAL: Duration = Duration::from_secs(24 * 60 * 60);
/// The most checked tokens remembered at once.
const REMEMBERED_MAX: u64 = 100_000;

/// Why a customer access token was not accepted.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CustomerAccessError {
    /// BigCommerce (or its own expiry suffix) says it is no shopper's token now.
    #[error("the customer access token was refused ({0})")]
    Refused(&'static str),
    /// The GraphQL Storefront API or the Management API failed.
    #[error("checking the customer access token failed: {0}")]
    Upstream(Arc<ManagementError>),
    /// The database (which keeps the private token) failed.
    #[error("the database failed while reading or saving the private token")]
    Database,
    /// The private token could not be sealed or opened.
    #[error("the private token could not be sealed or opened")]
    Sealing,
}

impl From<&CustomerAccessError> for ApiError {
    fn from(error: &CustomerAccessError) -> Self {
        match error {
            CustomerAccessError::Refused(_) => ApiError::Unauthorized { token_sent: true },
            CustomerAccessError::Upstream(error) => ApiError::from(error.as_ref()),
            CustomerAccessError::Database => ApiError::DatabaseUnavailable,
            CustomerAccessError::Sealing => ApiError::Internal,
        }
    }
}

/// Where private tokens are kept.
pub enum PrivateTokenKeeper {
    /// In memory only: single-store mode, which has no encryption key.
    Memory,
    /// Sealed in the database (app mode).
    Sealed {
        database: Database,
        sealer: TokenSealer,
    },
}

/// A private token and its expiry (Unix seconds).
struct PrivateToken {
    token: SecretString,
    expires_at: u64,
}

/// A checked token: whose it is, and for how long it is remembered.
#[derive(Clone)]
struct Checked {
    customer: CustomerId,
    remembered_for: Duration,
}

struct ForAsLongAsChecked;

/// A checked token's key: the store (this installation), the channel, the token's HMAC.
type CheckedKey = (StoreKey, u64, [u8; 32]);

impl Expiry<CheckedKey, Checked> for ForAsLongAsChecked {
    fn expire_after_create(
        &self,
        _key: &CheckedKey,
        checked: &Checked,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(checked.remembered_for)
    }
}

/// The customer access tokens checked, and the stores' private tokens.
pub struct CustomerAccessTokens {
    key: hmac::Key,
    checked: Cache<CheckedKey, Checked>,
    private: Cache<(StoreKey, u64), Arc<PrivateToken>>,
    keeper: PrivateTokenKeeper,
}

impl CustomerAccessTokens {
    /// Nothing checked yet; private tokens kept by `keeper`. The hash key is random per
    /// process; fails only when the system has no randomness.
    pub fn new(keeper: PrivateTokenKeeper) -> Result<Self, String> {
        let mut secret = [0u8; 32];
        SystemRandom::new()
            .fill(&mut secret)
            .map_err(|_| "no system randomness for the customer access tokens' hash key")?;
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            checked: Cache::builder()
                .name("customer-access-tokens")
                .max_capacity(REMEMBERED_MAX)
                .expire_after(ForAsLongAsChecked)
                .build(),
            private: Cache::builder().name("private-tokens").build(),
            keeper,
        })
    }

    /// Whose `token` is, in `store`'s `channel`: remembered, or asked of the channel's GraphQL
    /// Storefront API once for all concurrent callers.
    pub async fn customer(
        &self,
        store: &Arc<Store>,
        channel: u64,
        token: &str,
    ) -> Result<CustomerId, CustomerAccessError> {
        if token.is_empty()
            || token.len() > MAX_CUSTOMER_ACCESS_TOKEN_BYTES
            || !token.bytes().all(|byte| byte.is_ascii_graphic())
        {
            return Err(CustomerAccessError::Refused("malformed"));
        }
        let now = unix_now();
        let expires = expiry_suffix(token);
        if expires.is_some_and(|expires| expires <= now) {
            return Err(CustomerAccessError::Refused("expired"));
        }
        let mut digest = [0u8; 32];
        digest.copy_from_slice(hmac::sign(&self.key, token.as_bytes()).as_ref());
        let key = (store.scope.key, channel, digest);
        let checked = self
            .checked
            .try_get_with(key, self.check(store, channel, token, expires))
            .await
            .map_err(|error| (*error).clone())?;
        Ok(checked.customer)
    }

    /// One check with GraphQL; a refused private token is renewed once.
    async fn check(
        &self,
        store: &Arc<Store>,
        channel: u64,
        token: &str,
        expires: Option<u64>,
    ) -> Result<Checked, CustomerAccessError> {
        let mut renewed = false;
        loop {
            let private = self.private_token(store, channel, renewed).await?;
            let answer = store
                .management()
                .customer_of_access_token(channel, &private.token, token)
                .await
                .map_err(|error| CustomerAccessError::Upstream(Arc::new(error)))?;
            match answer {
                CustomerAnswer::Customer(customer) => {
                    let left = expires.map_or(MAX_REMEMBERED, |expires| {
                        Duration::from_secs(expires.saturating_sub(unix_now()))
                    });
                    return Ok(Checked {
                        customer,
                        remembered_for: left.min(MAX_REMEMBERED),
                    });
                }
                CustomerAnswer::NoCustomer => {
                    return Err(CustomerAccessError::Refused("no customer"));
                }
                CustomerAnswer::PrivateTokenRefused if !renewed => {
                    tracing::info!(store = %store.hash.as_str(), "the store's private token was refused; making a new one");
                    self.private.invalidate(&(store.scope.key, channel)).await;
                    renewed = true;
                }
                CustomerAnswer::PrivateTokenRefused => {
                    return Err(CustomerAccessError::Upstream(Arc::new(
                        ManagementError::Rejected {
                            operation:
                                crate::management::error::Operation::VerifyCustomerAccessToken,
                            status: 401,
                        },
                    )));
                }
            }
        }
    }

    /// The store's private token: remembered, else the saved one, else a new one (always a
    /// new one when `fresh`). One load at a time per store.
    async fn private_token(
        &self,
        store: &Arc<Store>,
        channel: u64,
        fresh: bool,
    ) -> Result<Arc<PrivateToken>, CustomerAccessError> {
        let key = (store.scope.key, channel);
        if let Some(private) = self.private.get(&key).await {
            if private.expires_at > unix_now() + PRIVATE_TOKEN_RENEWAL.as_secs() {
                return Ok(private);
            }
            self.private.invalidate(&key).await;
        }
        self.private
            .try_get_with(key, self.load_private_token(store, channel, fresh))
            .await
            .map_err(|error| (*error).clone())
    }

    async fn load_private_token(
        &self,
        store: &Arc<Store>,
        channel: u64,
        fresh: bool,
    ) -> Result<Arc<PrivateToken>, CustomerAccessError> {
        let hash = store.hash.as_str();
        let channel_column = i64::try_from(channel).unwrap_or(i64::MAX);
        let sealed_for = format!("{hash}/private-token");
        if let (PrivateTokenKeeper::Sealed { database, sealer }, false) = (&self.keeper, fresh) {
            let saved = database
                .private_token(hash, channel_column)
                .await
                .map_err(|error| {
                    tracing::warn!(error = %error, "cannot read the store's private token");
                    CustomerAccessError::Database
                })?;
            if let Some(saved) = saved {
                let expires_at = u64::try_from(saved.expires_at).unwrap_or(0);
                if expires_at > unix_now() + PRIVATE_TOKEN_RENEWAL.as_secs() {
                    // A token sealed with a key no longer configured (the previous
                    // TOKEN_ENCRYPTION_KEY, removed after a rotation) is replaced below by a
                    // new one, sealed with the current key.
                    match sealer.open(&sealed_for, &saved.sealed_token, &saved.token_key_id) {
                        Ok(token) => return Ok(Arc::new(PrivateToken { token, expires_at })),
                        Err(_) => tracing::warn!(
                            store = hash,
                            channel,
                            "the saved private token cannot be opened with the configured keys; making a new one"
                        ),
                    }
                }
            }
        }
        let expires_at = unix_now() + PRIVATE_TOKEN_LIFETIME.as_secs();
        let token = store
            .management()
            .create_private_token(channel, expires_at)
            .await
            .map_err(|error| {
                tracing::warn!(error = %error, "cannot make the store's private token");
                CustomerAccessError::Upstream(Arc::new(error))
            })?;
        if let PrivateTokenKeeper::Sealed { database, sealer } = &self.keeper {
            let (sealed_token, token_key_id) = sealer
                .seal(&sealed_for, &token)
                .map_err(|_| CustomerAccessError::Sealing)?;
            let record = PrivateTokenRecord {
                sealed_token,
                token_key_id,
                expires_at: i64::try_from(expires_at).unwrap_or(i64::MAX),
            };
            database
                .save_private_token(hash, channel_column, &record)
                .await
                .map_err(|error| {
                    tracing::warn!(error = %error, "cannot save the store's private token");
                    CustomerAccessError::Database
                })?;
        }
        Ok(Arc::new(PrivateToken { token, expires_at }))
    }
}

/// The expiry BigCommerce writes at the end of a customer access token (`…_1721406629`, the
/// `expiresAt` it answered with the token), if the token has one.
fn expiry_suffix(token: &str) -> Option<u64> {
    let (_, suffix) = token.rsplit_once('_')?;
    if suffix.is_empty() || suffix.len() > 12 || !suffix.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    suffix.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expiry_suffix_is_the_unix_time_after_the_last_underscore() {
        assert_eq!(
            expiry_suffix(
                "53ea9099d5484cdedddbf8f59a73bc284afefd7943c4dbe578db52435e0c0de7_1721406629"
            ),
            Some(1_721_406_629)
        );
        assert_eq!(expiry_suffix("no-suffix"), None);
        assert_eq!(expiry_suffix("abc_"), None);
        assert_eq!(expiry_suffix("abc_12x"), None);
        assert_eq!(expiry_suffix("abc_1234567890123"), None);
    }
}
