//! The writing side of `SYNC_MODE=mirror`. One task per served store, on every replica; the
//! one holding the store's sync lease (`database::SyncLeases`; SQLite is one replica) syncs
//! it, the others follow its state (whether it is complete and caught up) from the database.
//!
//! - **Initial sync**, resumable: orders by ascending id (`min_id`), then the batch order
//!   metafields by cursor, each page saved with the position it reached in one transaction,
//!   only storefront-visible metafields kept. Progress: log lines with counts and an ETA,
//!   metrics, the merchant page. Reads use the mirror only once it is complete and one
//!   catch-up (which reads what changed while it was copied) has finished.
//! - **Webhooks**: an order a webhook named (noted in `mirror_pending` by whichever replica
//!   received it) is read again whole: the order (or its absence) and its metafields.
//! - **Catch-up**, every `MIRROR_CATCH_UP_INTERVAL`: orders by `min_date_modified`, metafields
//!   by `date_modified:min`, from high-water marks taken from BigCommerce's own dates less an
//!   overlap, so a change whose webhook never came shows within one interval. Only what
//!   differs from the mirror is written and recorded as a change.
//! - **Reconciliation**, every `MIRROR_RECONCILE_INTERVAL`: every id compared with
//!   BigCommerce's, a page at a time between the other steps, its position saved, for
//!   deletions (which no date query finds) whose webhook never came.
//!
//! Every change written is recorded through `access` after it is in the database (so the
//! cache reloads from the mirror, on every replica). Every call goes through the store's
//! quota pacer, one at a time, so a sync spends the store's window beside shoppers' reads,
//! never past the share.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{StoreMirror, metafield_row};
use crate::access::Access;
use crate::cache::changes::Change;
use crate::config::SyncSettings;
use crate::database::{
    Database, DatabaseError, MirrorStateRecord, MirrorWrite, MirroredOrder, SyncLease, SyncLeases,
};
use crate::domain::{CustomerId, Metafield, Order, OrderId, StoreHash, StoreKey, VisibilityPolicy};
use crate::management::ManagementClient;
use crate::management::error::ManagementError;
use crate::management::sync::OrderState;
use crate::metrics::MirrorMetrics;
use crate::stores::{Store, StoreRegistry};

/// How often the supervisor looks for stores served or gone (memory only) and for orders
/// webhooks named (one query for every store).
const SUPERVISOR_POLL: Duration = Duration::from_secs(1);
/// How often a replica that does not sync a store tries for its lease and reads its state.
const FOLLOW_POLL: Duration = Duration::from_secs(5);
/// The longest a syncing store waits without looking at its lease and its waiting orders.
const IDLE_CHECK: Duration = Duration::from_secs(30);
/// How long a failed call or query waits before the sync tries again.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// How long a sync whose token BigCommerce refused waits before it tries again.
const REFUSED_RETRY: Duration = Duration::from_secs(60);
/// High-water marks are set this far before the newest change read (plus the walk's own
/// length for the metafields, whose cursor walk does not see a change behind it): what
/// BigCommerce stamped out of order, or while a walk was under way, is read again.
const OVERLAP_SECONDS: i64 = 60;
/// Orders a webhook named that one step reads again.
const PENDING_BATCH: u64 = 50;
/// At most this many pages in one catch-up walk (the next catch-up goes on from there).
const MAX_CATCH_UP_PAGES: u32 = 400;
/// Log the initial sync's progress at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// A saved catch-up older than this is not trusted at start: reads wait for a new one.
const TRUSTED_FOR: Duration = Duration::from_secs(300);

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
/// mirror, ended when the store is no longer served (or served anew) or the supervisor ends.
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
    let leases = syncer.database.sync_leases();
    let mut tasks: HashMap<StoreHash, (StoreKey, Task)> = HashMap::new();
    let mut poll = tokio::time::interval(SUPERVISOR_POLL);
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
            let task = Task(tokio::spawn(run_store(
                syncer.clone(),
                leases.clone(),
                Arc::clone(&store),
            )));
            tasks.insert(store.hash.clone(), (store.scope.key, task));
        }
    }
}

