//! The sandbox's stores by hash: what the Management API's gate and the login service look a
//! request's store up in. Fixed at start; each store's own state is `store`'s.

use std::sync::Arc;

use crate::store::SandboxStore;

/// Every store the sandbox serves, the first store first.
#[derive(Clone)]
pub(crate) struct Stores(Arc<[SandboxStore]>);

impl Stores {
    pub(crate) fn new(stores: Vec<SandboxStore>) -> Self {
        Self(stores.into())
    }

    /// The store whose hash is `hash`.
    pub(crate) fn get(&self, hash: &str) -> Option<&SandboxStore> {
        self.0.iter().find(|store| store.hash() == hash)
    }
}
