//! The mirror's tables (`SYNC_MODE=mirror`): where each store's sync stands, its orders (by
//! owner) and its storefront-visible order metafields (by order), and the orders webhooks
//! named that wait to be read again. Rows are opaque here: the order or metafield as JSON,
//! with the columns queries need beside it. A page of the sync and the position it reached
//! are saved in one transaction, so a sync resumes exactly where it stopped.

use sqlx::Row;

use super::{Database, DatabaseError, query_error};

/// Where a store's sync stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MirrorStateRecord {
    /// The visibility policy the stored metafields were chosen by.
    pub policy: String,
    /// Unix seconds: when the initial sync began.
    pub started_at: i64,
    /// The store's order count when it began.
    pub orders_total: i64,
    pub orders_synced: i64,
    /// Initial sync: every order below this id is mirrored.
    pub orders_next_id: i64,
    pub orders_complete: bool,
    /// Catch-up: orders modified at or after this time (Unix seconds) are read again.
    pub orders_since: i64,
    /// Initial sync: the batch metafield collection's cursor (`None`: from the start).
    pub metafields_after: Option<String>,
    pub metafields_complete: bool,
    pub metafields_since: i64,
    pub completed_at: Option<i64>,
    pub caught_up_at: Option<i64>,
    pub reconciled_at: Option<i64>,
    /// The comparison with BigCommerce under way: 0 none, 1 orders, 2 metafields.
    pub reconcile_step: i64,
    /// Orders: BigCommerce's ids from this one are compared next.
    pub reconcile_next_id: i64,
    /// Metafields: the batch collection's cursor.
    pub reconcile_after: Option<String>,
    /// Metafields: mirrored ids up to this one are compared.
    pub reconcile_last_id: i64,
}

/// An order row.
#[derive(Clone, Debug)]
pub struct MirroredOrder {
    pub order_id: u64,
    pub customer_id: u64,
    pub date_modified: i64,
    /// The order as JSON.
    pub body: String,
}

/// A metafield row.
#[derive(Clone, Debug)]
pub struct MirroredMetafield {
    pub metafield_id: u64,
    pub order_id: u64,
    pub permission_set: &'static str,
    /// The metafield as JSON.
    pub body: String,
}

/// What one step of a sync writes, with the position it reached (saved with it).
#[derive(Debug, Default)]
pub struct MirrorWrite<'a> {
    pub orders: &'a [MirroredOrder],
    /// Orders that are gone (archived, deleted), with their metafields.
    pub orders_gone: &'a [u64],
    pub metafields: &'a [MirroredMetafield],
    /// Metafields that are gone or no longer visible.
    pub metafields_gone: &'a [u64],
    /// Orders whose metafields are replaced whole by `metafields` (a webhook's re-read).
    pub metafields_of: &'a [u64],
    pub state: Option<&'a MirrorStateRecord>,
    /// The mirror this write belongs to (its `started_at`): when the store's mirror was
    /// begun again or forgotten since, nothing is written.
    pub generation: Option<i64>,
}

/// How many rows a store's mirror holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MirrorSize {
    pub orders: u64,
    pub metafields: u64,
}

