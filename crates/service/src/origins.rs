//! The origins whose pages may call this service from a browser: `CORS_ALLOWED_ORIGINS`,
//! plus (in app mode) the site URLs of every served store's channels. Read by CORS on every
//! cross-origin request and by the cookie session's write checks; replaced whole when a
//! store's sites are learned or the store leaves. Origins are compared exactly as browsers
//! send them (`scheme://host[:port]`, no path, no trailing slash).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::domain::StoreHash;

/// What a store's sites say (app mode): the origins its pages come from, the channel whose
/// site each origin is (an origin two channels share is in neither), and every channel that
/// has a site.
#[derive(Clone, Debug, Default)]
pub struct StoreSites {
    pub origins: Vec<String>,
    pub channel_of: HashMap<String, u64>,
    pub channels: BTreeSet<u64>,
}

/// The allowed origins: fixed by configuration, and learned per store.
pub struct AllowedOrigins {
    fixed: Vec<String>,
    /// Every origin allowed now (fixed and learned), for one hash probe per request.
    all: ArcSwap<HashSet<String>>,
    /// Each store's sites, by store hash: a store served anew (a reinstall, a replica's
    /// reload) keeps them until its sites are read again.
    learned: ArcSwap<HashMap<StoreHash, Arc<StoreSites>>>,
}

impl AllowedOrigins {
    /// The origins of `CORS_ALLOWED_ORIGINS`, and none learned yet.
    pub fn new(fixed: Vec<String>) -> Self {
        let all = fixed.iter().cloned().collect();
        Self {
            fixed,
            all: ArcSwap::from_pointee(all),
            learned: ArcSwap::from_pointee(HashMap::new()),
        }
    }

    /// The channel whose site of `store` answers on `origin`, if exactly one does.
    pub fn channel_of(&self, store: &StoreHash, origin: &str) -> Option<u64> {
        self.learned
            .load()
            .get(store)?
            .channel_of
            .get(origin)
            .copied()
    }

    /// Whether `channel` has a site of `store`; `None` while the store's sites are not
    /// known (single-store mode never reads them).
    pub fn has_channel(&self, store: &StoreHash, channel: u64) -> Option<bool> {
        Some(self.learned.load().get(store)?.channels.contains(&channel))
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
                .is_some_and(|sites| sites.origins.iter().any(|learned| learned == origin))
    }

    /// The configured origins (`CORS_ALLOWED_ORIGINS`), for log lines.
    pub fn fixed(&self) -> &[String] {
        &self.fixed
    }

    /// Replaces what `store`'s sites say; sites without an origin forget the store.
    pub fn set_store(&self, store: &StoreHash, sites: StoreSites) {
        let sites = Arc::new(sites);
        self.learned.rcu(|learned| {
            let mut learned = HashMap::clone(learned);
            if sites.origins.is_empty() {
                learned.remove(store);
            } else {
                learned.insert(store.clone(), Arc::clone(&sites));
            }
            learned
        });
        let learned = self.learned.load();
        let all = self
            .fixed
            .iter()
            .chain(learned.values().flat_map(|sites| sites.origins.iter()))
            .cloned()
            .collect();
        self.all.store(Arc::new(all));
    }

    /// The origins learned for `store`, sorted.
    pub fn of_store(&self, store: &StoreHash) -> Vec<String> {
        let mut origins = self
            .learned
            .load()
            .get(store)
            .map(|sites| sites.origins.clone())
            .unwrap_or_default();
        origins.sort();
        origins
    }
}

/// The origin (`scheme://host[:port]`) of a site URL as browsers send it in `Origin`, or
/// `None` for a URL that has none (not http or https).
pub fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    // A site served over plain http is no origin to trust with a shopper's data (anyone on
    // its network could be it), except on this machine (a development storefront).
    let loopback = matches!(
        parsed.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    );
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return None,
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
            StoreSites {
                origins: vec!["https://shop.example".to_owned()],
                channel_of: HashMap::from([("https://shop.example".to_owned(), 2)]),
                channels: BTreeSet::from([1, 2]),
            },
        );
        origins.set_store(
            &other,
            StoreSites {
                origins: vec!["https://other.example".to_owned()],
                ..StoreSites::default()
            },
        );
        assert_eq!(origins.has_channel(&store, 2), Some(true));
        assert_eq!(origins.has_channel(&store, 3), Some(false));
        assert_eq!(
            origins.has_channel(&StoreHash::parse("new1").unwrap(), 3),
            None
        );

        assert!(origins.allows(b"https://fixed.example"));
        assert!(origins.allows(b"https://shop.example"));
        assert!(origins.allows_for_store(&store, "https://shop.example"));
        assert!(origins.allows_for_store(&store, "https://fixed.example"));
        assert!(!origins.allows_for_store(&store, "https://other.example"));
        assert!(!origins.allows(b"https://shop.example/"));

        assert_eq!(origins.channel_of(&store, "https://shop.example"), Some(2));
        assert_eq!(origins.channel_of(&other, "https://shop.example"), None);
        origins.set_store(&store, StoreSites::default());
        assert_eq!(origins.channel_of(&store, "https://shop.example"), None);

        assert!(!origins.allows(b"https://shop.example"));
        assert!(origins.allows(b"https://other.example"));
        assert!(origins.allows(b"https://fixed.example"));
    }

    #[test]
    fn a_site_url_becomes_the_origin_a_browser_sends_https_or_http_on_loopback() {
        assert_eq!(
            origin_of("https://www.Shop.example/").as_deref(),
            Some("https://www.shop.example")
        );
        // Plain http only on this machine (a development storefront).
        assert_eq!(origin_of("http://shop.example:8080/store/"), None);
        assert_eq!(
            origin_of("http://127.0.0.1:8081/").as_deref(),
            Some("http://127.0.0.1:8081")
        );
        assert_eq!(
            origin_of("http://localhost:3000").as_deref(),
            Some("http://localhost:3000")
        );
        assert_eq!(
            origin_of("https://shop.example:443").as_deref(),
            Some("https://shop.example")
        );
        assert_eq!(origin_of("ftp://shop.example"), None);
        assert_eq!(origin_of("not a url"), None);
    }
}
