//! Each installed store's private tokens for the GraphQL Storefront API, sealed: one row per
//! store and channel, replaced when the token is renewed, deleted with the store.

use sqlx::Row;

use super::{Database, DatabaseError, query_error, unix_seconds};

/// A store's private token as the database keeps it (sealed).
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateTokenRecord {
    pub sealed_token: Vec<u8>,
    /// Which encryption key sealed it.
    pub token_key_id: String,
    /// When BigCommerce stops accepting it (Unix seconds).
    pub expires_at: i64,
}

impl Database {
    /// Saves the store's private token, replacing an earlier one.
    pub async fn save_private_token(
        &self,
        store_hash: &str,
        channel_id: i64,
        record: &PrivateTokenRecord,
    ) -> Result<(), DatabaseError> {
        sqlx::query(
            "INSERT INTO private_tokens (store_hash, channel_id, token, token_key_id, expires_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (store_hash, channel_id) DO UPDATE SET token = excluded.token, \
             token_key_id = excluded.token_key_id, expires_at = excluded.expires_at, \
             updated_at = excluded.updated_at",
        )
        .bind(store_hash)
        .bind(channel_id)
        .bind(&record.sealed_token)
        .bind(&record.token_key_id)
        .bind(record.expires_at)
        .bind(unix_seconds(std::time::SystemTime::now()))
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(query_error("save_private_token"))
    }

    /// The store's private token for a channel, if one was saved.
    pub async fn private_token(
        &self,
        store_hash: &str,
        channel_id: i64,
    ) -> Result<Option<PrivateTokenRecord>, DatabaseError> {
        let row = sqlx::query(
            "SELECT token, token_key_id, expires_at FROM private_tokens \
             WHERE store_hash = $1 AND channel_id = $2",
        )
        .bind(store_hash)
        .bind(channel_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("private_token"))?;
        row.map(|row| {
            Ok(PrivateTokenRecord {
                sealed_token: row.try_get("token")?,
                token_key_id: row.try_get("token_key_id")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .transpose()
        .map_err(query_error("private_token"))
    }
}
