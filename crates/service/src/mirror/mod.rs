//! `SYNC_MODE=mirror`: each store's orders and storefront-visible order metafields copied
//! into the database and kept in step by changes, so a page view costs no Management API
//! call. This file is the reading side: a store's [`Source`] reads the mirror for each part
//! that is complete (orders, metafields) and the Management API for the rest, so `access`
//! applies exactly the same ownership and visibility code to either. `sync` is the writing
//! side: the initial sync, the catch-up and the reconciliation, by one replica per store.

pub mod sync;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::access::OrderSource;
use crate::database::{Database, DatabaseError, MirrorWrite, MirroredMetafield};
use crate::domain::{CustomerId, Metafield, Order, OrderId, PermissionSet, StoreHash};
use crate::management::ManagementClient;
use crate::management::error::ManagementError;

/// Where a store's orders and metafields are read: the Management API, and the store's
/// mirror when it has one (`SYNC_MODE=mirror`), for each part that is complete.
pub struct Source {
    pub client: ManagementClient,
    pub mirror: Option<Arc<StoreMirror>>,
}

/// One store's mirror as this replica sees it: which parts are complete (reads use them),
/// how far its sync is, and a way to tell the replica that syncs it that an order changed.
pub struct StoreMirror {
    hash: StoreHash,
    database: Database,
    /// Most orders a list holds, as the Management API walk (`ORDERS_MAX_PAGES` × 250).
    max_orders: u64,
    orders_ready: AtomicBool,
    metafields_ready: AtomicBool,
    progress: Progress,
    /// Wakes this replica's sync of the store (a webhook named an order).
    wake: Notify,
}

/// How far a store's sync is, for its merchant page, logs and metrics.
#[derive(Debug, Default)]
struct Progress {
    orders_total: AtomicU64,
    orders_synced: AtomicU64,
    /// Seconds left by the latest estimate; -1: none.
    eta_seconds: AtomicI64,
    /// Unix seconds of the latest catch-up; 0: none yet.
    caught_up_at: AtomicI64,
}

/// A store's sync, as its merchant page shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MirrorFigures {
    pub orders_ready: bool,
    pub metafields_ready: bool,
    pub orders_total: u64,
    pub orders_synced: u64,
    pub eta_seconds: Option<u64>,
    pub caught_up_at: Option<i64>,
}

