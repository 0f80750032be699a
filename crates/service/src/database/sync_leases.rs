//! Which replica syncs each store's mirror: a PostgreSQL session advisory lock per store,
//! all of one replica's on one connection of its own (outside the pool, so a lock never goes
//! back to it held, and one connection whatever the number of stores). When that connection
//! dies, the server releases every lock it held and another replica takes the stores over;
//! this replica finds out at its next check ([`SyncLease::holds`]) and opens a new one.
//! SQLite is one replica, which always holds every lease.

use std::sync::Arc;
use std::time::Duration;

use super::{Database, DatabaseError, Engine, query_error};

/// The longest a lease operation waits (a half-open connection must not stall a sync).
const LEASE_TIMEOUT: Duration = Duration::from_secs(5);

/// One replica's leases, cheap to clone.
#[derive(Clone)]
pub struct SyncLeases {
    shared: Arc<Shared>,
}

struct Shared {
    database: Database,
    /// The connection holding the locks, and its number: a lease taken on an earlier
    /// connection no longer holds.
    connection: tokio::sync::Mutex<Option<(sqlx::AnyConnection, u64)>>,
    opened: std::sync::atomic::AtomicU64,
}

/// The right to sync one store's mirror; dropping it releases the lock.
pub struct SyncLease {
    shared: Option<Arc<Shared>>,
    key: i64,
    connection: u64,
}

fn unavailable(operation: &str) -> DatabaseError {
    DatabaseError::Unavailable(operation.to_owned(), "timed out".to_owned())
}

impl SyncLeases {
    pub(super) fn new(database: Database) -> Self {
        Self {
            shared: Arc::new(Shared {
                database,
                connection: tokio::sync::Mutex::new(None),
                opened: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    /// The lease of `key` (one store's), if no other replica holds it.
    pub async fn try_take(&self, key: i64) -> Result<Option<SyncLease>, DatabaseError> {
        let operation = "sync_lease";
        if self.shared.database.engine != Engine::Postgres {
            return Ok(Some(SyncLease {
                shared: None,
                key,
                connection: 0,
            }));
        }
        let mut slot = tokio::time::timeout(LEASE_TIMEOUT, self.shared.connection.lock())
            .await
            .map_err(|_| unavailable(operation))?;
        if slot.is_none() {
            let connection =
                tokio::time::timeout(LEASE_TIMEOUT, self.shared.database.pool.acquire())
                    .await
                    .map_err(|_| unavailable(operation))?
                    .map_err(query_error(operation))?
                    .detach();
            let number = self
                .shared
                .opened
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                + 1;
            *slot = Some((connection, number));
        }
        let Some((connection, number)) = slot.as_mut() else {
            return Err(unavailable(operation));
        };
        let number = *number;
        let taken = tokio::time::timeout(
            LEASE_TIMEOUT,
            sqlx::query_scalar::<_, i64>(
                "SELECT CASE WHEN pg_try_advisory_lock($1) THEN 1 ELSE 0 END::BIGINT",
            )
            .bind(key)
            .fetch_one(&mut *connection),
        )
        .await;
        match taken {
            Ok(Ok(held)) => Ok((held == 1).then(|| SyncLease {
                shared: Some(Arc::clone(&self.shared)),
                key,
                connection: number,
            })),
            Ok(Err(error)) => {
                // A broken connection holds nothing: the next attempt opens another.
                *slot = None;
                Err(query_error(operation)(error))
            }
            Err(_) => {
                *slot = None;
                Err(unavailable(operation))
            }
        }
    }
}

impl SyncLease {
    /// Whether the lease still holds: the connection that took it still answers (one the
    /// server or the network dropped lost every lock, and another replica may hold them).
    pub async fn holds(&self) -> bool {
        let Some(shared) = &self.shared else {
            return true;
        };
        let Ok(mut slot) = tokio::time::timeout(LEASE_TIMEOUT, shared.connection.lock()).await
        else {
            return false;
        };
        let Some((connection, number)) = slot.as_mut() else {
            return false;
        };
        if *number != self.connection {
            return false;
        }
        let answered = tokio::time::timeout(
            LEASE_TIMEOUT,
            sqlx::query("SELECT 1").execute(&mut *connection),
        )
        .await;
        if matches!(answered, Ok(Ok(_))) {
            true
        } else {
            *slot = None;
            false
        }
    }
}

impl Drop for SyncLease {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (key, number) = (self.key, self.connection);
        runtime.spawn(async move {
            let Ok(mut slot) = tokio::time::timeout(LEASE_TIMEOUT, shared.connection.lock()).await
            else {
                return;
            };
            if let Some((connection, current)) = slot.as_mut()
                && *current == number
            {
                let released = tokio::time::timeout(
                    LEASE_TIMEOUT,
                    sqlx::query("SELECT pg_advisory_unlock($1)")
                        .bind(key)
                        .execute(&mut *connection),
                )
                .await;
                if !matches!(released, Ok(Ok(_))) {
                    // Closing the connection releases whatever it held.
                    *slot = None;
                }
            }
        });
    }
}
