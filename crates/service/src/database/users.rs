//! Control-panel users of a store, recorded when they open the app (`load`) and forgotten on
//! `remove_user` or uninstall.

use sqlx::Row;

use super::{Database, DatabaseError, query_error};

/// A user who opened the app in a store's control panel.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user_id: i64,
    pub email: String,
    pub locale: Option<String>,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
}

impl Database {
    /// Records that the user opened the app at `seen_at`, adding them on their first visit.
    pub async fn record_user(
        &self,
        store_hash: &str,
        user: &UserRecord,
    ) -> Result<(), DatabaseError> {
        sqlx::query(
            "INSERT INTO store_users (store_hash, user_id, email, locale, first_seen_at, \
             last_seen_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (store_hash, user_id) DO UPDATE SET email = excluded.email, \
             locale = excluded.locale, last_seen_at = excluded.last_seen_at",
        )
        .bind(store_hash)
        .bind(user.user_id)
        .bind(&user.email)
        .bind(&user.locale)
        .bind(user.first_seen_at)
        .bind(user.last_seen_at)
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(query_error("record_user"))
    }

    /// Forgets a user of a store; returns whether they were known.
    pub async fn remove_user(&self, store_hash: &str, user_id: i64) -> Result<bool, DatabaseError> {
        sqlx::query("DELETE FROM store_users WHERE store_hash = $1 AND user_id = $2")
            .bind(store_hash)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map(|done| done.rows_affected() == 1)
            .map_err(query_error("remove_user"))
    }

    /// Whether the user is (still) a known user of the store: `remove_user` and an
    /// uninstall end their merchant-page sessions through this.
    pub async fn has_user(&self, store_hash: &str, user_id: i64) -> Result<bool, DatabaseError> {
        sqlx::query("SELECT 1 FROM store_users WHERE store_hash = $1 AND user_id = $2")
            .bind(store_hash)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map(|row| row.is_some())
            .map_err(query_error("find_user"))
    }

    /// The users who opened the app in a store, by id.
    pub async fn users(&self, store_hash: &str) -> Result<Vec<UserRecord>, DatabaseError> {
        let rows = sqlx::query(
            "SELECT user_id, email, locale, first_seen_at, last_seen_at \
             FROM store_users WHERE store_hash = $1 ORDER BY user_id",
        )
        .bind(store_hash)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("list_users"))?;
        rows.iter()
            .map(|row| {
                Ok(UserRecord {
                    user_id: row.try_get("user_id")?,
                    email: row.try_get("email")?,
                    locale: row.try_get("locale")?,
                    first_seen_at: row.try_get("first_seen_at")?,
                    last_seen_at: row.try_get("last_seen_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(query_error("read_user"))
    }
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A merchant's email stays out of debug output and so out of logs.
        formatter
            .debug_struct("UserRecord")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}
