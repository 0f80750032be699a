//! The database: the only code that issues SQL, as `management` is the only code that calls
//! BigCommerce. It holds installed stores (with their access token sealed, never in the
//! clear), control-panel users, used load tokens, per-store settings and field definitions, in SQLite
//! (embedded, one replica) or PostgreSQL (several replicas) through one code path: sqlx's
//! Any driver picks the engine from `DATABASE_URL`, and each engine has its own migrations
//! (`migrations/sqlite`, `migrations/postgres`), embedded in the binary and run at connect.
//! It knows nothing of HTTP, of caches or of how tokens are sealed.

mod fields;
mod load_tokens;
mod mirror;
mod notifications;
mod private_tokens;
mod settings;
mod stores;
mod sync_leases;
mod users;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use url::Url;

pub use mirror::{MirrorSize, MirrorStateRecord, MirrorWrite, MirroredMetafield, MirroredOrder};
pub use notifications::{Heard, Listener};
pub use private_tokens::PrivateTokenRecord;
pub use settings::SettingsRecord;
pub use stores::StoreRecord;
pub use sync_leases::{SyncLease, SyncLeases};
pub use users::UserRecord;

/// The schema of the embedded engine.
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
/// The same schema in PostgreSQL's types.
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// How long start-up and a request wait for a connection before calling the database
/// unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A lock across replicas ([`Database::lock_across_replicas`]), released when dropped.
pub struct AdvisoryLock {
    _held: Option<sqlx::Transaction<'static, sqlx::Any>>,
}

/// The key of an advisory lock (PostgreSQL's `bigint`) naming `parts`: the first 8 bytes of
/// the SHA-256 of the parts, each length-prefixed so that no two different lists give the
/// same bytes. One function for every lock across replicas, so their keys never collide by
/// construction of two schemes.
pub fn advisory_key(parts: &[&str]) -> i64 {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for part in parts {
        context.update(&(part.len() as u64).to_be_bytes());
        context.update(part.as_bytes());
    }
    let digest = context.finish();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    i64::from_be_bytes(first)
}

/// A connection pool to the migrated database, cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: AnyPool,
    engine: Engine,
    /// Where it is, for a listening connection of its own (PostgreSQL).
    url: DatabaseUrl,
    /// An SQLite file's replica lock (held while this pool lives), and whether another
    /// process held it at connect.
    replica_lock: Option<Arc<ReplicaLock>>,
}

/// An exclusive advisory lock on `{file}.replica-lock` beside an SQLite file: SQLite mode is
/// one replica, and a second process on the same file is told so at start-up.
struct ReplicaLock {
    _file: Option<std::fs::File>,
    shared: bool,
}

/// Which engine a `DATABASE_URL` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A parsed `DATABASE_URL`. The URL may carry a password, so it is kept as a secret and
/// only [`DatabaseUrl::display`] (no credentials) is ever shown.
#[derive(Clone)]
pub struct DatabaseUrl {
    url: SecretString,
    engine: Engine,
    shown: String,
}

/// Why the database could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// The database cannot be reached now (refused, timed out, closed): worth retrying.
    #[error("the database at {0} is unavailable: {1}")]
    Unavailable(String, String),
    /// The schema could not be brought up to date.
    #[error("migrating the database at {0} failed: {1}")]
    Migration(String, String),
    /// A query failed for another reason (a constraint, a corrupt row).
    #[error("database query {operation} failed: {message}")]
    Query {
        operation: &'static str,
        message: String,
    },
}

impl Database {
    /// Connects (creating an SQLite file on first start), migrates, and checks the pool.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, DatabaseError> {
        sqlx::any::install_default_drivers();
        let engine = url.engine;
        let in_memory = url.is_in_memory();
        let shown = url.display().to_owned();
        let mut options = AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
        if engine == Engine::Sqlite {
            // One writer at a time is SQLite's rule; WAL lets readers go on meanwhile.
            options = options.after_connect(|connection, _| {
                Box::pin(async move {
                    use sqlx::Executor;
                    connection.execute("PRAGMA journal_mode = WAL").await?;
                    connection.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            });
        }
        if in_memory {
            // An in-memory database lives as long as one of its connections: keep one open
            // for the life of the pool.
            options = options
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }
        let pool = options
            .connect(url.url.expose_secret())
            .await
            .map_err(|error| DatabaseError::Unavailable(shown.clone(), describe(&error)))?;
        let migrator = match engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&pool)
            .await
            .map_err(|error| DatabaseError::Migration(shown.clone(), error.to_string()))?;
        let replica_lock = url
            .sqlite_file()
            .map(|file| Arc::new(ReplicaLock::take(&file)));
        Ok(Self {
            pool,
            engine,
            url: url.clone(),
            replica_lock,
        })
    }

