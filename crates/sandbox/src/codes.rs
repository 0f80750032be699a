//! The login service's authorization codes: each made for one store, one app, one control-panel
//! user and the scopes the merchant granted, good once and for a short time. Pure bookkeeping
//! over `Instant`s, like `quota`; `app` keeps the codes, `login` redeems them. It also makes the
//! random strings the login service hands out (codes and access tokens).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::RngExt;

/// At most this many codes are outstanding; making one more forgets the oldest. Codes are made
/// by control-panel clicks, which anyone who reaches the sandbox can send, so the memory they
/// take is bounded.
const MOST_OUTSTANDING: usize = 1_024;
/// The length of a code: BigCommerce's examples have 16 characters (`qr6h3thvbvag2ffq`).
const CODE_LENGTH: usize = 16;

/// What a code stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    /// The store it installs the app on.
    pub store_hash: String,
    /// The app it was made for.
    pub client_id: String,
    /// The scopes the merchant granted, as the auth callback's `scope` lists them.
    pub scopes: Vec<String>,
    /// The control panel user who clicked Install.
    pub user_id: u64,
}

/// The codes made and not yet used or expired.
pub(crate) struct Codes {
    lifetime: Duration,
    outstanding: HashMap<String, Outstanding>,
}

struct Outstanding {
    grant: Grant,
    issued: Instant,
}

impl Codes {
    /// No codes yet; each code made will be good for `lifetime`.
    pub(crate) fn new(lifetime: Duration) -> Self {
        Self {
            lifetime,
            outstanding: HashMap::new(),
        }
    }

    /// Makes a code for `grant` at `now`, after forgetting the codes that expired and, when
    /// there are too many, the oldest.
    pub(crate) fn issue(&mut self, grant: Grant, now: Instant) -> String {
        let lifetime = self.lifetime;
        self.outstanding
            .retain(|_, code| now.saturating_duration_since(code.issued) < lifetime);
        if self.outstanding.len() >= MOST_OUTSTANDING
            && let Some(oldest) = self
                .outstanding
                .iter()
                .min_by_key(|(_, code)| code.issued)
                .map(|(code, _)| code.clone())
        {
            self.outstanding.remove(&oldest);
        }
        let code = random_string(CODE_LENGTH);
        self.outstanding
            .insert(code.clone(), Outstanding { grant, issued: now });
        code
    }

    /// The grant of `code`, if it was made, is not used up and has not expired at `now`.
    pub(crate) fn grant(&self, code: &str, now: Instant) -> Option<&Grant> {
        self.outstanding
            .get(code)
            .filter(|code| now.saturating_duration_since(code.issued) < self.lifetime)
            .map(|code| &code.grant)
    }

    /// Uses `code` up: it is good once.
    pub(crate) fn redeem(&mut self, code: &str) -> Option<Grant> {
        self.outstanding.remove(code).map(|code| code.grant)
    }
}

/// `length` random lowercase letters and digits, the alphabet of BigCommerce's codes and
/// access tokens.
pub(crate) fn random_string(length: usize) -> String {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..length)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn grant(store_hash: &str) -> Grant {
        Grant {
            store_hash: store_hash.to_owned(),
            client_id: "client".to_owned(),
            scopes: vec!["store_v2_orders_read_only".to_owned()],
            user_id: 7,
        }
    }

    #[test]
    fn a_code_stands_for_its_grant_until_redeemed_once() {
        let mut codes = Codes::new(Duration::from_secs(300));
        let now = Instant::now();
        let code = codes.issue(grant("abc"), now);

        assert_eq!(codes.grant(&code, now), Some(&grant("abc")));
        assert_eq!(codes.redeem(&code), Some(grant("abc")));
        assert_eq!(codes.grant(&code, now), None);
        assert_eq!(codes.redeem(&code), None);
    }

    #[test]
    fn a_code_expires_after_its_lifetime() {
        let mut codes = Codes::new(Duration::from_secs(300));
        let now = Instant::now();
        let code = codes.issue(grant("abc"), now);

        assert!(codes.grant(&code, now + Duration::from_secs(299)).is_some());
        assert!(codes.grant(&code, now + Duration::from_secs(300)).is_none());
    }

    #[test]
    fn a_code_of_no_lifetime_is_expired_at_once() {
        let mut codes = Codes::new(Duration::ZERO);
        let now = Instant::now();
        let code = codes.issue(grant("abc"), now);

        assert!(codes.grant(&code, now).is_none());
    }

    #[test]
    fn making_codes_forgets_expired_ones_and_keeps_at_most_the_bound() {
        let mut codes = Codes::new(Duration::from_secs(300));
        let start = Instant::now();
        let first = codes.issue(grant("abc"), start);
        for step in 1..=MOST_OUTSTANDING as u64 {
            codes.issue(grant("abc"), start + Duration::from_millis(step));
        }

        assert_eq!(codes.outstanding.len(), MOST_OUTSTANDING);
        assert!(
            codes.grant(&first, start).is_none(),
            "the oldest went first"
        );
        codes.issue(grant("abc"), start + Duration::from_secs(600));
        assert_eq!(codes.outstanding.len(), 1);
    }

    #[test]
    fn random_strings_use_the_alphabet_and_differ() {
        let first = random_string(31);
        let second = random_string(31);

        assert_eq!(first.len(), 31);
        assert!(
            first
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit())
        );
        assert_ne!(first, second);
    }
}
