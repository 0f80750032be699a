//! The origins whose pages may call this service from a browser: `CORS_ALLOWED_ORIGINS`,
//! plus (in app mode) the site URLs of every served store's channels. Read by CORS on every
//! cross-origin request and by the cookie session's write checks; replaced whole when a
//! store's sites are learned or the store leaves. Origins are compared exactly as browsers
//! send them (`scheme://host[:port]`, no path, no trailing slash).

use std::collections::{HashMap, HashSet};

use arc_swap::ArcSwap;

use crate::domain::StoreHash;

/// The allowed origins: fixed by configuration, and learned per store.
pub struct AllowedOrigins {
    fixed: Vec<String>,
    /// Every origin allowed now (fixed and learned), for one hash probe per request.
    all: ArcSwap<HashSet<String>>,
    /// Each store's learned origins.
    learned: ArcSwap<HashMap<StoreHash, Vec<String>>>,
    /// Each store's learned origins with the channel whose site each is (an origin two
    /// channels share is in neither), for the channel-orders setting. Kept by store hash,
    /// so that a store served anew (a reinstall, a replica's reload) keeps them until its
    /// sites are read again.
    channels: ArcSwap<HashMap<StoreHash, HashMap<String, u64>>>,
}

impl AllowedOrigins {
    /// The origins of `CORS_ALLOWED_ORIGINS`, and none learned yet.
    pub fn new(fixed: Vec<String>) -> Self {
        let all = fixed.iter().cloned().collect();
        Self {
            fixed,
            all: ArcSwap::from_pointee(all),
            learned: ArcSwap::from_pointee(HashMap::new()),
            channels: ArcSwap::from_pointee(HashMap::new()),
        }
    }

    /// The channel whose site of `store` answers on `origin`, if exactly one does.
    pub fn channel_of(&self, store: &StoreHash, origin: &str) -> Option<u64> {
        self.channels.load().get(store)?.get(origin).copied()
    }

    /// Whether a page of `origin` may call this service.
    pub fn allows(&self, origin: &[u8]) -> bool {
        std::str::from_utf8(origin).is_ok_and(|origin| self.all.load().contains(origin))
    }

    /// Whether `origin` is one of `store`'s learned origins or a configured one.
    pub fn allows_for_store(&self, store: &StoreHash, origin: &str) -> bool {
        self.fixed.iter().any(|fixed| fixed == origin)
            || self
                .learned
                .load()
                .get(store)
                .is_some_and(|origins| origins.iter().any(|learned| learned == origin))
    }

    /// The configured origins (`CORS_ALLOWED_ORIGINS`), for log lines.
    pub fn fixed(&self) -> &[String] {
        &self.fixed
    }

    /// Replaces what `store` allows (its sites' origins) and which channel each of them is
    /// (`channels`); an empty list forgets the store.
    pub fn set_store(
        &self,
        store: &StoreHash,
        origins: Vec<String>,
        channels: HashMap<String, u64>,
    ) {
        self.channels.rcu(|known| {
            let mut known = HashMap::clone(known);
            if origins.is_empty() {
                known.remove(store);
            } else {
                known.insert(store.clone(), channels.clone());
            }
            known
        });
        self.learned.rcu(|learned| {
            let mut learned = HashMap::clone(learned);
            if origins.is_empty() {
                learned.remove(store);
            } else {
                learned.insert(store.clone(), origins.clone());
            }
            learned
        });
        let learned = self.learned.load();
        let all = self
            .fixed
            .iter()
            .chain(learned.values().flatten())
            .cloned()
            .collect();
        self.all.store(std::sync::Arc::new(all));
    }

    /// The origins learned for `store`, sorted.
    pub fn of_store(&self, store: &StoreHash) -> Vec<String> {
        let mut origins = self.learned.load().get(store).cloned().unwrap_or_default();
        origins.sort();
        origins
    }
}

/// The origin (`scheme://host[:port]`) of a site URL as browsers send it in `Origin`, or
/// `None` for a URL that has none (not http or https).
pub fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    Some(parsed.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn learned_origins_are_allowed_until_the_store_forgets_them() {
        let origins = AllowedOrigins::new(vec!["https://fixed.example".to_owned()]);
        let store = StoreHash::parse("abc123").unwrap();
        let other = StoreHash::parse("xyz789").unwrap();

        origins.set_store(
            &store,
            vec!["https://shop.example".to_owned()],
            HashMap::from([("https://shop.example".to_owned(), 2)]),
        );
        origins.set_store(
            &other,
            vec!["https://other.example".to_owned()],
            HashMap::new(),
        );

        assert!(origins.allows(b"https://fixed.example"));
        assert!(origins.allows(b"https://shop.example"));
        assert!(origins.allows_for_store(&store, "https://shop.example"));
        assert!(origins.allows_for_store(&store, "https://fixed.example"));
        assert!(!origins.allows_for_store(&store, "https://other.example"));
        assert!(!origins.allows(b"https://shop.example/"));

        assert_eq!(origins.channel_of(&store, "https://shop.example"), Some(2));
        assert_eq!(origins.channel_of(&other, "https://shop.example"), None);
        origins.set_store(&store, Vec::new(), HashMap::new());
        assert_eq!(origins.channel_of(&store, "https://shop.example"), None);

        assert!(!origins.allows(b"https://shop.example"));
        assert!(origins.allows(b"https://other.example"));
        assert!(origins.allows(b"https://fixed.example"));
    }

    #[test]
    fn a_site_url_becomes_the_origin_a_browser_sends() {
        assert_eq!(
            origin_of("https://www.Shop.example/").as_deref(),
            Some("https://www.shop.example")
        );
        assert_eq!(
            origin_of("http://shop.example:8080/store/").as_deref(),
            Some("http://shop.example:8080")
        );
        assert_eq!(
            origin_of("https://shop.example:443").as_deref(),
            Some("https://shop.example")
        );
        assert_eq!(origin_of("ftp://shop.example"), None);
        assert_eq!(origin_of("not a url"), None);
    }
}
