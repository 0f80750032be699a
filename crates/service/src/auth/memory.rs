//! The memory of Current Customer tokens that passed every check, until their `exp`: a
//! storefront sends the same token with every call for its fifteen minutes, so the same
//! string is then accepted without repeating the HMAC and the claim checks. A bounded
//! `moka::sync::Cache` (per-entry expiry at the token's `exp`, weighed in bytes); nothing
//! verification would refuse is ever accepted from it.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::sync::Cache;

use crate::auth::verifier::unix_now;
use crate::domain::{CustomerId, StoreHash};

/// The largest number of verified tokens remembered: about one per signed-in shopper active
/// in the last fifteen minutes.
pub const VERIFIED_TOKENS_MAX: u64 = 16_384;
/// The largest total weight of the memory, in bytes.
pub const VERIFIED_TOKENS_MAX_BYTES: u64 = 16 * 1024 * 1024;

/// What a remembered token said: its store and customer, `iat` and `exp` (seconds since
/// the epoch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCustomerToken {
    pub store: StoreHash,
    pub customer: CustomerId,
    pub issued_at: u64,
    pub expires: u64,
}

/// Tokens that passed verification, until their `exp`.
///
/// Looked up by a keyed hash of the signature (the key is random per process, so nobody can
/// aim a token at another's slot), then compared whole in constant time. Tokens that share
/// a slot only replace each other. Every entry weighs at least
/// `VERIFIED_TOKENS_MAX_BYTES / VERIFIED_TOKENS_MAX` (1 KiB; BigCommerce's tokens are about
/// 700 bytes), so the one byte bound also holds the count to `VERIFIED_TOKENS_MAX`.
pub struct VerifiedTokens {
    hasher: RandomState,
    tokens: Cache<u64, RememberedToken>,
}

#[derive(Clone)]
struct RememberedToken {
    token: Arc<str>,
    verified: VerifiedCustomerToken,
}

/// Each entry leaves the cache at its token's `exp`, by the wall clock at insertion.
struct UntilExp;

impl VerifiedTokens {
    /// An empty memory.
    pub fn new() -> Self {
        Self {
            hasher: RandomState::new(),
            tokens: Cache::builder()
                .name("verified-tokens")
                .max_capacity(VERIFIED_TOKENS_MAX_BYTES)
                .weigher(|_, remembered: &RememberedToken| {
                    weight(remembered.token.len() + remembered.verified.store.as_str().len())
                })
                .expire_after(UntilExp)
                .build(),
        }
    }

    /// What `token` said when this exact string was remembered, and it is still within its
    /// times at `now`: `exp` strictly, `iat` with `leeway` (in case the clock was stepped
    /// back since it was verified).
    pub fn get(&self, token: &str, now: u64, leeway: Duration) -> Option<VerifiedCustomerToken> {
        let remembered = self.tokens.get(&self.key(token))?;
        let same = aws_lc_rs::constant_time::verify_slices_are_equal(
            remembered.token.as_bytes(),
            token.as_bytes(),
        )
        .is_ok();
        let verified = remembered.verified;
        let in_time =
            now < verified.expires && verified.issued_at <= now.saturating_add(leeway.as_secs());
        (same && in_time).then_some(verified)
    }

    /// Remembers `token`, which passed every check, until its `exp`; a token already past
    /// it is not kept.
    pub fn insert(&self, token: &str, verified: VerifiedCustomerToken) {
        if time_left(verified.expires, unix_now()).is_zero() {
            return;
        }
        self.tokens.insert(
            self.key(token),
            RememberedToken {
                token: Arc::from(token),
                verified,
            },
        );
    }

    /// The slot of a token: a keyed hash of its signature, which is already a MAC of all the
    /// rest (hashing the whole token costs several times more).
    fn key(&self, token: &str) -> u64 {
        let signature = token
            .rsplit_once('.')
            .map_or(token, |(_, signature)| signature);
        self.hasher.hash_one(signature)
    }

    /// Tokens remembered and their total weight, once pending evictions have run.
    #[cfg(test)]
    pub(crate) fn usage(&self) -> (u64, u64) {
        self.tokens.run_pending_tasks();
        (self.tokens.entry_count(), self.tokens.weighted_size())
    }
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self::new()
    }
}

/// A token's weight in the memory: its bytes and the entry's own, at least 1 KiB.
fn weight(token_bytes: usize) -> u32 {
    let bytes = token_bytes + std::mem::size_of::<RememberedToken>() + std::mem::size_of::<u64>();
    let floor = VERIFIED_TOKENS_MAX_BYTES / VERIFIED_TOKENS_MAX;
    u32::try_from(bytes.max(floor as usize)).unwrap_or(u32::MAX)
}

/// How long a token expiring at `expires` has left at `now` (seconds since the epoch).
fn time_left(expires: u64, now: u64) -> Duration {
    Duration::from_secs(expires.saturating_sub(now))
}

impl Expiry<u64, RememberedToken> for UntilExp {
    fn expire_after_create(
        &self,
        _key: &u64,
        remembered: &RememberedToken,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(time_left(remembered.verified.expires, unix_now()))
    }