/// One store's sync on this replica, for as long as the store is served: sync while holding
/// the lease, follow while another replica holds it.
async fn run_store(syncer: Syncer, leases: SyncLeases, store: Arc<Store>) {
    let Some(mirror) = store.mirror().cloned() else {
        return;
    };
    let hash = store.hash.as_str();
    loop {
        match leases.try_take(lease_key(hash)).await {
            Ok(Some(lease)) => {
                tracing::info!(store = hash, "mirror: this replica syncs the store");
                let sync = StoreSync {
                    syncer: &syncer,
                    store: &store,
                    mirror: &mirror,
                    lease: &lease,
                };
                let ended = sync.run().await;
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
            Ok(None) => follow(&syncer.database, &store, &mirror).await,
            Err(error) => {
                tracing::warn!(store = hash, error = %error, "mirror: cannot take the sync lease");
            }
        }
        tokio::time::sleep(FOLLOW_POLL).await;
    }
}

/// Another replica syncs the store: take in whether its mirror serves reads (complete,
/// caught up, and chosen by this replica's visibility policy) and its progress.
async fn follow(database: &Database, store: &Store, mirror: &StoreMirror) {
    match database.mirror_state(mirror.hash.as_str()).await {
        Ok(Some(state)) if state.policy == policy_text(&store.scope.policy) => {
            mirror.show(&state, None);
        }
        Ok(_) => mirror.set_ready(false, false),
        Err(error) => {
            tracing::warn!(store = mirror.hash.as_str(), error = %error, "mirror: cannot read the sync's state");
        }
    }
}

/// The lock key of a store's sync lease.
fn lease_key(store_hash: &str) -> i64 {
    crate::database::advisory_key(&["mirror", store_hash])
}

/// The visibility policy as the mirror's state records it: the metafields kept were chosen
/// by it, so another one (the store's settings changed) starts the mirror again.
fn policy_text(policy: &VisibilityPolicy) -> String {
    let names: Vec<&String> = policy.extra_namespaces().iter().collect();
    serde_json::to_string(&names).unwrap_or_default()
}

fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The instant `seconds` (Unix) was, by this process's clock; long ago when `None`.
fn instant_of(seconds: Option<i64>) -> Instant {
    let now = Instant::now();
    let long_ago = now
        .checked_sub(Duration::from_secs(365 * 86_400))
        .unwrap_or(now);
    match seconds {
        None => long_ago,
        Some(seconds) => {
            let ago = u64::try_from(unix_now().saturating_sub(seconds)).unwrap_or(0);
            now.checked_sub(Duration::from_secs(ago))
                .unwrap_or(long_ago)
        }
    }
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
    Database(DatabaseError),
}

impl From<ManagementError> for StepError {
    fn from(error: ManagementError) -> Self {
        StepError::Upstream(error)
    }
}

impl From<DatabaseError> for StepError {
    fn from(error: DatabaseError) -> Self {
        StepError::Database(error)
    }
}

impl StoreMirror {
    /// Takes in a state read from the database: reads use the mirror once it is complete
    /// and caught up; `eta` is this replica's estimate while it copies.
    fn show(&self, state: &MirrorStateRecord, eta: Option<u64>) {
        let serves =
            state.orders_complete && state.metafields_complete && state.caught_up_at.is_some();
        self.set_ready(serves, serves);
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

/// Adds the orders an initial sync has left to the metric, and takes away at the end
/// whatever of them was not read (the sync stopped, or orders were deleted meanwhile).
struct OrdersLeft<'a> {
    metrics: &'a MirrorMetrics,
    left: i64,
}

impl<'a> OrdersLeft<'a> {
    fn new(metrics: &'a MirrorMetrics, left: i64) -> Self {
        let left = left.max(0);
        metrics.orders_left(left);
        Self { metrics, left }
    }

    fn read(&mut self, count: i64) {
        let count = count.min(self.left);
        self.left -= count;
        self.metrics.orders_left(-count);
    }
}

impl Drop for OrdersLeft<'_> {
    fn drop(&mut self) {
        self.metrics.orders_left(-self.left);
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

    fn key(&self) -> StoreKey {
        self.store.scope.key
    }

    fn policy(&self) -> &VisibilityPolicy {
        &self.store.scope.policy
    }

    /// Writes one step into this mirror (not into one begun again or forgotten since).
    async fn write(
        &self,
        state: &MirrorStateRecord,
        write: MirrorWrite<'_>,
    ) -> Result<(), StepError> {
        self.syncer
            .database
            .write_mirror(
                self.hash(),
                MirrorWrite {
                    generation: Some(state.started_at),
                    ..write
                },
            )
            .await?;
        Ok(())
    }

    /// Saves `next` (with nothing else) as the position reached.
    async fn save(
        &self,
        state: &mut MirrorStateRecord,
        next: MirrorStateRecord,
    ) -> Result<(), StepError> {
        self.write(
            state,
            MirrorWrite {
                state: Some(&next),
                ..MirrorWrite::default()
            },
        )
        .await?;
        *state = next;
        Ok(())
    }

    /// Syncs until the lease is lost or BigCommerce refuses the token; every other failure
    /// is retried.
    async fn run(&self) -> Ended {
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
        let mut last_catch_up = instant_of(state.caught_up_at);
        let mut last_reconcile = instant_of(state.reconciled_at.or(Some(state.started_at)));
        loop {
            if !self.lease.holds().await {
                return Ended::LeaseLost;
            }
            let settings = &self.syncer.settings;
            let step = if !state.orders_complete || !state.metafields_complete {
                self.initial(&mut state).await
            } else {
                let mut step = self.pending(&state).await;
                if step.is_ok()
                    && (state.caught_up_at.is_none()
                        || last_catch_up.elapsed() >= settings.catch_up_interval)
                {
                    step = self.catch_up(&mut state).await;
                    if step.is_ok() {
                        last_catch_up = Instant::now();
                    }
                }
                if step.is_ok()
                    && (state.reconcile_step != 0
                        || last_reconcile.elapsed() >= settings.reconcile_interval)
                {
                    // One page: webhooks and catch-ups go on between pages.
                    step = self.reconcile_page(&mut state).await;
                    if step.is_ok() && state.reconcile_step == 0 {
                        last_reconcile = Instant::now();
                    }
                }
                if step.is_ok() && state.reconcile_step == 0 {
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
                    match self.syncer.database.mirror_state(self.hash()).await {
                        Ok(Some(saved)) if saved.started_at == state.started_at => {
                            state = MirrorStateRecord {
                                // Not trusted again until a catch-up of this run.
                                caught_up_at: state.caught_up_at,
                                ..saved
                            };
                        }
                        // Begun again or forgotten by someone else: start over from there.
                        Ok(_) => return Ended::LeaseLost,
                        Err(_) => {}
                    }
                }
            }
        }
    }

    async fn failed(&self, step: &'static str, error: &StepError) {
        match error {
            StepError::Upstream(error) => {
                tracing::warn!(store = self.hash(), step, error = %error, "mirror: BigCommerce did not answer as expected; trying again soon");
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
    /// none or it was built under another visibility policy. A saved catch-up older than
    /// [`TRUSTED_FOR`] does not serve reads until this run has caught up.
    async fn begin(&self) -> Result<MirrorStateRecord, StepError> {
        let policy = policy_text(self.policy());
        if let Some(mut state) = self.syncer.database.mirror_state(self.hash()).await?
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
            let trusted = i64::try_from(TRUSTED_FOR.as_secs()).unwrap_or(i64::MAX);
            if state
                .caught_up_at
                .is_some_and(|at| unix_now().saturating_sub(at) > trusted)
            {
                state.caught_up_at = None;
            }
            self.mirror.show(&state, None);
            return Ok(state);
        }
        self.mirror.set_ready(false, false);
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
            reconcile_step: 0,
            reconcile_next_id: 0,
            reconcile_after: None,
            reconcile_last_id: 0,
        };
        self.syncer
            .database
            .start_mirror(self.hash(), &state)
            .await?;
        // Anything cached from an earlier mirror of the store is not vouched for any more.
        self.syncer.access.invalidate(Change::Store(self.key()));
        tracing::info!(
            store = self.hash(),
            orders_total = total,
            "mirror: initial sync begins"
        );
        Ok(state)
    }

    /// The initial sync to its end, a page at a time, each saved with its position.
    async fn initial(&self, state: &mut MirrorStateRecord) -> Result<(), StepError> {
        let began = Instant::now();
        let synced_at_start = state.orders_synced;
        let mut logged = Instant::now();
        let mut left = OrdersLeft::new(
            &self.syncer.metrics,
            state.orders_total.saturating_sub(state.orders_synced),
        );
        while !state.orders_complete {
            if !self.lease.holds().await {
                return Ok(());
            }
            let next_id = u64::try_from(state.orders_next_id).unwrap_or(1);
            let page = self
                .client()
                .orders_from_id(next_id, self.client().deadline())
                .await?;
            let mut next = state.clone();
            match page.last_id {
                // Only forward: an upstream that ignores `min_id` does not walk for ever.
                Some(last) if page.full() && last >= next_id => {
                    next.orders_next_id = i64::try_from(last).unwrap_or(i64::MAX).saturating_add(1);
                }
                _ => next.orders_complete = true,
            }
            let rows = order_rows(&page.orders);
            let count = i64::try_from(page.orders.len()).unwrap_or(0);
            next.orders_synced = state.orders_synced.saturating_add(count);
            self.write(
                state,
                MirrorWrite {
                    orders: &rows,
                    state: Some(&next),
                    ..MirrorWrite::default()
                },
            )
            .await?;
            *state = next;
            self.syncer.metrics.written("orders", rows.len());
            left.read(count);
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
        drop(left);
        let mut metafields = 0usize;
        while !state.metafields_complete {
            if !self.lease.holds().await {
                return Ok(());
            }
            let page = match self
                .client()
                .metafields_page(
                    state.metafields_after.as_deref(),
                    None,
                    self.client().deadline(),
                )
                .await
            {
                Ok(page) => page,
                // A saved cursor BigCommerce no longer takes: the walk starts again.
                Err(ManagementError::Rejected {
                    status: 400 | 404 | 422,
                    ..
                }) if state.metafields_after.is_some() => {
                    tracing::warn!(
                        store = self.hash(),
                        "mirror: the saved metafield cursor was refused; the metafields are read again from the start"
                    );
                    let next = MirrorStateRecord {
                        metafields_after: None,
                        ..state.clone()
                    };
                    self.save(state, next).await?;
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
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
            self.write(
                state,
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
        // The first catch-up (next) reads what changed while the store was copied; reads
        // come from the mirror once it has.
        tracing::info!(
            store = self.hash(),
            orders = state.orders_synced,
            seconds = began.elapsed().as_secs(),
            "mirror: initial sync complete; reads come from the mirror after the first catch-up"
        );
        Ok(())
    }

    /// Reads again the orders webhooks named. An order BigCommerce answers with something
    /// unusable (a permanent refusal, an unreadable body) is logged and given up, so that it
    /// does not hold up the others; a failure worth retrying stops here, to go on later.
    async fn pending(&self, state: &MirrorStateRecord) -> Result<(), StepError> {
        let pending = self
            .syncer
            .database
            .mirror_pending(self.hash(), PENDING_BATCH)
            .await?;
        for (order, seq) in pending {
            let Some(id) = OrderId::new(order) else {
                self.syncer
                    .database
                    .clear_mirror_pending(self.hash(), order, seq)
                    .await?;
                continue;
            };
            match self.refresh_order(id, state).await {
                Ok(()) => {}
                Err(StepError::Upstream(error)) if given_up(&error) => {
                    tracing::warn!(store = self.hash(), order_id = order, error = %error, "mirror: a webhook's order cannot be read; the next reconciliation or change of it tries again");
                    self.syncer.metrics.failed("order_given_up");
                }
                Err(error) => return Err(error),
            }
            self.syncer
                .database
                .clear_mirror_pending(self.hash(), order, seq)
                .await?;
        }
        Ok(())
    }

    /// One order read again whole: the order (or its absence) and its metafields.
    async fn refresh_order(
        &self,
        order: OrderId,
        state: &MirrorStateRecord,
    ) -> Result<(), StepError> {
        let deadline = self.client().deadline();
        match self.client().order_state(order, deadline).await? {
            OrderState::Present(found) if found.customer_id != 0 => {
                let metafields = self.client().order_metafields(order, deadline).await?;
                let found = *found;
                let rows = order_rows(std::slice::from_ref(&found));
                let metafield_rows: Vec<_> = metafields
                    .iter()
                    .filter(|metafield| self.policy().allows(metafield))
                    .filter_map(|metafield| metafield_row(order, metafield))
                    .collect();
                self.write(
                    state,
                    MirrorWrite {
                        orders: &rows,
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
            // Gone, or a guest's (read by nobody).
            _ => {
                self.write(
                    state,
                    MirrorWrite {
                        orders_gone: &[order.get()],
                        ..MirrorWrite::default()
                    },
                )
                .await?;
                self.syncer.metrics.deleted("orders", 1);
                self.syncer
                    .access
                    .invalidate(Change::Order(self.key(), order));
            }
        }
        Ok(())
    }

    /// Records that these orders changed (after they are in the database): every list
    /// holding one, its metafields, and the list of its owner now.
    fn changed_orders(&self, orders: &[Order]) {
        let key = self.key();
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

    /// Writes the orders of a page that differ from the mirror (new, changed, or now a
    /// guest's) and records them as changed; the others are left alone.
    async fn apply_orders(
        &self,
        orders: &[Order],
        state: &MirrorStateRecord,
    ) -> Result<usize, StepError> {
        if orders.is_empty() {
            return Ok(0);
        }
        let ids: Vec<u64> = orders.iter().map(|order| order.id.get()).collect();
        let stored = self
            .syncer
            .database
            .mirrored_order_bodies(self.hash(), &ids)
            .await?;
        let rows: Vec<MirroredOrder> = order_rows(orders)
            .into_iter()
            .filter(|row| stored.get(&row.order_id) != Some(&row.body))
            .collect();
        let guests: Vec<u64> = guest_orders(orders)
            .into_iter()
            .filter(|id| stored.contains_key(id))
            .collect();
        if rows.is_empty() && guests.is_empty() {
            return Ok(0);
        }
        self.write(
            state,
            MirrorWrite {
                orders: &rows,
                orders_gone: &guests,
                ..MirrorWrite::default()
            },
        )
        .await?;
        self.syncer.metrics.written("orders", rows.len());
        self.syncer.metrics.deleted("orders", guests.len());
        let changed: HashSet<u64> = rows
            .iter()
            .map(|row| row.order_id)
            .chain(guests.iter().copied())
            .collect();
        let changed: Vec<Order> = orders
            .iter()
            .filter(|order| changed.contains(&order.id.get()))
            .cloned()
            .collect();
        self.changed_orders(&changed);
        Ok(changed.len())
    }

    /// What changed since the high-water marks: orders by `min_date_modified` (page 1 each
    /// time, from the newest date read, so a change during the walk moves nothing out of
    /// it), metafields by `date_modified:min` (cursor paging). The marks move only as far as
    /// the walks reached, less the overlap.
    async fn catch_up(&self, state: &mut MirrorStateRecord) -> Result<(), StepError> {
        let walk_began = Instant::now();
        let mut since = state.orders_since;
        let mut page_number = 1u32;
        let mut orders_changed = 0usize;
        let mut newest_order = None;
        for _ in 0..MAX_CATCH_UP_PAGES {
            let page = self
                .client()
                .orders_modified_since(at(since), page_number, self.client().deadline())
                .await?;
            orders_changed += self.apply_orders(&page.orders, state).await?;
            let newest = page.newest_modified.map(OffsetDateTime::unix_timestamp);
            newest_order = newest_order.max(newest);
            if !page.full() {
                break;
            }
            match newest {
                Some(newest) if newest > since => {
                    since = newest;
                    page_number = 1;
                }
                // A full page within one second: the next page of that second.
                _ => page_number = page_number.saturating_add(1),
            }
        }
        let mut after: Option<String> = None;
        let mut metafields_changed = 0usize;
        let mut newest_metafield = None;
        let mut walked = false;
        for _ in 0..MAX_CATCH_UP_PAGES {
            let found = self
                .client()
                .metafields_page(
                    after.as_deref(),
                    Some(at(state.metafields_since)),
                    self.client().deadline(),
                )
                .await?;
            newest_metafield = newest_metafield.max(
                found
                    .metafields
                    .iter()
                    .map(|(_, metafield)| metafield.date_modified.unix_timestamp())
                    .max(),
            );
            metafields_changed += self.apply_metafields(&found.metafields, state).await?;
            match found.next {
                Some(next) => after = Some(next),
                None => {
                    walked = true;
                    break;
                }
            }
        }
        let walk_seconds = i64::try_from(walk_began.elapsed().as_secs()).unwrap_or(i64::MAX);
        let mut next = state.clone();
        if let Some(newest) = newest_order {
            next.orders_since = state.orders_since.max(newest - OVERLAP_SECONDS);
        }
        // A walk cut short leaves the mark where it was: the next one reads the rest.
        if walked && let Some(newest) = newest_metafield {
            next.metafields_since = state
                .metafields_since
                .max(newest - OVERLAP_SECONDS - walk_seconds);
        }
        next.caught_up_at = Some(unix_now());
        self.save(state, next).await?;
        self.mirror.show(state, None);
        self.syncer.metrics.caught_up();
        tracing::debug!(
            store = self.hash(),
            orders_changed,
            metafields_changed,
            "mirror: caught up"
        );
        Ok(())
    }

    /// Metafields read again: those that differ from the mirror written (visible ones) or
    /// deleted (no longer visible), and each of their orders recorded as changed.
    async fn apply_metafields(
        &self,
        found: &[(OrderId, Metafield)],
        state: &MirrorStateRecord,
    ) -> Result<usize, StepError> {
        if found.is_empty() {
            return Ok(0);
        }
        let ids: Vec<u64> = found.iter().map(|(_, metafield)| metafield.id).collect();
        let stored = self
            .syncer
            .database
            .mirrored_metafield_bodies(self.hash(), &ids)
            .await?;
        let mut rows = Vec::new();
        let mut gone = Vec::new();
        let mut orders = BTreeSet::new();
        for (order, metafield) in found {
            if self.policy().allows(metafield) {
                if let Some(row) = metafield_row(*order, metafield)
                    && stored.get(&row.metafield_id) != Some(&row.body)
                {
                    rows.push(row);
                    orders.insert(*order);
                }
            } else if stored.contains_key(&metafield.id) {
                gone.push(metafield.id);
                orders.insert(*order);
            }
        }
        if orders.is_empty() {
            return Ok(0);
        }
        self.write(
            state,
            MirrorWrite {
                metafields: &rows,
                metafields_gone: &gone,
                ..MirrorWrite::default()
            },
        )
        .await?;
        self.syncer.metrics.written("metafields", rows.len());
        self.syncer.metrics.deleted("metafields", gone.len());
        for order in &orders {
            self.syncer
                .access
                .invalidate(Change::OrderMetafields(self.key(), *order));
        }
        Ok(rows.len() + gone.len())
    }

    /// One page of the comparison with BigCommerce, its position saved: orders by id, then
    /// metafields by cursor. What the mirror holds in the id range a page covers and the page
    /// does not list is gone (deleted, or no longer visible) and deleted here. Memory is one
    /// page; webhooks and catch-ups go on between pages.
    async fn reconcile_page(&self, state: &mut MirrorStateRecord) -> Result<(), StepError> {
        let mut next = state.clone();
        if next.reconcile_step == 0 {
            next.reconcile_step = 1;
            next.reconcile_next_id = 1;
            next.reconcile_after = None;
            next.reconcile_last_id = 0;
        }
        let mut orders_gone = Vec::new();
        let mut metafields_gone = Vec::new();
        if next.reconcile_step == 1 {
            let from = u64::try_from(next.reconcile_next_id).unwrap_or(1).max(1);
            let page = self
                .client()
                .orders_from_id(from, self.client().deadline())
                .await?;
            let listed: HashSet<u64> = page
                .orders
                .iter()
                .filter(|order| order.customer_id != 0)
                .map(|order| order.id.get())
                .collect();
            let up_to = match page.last_id {
                Some(last) if last >= from => last,
                _ => from - 1,
            };
            orders_gone = self
                .syncer
                .database
                .mirrored_order_ids_between(self.hash(), from - 1, up_to)
                .await?
                .into_iter()
                .filter(|id| !listed.contains(id))
                .collect();
            // What differs from the mirror in hand is written too: a change whose webhook
            // and catch-up both missed it is repaired here.
            self.apply_orders(&page.orders, state).await?;
            if page.full() && up_to >= from {
                next.reconcile_next_id = i64::try_from(up_to).unwrap_or(i64::MAX).saturating_add(1);
            } else {
                // Mirrored orders above the last one BigCommerce listed (the newest deleted,
                // or placed since): each is read again, as a webhook's order is.
                for order in self
                    .syncer
                    .database
                    .mirrored_order_ids_between(self.hash(), up_to, u64::MAX >> 1)
                    .await?
                    .into_iter()
                    .take(PENDING_BATCH as usize)
                {
                    self.syncer
                        .database
                        .mark_mirror_pending(self.hash(), order)
                        .await?;
                }
                next.reconcile_step = 2;
            }
        } else {
            let page = self
                .client()
                .metafields_page(
                    next.reconcile_after.as_deref(),
                    None,
                    self.client().deadline(),
                )
                .await?;
            let listed: HashSet<u64> = page
                .metafields
                .iter()
                .filter(|(_, metafield)| self.policy().allows(metafield))
                .map(|(_, metafield)| metafield.id)
                .collect();
            self.apply_metafields(&page.metafields, state).await?;
            let after = u64::try_from(next.reconcile_last_id).unwrap_or(0);
            let up_to = page
                .metafields
                .iter()
                .map(|(_, metafield)| metafield.id)
                .max()
                .unwrap_or(after)
                .max(after);
            metafields_gone = self
                .syncer
                .database
                .mirrored_metafield_ids_between(self.hash(), after, up_to)
                .await?
                .into_iter()
                .filter(|id| !listed.contains(id))
                .collect();
            next.reconcile_last_id = i64::try_from(up_to).unwrap_or(i64::MAX);
            match page.next {
                Some(cursor) if up_to > after => next.reconcile_after = Some(cursor),
                _ => {
                    next.reconcile_step = 0;
                    next.reconcile_after = None;
                    next.reconciled_at = Some(unix_now());
                }
            }
        }
        // Their orders, before the rows go: each one's metafield answers are read again.
        let metafield_orders = if metafields_gone.is_empty() {
            Vec::new()
        } else {
            self.syncer
                .database
                .mirrored_metafield_orders(self.hash(), &metafields_gone)
                .await?
        };
        self.write(
            state,
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
        let key = self.key();
        for order in orders_gone.iter().filter_map(|&id| OrderId::new(id)) {
            self.syncer.access.invalidate(Change::Order(key, order));
        }
        for order in metafield_orders.iter().filter_map(|&id| OrderId::new(id)) {
            self.syncer
                .access
                .invalidate(Change::OrderMetafields(key, order));
        }
        if !orders_gone.is_empty() || !metafields_gone.is_empty() {
            tracing::info!(
                store = self.hash(),
                orders_gone = orders_gone.len(),
                metafields_gone = metafields_gone.len(),
                "mirror: the comparison with BigCommerce found deletions"
            );
        }
        if state.reconcile_step == 0 {
            tracing::info!(store = self.hash(), "mirror: compared with BigCommerce");
        }
        Ok(())
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

/// The rows of orders a customer placed; guest orders (customer 0) are read by nobody, so
/// never kept ([`guest_orders`]).
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

/// Whether a webhook's order is given up rather than retried: BigCommerce answered, with
/// something that asking again will not change (another refusal than the token's, or a
/// body that cannot be read).
fn given_up(error: &ManagementError) -> bool {
    match error {
        ManagementError::Rejected { status, .. } => !matches!(status, 401 | 403 | 429),
        ManagementError::InvalidResponse { .. } => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_use_a_mirror_only_once_it_is_complete_and_caught_up() {
        let Ok(database) = Database::connect(&crate::database::DatabaseUrl::in_memory()).await
        else {
            panic!("an in-memory database opens");
        };
        let Some(hash) = StoreHash::parse("abc123") else {
            panic!("a store hash");
        };
        let mirror = StoreMirror::new(hash, database, 1);
        let database_free = |state: &MirrorStateRecord| {
            mirror.show(state, None);
            mirror.ready()
        };
        let copying_metafields = MirrorStateRecord {
            orders_complete: true,
            ..MirrorStateRecord::default()
        };
        let copied = MirrorStateRecord {
            metafields_complete: true,
            ..copying_metafields.clone()
        };
        let caught_up = MirrorStateRecord {
            caught_up_at: Some(1),
            ..copied.clone()
        };

        assert_eq!(database_free(&MirrorStateRecord::default()), (false, false));
        // Orders copied, metafields not: orders are not read from a copy nothing updates.
        assert_eq!(database_free(&copying_metafields), (false, false));
        // Copied, but what changed meanwhile not read yet.
        assert_eq!(database_free(&copied), (false, false));
        assert_eq!(database_free(&caught_up), (true, true));
    }
}
