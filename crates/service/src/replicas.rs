//! Several replicas on one PostgreSQL database: what one replica changes, every other hears
//! of within a second, through PostgreSQL's `LISTEN`/`NOTIFY` (no cluster protocol of our
//! own). Each replica announces, on one channel, every change its `Access` records (webhooks,
//! uninstalls, reinstalls, and any kind of [`Change`] added later: they are serialised as
//! they are) and every change of its store registry (an install, a store forgotten), each
//! with the replica's id, so that a replica ignores its own. Stores are named by hash on the
//! wire: a [`StoreKey`](crate::domain::StoreKey) means something only in the replica that
//! gave it.
//!
//! A notice is not stored: a replica whose listening connection was lost missed what was
//! sent meanwhile, so when it listens again it drops everything it cached for every store it
//! serves and reloads its store registry from the database, with a log line and a metric.
//! A connection lost without a word (a NAT forgetting it) is found by a heartbeat: every
//! replica announces itself every few seconds, so a listener that hears nothing at all, not
//! even its own replica, for [`SILENT_AFTER`] is given up for a new one, as if it were lost.
//!
//! The replicas also share each store's API quota: every replica counts the listeners on the
//! database (when it joins, when another announces it joined, and every few seconds) and
//! tells its quota pacers ([`Spenders`]), which then spend only their part of the room
//! BigCommerce's headers show (see `management::quota`).
//!
//! SQLite has no such channel: SQLite mode is one replica, and nothing is announced.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::access::{Access, Announcer};
use crate::cache::changes::Change;
use crate::database::{Database, DatabaseError, Engine, Heard, Listener};
use crate::domain::StoreHash;
use crate::lifecycle::Lifecycle;
use crate::management::quota::Spenders;
use crate::metrics::ReplicaMetrics;
use crate::stores::{Store, StoreRegistry};

/// The channel every replica of a database listens on.
pub const CHANNEL: &str = "order_metafields_changes";

/// How many announcements may wait to be sent (about 64 bytes each). Beyond it one is
/// dropped with an error line and a metric: a database that slow has lost the listeners too,
/// and they drop everything when they listen again.
const OUTBOX_CAPACITY: usize = 65_536;

/// The longest wait between two attempts to listen again after the connection was lost.
const RELISTEN_BACKOFF_MAX: Duration = Duration::from_secs(5);

/// How often a replica counts the replicas sharing the quota (one that left stops counting
/// within this; one that joins says so at once).
const RECOUNT_EVERY: Duration = Duration::from_secs(5);

/// How long a listener may hear nothing, not even its own replica's announcement every
/// [`RECOUNT_EVERY`], before it is taken for lost.
pub const SILENT_AFTER: Duration = Duration::from_secs(15);

/// What one replica tells the others.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The replica that sent it.
    pub replica: Uuid,
    /// The store it is about, by hash (none for [`Event::Joined`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreHash>,
    pub event: Event,
}

/// What happened to the store.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A change recorded in that replica's caches (its store key means nothing here).
    Change(Change),
    /// The store was installed (or installed again): read it from the database.
    Installed,
    /// The store was forgotten (uninstalled): stop serving it, drop its caches.
    Forgotten,
    /// A replica started: count the replicas sharing the quota again.
    Joined,
}

/// What waits to be announced: changes carry the sender's store key until the publisher
/// finds the store's hash.
enum Outgoing {
    Change(Change),
    Registry(StoreHash, Event),
    Joined,
}

/// This replica's side of the fan-out: its id and, on PostgreSQL, the outbox of
/// announcements. Cheap to clone.
#[derive(Clone)]
pub struct Replicas {
    id: Uuid,
    outbox: Option<mpsc::Sender<Outgoing>>,
    metrics: ReplicaMetrics,
    /// How many replicas share each store's quota, as last counted.
    spenders: Spenders,
}

/// The listening connection and the outbox's receiving end, before [`Fanout::run`] starts
/// them: listening begins before the store registry is loaded, so no notice between the
/// two is missed.
pub struct Fanout {
    replicas: Replicas,
    database: Database,
    listener: Listener,
    outbox: mpsc::Receiver<Outgoing>,
}

impl Replicas {
    /// A replica of `database`. On PostgreSQL it listens from now on (the [`Fanout`] to run
    /// once the stores are loaded); on SQLite it is the only replica and announces nothing.
    pub async fn join(
        database: &Database,
        metrics: ReplicaMetrics,
        spenders: Spenders,
    ) -> Result<(Self, Option<Fanout>), DatabaseError> {
        let id = Uuid::new_v4();
        if database.engine() != Engine::Postgres {
            let replicas = Self {
                id,
                outbox: None,
                metrics,
                spenders,
            };
            return Ok((replicas, None));
        }
        let listener = database.listen(CHANNEL, &listener_name(id)).await?;
        let (sender, receiver) = mpsc::channel(OUTBOX_CAPACITY);
        let replicas = Self {
            id,
            outbox: Some(sender),
            metrics,
            spenders,
        };
        replicas.count(database).await;
        let fanout = Fanout {
            replicas: replicas.clone(),
            database: database.clone(),
            listener,
            outbox: receiver,
        };
        Ok((replicas, Some(fanout)))
    }

