//! Per-store settings: what single-store mode reads from the environment, kept per store so
//! that every installed store has its own: the namespace allow-list, and whether shoppers see
//! only the orders of the storefront (channel) they are on.

use std::collections::BTreeSet;

use sqlx::Row;

use super::{Database, DatabaseError, query_error};

/// A store's settings as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SettingsRecord {
    /// Namespaces whose `read` and `write` metafields are shown besides the storefront-marked
    /// ones.
    pub metafield_namespaces: BTreeSet<String>,
    /// Show shoppers only the orders of the channel whose storefront made the request (the
    /// merchant page's setting; off by default).
    pub channel_orders: bool,
}

impl Database {
    /// The store's settings, if any were saved.
    pub async fn settings(
        &self,
        store_hash: &str,
    ) -> Result<Option<SettingsRecord>, DatabaseError> {
        let row = sqlx::query(
            "SELECT metafield_namespaces, channel_orders FROM store_settings WHERE store_hash = $1",
        )
        .bind(store_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("find_settings"))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let namespaces: String = row
            .try_get("metafield_namespaces")
            .map_err(query_error("read_settings"))?;
        let metafield_namespaces =
            serde_json::from_str(&namespaces).map_err(|error| DatabaseError::Query {
                operation: "read_settings",
                message: format!("metafield_namespaces is not a JSON list of names: {error}"),
            })?;
        let channel_orders: i64 = row
            .try_get("channel_orders")
            .map_err(query_error("read_settings"))?;
        Ok(Some(SettingsRecord {
            metafield_namespaces,
            channel_orders: channel_orders != 0,
        }))
    }

    /// Saves the store's settings, replacing what was there.
    pub async fn save_settings(
        &self,
        store_hash: &str,
        settings: &SettingsRecord,
        now: i64,
    ) -> Result<(), DatabaseError> {
        let namespaces =
            serde_json::to_string(&settings.metafield_namespaces).map_err(|error| {
                DatabaseError::Query {
                    operation: "save_settings",
                    message: error.to_string(),
                }
            })?;
        sqlx::query(
            "INSERT INTO store_settings (store_hash, metafield_namespaces, channel_orders, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (store_hash) DO UPDATE SET \
             metafield_namespaces = excluded.metafield_namespaces, \
             channel_orders = excluded.channel_orders, updated_at = excluded.updated_at",
        )
        .bind(store_hash)
        .bind(namespaces)
        .bind(i64::from(settings.channel_orders))
        .bind(now)
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(query_error("save_settings"))
    }
}
