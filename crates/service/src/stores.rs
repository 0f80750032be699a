//! The stores this service serves now, in memory: looked up by hash on every request (one
//! atomic load and a hash-map probe, never a database query), replaced whole when a store
//! is installed or leaves. Each store has its own Management API client (its own access
//! token and quota pacer) and visibility policy, and a [`StoreKey`] that is new for every
//! installation, so nothing cached for an earlier installation can be served to a later one.
//! What is persisted, and when, is `lifecycle`'s business. A store also carries, in memory,
//! whether its shoppers see only the orders of the storefront they are on (its setting,
//! read from the database when it is served and swapped when the merchant changes it);
//! which storefront each of its site origins is, `origins` knows.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use arc_swap::ArcSwap;
use secrecy::SecretString;

use crate::access::StoreScope;
use crate::database::Database;
use crate::domain::{StoreHash, StoreKey, VisibilityPolicy};
use crate::fields::FieldDefinitions;
use crate::management::{ManagementApi, ManagementClient};
use crate::mirror::{Source, StoreMirror};

/// One store being served.
pub struct Store {
    pub hash: StoreHash,
    /// Its key, Management API client and visibility policy, as `access` reads them.
    pub scope: StoreScope,
    /// How it arrived: an install, or single-store mode's environment (which no uninstall
    /// callback may remove).
    pub origin: Origin,
    /// Whether shoppers see only the orders of the channel whose storefront made the request.
    channel_orders: AtomicBool,
}

/// How a store came to be served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `BC_STORE_HASH` and `BC_ACCESS_TOKEN`.
    Environment,
    /// The app's install flow.
    Installed,
}

/// The stores served now.
pub struct StoreRegistry {
    stores: ArcSwap<HashMap<StoreHash, Arc<Store>>>,
    next_key: AtomicU32,
    api: ManagementApi,
    /// `SYNC_MODE=mirror`: where each store's mirror is, and the most orders a list holds.
    mirrors: Option<(Database, u64)>,
}

impl StoreRegistry {
    /// No stores yet; each store's client will come from `api`.
    pub fn new(api: ManagementApi) -> Self {
        Self {
            stores: ArcSwap::from_pointee(HashMap::new()),
            next_key: AtomicU32::new(1),
            api,
            mirrors: None,
        }
    }

    /// The same, giving every store it serves a mirror in `database` (`SYNC_MODE=mirror`)
    /// whose lists hold at most `max_orders` orders.
    #[must_use]
    pub fn with_mirrors(self, database: Database, max_orders: u64) -> Self {
        Self {
            mirrors: Some((database, max_orders)),
            ..self
        }
    }

    /// The store with this hash, if it is served.
    pub fn get(&self, store_hash: &str) -> Option<Arc<Store>> {
        self.stores.load().get(store_hash).cloned()
    }

    /// Serves `store_hash` with `access_token` from now on, replacing an earlier
    /// installation of it (which keeps its key, so the caller must invalidate what was
    /// cached for it), with its channel-orders setting as stored: in place before the first
    /// request can find the store. Returns the new store.
    #[allow(clippy::too_many_arguments)]
    pub fn serve(
        &self,
        store_hash: StoreHash,
        access_token: &SecretString,
        policy: VisibilityPolicy,
        fields: FieldDefinitions,
        origin: Origin,
        channel_orders: bool,
    ) -> Arc<Store> {
        let key = StoreKey::new(self.next_key.fetch_add(1, Ordering::Relaxed));
        let store = Arc::new(Store {
            scope: StoreScope {
                key,
                source: Source {
                    client: self.api.store(store_hash.as_str(), access_token),
                    mirror: self.mirrors.as_ref().map(|(database, max_orders)| {
                        StoreMirror::new(store_hash.clone(), database.clone(), *max_orders)
                    }),
                },
                policy,
                fields: ArcSwap::from_pointee(fields),
                figures: crate::access::StoreFigures::default(),
            },
            hash: store_hash.clone(),
            origin,
            channel_orders: AtomicBool::new(channel_orders),
        });
        self.stores.rcu(|stores| {
            let mut stores = HashMap::clone(stores);
            stores.insert(store_hash.clone(), Arc::clone(&store));
            stores
        });
        store
    }

