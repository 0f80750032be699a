//! The writing side of `SYNC_MODE=mirror`. One task per served store, on every replica; the
//! one holding the store's sync lease (a PostgreSQL advisory lock; SQLite is one replica)
//! syncs it, the others follow its state (which parts are complete) from the database.
//!
//! - **Initial sync**, resumable: orders by ascending id (`min_id`), then the batch order
//!   metafields by cursor, each page saved with the position it reached in one transaction,
//!   only storefront-visible metafields kept. Progress: log lines with counts and an ETA,
//!   metrics, the merchant page.
//! - **Webhooks**: an order a webhook named (noted in `mirror_pending` by whichever replica
//!   received it) is read again whole: the order (or its absence) and its metafields.
//! - **Catch-up**, every `MIRROR_CATCH_UP_INTERVAL`: orders by `min_date_modified`, metafields
//!   by `date_modified:min`, from high-water marks, so a change whose webhook never came shows
//!   within one interval.
//! - **Reconciliation**, every `MIRROR_RECONCILE_INTERVAL`: every id compared with
//!   BigCommerce's, for deletions (which no date query finds) whose webhook never came.
//!
//! Every change written is recorded through `access` after it is in the database (so the
//! cache reloads from the mirror, on every replica). Every call goes through the store's
//! quota pacer, one at a time, so a sync spends the store's window beside shoppers' reads,
//! never past the share.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use aws_lc_rs::digest;
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{StoreMirror, metafield_row};
use crate::access::Access;
use crate::cache::changes::Change;
use crate::config::SyncSettings;
use crate::database::{Database, MirrorStateRecord, MirrorWrite, MirroredOrder, SyncLease};
use crate::domain::{CustomerId, Metafield, Order, OrderId, VisibilityPolicy};
use crate::management::ManagementClient;
use crate::management::error::ManagementError;
use crate::management::pagination::PAGE_LIMIT;
use crate::management::sync::OrderState;
use crate::metrics::MirrorMetrics;
use crate::stores::{Store, StoreRegistry};

/// How often the supervisor looks for stores served or gone (memory only).
const STORES_POLL: Duration = Duration::from_secs(1);
/// How often a replica that does not sync a store tries for its lease and reads its state.
const FOLLOW_POLL: Duration = Duration::from_secs(2);
/// How often the supervisor looks for orders webhooks named (on any replica) that wait: one
/// query for every store, which wakes the stores that have some.
const PENDING_POLL: Duration = Duration::from_secs(1);
/// The longest a syncing store waits without looking at its lease and its waiting orders.
const IDLE_CHECK: Duration = Duration::from_secs(30);
/// How long a failed call or query waits before the sync tries again.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// How long a sync whose token BigCommerce refused waits before it tries again.
const REFUSED_RETRY: Duration = Duration::from_secs(60);
/// Re-read before the latest high-water mark: changes BigCommerce stamped while a walk was
/// under way (or with a clock this far apart from ours) are read again, never missed.
const OVERLAP_SECONDS: i64 = 60;
/// Orders a webhook named that one step reads again.
const PENDING_BATCH: u64 = 50;
/// At most this many pages in one catch-up walk (the next catch-up goes on).
const MAX_CATCH_UP_PAGES: u32 = 400;
/// Log the initial sync's progress at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// What every store's sync needs.
#[derive(Clone)]
pub struct Syncer {
    pub stores: Arc<StoreRegistry>,
    pub database: Database,
    pub access: Access,
    pub settings: SyncSettings,
    pub metrics: MirrorMetrics,
}

/// Starts the supervisor on the current runtime: a sync task for each store served with a
/// mirror, ended when the store is no longer served (or served anew).
pub fn start(syncer: Syncer) -> JoinHandle<()> {
    tokio::spawn(supervise(syncer))
}