fn id(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// `$2, $3, …`: the placeholders of `count` values after the store hash's `$1`.
fn placeholders(count: usize) -> String {
    (0..count)
        .map(|index| format!("${}", index + 2))
        .collect::<Vec<_>>()
        .join(", ")
}

fn unsigned(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

impl Database {
    /// Where the store's sync stands, if it began.
    pub async fn mirror_state(
        &self,
        store_hash: &str,
    ) -> Result<Option<MirrorStateRecord>, DatabaseError> {
        let operation = "find_mirror_state";
        let row = sqlx::query(
            "SELECT policy, started_at, orders_total, orders_synced, orders_next_id, \
             orders_complete, orders_since, metafields_after, metafields_complete, \
             metafields_since, completed_at, caught_up_at, reconciled_at, reconcile_step, \
             reconcile_next_id, reconcile_after, reconcile_last_id \
             FROM mirror_state WHERE store_hash = $1",
        )
        .bind(store_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error(operation))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let get = |name: &str| row.try_get::<i64, _>(name).map_err(query_error(operation));
        let optional = |name: &str| {
            row.try_get::<Option<i64>, _>(name)
                .map_err(query_error(operation))
        };
        Ok(Some(MirrorStateRecord {
            policy: row.try_get("policy").map_err(query_error(operation))?,
            started_at: get("started_at")?,
            orders_total: get("orders_total")?,
            orders_synced: get("orders_synced")?,
            orders_next_id: get("orders_next_id")?,
            orders_complete: get("orders_complete")? != 0,
            orders_since: get("orders_since")?,
            metafields_after: row
                .try_get("metafields_after")
                .map_err(query_error(operation))?,
            metafields_complete: get("metafields_complete")? != 0,
            metafields_since: get("metafields_since")?,
            completed_at: optional("completed_at")?,
            caught_up_at: optional("caught_up_at")?,
            reconciled_at: optional("reconciled_at")?,
            reconcile_step: get("reconcile_step")?,
            reconcile_next_id: get("reconcile_next_id")?,
            reconcile_after: row
                .try_get("reconcile_after")
                .map_err(query_error(operation))?,
            reconcile_last_id: get("reconcile_last_id")?,
        }))
    }

    /// Begins the store's mirror afresh: every row of an earlier one deleted, `state` saved.
    pub async fn start_mirror(
        &self,
        store_hash: &str,
        state: &MirrorStateRecord,
    ) -> Result<(), DatabaseError> {
        let operation = "start_mirror";
        let mut transaction = self.pool.begin().await.map_err(query_error(operation))?;
        for statement in [
            "DELETE FROM mirror_orders WHERE store_hash = $1",
            "DELETE FROM mirror_metafields WHERE store_hash = $1",
            "DELETE FROM mirror_state WHERE store_hash = $1",
        ] {
            sqlx::query(statement)
                .bind(store_hash)
                .execute(&mut *transaction)
                .await
                .map_err(query_error(operation))?;
        }
        sqlx::query(
            "INSERT INTO mirror_state (store_hash, policy, started_at, orders_total, \
             orders_synced, orders_next_id, orders_complete, orders_since, metafields_after, \
             metafields_complete, metafields_since, completed_at, caught_up_at, reconciled_at, \
             reconcile_step, reconcile_next_id, reconcile_after, reconcile_last_id) \
             VALUES ($1, '', 0, 0, 0, 0, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL, 0)",
        )
        .bind(store_hash)
        .execute(&mut *transaction)
        .await
        .map_err(query_error(operation))?;
        save_state(&mut transaction, store_hash, state, operation).await?;
        transaction.commit().await.map_err(query_error(operation))
    }

    /// Writes one step of a sync and, when given, the position it reached, in one transaction.
    pub async fn write_mirror(
        &self,
        store_hash: &str,
        write: MirrorWrite<'_>,
    ) -> Result<(), DatabaseError> {
        let operation = "write_mirror";
        let mut transaction = self.pool.begin().await.map_err(query_error(operation))?;
        if let Some(generation) = write.generation {
            let current: Option<i64> =
                sqlx::query_scalar("SELECT started_at FROM mirror_state WHERE store_hash = $1")
                    .bind(store_hash)
                    .fetch_optional(&mut *transaction)
                    .await
                    .map_err(query_error(operation))?;
            if current != Some(generation) {
                return Err(DatabaseError::Query {
                    operation,
                    message: "the store's mirror was begun again or forgotten meanwhile".to_owned(),
                });
            }
        }
        for order in write.orders {
            sqlx::query(
                "INSERT INTO mirror_orders (store_hash, order_id, customer_id, date_modified, body) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (store_hash, order_id) DO UPDATE SET \
                 customer_id = excluded.customer_id, date_modified = excluded.date_modified, \
                 body = excluded.body",
            )
            .bind(store_hash)
            .bind(id(order.order_id))
            .bind(id(order.customer_id))
            .bind(order.date_modified)
            .bind(order.body.as_str())
            .execute(&mut *transaction)
            .await
            .map_err(query_error(operation))?;
        }
        let metafields_of_orders: Vec<u64> = write
            .orders_gone
            .iter()
            .chain(write.metafields_of)
            .copied()
            .collect();
        let deletions: [(&str, &[u64]); 3] = [
            (
                "DELETE FROM mirror_metafields WHERE store_hash = $1 AND order_id = $2",
                &metafields_of_orders,
            ),
            (
                "DELETE FROM mirror_orders WHERE store_hash = $1 AND order_id = $2",
                write.orders_gone,
            ),
            (
                "DELETE FROM mirror_metafields WHERE store_hash = $1 AND metafield_id = $2",
                write.metafields_gone,
            ),
        ];
        for (statement, ids) in deletions {
            for &one in ids {
                sqlx::query(statement)
                    .bind(store_hash)
                    .bind(id(one))
                    .execute(&mut *transaction)
                    .await
                    .map_err(query_error(operation))?;
            }
        }
        for metafield in write.metafields {
            sqlx::query(
                "INSERT INTO mirror_metafields (store_hash, metafield_id, order_id, permission_set, body) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (store_hash, metafield_id) DO UPDATE SET \
                 order_id = excluded.order_id, permission_set = excluded.permission_set, \
                 body = excluded.body",
            )
            .bind(store_hash)
            .bind(id(metafield.metafield_id))
            .bind(id(metafield.order_id))
            .bind(metafield.permission_set)
            .bind(metafield.body.as_str())
            .execute(&mut *transaction)
            .await
            .map_err(query_error(operation))?;
        }
        if let Some(state) = write.state {
            save_state(&mut transaction, store_hash, state, operation).await?;
        }
        transaction.commit().await.map_err(query_error(operation))
    }

    /// The customer's mirrored orders (as JSON), newest id first, at most `limit`.
    pub async fn mirrored_orders_of(
        &self,
        store_hash: &str,
        customer_id: u64,
        limit: u64,
    ) -> Result<Vec<String>, DatabaseError> {
        let operation = "mirrored_orders";
        let rows = sqlx::query(
            "SELECT body FROM mirror_orders WHERE store_hash = $1 AND customer_id = $2 \
             ORDER BY order_id DESC LIMIT $3",
        )
        .bind(store_hash)
        .bind(id(customer_id))
        .bind(id(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(query_error(operation))?;
        rows.iter()
            .map(|row| row.try_get("body").map_err(query_error(operation)))
            .collect()
    }

    /// The order's mirrored metafields: each as JSON with its permission set, by id.
    pub async fn mirrored_metafields_of(
        &self,
        store_hash: &str,
        order_id: u64,
    ) -> Result<Vec<(String, String)>, DatabaseError> {
        let operation = "mirrored_metafields";
        let rows = sqlx::query(
            "SELECT body, permission_set FROM mirror_metafields \
             WHERE store_hash = $1 AND order_id = $2 ORDER BY metafield_id",
        )
        .bind(store_hash)
        .bind(id(order_id))
        .fetch_all(&self.pool)
        .await
        .map_err(query_error(operation))?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("body").map_err(query_error(operation))?,
                    row.try_get("permission_set")
                        .map_err(query_error(operation))?,
                ))
            })
            .collect()
    }

    /// Notes that a webhook named the order: the replica that syncs the store reads it again.
    pub async fn mark_mirror_pending(
        &self,
        store_hash: &str,
        order_id: u64,
    ) -> Result<(), DatabaseError> {
        sqlx::query(
            "INSERT INTO mirror_pending (store_hash, order_id, seq) VALUES ($1, $2, 1) \
             ON CONFLICT (store_hash, order_id) DO UPDATE SET seq = mirror_pending.seq + 1",
        )
        .bind(store_hash)
        .bind(id(order_id))
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(query_error("mark_mirror_pending"))
    }

    /// Up to `limit` orders waiting to be read again, each with its note's `seq`.
    pub async fn mirror_pending(
        &self,
        store_hash: &str,
        limit: u64,
    ) -> Result<Vec<(u64, i64)>, DatabaseError> {
        let operation = "mirror_pending";
        let rows = sqlx::query(
            "SELECT order_id, seq FROM mirror_pending WHERE store_hash = $1 \
             ORDER BY order_id LIMIT $2",
        )
        .bind(store_hash)
        .bind(id(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(query_error(operation))?;
        rows.iter()
            .map(|row| {
                Ok((
                    unsigned(row.try_get("order_id").map_err(query_error(operation))?),
                    row.try_get("seq").map_err(query_error(operation))?,
                ))
            })
            .collect()
    }

    /// The stores with orders waiting to be read again (one query for every store).
    pub async fn stores_with_mirror_pending(&self) -> Result<Vec<String>, DatabaseError> {
        let operation = "stores_with_mirror_pending";
        let rows = sqlx::query("SELECT DISTINCT store_hash FROM mirror_pending")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error(operation))?;
        rows.iter()
            .map(|row| row.try_get("store_hash").map_err(query_error(operation)))
            .collect()
    }

    /// Forgets that the order waits, if no webhook named it again since its note was read
    /// (`seq`): one that did keeps it waiting.
    pub async fn clear_mirror_pending(
        &self,
        store_hash: &str,
        order_id: u64,
        seq: i64,
    ) -> Result<(), DatabaseError> {
        sqlx::query(
            "DELETE FROM mirror_pending WHERE store_hash = $1 AND order_id = $2 AND seq = $3",
        )
        .bind(store_hash)
        .bind(id(order_id))
        .bind(seq)
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(query_error("clear_mirror_pending"))
    }

    /// The mirrored bodies of these orders (those it holds), by id.
    pub async fn mirrored_order_bodies(
        &self,
        store_hash: &str,
        orders: &[u64],
    ) -> Result<std::collections::HashMap<u64, String>, DatabaseError> {
        self.bodies("mirror_orders", "order_id", store_hash, orders)
            .await
    }

    /// The mirrored bodies of these metafields (those it holds), by id.
    pub async fn mirrored_metafield_bodies(
        &self,
        store_hash: &str,
        metafields: &[u64],
    ) -> Result<std::collections::HashMap<u64, String>, DatabaseError> {
        self.bodies("mirror_metafields", "metafield_id", store_hash, metafields)
            .await
    }

    async fn bodies(
        &self,
        table: &'static str,
        column: &'static str,
        store_hash: &str,
        ids: &[u64],
    ) -> Result<std::collections::HashMap<u64, String>, DatabaseError> {
        let operation = "mirrored_bodies";
        let mut found = std::collections::HashMap::with_capacity(ids.len());
        // A bounded number of parameters per statement, whatever the page.
        for chunk in ids.chunks(250) {
            let sql = format!(
                "SELECT {column} AS id, body FROM {table} WHERE store_hash = $1 AND {column} IN ({})",
                placeholders(chunk.len())
            );
            // Only this code's table and column names and numbered placeholders.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_hash);
            for &one in chunk {
                query = query.bind(id(one));
            }
            let rows = query
                .fetch_all(&self.pool)
                .await
                .map_err(query_error(operation))?;
            for row in &rows {
                let key: i64 = row.try_get("id").map_err(query_error(operation))?;
                let body: String = row.try_get("body").map_err(query_error(operation))?;
                found.insert(unsigned(key), body);
            }
        }
        Ok(found)
    }

    /// The orders these mirrored metafields are on (each once).
    pub async fn mirrored_metafield_orders(
        &self,
        store_hash: &str,
        metafields: &[u64],
    ) -> Result<Vec<u64>, DatabaseError> {
        let operation = "mirrored_metafield_orders";
        let mut orders = std::collections::BTreeSet::new();
        for chunk in metafields.chunks(250) {
            let sql = format!(
                "SELECT DISTINCT order_id FROM mirror_metafields WHERE store_hash = $1 \
                 AND metafield_id IN ({})",
                placeholders(chunk.len())
            );
            // Only numbered placeholders are added to the statement.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_hash);
            for &one in chunk {
                query = query.bind(id(one));
            }
            for row in query
                .fetch_all(&self.pool)
                .await
                .map_err(query_error(operation))?
            {
                let order: i64 = row.try_get("order_id").map_err(query_error(operation))?;
                orders.insert(unsigned(order));
            }
        }
        Ok(orders.into_iter().collect())
    }

    /// Mirrored order ids in `(after, up_to]`, ascending.
    pub async fn mirrored_order_ids_between(
        &self,
        store_hash: &str,
        after: u64,
        up_to: u64,
    ) -> Result<Vec<u64>, DatabaseError> {
        self.ids_between(
            "SELECT order_id AS id FROM mirror_orders WHERE store_hash = $1 AND order_id > $2 \
             AND order_id <= $3 ORDER BY order_id",
            store_hash,
            after,
            up_to,
        )
        .await
    }

    /// Mirrored metafield ids in `(after, up_to]`, ascending.
    pub async fn mirrored_metafield_ids_between(
        &self,
        store_hash: &str,
        after: u64,
        up_to: u64,
    ) -> Result<Vec<u64>, DatabaseError> {
        self.ids_between(
            "SELECT metafield_id AS id FROM mirror_metafields WHERE store_hash = $1 \
             AND metafield_id > $2 AND metafield_id <= $3 ORDER BY metafield_id",
            store_hash,
            after,
            up_to,
        )
        .await
    }

    async fn ids_between(
        &self,
        query: &'static str,
        store_hash: &str,
        after: u64,
        up_to: u64,
    ) -> Result<Vec<u64>, DatabaseError> {
        let operation = "mirrored_ids";
        let rows = sqlx::query(query)
            .bind(store_hash)
            .bind(id(after))
            .bind(id(up_to))
            .fetch_all(&self.pool)
            .await
            .map_err(query_error(operation))?;
        rows.iter()
            .map(|row| {
                row.try_get::<i64, _>("id")
                    .map(unsigned)
                    .map_err(query_error(operation))
            })
            .collect()
    }

    /// How many orders and metafields the store's mirror holds.
    pub async fn mirror_size(&self, store_hash: &str) -> Result<MirrorSize, DatabaseError> {
        let operation = "mirror_size";
        let count = |query: &'static str| async move {
            sqlx::query(query)
                .bind(store_hash)
                .fetch_one(&self.pool)
                .await
                .and_then(|row| row.try_get::<i64, _>("rows"))
                .map(unsigned)
                .map_err(query_error(operation))
        };
        Ok(MirrorSize {
            orders: count("SELECT COUNT(*) AS rows FROM mirror_orders WHERE store_hash = $1")
                .await?,
            metafields: count(
                "SELECT COUNT(*) AS rows FROM mirror_metafields WHERE store_hash = $1",
            )
            .await?,
        })
    }

    /// Deletes the store's mirror: its state, rows and pending orders.
    pub async fn forget_mirror(&self, store_hash: &str) -> Result<(), DatabaseError> {
        let operation = "forget_mirror";
        let mut transaction = self.pool.begin().await.map_err(query_error(operation))?;
        forget_mirror_in(&mut transaction, store_hash, operation).await?;
        transaction.commit().await.map_err(query_error(operation))
    }
}