impl MirrorFigures {
    /// One line for the merchant page.
    pub fn describe(&self) -> String {
        if self.orders_ready && self.metafields_ready {
            let caught_up = self
                .caught_up_at
                .and_then(|seconds| time::OffsetDateTime::from_unix_timestamp(seconds).ok())
                .and_then(|at| {
                    at.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .map_or_else(String::new, |at| format!("; last catch-up {at}"));
            return format!(
                "complete: {} orders read; shoppers' reads cost no API call{caught_up}",
                self.orders_synced
            );
        }
        if self.orders_ready {
            return format!(
                "copying metafields ({} orders read); reads go to BigCommerce until the copy is complete",
                self.orders_synced
            );
        }
        if self.orders_total == 0 && self.orders_synced == 0 {
            return "starting; reads go to BigCommerce until the copy is complete".to_owned();
        }
        let percent = self.orders_synced.saturating_mul(100) / self.orders_total.max(1);
        let left = match self.eta_seconds {
            Some(seconds) if seconds >= 120 => format!(", about {} min left", seconds / 60),
            Some(seconds) => format!(", about {seconds} s left"),
            None => String::new(),
        };
        format!(
            "copying orders: {} of {} ({}%){left}; reads go to BigCommerce until the copy is complete",
            self.orders_synced,
            self.orders_total,
            percent.min(100)
        )
    }
}

impl StoreMirror {
    /// A store's mirror, nothing known complete until its state is read.
    pub fn new(hash: StoreHash, database: Database, max_orders: u64) -> Arc<Self> {
        Arc::new(Self {
            hash,
            database,
            max_orders: max_orders.max(1),
            orders_ready: AtomicBool::new(false),
            metafields_ready: AtomicBool::new(false),
            progress: Progress {
                eta_seconds: AtomicI64::new(-1),
                ..Progress::default()
            },
            wake: Notify::new(),
        })
    }

    /// Whether reads of orders, and of metafields, come from the mirror.
    pub fn ready(&self) -> (bool, bool) {
        (
            self.orders_ready.load(Ordering::Acquire),
            self.metafields_ready.load(Ordering::Acquire),
        )
    }

    fn set_ready(&self, orders: bool, metafields: bool) {
        self.orders_ready.store(orders, Ordering::Release);
        self.metafields_ready.store(metafields, Ordering::Release);
    }

    /// The sync's figures now.
    pub fn figures(&self) -> MirrorFigures {
        let (orders_ready, metafields_ready) = self.ready();
        let eta = self.progress.eta_seconds.load(Ordering::Relaxed);
        let caught_up_at = self.progress.caught_up_at.load(Ordering::Relaxed);
        MirrorFigures {
            orders_ready,
            metafields_ready,
            orders_total: self.progress.orders_total.load(Ordering::Relaxed),
            orders_synced: self.progress.orders_synced.load(Ordering::Relaxed),
            eta_seconds: u64::try_from(eta).ok(),
            caught_up_at: (caught_up_at > 0).then_some(caught_up_at),
        }
    }

    /// A webhook named the order: the replica that syncs the store reads it again (noted in
    /// the database, so it survives a restart and reaches whichever replica syncs), at once
    /// when that is this one.
    pub async fn order_changed(&self, order: OrderId) -> Result<(), DatabaseError> {
        self.database
            .mark_mirror_pending(self.hash.as_str(), order.get())
            .await?;
        self.wake.notify_one();
        Ok(())
    }

    /// A shopper's write BigCommerce answered: the metafield as it is now goes into the
    /// mirror before the change is recorded, so the next read shows it.
    pub async fn metafield_written(&self, order: OrderId, metafield: &Metafield) {
        let Some(row) = metafield_row(order, metafield) else {
            return;
        };
        let write = MirrorWrite {
            metafields: std::slice::from_ref(&row),
            ..MirrorWrite::default()
        };
        if let Err(error) = self.database.write_mirror(self.hash.as_str(), write).await {
            tracing::warn!(error = %error, "cannot write a shopper's change into the mirror; the next catch-up brings it");
        }
    }

    async fn customer_orders(&self, customer: CustomerId) -> Result<Vec<Order>, DatabaseError> {
        let rows = self
            .database
            .mirrored_orders_of(self.hash.as_str(), customer.get(), self.max_orders)
            .await?;
        rows.iter()
            .map(|body| {
                serde_json::from_str::<Order>(body).map_err(|error| unreadable("order", &error))
            })
            // Only the customer's, whatever the row says (as the Management API walk).
            .filter(|order| {
                order
                    .as_ref()
                    .map_or(true, |order| order.customer_id == customer.get())
            })
            .collect()
    }

    async fn order_metafields(&self, order: OrderId) -> Result<Vec<Metafield>, DatabaseError> {
        let rows = self
            .database
            .mirrored_metafields_of(self.hash.as_str(), order.get())
            .await?;
        rows.iter()
            .map(|(body, permission_set)| {
                let mut metafield: Metafield =
                    serde_json::from_str(body).map_err(|error| unreadable("metafield", &error))?;
                // An unknown mark is the most private one, as when it is fetched.
                metafield.permission_set =
                    PermissionSet::parse(permission_set).unwrap_or(PermissionSet::AppOnly);
                Ok(metafield)
            })
            .collect()
    }
}

/// The error of a row that does not parse; serde's message is left out, since it may quote
/// the row's content (a shopper's data) into a log line.
fn unreadable(what: &str, error: &serde_json::Error) -> DatabaseError {
    DatabaseError::Query {
        operation: "read_mirror",
        message: format!(
            "a mirrored {what} is not readable ({:?} at line {} column {})",
            error.classify(),
            error.line(),
            error.column()
        ),
    }
}

/// The row of a metafield of `order`.
fn metafield_row(order: OrderId, metafield: &Metafield) -> Option<MirroredMetafield> {
    Some(MirroredMetafield {
        metafield_id: metafield.id,
        order_id: order.get(),
        permission_set: metafield.permission_set.as_str(),
        body: serde_json::to_string(metafield).ok()?,
    })
}

impl OrderSource for Source {
    fn deadline(&self) -> Instant {
        self.client.deadline()
    }

    async fn customer_orders(
        &self,
        customer: CustomerId,
        deadline: Instant,
    ) -> Result<Vec<Order>, ManagementError> {
        if let Some(mirror) = self.mirror.as_ref().filter(|mirror| mirror.ready().0) {
            // Within the request's budget, like a call to BigCommerce.
            match tokio::time::timeout_at(deadline, mirror.customer_orders(customer)).await {
                Ok(Ok(orders)) => return Ok(orders),
                Ok(Err(error)) => {
                    tracing::warn!(error = %error, "cannot read the mirror; asking the Management API")
                }
                Err(_) => tracing::warn!(
                    "the mirror did not answer within the request's budget; asking the Management API"
                ),
            }
        }
        self.client.customer_orders(customer, deadline).await
    }

    async fn order_metafields(
        &self,
        order: OrderId,
        deadline: Instant,
    ) -> Result<Vec<Metafield>, ManagementError> {
        if let Some(mirror) = self.mirror.as_ref().filter(|mirror| mirror.ready().1) {
            // Within the request's budget, like a call to BigCommerce.
            match tokio::time::timeout_at(deadline, mirror.order_metafields(order)).await {
                Ok(Ok(metafields)) => return Ok(metafields),
                Ok(Err(error)) => {
                    tracing::warn!(error = %error, "cannot read the mirror; asking the Management API")
                }
                Err(_) => tracing::warn!(
                    "the mirror did not answer within the request's budget; asking the Management API"
                ),
            }
        }
        self.client.order_metafields(order, deadline).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures() -> MirrorFigures {
        MirrorFigures {
            orders_ready: false,
            metafields_ready: false,
            orders_total: 10_000,
            orders_synced: 4_200,
            eta_seconds: Some(190),
            caught_up_at: None,
        }
    }

    #[test]
    fn the_merchant_page_line_says_how_far_the_copy_is_and_where_reads_go() {
        let syncing = figures();
        let metafields = MirrorFigures {
            orders_ready: true,
            orders_synced: 10_000,
            ..figures()
        };
        let complete = MirrorFigures {
            orders_ready: true,
            metafields_ready: true,
            orders_synced: 10_000,
            caught_up_at: Some(1_764_892_800),
            ..figures()
        };
        let starting = MirrorFigures {
            orders_total: 0,
            orders_synced: 0,
            eta_seconds: None,
            ..figures()
        };

        assert_eq!(
            syncing.describe(),
            "copying orders: 4200 of 10000 (42%), about 3 min left; reads go to BigCommerce until the copy is complete"
        );
        assert_eq!(
            metafields.describe(),
            "copying metafields (10000 orders read); reads go to BigCommerce until the copy is complete"
        );
        assert_eq!(
            complete.describe(),
            "complete: 10000 orders read; shoppers' reads cost no API call; last catch-up 2025-12-05T00:00:00Z"
        );
        assert_eq!(
            starting.describe(),
            "starting; reads go to BigCommerce until the copy is complete"
        );
    }
}
