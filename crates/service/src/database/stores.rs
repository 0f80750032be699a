//! Installed stores: one row each, written by the install callback, read once at start-up
//! into the in-memory registry, deleted (with everything else of the store) on uninstall.

use std::time::SystemTime;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Database, DatabaseError, query_error, unix_seconds};

/// The columns of a [`StoreRecord`], as a literal so that queries stay static strings.
macro_rules! select_stores {
    () => {
        "SELECT store_hash, access_token, token_key_id, scope, owner_id, owner_email, \
         account_uuid, installed_at, updated_at FROM stores"
    };
}

fn store_from_row(row: &AnyRow) -> Result<StoreRecord, DatabaseError> {
    let read = || -> Result<StoreRecord, sqlx::Error> {
        Ok(StoreRecord {
            store_hash: row.try_get("store_hash")?,
            sealed_access_token: row.try_get("access_token")?,
            token_key_id: row.try_get("token_key_id")?,
            scope: row.try_get("scope")?,
            owner_id: row.try_get("owner_id")?,
            owner_email: row.try_get("owner_email")?,
            account_uuid: row.try_get("account_uuid")?,
            installed_at: row.try_get("installed_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    };
    read().map_err(query_error("read_store"))
}

/// A store as the database keeps it. The access token is sealed: only the registry, which
/// holds the encryption key, can open it.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreRecord {
    pub store_hash: String,
    pub sealed_access_token: Vec<u8>,
    /// Which encryption key sealed the token.
    pub token_key_id: String,
    pub scope: String,
    pub owner_id: i64,
    pub owner_email: String,
    pub account_uuid: Option<String>,
    pub installed_at: i64,
    pub updated_at: i64,
}

impl Database {
    /// Inserts the store, or replaces what an earlier install left (a reinstall, or a new
    /// token after a scope change), keeping its first install date.
    pub async fn save_store(&self, store: &StoreRecord) -> Result<(), DatabaseError> {
        sqlx::query(
            "INSERT INTO stores (store_hash, access_token, token_key_id, scope, owner_id, \
             owner_email, account_uuid, installed_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (store_hash) DO UPDATE SET access_token = excluded.access_token, \
             token_key_id = excluded.token_key_id, scope = excluded.scope, \
             owner_id = excluded.owner_id, owner_email = excluded.owner_email, \
             account_uuid = excluded.account_uuid, updated_at = excluded.updated_at",
        )
        .bind(&store.store_hash)
        .bind(&store.sealed_access_token)
        .bind(&store.token_key_id)
        .bind(&store.scope)
        .bind(store.owner_id)
        .bind(&store.owner_email)
        .bind(&store.account_uuid)
        .bind(store.installed_at)
        .bind(store.updated_at)
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(query_error("save_store"))
    }

    /// Every installed store, by hash.
    pub async fn stores(&self) -> Result<Vec<StoreRecord>, DatabaseError> {
        sqlx::query(concat!(select_stores!(), " ORDER BY store_hash"))
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("list_stores"))?
            .iter()
            .map(store_from_row)
            .collect()
    }

    /// One installed store.
    pub async fn store(&self, store_hash: &str) -> Result<Option<StoreRecord>, DatabaseError> {
        sqlx::query(concat!(select_stores!(), " WHERE store_hash = $1"))
            .bind(store_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("find_store"))?
            .as_ref()
            .map(store_from_row)
            .transpose()
    }

    /// Replaces a store's sealed token (a key rotation), unless the row changed meanwhile.
    pub async fn reseal_store_token(
        &self,
        store_hash: &str,
        old_key_id: &str,
        sealed_access_token: &[u8],
        token_key_id: &str,
    ) -> Result<bool, DatabaseError> {
        sqlx::query(
            "UPDATE stores SET access_token = $1, token_key_id = $2 \
             WHERE store_hash = $3 AND token_key_id = $4",
        )
        .bind(sealed_access_token)
        .bind(token_key_id)
        .bind(store_hash)
        .bind(old_key_id)
        .execute(&self.pool)
        .await
        .map(|done| done.rows_affected() == 1)
        .map_err(query_error("reseal_store_token"))
    }

    /// Forgets a store in one transaction: its row (and so its token), its users and its
    /// settings. Returns whether it was installed.
    pub async fn forget_store(&self, store_hash: &str) -> Result<bool, DatabaseError> {
        let mut transaction = self
            .pool
            .begin()
            .await
            .map_err(query_error("forget_store"))?;
        for statement in [
            "DELETE FROM store_users WHERE store_hash = $1",
            "DELETE FROM store_settings WHERE store_hash = $1",
            "DELETE FROM field_definitions WHERE store_hash = $1",
            "DELETE FROM private_tokens WHERE store_hash = $1",
        ] {
            sqlx::query(statement)
                .bind(store_hash)
                .execute(&mut *transaction)
                .await
                .map_err(query_error("forget_store"))?;
        }
        super::mirror::forget_mirror_in(&mut transaction, store_hash, "forget_store").await?;
        let deleted = sqlx::query("DELETE FROM stores WHERE store_hash = $1")
            .bind(store_hash)
            .execute(&mut *transaction)
            .await
            .map_err(query_error("forget_store"))?
            .rows_affected();
        transaction
            .commit()
            .await
            .map_err(query_error("forget_store"))?;
        Ok(deleted == 1)
    }
}

impl StoreRecord {
    /// A record for a store installed (or reinstalled) now.
    pub fn installed_now(
        store_hash: String,
        sealed_access_token: Vec<u8>,
        token_key_id: String,
        scope: String,
        owner: (i64, String),
        account_uuid: Option<String>,
    ) -> Self {
        let now = unix_seconds(SystemTime::now());
        Self {
            store_hash,
            sealed_access_token,
            token_key_id,
            scope,
            owner_id: owner.0,
            owner_email: owner.1,
            account_uuid,
            installed_at: now,
            updated_at: now,
        }
    }
}

impl std::fmt::Debug for StoreRecord {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The owner's email and the sealed token stay out of debug output.
        formatter
            .debug_struct("StoreRecord")
            .field("store_hash", &self.store_hash)
            .field("token_key_id", &self.token_key_id)
            .field("scope", &self.scope)
            .field("owner_id", &self.owner_id)
            .field("installed_at", &self.installed_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}
