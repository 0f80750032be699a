//! The log of changes BigCommerce announced (by webhook): what changed, numbered in the
//! order it was recorded. A cached value remembers the log's position when its load
//! started; it may be served to a request only if no change recorded after that position,
//! up to the request's own starting position, can have made it wrong. The log is bounded:
//! a value older than the oldest change it still holds counts as changed.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::{CustomerId, OrderId, StoreKey};

/// How many of the latest changes are kept (about 24 bytes each). A cached value that was
/// loaded before the oldest of them is reloaded rather than trusted.
pub const CHANGE_LOG_CAPACITY: usize = 65_536;

/// Something that changed at BigCommerce, as a webhook names it, or a store the app left.
/// Every change names its store: order ids repeat across stores. Serialisable, so that
/// other replicas hear of it (`replicas`): a new kind needs only its arm in [`Change::store`]
/// and [`Change::for_store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The order changed in any way (status, owner, deletion...): every customer list
    /// holding it and its metafields may be wrong.
    Order(StoreKey, OrderId),
    /// Only the order's metafields changed.
    OrderMetafields(StoreKey, OrderId),
    /// The customer's list gained an order (placed, or moved to them from another customer):
    /// their cached list, which does not hold it, is wrong. Recorded by a mirror, which knows
    /// the owner; a webhook names only the order.
    CustomerOrders(StoreKey, CustomerId),
    /// The store uninstalled the app: nothing cached for it may be served again.
    Store(StoreKey),
    /// The merchant changed the store's field definitions: every metafield answer of the
    /// store (rendered with the old labels, types, order and hidden fields) is wrong; order
    /// lists are not.
    FieldDefinitions(StoreKey),
    /// The merchant changed the store's settings (which channel's orders shoppers see).
    /// Nothing cached is wrong (lists are filtered per request); other replicas read the
    /// settings again when they hear of it.
    Settings(StoreKey),
}

impl Change {
    /// The store the change is about.
    pub fn store(&self) -> StoreKey {
        match *self {
            Change::Order(store, _)
            | Change::OrderMetafields(store, _)
            | Change::CustomerOrders(store, _)
            | Change::Store(store)
            | Change::FieldDefinitions(store)
            | Change::Settings(store) => store,
        }
    }

    /// The same change filed under `store`: another replica's change, under the key this
    /// replica gave the same store (keys are per replica and per installation).
    #[must_use]
    pub fn for_store(self, store: StoreKey) -> Self {
        match self {
            Change::Order(_, order) => Change::Order(store, order),
            Change::OrderMetafields(_, order) => Change::OrderMetafields(store, order),
            Change::CustomerOrders(_, customer) => Change::CustomerOrders(store, customer),
            Change::Store(_) => Change::Store(store),
            Change::FieldDefinitions(_) => Change::FieldDefinitions(store),
            Change::Settings(_) => Change::Settings(store),
        }
    }
}

/// A position in the change log: how many changes had been recorded at some moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Revision(u64);

/// The bounded log of recorded changes.
#[derive(Debug)]
pub struct ChangeLog {
    /// The number of changes recorded so far; written only with `recent` locked, so that a
    /// reader who sees a revision finds every change up to it in `recent`.
    head: AtomicU64,
    /// The latest changes: the last one is number `head`.
    recent: Mutex<VecDeque<Change>>,
    capacity: usize,
}

impl Revision {
    /// The number of changes recorded before this position.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The position after `count` changes.
    pub(crate) fn from_count(count: u64) -> Self {
        Self(count)
    }
}

impl ChangeLog {
    /// An empty log keeping the latest `capacity` changes (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            head: AtomicU64::new(0),
            recent: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
            capacity,
        }
    }

    /// The position after the latest recorded change. Cheap: one atomic load.
    pub fn head(&self) -> Revision {
        Revision(self.head.load(Ordering::Acquire))
    }

    /// Records a change; returns the position just after it.
    pub fn record(&self, change: Change) -> Revision {
        let mut recent = self.lock();
        if recent.len() == self.capacity {
            recent.pop_front();
        }
        recent.push_back(change);
        let head = self.head.load(Ordering::Relaxed) + 1;
        self.head.store(head, Ordering::Release);
        Revision(head)
    }

    /// Whether any change recorded after `since` and up to `until` satisfies `affects`.
    /// Changes the log no longer holds are taken to affect everything.
    pub fn any_between(
        &self,
        since: Revision,
        until: Revision,
        mut affects: impl FnMut(&Change) -> bool,
    ) -> bool {
        if until <= since {
            return false;
        }
        let recent = self.lock();
        let head = self.head.load(Ordering::Relaxed);
        // `recent` holds the changes numbered `first..=head`.
        let first = head + 1 - recent.len() as u64;
        if since.0 + 1 < first {
            return true;
        }
        let until = until.0.min(head);
        (since.0 + 1..=until).any(|number| {
            usize::try_from(number - first)
                .ok()
                .and_then(|index| recent.get(index))
                .is_none_or(&mut affects)
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Change>> {
        // A deque of plain values is valid after any panic; a poisoned lock is still usable.
        self.recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const STORE: StoreKey = StoreKey::new(1);

    fn order(id: u64) -> OrderId {
        OrderId::new(id).unwrap()
    }

    fn names(id: u64) -> impl FnMut(&Change) -> bool {
        move |change| *change == Change::Order(STORE, order(id))
    }

    #[test]
    fn a_change_is_found_only_between_the_positions_that_enclose_it() {
        let log = ChangeLog::new(8);
        let before = log.head();
        let after_first = log.record(Change::Order(STORE, order(1)));
        let after_second = log.record(Change::OrderMetafields(STORE, order(2)));

        let cases = [
            (before, after_first, 1, true, "the change itself"),
            (before, after_second, 1, true, "a wider range"),
            (
                after_first,
                after_second,
                1,
                false,
                "recorded before the range",
            ),
            (before, before, 1, false, "an empty range"),
            (before, after_second, 3, false, "another order"),
            (after_second, Revision(99), 1, false, "nothing recorded yet"),
        ];
        for (since, until, id, expected, description) in cases {
            assert_eq!(
                log.any_between(since, until, names(id)),
                expected,
                "case: {description}"
            );
        }
        assert_eq!(after_second.get(), 2);
    }

    #[test]
    fn changes_the_log_no_longer_holds_affect_everything() {
        let log = ChangeLog::new(2);
        let start = log.head();
        log.record(Change::Order(STORE, order(1)));
        let kept_from = log.record(Change::Order(STORE, order(2)));
        log.record(Change::Order(STORE, order(3)));

        assert!(
            log.any_between(start, log.head(), names(99)),
            "forgotten: assume affected"
        );
        assert!(!log.any_between(kept_from, log.head(), names(99)));
        assert!(log.any_between(kept_from, log.head(), names(3)));
    }
}