    fn expire_after_update(
        &self,
        _key: &u64,
        remembered: &RememberedToken,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        // Another token took the slot: it lives until its own `exp`.
        Some(time_left(remembered.verified.expires, unix_now()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const LEEWAY: Duration = Duration::from_secs(30);

    fn verified(customer: u64, issued_at: u64, expires: u64) -> VerifiedCustomerToken {
        VerifiedCustomerToken {
            store: StoreHash::parse("abc123").unwrap(),
            customer: CustomerId::new(customer).unwrap(),
            issued_at,
            expires,
        }
    }

    fn customer(id: u64) -> Option<CustomerId> {
        CustomerId::new(id)
    }

    /// The customer a memory lookup found.
    trait Customer {
        fn customer(self) -> Option<CustomerId>;
    }

    impl Customer for Option<VerifiedCustomerToken> {
        fn customer(self) -> Option<CustomerId> {
            self.map(|verified| verified.customer)
        }
    }

    #[test]
    fn only_the_identical_string_is_found() {
        let memory = VerifiedTokens::new();
        let now = unix_now();
        memory.insert("head.claims.signature", verified(7, now, now + 900));

        assert_eq!(
            memory.get("head.claims.signature", now, LEEWAY).customer(),
            customer(7)
        );
        // Same signature, so the same slot: the whole-string comparison refuses it.
        assert_eq!(
            memory.get("head.other.signature", now, LEEWAY).customer(),
            None
        );
        assert_eq!(
            memory.get("head.claims.signaturf", now, LEEWAY).customer(),
            None
        );
        assert_eq!(
            memory.get("head.claims.signature.", now, LEEWAY).customer(),
            None
        );
    }

    #[test]
    fn a_remembered_token_is_refused_from_its_exp_on() {
        let memory = VerifiedTokens::new();
        let now = unix_now();
        memory.insert("token", verified(7, now - 100, now + 50));

        assert_eq!(
            memory.get("token", now + 49, LEEWAY).customer(),
            customer(7)
        );
        assert_eq!(memory.get("token", now + 50, LEEWAY).customer(), None);
    }

    #[test]
    fn a_remembered_token_is_refused_when_the_clock_goes_back_before_its_iat() {
        let memory = VerifiedTokens::new();
        let now = unix_now();
        memory.insert("token", verified(7, now, now + 900));

        assert_eq!(memory.get("token", now, LEEWAY).customer(), customer(7));
        assert_eq!(
            memory.get("token", now - 30, LEEWAY).customer(),
            customer(7),
            "leeway"
        );
        assert_eq!(
            memory.get("token", now - 31, LEEWAY).customer(),
            None,
            "stepped back"
        );
    }

    #[test]
    fn a_token_already_expired_by_the_wall_clock_is_not_kept() {
        let memory = VerifiedTokens::new();
        let now = unix_now();
        memory.insert("token", verified(7, now - 1000, now - 1));

        // Asked about a moment when it was still valid, it is gone all the same.
        assert_eq!(memory.get("token", now - 10, LEEWAY).customer(), None);
        assert_eq!(memory.usage().0, 0);
    }

    #[test]
    fn each_entry_lives_until_its_own_exp() {
        assert_eq!(time_left(1_900, 1_000), Duration::from_secs(900));
        assert_eq!(time_left(1_000, 1_000), Duration::ZERO);
        assert_eq!(time_left(900, 1_000), Duration::ZERO);
        let remembered = |expires| RememberedToken {
            token: Arc::from("token"),
            verified: verified(7, 0, expires),
        };
        let now = unix_now();
        let left = UntilExp
            .expire_after_create(&0, &remembered(now + 900), Instant::now())
            .unwrap();
        assert!(
            (Duration::from_secs(899)..=Duration::from_secs(900)).contains(&left),
            "{left:?}"
        );
        let replaced = UntilExp
            .expire_after_update(
                &0,
                &remembered(now + 60),
                Instant::now(),
                Some(Duration::from_secs(900)),
            )
            .unwrap();
        assert!(replaced <= Duration::from_secs(60), "{replaced:?}");
    }

    #[test]
    fn the_memory_stays_within_its_count_and_byte_bounds() {
        let now = unix_now();
        let small = VerifiedTokens::new();
        for n in 0..VERIFIED_TOKENS_MAX + 2_000 {
            small.insert(&format!("token-{n}"), verified(7, now, now + 900));
        }
        let (count, bytes) = small.usage();
        assert!(count <= VERIFIED_TOKENS_MAX, "{count}");
        assert!(bytes <= VERIFIED_TOKENS_MAX_BYTES, "{bytes}");
        assert!(count > VERIFIED_TOKENS_MAX / 2, "mostly full: {count}");

        let large = VerifiedTokens::new();
        let pad = "x".repeat(crate::auth::MAX_TOKEN_BYTES - 8);
        let fit = VERIFIED_TOKENS_MAX_BYTES / crate::auth::MAX_TOKEN_BYTES as u64;
        for n in 0..fit + 500 {
            large.insert(&format!("{n:08}{pad}"), verified(7, now, now + 900));
        }
        let (count, bytes) = large.usage();
        assert!(bytes <= VERIFIED_TOKENS_MAX_BYTES, "{bytes}");
        assert!(count < fit, "{count}");
    }

    #[test]
    fn an_entry_weighs_its_bytes_and_at_least_a_kibibyte() {
        assert_eq!(weight(10), 1024);
        assert_eq!(weight(700), 1024);
        let large = weight(8 * 1024);
        assert!(large > 8 * 1024 && large < 8 * 1024 + 256, "{large}");
    }
}