    /// Whether another process held this SQLite file's replica lock when this pool
    /// connected (always false on PostgreSQL and in memory).
    pub fn shared_with_another_process(&self) -> bool {
        self.replica_lock.as_ref().is_some_and(|lock| lock.shared)
    }

    /// The engine behind this pool.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Whether the database answers a trivial query now.
    pub async fn ping(&self) -> Result<(), DatabaseError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(query_error("ping"))
    }

    /// A lock named by `key` that every replica on this PostgreSQL database respects, held
    /// until the returned guard is dropped (a transaction holding `pg_advisory_xact_lock`,
    /// so a cancelled holder's lock goes with its rolled-back transaction). On SQLite, one
    /// replica only: no lock is needed and none is taken.
    pub async fn lock_across_replicas(&self, key: i64) -> Result<AdvisoryLock, DatabaseError> {
        if self.engine != Engine::Postgres {
            return Ok(AdvisoryLock { _held: None });
        }
        let mut transaction = self.pool.begin().await.map_err(query_error("lock"))?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(key)
            .execute(&mut *transaction)
            .await
            .map_err(query_error("lock"))?;
        Ok(AdvisoryLock {
            _held: Some(transaction),
        })
    }

    /// This replica's leases on syncing stores' mirrors ([`SyncLeases`]).
    pub fn sync_leases(&self) -> SyncLeases {
        SyncLeases::new(self.clone())
    }

    /// Closes every connection; later calls fail as unavailable.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl DatabaseError {
    /// Whether the failure is the database being out of reach rather than a bad query.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, DatabaseError::Unavailable(..))
    }
}

impl DatabaseUrl {
    /// A new in-memory SQLite database, as single-store mode uses by default: gone when its
    /// pool closes. Each call names a different database, so two applications in one
    /// process (the tests) never share one.
    pub fn in_memory() -> Self {
        // A named in-memory database with a shared cache (an SQLite URI filename, `file:`):
        // every connection of the pool opens the same one. sqlx's own `sqlite::memory:` would
        // give each connection its own, because the Any driver reconnects from the URL.
        let name = format!("order-metafields-memory-{}", uuid::Uuid::new_v4().simple());
        Self {
            url: SecretString::from(format!("sqlite:file:{name}?mode=memory&cache=shared")),
            engine: Engine::Sqlite,
            shown: "sqlite::memory:".to_owned(),
        }
    }

    /// The engine this URL names.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The URL without user name, password or query: safe to log and to print.
    pub fn display(&self) -> &str {
        &self.shown
    }

    /// The SQLite file's path, when this names one.
    fn sqlite_file(&self) -> Option<String> {
        if self.engine != Engine::Sqlite || self.is_in_memory() {
            return None;
        }
        self.shown.strip_prefix("sqlite://").map(str::to_owned)
    }

    fn is_in_memory(&self) -> bool {
        let url = self.url.expose_secret();
        self.engine == Engine::Sqlite && url.contains("mode=memory")
    }
}

impl ReplicaLock {
    /// Takes the lock of `file` if no other process holds it. A lock file that cannot be
    /// opened (a read-only directory) proves nothing either way.
    fn take(file: &str) -> Self {
        let opened = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(format!("{file}.replica-lock"));
        let Ok(lock) = opened else {
            return Self {
                _file: None,
                shared: false,
            };
        };
        let shared = matches!(lock.try_lock(), Err(std::fs::TryLockError::WouldBlock));
        Self {
            _file: Some(lock),
            shared,
        }
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;

    /// Accepts `sqlite://PATH` (relative to the working directory, created on first start),
    /// `sqlite::memory:`, and `postgres://…` / `postgresql://…`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text == "sqlite::memory:" {
            return Ok(Self::in_memory());
        }
        if let Some(path) = text.strip_prefix("sqlite://") {
            let (file, query) = path.split_once('?').unwrap_or((path, ""));
            if file.is_empty() {
                return Err("expected sqlite://PATH with a file name".to_owned());
            }
            // Created on first start unless the URL says otherwise.
            let url = if query.split('&').any(|pair| pair.starts_with("mode=")) {
                text.to_owned()
            } else if query.is_empty() {
                format!("{text}?mode=rwc")
            } else {
                format!("{text}&mode=rwc")
            };
            return Ok(Self {
                url: SecretString::from(url),
                engine: Engine::Sqlite,
                shown: format!("sqlite://{file}"),
            });
        }
        let parsed = Url::parse(text).map_err(|_| {
            "expected sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE".to_owned()
        })?;
        match parsed.scheme() {
            "postgres" | "postgresql" => {}
            other => {
                return Err(format!(
                    "the scheme {other:?} is not supported; expected sqlite:// or postgres://"
                ));
            }
        }
        let host = parsed
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or("expected a host in the postgres:// URL")?;
        let port = parsed
            .port()
            .map(|port| format!(":{port}"))
            .unwrap_or_default();
        Ok(Self {
            url: SecretString::from(text.to_owned()),
            engine: Engine::Postgres,
            shown: format!("postgres://{host}{port}{}", parsed.path()),
        })
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_tuple("DatabaseUrl")
            .field(&self.shown)
            .finish()
    }
}