/// A store's sync task, aborted when dropped: when the supervisor ends (the server
/// stopped), every store's sync ends with it.
struct Task(JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn supervise(syncer: Syncer) {
    let mut tasks: HashMap<crate::domain::StoreHash, (crate::domain::StoreKey, Task)> =
        HashMap::new();
    let mut poll = tokio::time::interval(STORES_POLL.min(PENDING_POLL));
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        poll.tick().await;
        // Orders a webhook named on any replica: the stores that have some are woken (only
        // the replica syncing a store acts on it).
        match syncer.database.stores_with_mirror_pending().await {
            Ok(hashes) => {
                for hash in hashes {
                    if let Some(mirror) = syncer
                        .stores
                        .get(&hash)
                        .as_ref()
                        .and_then(|store| store.mirror())
                    {
                        mirror.wake.notify_one();
                    }
                }
            }
            Err(error) => {
                tracing::debug!(error = %error, "mirror: cannot look for orders webhooks named");
            }
        }
        let served = syncer.stores.all();
        tasks.retain(|hash, (key, _task)| {
            served
                .iter()
                .any(|store| &store.hash == hash && store.scope.key == *key)
        });
        for store in served {
            if store.mirror().is_none() || tasks.contains_key(&store.hash) {
                continue;
            }
            let task = Task(tokio::spawn(run_store(syncer.clone(), Arc::clone(&store))));
            tasks.insert(store.hash.clone(), (store.scope.key, task));
        }
    }
}

/// One store's sync on this replica, for as long as the store is served: sync while holding
/// the lease, follow while another replica holds it.
async fn run_store(syncer: Syncer, store: Arc<Store>) {
    let Some(mirror) = store.mirror().cloned() else {
        return;
    };
    let hash = store.hash.as_str();
    loop {
        match syncer.database.try_sync_lease(lease_key(hash)).await {
            Ok(Some(lease)) => {
                mirror.progress.syncing_here.store(true, Ordering::Relaxed);
                tracing::info!(store = hash, "mirror: this replica syncs the store");
                let mut sync = StoreSync {
                    syncer: &syncer,
                    store: &store,
                    mirror: &mirror,
                    lease: &lease,
                };
                let ended = sync.run().await;
                mirror.progress.syncing_here.store(false, Ordering::Relaxed);
                match ended {
                    Ended::LeaseLost => {
                        tracing::warn!(
                            store = hash,
                            "mirror: the sync lease was lost; another replica may sync the store now"
                        );
                    }
                    Ended::Refused(error) => {
                        tracing::warn!(store = hash, error = %error, "mirror: BigCommerce refuses the store's token; reads go to the Management API until it is served again");
                        mirror.set_ready(false, false);
                        // An uninstall stops serving the store (and this task) soon; until
                        // then, one try a minute.
                        tokio::time::sleep(REFUSED_RETRY).await;
                    }
                }
            }
            Ok(None) => follow(&syncer.database, &mirror).await,
            Err(error) => {
                tracing::warn!(store = hash, error = %error, "mirror: cannot take the sync lease");
            }
        }
        tokio::time::sleep(FOLLOW_POLL).await;
    }
}

/// Another replica syncs the store: take in which parts are complete, and its progress.
async fn follow(database: &Database, mirror: &StoreMirror) {
    match database.mirror_state(mirror.hash.as_str()).await {
        Ok(Some(state)) => mirror.show(&state, None),
        Ok(None) => mirror.set_ready(false, false),
        Err(error) => {
            tracing::warn!(store = mirror.hash.as_str(), error = %error, "mirror: cannot read the sync's state");
        }
    }
}