    /// Stops serving `store_hash`; returns the store it was, if any.
    pub fn remove(&self, store_hash: &str) -> Option<Arc<Store>> {
        let mut removed = None;
        self.stores.rcu(|stores| {
            let mut stores = HashMap::clone(stores);
            removed = stores.remove(store_hash);
            stores
        });
        removed
    }

    /// The hash of the store served under `key`, if it is still served.
    pub fn hash_of(&self, key: StoreKey) -> Option<StoreHash> {
        self.stores
            .load()
            .values()
            .find(|store| store.scope.key == key)
            .map(|store| store.hash.clone())
    }

    /// Every store served now, by hash.
    pub fn all(&self) -> Vec<Arc<Store>> {
        let mut stores: Vec<Arc<Store>> = self.stores.load().values().cloned().collect();
        stores.sort_by(|a, b| a.hash.cmp(&b.hash));
        stores
    }

    /// How many stores are served.
    pub fn len(&self) -> usize {
        self.stores.load().len()
    }

    /// Whether no store is served.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Store {
    /// The store's Management API client.
    pub fn management(&self) -> &ManagementClient {
        &self.scope.source.client
    }

    /// The store's mirror, when reads come from one (`SYNC_MODE=mirror`).
    pub fn mirror(&self) -> Option<&Arc<StoreMirror>> {
        self.scope.source.mirror.as_ref()
    }

    /// Whether shoppers see only the orders of the storefront they are on.
    pub fn channel_orders(&self) -> bool {
        self.channel_orders.load(Ordering::Acquire)
    }

    /// Switches the setting in memory (the caller stores it and records the change).
    pub fn set_channel_orders(&self, on: bool) {
        self.channel_orders.store(on, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use super::*;
    use crate::config::UpstreamSettings;

    fn registry() -> StoreRegistry {
        let upstream = UpstreamSettings {
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
            retry_budget: Duration::from_secs(1),
            max_retries: 0,
            orders_max_pages: 1,
            quota_share: 0.5,
            queue_max: 1,
            readiness_interval: Duration::from_secs(1),
        };
        let api = ManagementApi::new(&"http://127.0.0.1:9/".parse().unwrap(), &upstream).unwrap();
        StoreRegistry::new(api)
    }

    fn serve(registry: &StoreRegistry, hash: &str) -> Arc<Store> {
        registry.serve(
            StoreHash::parse(hash).unwrap(),
            &SecretString::from("token"),
            VisibilityPolicy::default(),
            FieldDefinitions::default(),
            Origin::Installed,
            false,
        )
    }

    #[test]
    fn stores_are_found_by_hash_until_removed() {
        let registry = registry();

        let first = serve(&registry, "abc123");
        serve(&registry, "xyz789");
        let removed = registry.remove("abc123");

        assert!(Arc::ptr_eq(&removed.unwrap(), &first));
        assert!(registry.get("abc123").is_none());
        assert_eq!(registry.get("xyz789").unwrap().hash.as_str(), "xyz789");
        assert_eq!(registry.len(), 1);
        assert!(registry.remove("abc123").is_none());
    }

    #[test]
    fn every_installation_gets_a_new_key() {
        let registry = registry();

        let first = serve(&registry, "abc123");
        registry.remove("abc123");
        let again = serve(&registry, "abc123");
        let other = serve(&registry, "xyz789");

        assert_ne!(first.scope.key, again.scope.key);
        assert_ne!(again.scope.key, other.scope.key);
        assert_eq!(registry.get("abc123").unwrap().scope.key, again.scope.key);
    }
}
