//! PostgreSQL's `LISTEN`/`NOTIFY`, the one channel replicas share: a notice sent here reaches
//! every replica listening on the same database, within milliseconds, in the order sent. A
//! notice is not stored: a replica whose listening connection was lost misses what was sent
//! meanwhile, and [`Listener::next`] says when that may have happened. SQLite has no such
//! channel (SQLite mode is one replica), so both calls refuse it.

use std::str::FromStr;

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};

use super::{Database, DatabaseError, Engine, describe, query_error};

/// A connection that receives the notices of one channel.
pub struct Listener {
    listener: PgListener,
}

/// What the listening connection brought.
pub enum Heard {
    /// A notice's payload.
    Notice(String),
    /// The connection was lost and is listening again: notices sent meanwhile are gone.
    Reconnected,
}

impl Database {
    /// Sends `payload` (at most 8000 bytes, PostgreSQL's limit) to every listener of
    /// `channel`, this replica's included.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), DatabaseError> {
        if self.engine != Engine::Postgres {
            return Err(not_postgres());
        }
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(query_error("notify"))
    }

    /// A connection of its own listening on `channel`, named `application_name` in
    /// `pg_stat_activity` (so an operator, or a test, can tell replicas' listeners apart).
    pub async fn listen(
        &self,
        channel: &str,
        application_name: &str,
    ) -> Result<Listener, DatabaseError> {
        if self.engine != Engine::Postgres {
            return Err(not_postgres());
        }
        let shown = self.url.display().to_owned();
        let unavailable =
            |error: sqlx::Error| DatabaseError::Unavailable(shown.clone(), describe(&error));
        let options = PgConnectOptions::from_str(self.url.url.expose_secret())
            .map_err(unavailable)?
            .application_name(application_name);
        // A pool of one, only for reconnecting: the listener holds its connection for ever.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(super::ACQUIRE_TIMEOUT)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        let mut listener = PgListener::connect_with(&pool).await.map_err(unavailable)?;
        listener.ignore_pool_close_event(true);
        listener.listen(channel).await.map_err(unavailable)?;
        Ok(Listener { listener })
    }
}

impl Database {
    /// How many connections to this database are named starting with `prefix` (in
    /// `pg_stat_activity`): the replicas' listeners.
    pub async fn count_named(&self, prefix: &str) -> Result<u32, DatabaseError> {
        if self.engine != Engine::Postgres {
            return Err(not_postgres());
        }
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND starts_with(application_name, $1)",
        )
        .bind(prefix)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("count_named"))?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }
}

impl Listener {
    /// The next notice, or word that the connection was lost and listens again. An error
    /// means it is lost and not back yet: drop this listener and listen again.
    pub async fn next(&mut self) -> Result<Heard, DatabaseError> {
        match self.listener.try_recv().await {
            Ok(Some(notification)) => Ok(Heard::Notice(notification.payload().to_owned())),
            Ok(None) => Ok(Heard::Reconnected),
            Err(error) => Err(DatabaseError::Unavailable(
                "listen".to_owned(),
                describe(&error),
            )),
        }
    }
}

fn not_postgres() -> DatabaseError {
    DatabaseError::Query {
        operation: "notify",
        message: "LISTEN/NOTIFY needs PostgreSQL".to_owned(),
    }
}