/// The lock key of a store's sync lease.
fn lease_key(store_hash: &str) -> i64 {
    let digest = digest::digest(&digest::SHA256, format!("mirror/{store_hash}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    i64::from_be_bytes(first)
}

/// The visibility policy as the mirror's state records it: the metafields kept were chosen
/// by it, so another one (the store's settings changed) starts the mirror again.
fn policy_text(policy: &VisibilityPolicy) -> String {
    let names: Vec<&String> = policy.extra_namespaces().iter().collect();
    serde_json::to_string(&names).unwrap_or_default()
}

/// The instant `seconds` (Unix) was, by this process's clock; long ago when `None`.
fn instant_of(seconds: Option<i64>) -> Instant {
    let ago = seconds.map_or(u64::MAX, |seconds| {
        u64::try_from(unix_now().saturating_sub(seconds)).unwrap_or(0)
    });
    let now = Instant::now();
    now.checked_sub(Duration::from_secs(ago))
        .unwrap_or_else(|| {
            now.checked_sub(Duration::from_secs(365 * 86_400))
                .unwrap_or(now)
        })
}

fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Why a store's sync stopped on this replica.
enum Ended {
    LeaseLost,
    /// BigCommerce refused the token (an uninstall on its way).
    Refused(ManagementError),
}

/// Why one step did not finish.
enum StepError {
    Upstream(ManagementError),
    Database(crate::database::DatabaseError),
}

impl From<ManagementError> for StepError {
    fn from(error: ManagementError) -> Self {
        StepError::Upstream(error)
    }
}

impl From<crate::database::DatabaseError> for StepError {
    fn from(error: crate::database::DatabaseError) -> Self {
        StepError::Database(error)
    }
}

impl StoreMirror {
    /// Takes in a state read from the database (`syncing` gives this replica's rate, for
    /// the ETA).
    fn show(&self, state: &MirrorStateRecord, eta: Option<u64>) {
        self.set_ready(state.orders_complete, state.metafields_complete);
        let progress = &self.progress;
        progress.orders_total.store(
            u64::try_from(state.orders_total).unwrap_or(0),
            Ordering::Relaxed,
        );
        progress.orders_synced.store(
            u64::try_from(state.orders_synced).unwrap_or(0),
            Ordering::Relaxed,
        );
        progress.eta_seconds.store(
            eta.and_then(|eta| i64::try_from(eta).ok()).unwrap_or(-1),
            Ordering::Relaxed,
        );
        progress
            .caught_up_at
            .store(state.caught_up_at.unwrap_or(0), Ordering::Relaxed);
    }
}

struct StoreSync<'a> {
    syncer: &'a Syncer,
    store: &'a Arc<Store>,
    mirror: &'a Arc<StoreMirror>,
    lease: &'a SyncLease,
}

impl StoreSync<'_> {
    fn client(&self) -> &ManagementClient {
        self.store.management()
    }

    fn hash(&self) -> &str {
        self.store.hash.as_str()
    }

    fn policy(&self) -> &VisibilityPolicy {
        &self.store.scope.policy
    }

    /// Syncs until the lease is lost or BigCommerce refuses the token; every other failure
    /// is retried.
    async fn run(&mut self) -> Ended {
        let mut state = loop {
            match self.begin().await {
                Ok(state) => break state,
                Err(StepError::Upstream(error)) if refused(&error) => {
                    return Ended::Refused(error);
                }
                Err(error) => self.failed("begin", &error).await,
            }
            if !self.lease.holds().await {
                return Ended::LeaseLost;
            }
        };
        // When each was last done, from the saved state: a replica that restarts more often
        // than the interval still catches up and reconciles on time.
        let mut last_catch_up = instant_of(state.caught_up_at.or(state.completed_at));
        let mut last_reconcile = instant_of(state.reconciled_at.or(Some(state.started_at)));
        loop {
            if !self.lease.holds().await {
                return Ended::LeaseLost;
            }
            let step = if !state.orders_complete || !state.metafields_complete {
                self.initial(&mut state).await
            } else {
                let settings = &self.syncer.settings;
                let mut step = self.pending().await;
                if step.is_ok() && last_catch_up.elapsed() >= settings.catch_up_interval {
                    step = self.catch_up(&mut state).await;
                    if step.is_ok() {
                        last_catch_up = Instant::now();
                    }
                }
                if step.is_ok() && last_reconcile.elapsed() >= settings.reconcile_interval {
                    step = self.reconcile(&mut state).await;
                    if step.is_ok() {
                        last_reconcile = Instant::now();
                    }
                }
                if step.is_ok() {
                    // Until a webhook's order wakes it (this replica's at once, another's
                    // within the supervisor's poll) or the next catch-up is due.
                    let next = (last_catch_up + settings.catch_up_interval)
                        .min(Instant::now() + IDLE_CHECK);
                    let _ = tokio::time::timeout_at(next, self.mirror.wake.notified()).await;
                }
                step
            };
            match step {
                Ok(()) => {}
                Err(StepError::Upstream(error)) if refused(&error) => {
                    return Ended::Refused(error);
                }
                Err(error) => {
                    self.failed("sync", &error).await;
                    // What the database holds is the truth: a failed write left it as it was.
                    if let Ok(Some(saved)) = self.syncer.database.mirror_state(self.hash()).await {
                        state = saved;
                    }
                }
            }
        }
    }

    async fn failed(&self, step: &'static str, error: &StepError) {
        match error {
            StepError::Upstream(error) => {
                tracing::warn!(store = self.hash(), step, error = %error, "mirror: BigCommerce did not answer; trying again soon");
            }
            StepError::Database(error) => {
                tracing::warn!(store = self.hash(), step, error = %error, "mirror: the database failed; trying again soon");
            }
        }
        self.syncer.metrics.failed(match error {
            StepError::Upstream(_) => "upstream",
            StepError::Database(_) => "database",
        });
        tokio::time::sleep(RETRY_AFTER).await;
    }

    /// The state to go on from: the saved one (a restart resumes), or a new one when there is
    /// none or it was built under another visibility policy.
    async fn begin(&self) -> Result<MirrorStateRecord, StepError> {
        let policy = policy_text(self.policy());
        if let Some(state) = self.syncer.database.mirror_state(self.hash()).await?
            && state.policy == policy
        {
            if !(state.orders_complete && state.metafields_complete) {
                tracing::info!(
                    store = self.hash(),
                    orders_synced = state.orders_synced,
                    orders_total = state.orders_total,
                    "mirror: resuming the initial sync where it stopped"
                );
            }
            self.mirror.show(&state, None);
            return Ok(state);
        }
        let total = self.client().orders_count(self.client().deadline()).await?;
        let now = unix_now();
        let state = MirrorStateRecord {
            policy,
            started_at: now,
            orders_total: i64::try_from(total).unwrap_or(i64::MAX),
            orders_synced: 0,
            orders_next_id: 1,
            orders_complete: false,
            // What changes while the initial sync walks is read again by the first catch-up.
            orders_since: now - OVERLAP_SECONDS,
            metafields_after: None,
            metafields_complete: false,
            metafields_since: now - OVERLAP_SECONDS,
            completed_at: None,
            caught_up_at: None,
            reconciled_at: Some(now),
        };
        self.syncer
            .database
            .start_mirror(self.hash(), &state)
            .await?;
        tracing::info!(
            store = self.hash(),
            orders_total = total,
            "mirror: initial sync begins"
        );
        self.mirror.set_ready(false, false);
        Ok(state)
    }

    /// The initial sync to its end, a page at a time, each saved with its position.
    async fn initial(&self, state: &mut MirrorStateRecord) -> Result<(), StepError> {
        let began = Instant::now();
        let synced_at_start = state.orders_synced;
        let mut logged = Instant::now();
        let left = state.orders_total.saturating_sub(state.orders_synced);
        self.syncer.metrics.orders_left(left);
        while !state.orders_complete {
            if !self.lease.holds().await {
                return Ok(());
            }
            let page = self
                .client()
                .orders_from_id(
                    u64::try_from(state.orders_next_id).unwrap_or(1),
                    self.client().deadline(),
                )
                .await?;
            let mut next = state.clone();
            next.orders_complete = page.len() < PAGE_LIMIT as usize;
            if let Some(last) = page.last() {
                next.orders_next_id = i64::try_from(last.id.get())
                    .unwrap_or(i64::MAX)
                    .saturating_add(1);
            }
            let count = i64::try_from(page.len()).unwrap_or(0);
            next.orders_synced = state.orders_synced.saturating_add(count);
            let rows = order_rows(&page);
            self.syncer
                .database
                .write_mirror(
                    self.hash(),
                    MirrorWrite {
                        orders: &rows,
                        state: Some(&next),
                        ..MirrorWrite::default()
                    },
                )
                .await?;
            *state = next;
            self.syncer.metrics.written("orders", rows.len());
            self.syncer.metrics.orders_left(-count);
            let eta = eta(began, state.orders_synced - synced_at_start, state);
            self.mirror.show(state, eta);
            if logged.elapsed() >= PROGRESS_EVERY || state.orders_complete {
                logged = Instant::now();
                tracing::info!(
                    store = self.hash(),
                    orders_synced = state.orders_synced,
                    orders_total = state.orders_total,
                    eta_seconds = eta,
                    "mirror: initial sync of orders"
                );
            }
        }
        // Whatever was left of the count (orders deleted meanwhile) is not left any more.
        self.syncer
            .metrics
            .orders_left(-(state.orders_total.saturating_sub(state.orders_synced)).max(0));
        let mut metafields = 0usize;
        while !state.metafields_complete {
            if !self.lease.holds().await {
                return Ok(());
            }
            let page = self
                .client()
                .metafields_page(
                    state.metafields_after.as_deref(),
                    None,
                    self.client().deadline(),
                )
                .await?;
            let rows: Vec<_> = page
                .metafields
                .iter()
                .filter(|(_, metafield)| self.policy().allows(metafield))
                .filter_map(|(order, metafield)| metafield_row(*order, metafield))
                .collect();
            let mut next = state.clone();
            next.metafields_complete = page.next.is_none();
            next.metafields_after = page.next;
            if next.metafields_complete {
                next.completed_at = Some(unix_now());
            }
            self.syncer
                .database
                .write_mirror(
                    self.hash(),
                    MirrorWrite {
                        metafields: &rows,
                        state: Some(&next),
                        ..MirrorWrite::default()
                    },
                )
                .await?;
            *state = next;
            metafields += rows.len();
            self.syncer.metrics.written("metafields", rows.len());
            if logged.elapsed() >= PROGRESS_EVERY {
                logged = Instant::now();
                tracing::info!(
                    store = self.hash(),
                    metafields,
                    "mirror: initial sync of metafields"
                );
            }
        }
        self.mirror.show(state, None);
        // Reads of the store come from the mirror now; what the cache holds came from the
        // Management API and stays right until a change says otherwise.
        tracing::info!(
            store = self.hash(),
            orders = state.orders_synced,
            seconds = began.elapsed().as_secs(),
            "mirror: initial sync complete; reads come from the mirror"
        );
        Ok(())
    }

    /// Reads again the orders webhooks named.
    async fn pending(&self) -> Result<(), StepError> {
        let pending = self
            .syncer
            .database
            .mirror_pending(self.hash(), PENDING_BATCH)
            .await?;
        if pending.is_empty() {
            return Ok(());
        }
        for &order in &pending {
            let Some(order) = OrderId::new(order) else {
                continue;
            };
            self.refresh_order(order).await?;
        }
        self.syncer
            .database
            .clear_mirror_pending(self.hash(), &pending)
            .await?;
        Ok(())
    }

    /// One order read again whole: the order (or its absence) and its metafields.
    async fn refresh_order(&self, order: OrderId) -> Result<(), StepError> {
        let deadline = self.client().deadline();
        match self.client().order_state(order, deadline).await? {
            OrderState::Present(found) => {
                let metafields = self.client().order_metafields(order, deadline).await?;
                let found = *found;
                let rows = order_rows(std::slice::from_ref(&found));
                let guests = guest_orders(std::slice::from_ref(&found));
                let metafield_rows: Vec<_> = metafields
                    .iter()
                    .filter(|_| guests.is_empty())
                    .filter(|metafield| self.policy().allows(metafield))
                    .filter_map(|metafield| metafield_row(order, metafield))
                    .collect();
                self.syncer
                    .database
                    .write_mirror(
                        self.hash(),
                        MirrorWrite {
                            orders: &rows,
                            orders_gone: &guests,
                            metafields: &metafield_rows,
                            metafields_of: &[order.get()],
                            ..MirrorWrite::default()
                        },
                    )
                    .await?;
                self.syncer.metrics.written("orders", rows.len());
                self.syncer
                    .metrics
                    .written("metafields", metafield_rows.len());
                self.changed_orders(&[found]);
            }
            OrderState::Gone(order) => {
                self.syncer
                    .database
                    .write_mirror(
                        self.hash(),
                        MirrorWrite {
                            orders_gone: &[order.get()],
                            ..MirrorWrite::default()
                        },
                    )
                    .await?;
                self.syncer.metrics.deleted("orders", 1);
                self.syncer
                    .access
                    .invalidate(Change::Order(self.store.scope.key, order));
            }
        }
        Ok(())
    }

    /// Records that these orders changed (after they are in the database): every list
    /// holding one, its metafields, and the list of its owner now.
    fn changed_orders(&self, orders: &[Order]) {
        let key = self.store.scope.key;
        let mut owners = BTreeSet::new();
        for order in orders {
            self.syncer.access.invalidate(Change::Order(key, order.id));
            if let Some(owner) = CustomerId::new(order.customer_id) {
                owners.insert(owner);
            }
        }
        for owner in owners {
            self.syncer
                .access
                .invalidate(Change::CustomerOrders(key, owner));
        }
    }

    /// What changed since the high-water marks: orders by `min_date_modified` (page 1 each
    /// time, from the newest date read, so a change during the walk moves nothing out of
    /// it), metafields by `date_modified:min` (cursor paging).
    async fn catch_up(&self, state: &mut MirrorStateRecord) -> Result<(), StepError> {
        let walk_began = unix_now();
        let mut since = state.orders_since;
        let mut page = 1u32;
        let mut orders_read = 0usize;
        for _ in 0..MAX_CATCH_UP_PAGES {
            let orders = self
                .client()
                .orders_modified_since(at(since), page, self.client().deadline())
                .await?;
            let rows = order_rows(&orders);
            let guests = guest_orders(&orders);
            self.syncer
                .database
                .write_mirror(
                    self.hash(),
                    MirrorWrite {
                        orders: &rows,
                        orders_gone: &guests,
                        ..MirrorWrite::default()
                    },
                )
                .await?;
            orders_read += orders.len();
            self.syncer.metrics.written("orders", rows.len());
            self.changed_orders(&orders);
            let newest = orders
                .iter()
                .map(|order| order.date_modified.unix_timestamp())
                .max()
                .unwrap_or(since);
            if orders.len() < PAGE_LIMIT as usize {
                since = since.max(newest);
                break;
            }
            if newest > since {
                since = newest;
                page = 1;
            } else {
                // A full page within one second: the next page of that second.
                page = page.saturating_add(1);
            }
        }
        let mut after: Option<String> = None;
        let mut metafields_read = 0usize;
        for _ in 0..MAX_CATCH_UP_PAGES {
            let found = self
                .client()
                .metafields_page(
                    after.as_deref(),
                    Some(at(state.metafields_since)),
                    self.client().deadline(),
                )
                .await?;
            metafields_read += found.metafields.len();
            self.apply_metafields(&found.metafields).await?;
            match found.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let mut next = state.clone();
        next.orders_since = since;
        next.metafields_since = state.metafields_since.max(walk_began - OVERLAP_SECONDS);
        next.caught_up_at = Some(unix_now());
        self.syncer
            .database
            .write_mirror(
                self.hash(),
                MirrorWrite {
                    state: Some(&next),
                    ..MirrorWrite::default()
                },
            )
            .await?;
        *state = next;
        self.mirror.show(state, None);
        self.syncer.metrics.caught_up();
        tracing::debug!(
            store = self.hash(),
            orders_read,
            metafields_read,
            "mirror: caught up"
        );
        Ok(())
    }

    /// Metafields read again: visible ones written, others (no longer visible) deleted, and
    /// each order's metafields recorded as changed.
    async fn apply_metafields(&self, found: &[(OrderId, Metafield)]) -> Result<(), StepError> {
        if found.is_empty() {
            return Ok(());
        }
        let (visible, hidden): (Vec<_>, Vec<_>) = found
            .iter()
            .partition(|(_, metafield)| self.policy().allows(metafield));
        let rows: Vec<_> = visible
            .iter()
            .filter_map(|(order, metafield)| metafield_row(*order, metafield))
            .collect();
        let gone: Vec<u64> = hidden.iter().map(|(_, metafield)| metafield.id).collect();
        self.syncer
            .database
            .write_mirror(
                self.hash(),
                MirrorWrite {
                    metafields: &rows,
                    metafields_gone: &gone,
                    ..MirrorWrite::default()
                },
            )
            .await?;
        self.syncer.metrics.written("metafields", rows.len());
        let orders: BTreeSet<OrderId> = found.iter().map(|(order, _)| *order).collect();
        for order in orders {
            self.syncer
                .access
                .invalidate(Change::OrderMetafields(self.store.scope.key, order));
        }
        Ok(())
    }

    /// Every id compared with BigCommerce's: what the mirror holds and BigCommerce no longer
    /// does is deleted (only ids up to the largest BigCommerce listed: anything newer was
    /// added after the walk passed).
    async fn reconcile(&self, state: &mut MirrorStateRecord) -> Result<(), StepError> {
        let mut orders: HashSet<u64> = HashSet::new();
        let mut next_id = 1u64;
        loop {
            let page = self
                .client()
                .orders_from_id(next_id, self.client().deadline())
                .await?;
            orders.extend(page.iter().map(|order| order.id.get()));
            match page.last() {
                Some(last) if page.len() >= PAGE_LIMIT as usize => next_id = last.id.get() + 1,
                _ => break,
            }
        }
        let mut metafields: HashSet<u64> = HashSet::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .client()
                .metafields_page(after.as_deref(), None, self.client().deadline())
                .await?;
            metafields.extend(
                page.metafields
                    .iter()
                    .filter(|(_, metafield)| self.policy().allows(metafield))
                    .map(|(_, metafield)| metafield.id),
            );
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let orders_gone = self
            .missing(&orders, |after| {
                self.syncer
                    .database
                    .mirrored_order_ids(self.hash(), after, 1000)
            })
            .await?;
        let metafields_gone = self
            .missing(&metafields, |after| {
                self.syncer
                    .database
                    .mirrored_metafield_ids(self.hash(), after, 1000)
            })
            .await?;
        let mut next = state.clone();
        next.reconciled_at = Some(unix_now());
        self.syncer
            .database
            .write_mirror(
                self.hash(),
                MirrorWrite {
                    orders_gone: &orders_gone,
                    metafields_gone: &metafields_gone,
                    state: Some(&next),
                    ..MirrorWrite::default()
                },
            )
            .await?;
        *state = next;
        self.syncer.metrics.deleted("orders", orders_gone.len());
        self.syncer
            .metrics
            .deleted("metafields", metafields_gone.len());
        let key = self.store.scope.key;
        for order in orders_gone.iter().filter_map(|&id| OrderId::new(id)) {
            self.syncer.access.invalidate(Change::Order(key, order));
        }
        if !metafields_gone.is_empty() {
            // Which orders they were on is gone with them: every metafield answer of the
            // store is read again from the mirror.
            self.syncer.access.invalidate(Change::FieldDefinitions(key));
        }
        tracing::info!(
            store = self.hash(),
            orders = orders.len(),
            orders_gone = orders_gone.len(),
            metafields_gone = metafields_gone.len(),
            "mirror: reconciled with BigCommerce"
        );
        Ok(())
    }

    /// The mirrored ids (read a page at a time by `page`) not in `listed`, up to the
    /// largest listed id.
    async fn missing<F, Fut>(&self, listed: &HashSet<u64>, page: F) -> Result<Vec<u64>, StepError>
    where
        F: Fn(u64) -> Fut,
        Fut: Future<Output = Result<Vec<u64>, crate::database::DatabaseError>>,
    {
        let largest = listed.iter().copied().max().unwrap_or(0);
        let mut missing = Vec::new();
        let mut after = 0;
        loop {
            let ids = page(after).await?;
            let Some(&last) = ids.last() else {
                break;
            };
            missing.extend(
                ids.iter()
                    .copied()
                    .filter(|id| *id <= largest && !listed.contains(id)),
            );
            if last >= largest {
                break;
            }
            after = last;
        }
        Ok(missing)
    }
}

/// The ETA of the initial sync of orders from this run's rate.
fn eta(began: Instant, synced_this_run: i64, state: &MirrorStateRecord) -> Option<u64> {
    if state.orders_complete {
        return Some(0);
    }
    let elapsed = began.elapsed().as_secs_f64();
    if synced_this_run <= 0 || elapsed <= 0.0 {
        return None;
    }
    let rate = synced_this_run as f64 / elapsed;
    let left = state
        .orders_total
        .saturating_sub(state.orders_synced)
        .max(0) as f64;
    Some((left / rate).ceil() as u64)
}

/// The rows of orders a customer placed; guest orders (customer 0) are never read by anyone,
/// so never kept ([`guest_orders`]).
fn order_rows(orders: &[Order]) -> Vec<MirroredOrder> {
    orders
        .iter()
        .filter(|order| order.customer_id != 0)
        .filter_map(|order| {
            Some(MirroredOrder {
                order_id: order.id.get(),
                customer_id: order.customer_id,
                date_modified: order.date_modified.unix_timestamp(),
                body: serde_json::to_string(order).ok()?,
            })
        })
        .collect()
}

/// The ids of guest orders among `orders`: an order that became one leaves the mirror.
fn guest_orders(orders: &[Order]) -> Vec<u64> {
    orders
        .iter()
        .filter(|order| order.customer_id == 0)
        .map(|order| order.id.get())
        .collect()
}

/// Whether BigCommerce refused the store's token (the app was uninstalled).
fn refused(error: &ManagementError) -> bool {
    matches!(
        error,
        ManagementError::Rejected {
            status: 401 | 403,
            ..
        }
    )
}