/// The error's message without anything a connection string put in it.
fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::PoolTimedOut => "no connection within 5 s".to_owned(),
        sqlx::Error::PoolClosed => "the connection pool is closed".to_owned(),
        sqlx::Error::Tls(_) => "the TLS handshake failed".to_owned(),
        sqlx::Error::Configuration(_) => "the URL's options are invalid".to_owned(),
        sqlx::Error::Database(database) => database.message().to_owned(),
        other => other.to_string(),
    }
}

/// Maps a query's error to a [`DatabaseError`], telling "out of reach" from the rest.
fn query_error(operation: &'static str) -> impl Fn(sqlx::Error) -> DatabaseError {
    move |error| match &error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => {
            DatabaseError::Unavailable(operation.to_owned(), describe(&error))
        }
        _ => DatabaseError::Query {
            operation,
            message: describe(&error),
        },
    }
}

/// Unix seconds as the schema stores times.
fn unix_seconds(time: std::time::SystemTime) -> i64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn database_urls_name_their_engine_and_never_show_credentials() {
        let cases = [
            (
                "sqlite://order-metafields.db",
                Engine::Sqlite,
                "sqlite://order-metafields.db",
            ),
            (
                "sqlite:///var/lib/om/app.db?mode=rw",
                Engine::Sqlite,
                "sqlite:///var/lib/om/app.db",
            ),
            ("sqlite::memory:", Engine::Sqlite, "sqlite::memory:"),
            (
                "postgres://app:s3cret@db.internal:5432/orders?sslmode=require",
                Engine::Postgres,
                "postgres://db.internal:5432/orders",
            ),
            (
                "postgresql://app@localhost/orders",
                Engine::Postgres,
                "postgres://localhost/orders",
            ),
        ];
        for (text, engine, shown) in cases {
            let url: DatabaseUrl = text.parse().unwrap();

            assert_eq!(url.engine(), engine, "{text}");
            assert_eq!(url.display(), shown, "{text}");
            assert!(!format!("{url:?}").contains("s3cret"), "{text}");
        }
    }

    #[test]
    fn a_new_sqlite_file_is_created_unless_the_url_says_otherwise() {
        let created: DatabaseUrl = "sqlite://a.db".parse().unwrap();
        let read_write: DatabaseUrl = "sqlite://a.db?mode=rw".parse().unwrap();
        let with_query: DatabaseUrl = "sqlite://a.db?cache=private".parse().unwrap();

        assert_eq!(created.url.expose_secret(), "sqlite://a.db?mode=rwc");
        assert_eq!(read_write.url.expose_secret(), "sqlite://a.db?mode=rw");
        assert_eq!(
            with_query.url.expose_secret(),
            "sqlite://a.db?cache=private&mode=rwc"
        );
    }

    #[test]
    fn malformed_database_urls_are_refused_with_what_is_expected() {
        for (text, expected) in [
            ("", "expected sqlite://PATH or postgres://"),
            (
                "order-metafields.db",
                "expected sqlite://PATH or postgres://",
            ),
            ("sqlite://", "expected sqlite://PATH with a file name"),
            ("mysql://db/orders", "the scheme \"mysql\" is not supported"),
            ("postgres:///orders", "expected a host"),
        ] {
            let error = text.parse::<DatabaseUrl>().unwrap_err();

            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }
}