    /// This replica's id (its listener is named `order-metafields-{id}` in
    /// `pg_stat_activity`).
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// What `Access` tells of each change it records, when there are other replicas.
    pub fn announcer(&self) -> Option<Announcer> {
        self.outbox.as_ref()?;
        let replicas = self.clone();
        Some(Arc::new(move |change| {
            replicas.send(Outgoing::Change(change))
        }))
    }

    /// Tells the other replicas that `store` was installed (it is in the database now).
    pub fn installed(&self, store: StoreHash) {
        self.send(Outgoing::Registry(store, Event::Installed));
    }

    /// Tells the other replicas that `store` was forgotten (it is gone from the database).
    pub fn forgotten(&self, store: StoreHash) {
        self.send(Outgoing::Registry(store, Event::Forgotten));
    }

    fn send(&self, outgoing: Outgoing) {
        let Some(outbox) = &self.outbox else {
            return;
        };
        if outbox.try_send(outgoing).is_err() {
            self.metrics.failed("outbox_full");
            tracing::error!(
                "the announcements to other replicas are too many to send; one is dropped, and other replicas may serve what it changed until it expires"
            );
        }
    }
}

/// Tells every replica listening on `database` that `store` was forgotten (an operator's
/// `stores forget`, from outside any replica). Does nothing on SQLite.
pub async fn announce_forgotten(
    database: &Database,
    store: &StoreHash,
) -> Result<(), DatabaseError> {
    if database.engine() != Engine::Postgres {
        return Ok(());
    }
    let notice = Notice {
        replica: Uuid::new_v4(),
        store: Some(store.clone()),
        event: Event::Forgotten,
    };
    let payload = serde_json::to_string(&notice).map_err(|error| DatabaseError::Query {
        operation: "notify",
        message: error.to_string(),
    })?;
    database.notify(CHANNEL, &payload).await
}

impl Replicas {
    /// Counts the replicas listening on the database, for the quota pacers. A failure
    /// keeps the last count.
    async fn count(&self, database: &Database) {
        match database.count_named(LISTENER_PREFIX).await {
            Ok(count) => {
                if count != self.spenders.get() {
                    tracing::info!(replicas = count, "replicas sharing each store's api quota");
                }
                self.spenders.set(count);
            }
            Err(error) => {
                tracing::warn!(error = %error, "cannot count the replicas; keeping the last count")
            }
        }
    }
}

/// What every replica's listening connection is named after.
const LISTENER_PREFIX: &str = "order-metafields-";

/// The name of a replica's listening connection in `pg_stat_activity`.
pub fn listener_name(replica: Uuid) -> String {
    format!("{LISTENER_PREFIX}{}", replica.simple())
}

impl Fanout {
    /// Sends this replica's announcements and applies the others', until the process ends.
    /// `lifecycle` is the app's (none in single-store mode, whose one store never changes).
    pub fn run(
        self,
        stores: Arc<StoreRegistry>,
        access: Access,
        lifecycle: Option<Arc<Lifecycle>>,
    ) {
        let Fanout {
            replicas,
            database,
            listener,
            outbox,
        } = self;
        tokio::spawn(publish(
            replicas.clone(),
            database.clone(),
            Arc::clone(&stores),
            outbox,
        ));
        replicas.send(Outgoing::Joined);
        tokio::spawn(recount(replicas.clone(), database.clone()));
        let applier = Arc::new(Applier {
            database: database.clone(),
            replicas,
            stores,
            access,
            lifecycle,
        });
        tokio::spawn(supervise(applier, database, listener));
    }
}

/// Sends each announcement, in order, as one notice.
async fn publish(
    replicas: Replicas,
    database: Database,
    stores: Arc<StoreRegistry>,
    mut outbox: mpsc::Receiver<Outgoing>,
) {
    while let Some(outgoing) = outbox.recv().await {
        let (store, event) = match outgoing {
            Outgoing::Joined => (None, Event::Joined),
            Outgoing::Registry(store, event) => (Some(store), event),
            Outgoing::Change(change) => match stores.hash_of(change.store()) {
                Some(store) => (Some(store), Event::Change(change)),
                // A store no longer served (an uninstall's own change): its `Forgotten`
                // or `Installed` notice tells the others.
                None => continue,
            },
        };
        let notice = Notice {
            replica: replicas.id,
            store,
            event,
        };
        let Ok(payload) = serde_json::to_string(&notice) else {
            continue;
        };
        match database.notify(CHANNEL, &payload).await {
            Ok(()) => replicas.metrics.sent(),
            Err(error) => {
                replicas.metrics.failed("notify");
                tracing::error!(error = %error, store = ?notice.store.as_ref().map(StoreHash::as_str), "could not tell the other replicas of a change; they serve what it changed until it expires or they lose their own connection");
            }
        }
    }
}