/// The statements that delete a store's mirror, for [`Database::forget_mirror`] and for a
/// store forgotten altogether.
pub(super) async fn forget_mirror_in(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    store_hash: &str,
    operation: &'static str,
) -> Result<(), DatabaseError> {
    for statement in [
        "DELETE FROM mirror_orders WHERE store_hash = $1",
        "DELETE FROM mirror_metafields WHERE store_hash = $1",
        "DELETE FROM mirror_pending WHERE store_hash = $1",
        "DELETE FROM mirror_state WHERE store_hash = $1",
    ] {
        sqlx::query(statement)
            .bind(store_hash)
            .execute(&mut **transaction)
            .await
            .map_err(query_error(operation))?;
    }
    Ok(())
}

async fn save_state(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    store_hash: &str,
    state: &MirrorStateRecord,
    operation: &'static str,
) -> Result<(), DatabaseError> {
    sqlx::query(
        "UPDATE mirror_state SET policy = $2, started_at = $3, orders_total = $4, \
         orders_synced = $5, orders_next_id = $6, orders_complete = $7, orders_since = $8, \
         metafields_after = $9, metafields_complete = $10, metafields_since = $11, \
         completed_at = $12, caught_up_at = $13, reconciled_at = $14, reconcile_step = $15, \
         reconcile_next_id = $16, reconcile_after = $17, reconcile_last_id = $18 \
         WHERE store_hash = $1",
    )
    .bind(store_hash)
    .bind(state.policy.as_str())
    .bind(state.started_at)
    .bind(state.orders_total)
    .bind(state.orders_synced)
    .bind(state.orders_next_id)
    .bind(i64::from(state.orders_complete))
    .bind(state.orders_since)
    .bind(state.metafields_after.as_deref())
    .bind(i64::from(state.metafields_complete))
    .bind(state.metafields_since)
    .bind(state.completed_at)
    .bind(state.caught_up_at)
    .bind(state.reconciled_at)
    .bind(state.reconcile_step)
    .bind(state.reconcile_next_id)
    .bind(state.reconcile_after.as_deref())
    .bind(state.reconcile_last_id)
    .execute(&mut **transaction)
    .await
    .map_err(query_error(operation))?;
    Ok(())
}