/// Counts the replicas again every few seconds, for ever.
async fn recount(replicas: Replicas, database: Database) {
    loop {
        tokio::time::sleep(RECOUNT_EVERY).await;
        replicas.count(&database).await;
        // The heartbeat: every listener, this replica's own included, hears it.
        replicas.send(Outgoing::Joined);
    }
}

/// When the listener last heard anything, in milliseconds since it was made.
struct LastHeard {
    since: tokio::time::Instant,
    at: AtomicU64,
}

impl LastHeard {
    fn new() -> Self {
        Self {
            since: tokio::time::Instant::now(),
            at: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn heard(&self) {
        self.at.store(self.now(), Ordering::Relaxed);
    }

    fn silent_for(&self) -> Duration {
        Duration::from_millis(self.now().saturating_sub(self.at.load(Ordering::Relaxed)))
    }
}

/// Runs the listener, and replaces it with a new one (resynchronising, as after any loss)
/// when it has heard nothing for [`SILENT_AFTER`]: its connection is gone without a word.
async fn supervise(applier: Arc<Applier>, database: Database, listener: Listener) {
    let last_heard = Arc::new(LastHeard::new());
    let mut task = tokio::spawn(listen(
        Arc::clone(&applier),
        database.clone(),
        listener,
        Arc::clone(&last_heard),
    ));
    loop {
        tokio::time::sleep(RECOUNT_EVERY).await;
        if last_heard.silent_for() < SILENT_AFTER {
            continue;
        }
        task.abort();
        applier.replicas.metrics.failed("silent");
        tracing::warn!(
            silent_for_seconds = last_heard.silent_for().as_secs(),
            "heard nothing on the connection that hears other replicas' changes, not even this replica's own heartbeat; listening again on a new one"
        );
        let listener = listen_again(&applier, &database).await;
        last_heard.heard();
        applier.resynchronise().await;
        task = tokio::spawn(listen(
            Arc::clone(&applier),
            database.clone(),
            listener,
            Arc::clone(&last_heard),
        ));
    }
}

/// A new listening connection, as long as it takes (backing off to [`RELISTEN_BACKOFF_MAX`]).
async fn listen_again(applier: &Applier, database: &Database) -> Listener {
    let mut backoff = Duration::from_millis(100);
    loop {
        tokio::time::sleep(backoff).await;
        match database
            .listen(CHANNEL, &listener_name(applier.replicas.id))
            .await
        {
            Ok(listener) => return listener,
            Err(error) => {
                backoff = (backoff * 2).min(RELISTEN_BACKOFF_MAX);
                tracing::warn!(error = %error, "cannot listen to other replicas' changes yet; retrying");
            }
        }
    }
}

/// Applies what the other replicas announce.
struct Applier {
    database: Database,
    replicas: Replicas,
    stores: Arc<StoreRegistry>,
    access: Access,
    lifecycle: Option<Arc<Lifecycle>>,
}

/// Listens for ever; when the connection was lost, drops what this replica cannot vouch for
/// once it listens again.
async fn listen(
    applier: Arc<Applier>,
    database: Database,
    mut listener: Listener,
    last_heard: Arc<LastHeard>,
) {
    loop {
        match listener.next().await {
            Ok(Heard::Notice(payload)) => {
                last_heard.heard();
                applier.apply(&payload).await;
            }
            Ok(Heard::Reconnected) => {
                last_heard.heard();
                applier.resynchronise().await;
            }
            Err(error) => {
                applier.replicas.metrics.failed("listen");
                tracing::warn!(error = %error, "lost the connection that hears other replicas' changes; listening again");
                listener = listen_again(&applier, &database).await;
                last_heard.heard();
                applier.resynchronise().await;
            }
        }
    }
}

impl Applier {
    async fn apply(&self, payload: &str) {
        let notice: Notice = match serde_json::from_str(payload) {
            Ok(notice) => notice,
            Err(_) => {
                // From a replica of another version, perhaps: whatever it changed cannot be
                // placed, so nothing cached is trusted.
                self.replicas.metrics.failed("unreadable");
                tracing::warn!(
                    "a notice from another replica cannot be read; dropping every cached value"
                );
                self.resynchronise().await;
                return;
            }
        };
        if notice.replica == self.replicas.id {
            return;
        }
        self.replicas.metrics.received();
        match (notice.event, notice.store) {
            (Event::Joined, _) => self.replicas.count(&self.database).await,
            (Event::Change(change), Some(hash)) => {
                if let Some(store) = self.stores.get(hash.as_str()) {
                    if let Change::FieldDefinitions(_) = change {
                        // The definitions live in the database; this replica serves its own
                        // copy, which is read again before the change is recorded, so that a
                        // request after it is answered with the new ones.
                        self.reload_field_definitions(&store).await;
                    }
                    if let Change::Settings(_) = change {
                        self.reload_settings(&store).await;
                    }
                    self.access
                        .invalidate_announced(change.for_store(store.scope.key));
                }
            }
            (Event::Installed, Some(store)) => {
                if let Some(lifecycle) = &self.lifecycle {
                    lifecycle.serve_from_database(&store).await;
                }
            }
            (Event::Forgotten, Some(store)) => {
                if let Some(lifecycle) = &self.lifecycle {
                    lifecycle.stop_serving(&store);
                }
            }
            // A store event without its store: nothing to place it on.
            (_, None) => self.replicas.metrics.failed("unreadable"),
        }
    }

    /// Reads a store's field definitions again after another replica changed them. When the
    /// database cannot answer, the copy served is kept (and said so): the cached answers are
    /// dropped all the same, and the next change or resynchronisation reads them again.
    async fn reload_field_definitions(&self, store: &Store) {
        match self.database.field_definitions(store.hash.as_str()).await {
            Ok(fields) => store.scope.fields.store(Arc::new(fields)),
            Err(error) => {
                self.replicas.metrics.failed("definitions");
                tracing::warn!(store = %store.hash, error = %error, "cannot read the field definitions another replica changed; serving the earlier ones");
            }
        }
    }

    /// Reads a store's channel-orders setting again after another replica changed it; when
    /// the database cannot answer, the setting served is kept (and said so).
    async fn reload_settings(&self, store: &Store) {
        match self.database.settings(store.hash.as_str()).await {
            Ok(settings) => {
                store.set_channel_orders(settings.is_some_and(|settings| settings.channel_orders))
            }
            Err(error) => {
                self.replicas.metrics.failed("settings");
                tracing::warn!(store = %store.hash, error = %error, "cannot read the settings another replica changed; serving the earlier ones");
            }
        }
    }

    /// Drops everything cached for every store served (changes may have been missed), and
    /// reads the store registry again from the database (installs and uninstalls may have
    /// been missed).
    async fn resynchronise(&self) {
        let served = self.stores.all();
        for store in &served {
            self.access
                .invalidate_announced(Change::Store(store.scope.key));
        }
        self.replicas.metrics.resynchronised(served.len());
        tracing::warn!(
            stores = served.len(),
            "listening to other replicas again after the connection was lost: dropped everything cached for every store served, since changes may have been missed"
        );
        if let Some(lifecycle) = &self.lifecycle {
            lifecycle.reload_stores().await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::domain::{OrderId, StoreKey};

    #[test]
    fn a_notice_reads_back_as_it_was_sent() {
        let notices = [
            Event::Change(Change::Order(StoreKey::new(3), OrderId::new(100).unwrap())),
            Event::Change(Change::OrderMetafields(
                StoreKey::new(3),
                OrderId::new(7).unwrap(),
            )),
            Event::Change(Change::Store(StoreKey::new(9))),
            Event::Installed,
            Event::Forgotten,
            Event::Joined,
        ]
        .map(|event| Notice {
            replica: Uuid::new_v4(),
            store: StoreHash::parse("abc123"),
            event,
        });
        for notice in notices {
            let payload = serde_json::to_string(&notice).unwrap();

            assert!(payload.len() < 8000, "{payload}");
            assert_eq!(serde_json::from_str::<Notice>(&payload).unwrap(), notice);
        }
    }

    #[test]
    fn a_notice_names_its_store_by_hash_and_refuses_a_malformed_one() {
        let notice = Notice {
            replica: Uuid::nil(),
            store: StoreHash::parse("abc123"),
            event: Event::Change(Change::Order(StoreKey::new(3), OrderId::new(100).unwrap())),
        };

        let payload = serde_json::to_value(&notice).unwrap();

        assert_eq!(
            payload,
            serde_json::json!({
                "replica": "00000000-0000-0000-0000-000000000000",
                "store": "abc123",
                "event": {"change": {"order": [3, 100]}},
            })
        );
        let forged = r#"{"replica":"00000000-0000-0000-0000-000000000000","store":"../x","event":"installed"}"#;
        assert!(serde_json::from_str::<Notice>(forged).is_err());
    }
}
