//! What the mirror (`SYNC_MODE=mirror`) reads: the store's orders a page at a time, by id
//! (the initial sync, `GET /v2/orders?min_id=…&sort=id:asc`) and by modification
//! (`min_date_modified`, the catch-up), one order (`GET /v2/orders/{id}`, after a webhook),
//! how many orders there are (`GET /v2/orders/count`, for the ETA), and the batch order
//! metafields (`GET /v3/orders/metafields`, cursor paging, optionally `date_modified:min`).
//! Every call is one request through the store's quota pacer, like a shopper's; the caller
//! walks the pages, so a walk can be saved and resumed between any two of them.

use reqwest::StatusCode;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::time::Instant;

use crate::domain::{Metafield, Order, OrderId};
use crate::management::ManagementClient;
use crate::management::error::{ManagementError, Operation};
use crate::management::pagination::PAGE_LIMIT;
use crate::management::wire::{WireMetafieldPage, WireOrder, parse_date};

/// One order as the mirror keeps it: the order, or the fact that it is gone.
#[derive(Debug)]
pub enum OrderState {
    Present(Box<Order>),
    /// Deleted (archived), or not found at all.
    Gone(OrderId),
}

/// A page of orders: those it lists (deleted ones left out), and what the whole page was,
/// for paging: how many it held, its last id and newest modification, deleted ones counted.
#[derive(Debug, Default)]
pub struct OrderPage {
    pub orders: Vec<Order>,
    pub received: usize,
    pub first_id: Option<u64>,
    pub last_id: Option<u64>,
    pub newest_modified: Option<OffsetDateTime>,
}

impl OrderPage {
    /// Whether the page was full (there may be more).
    pub fn full(&self) -> bool {
        self.received >= PAGE_LIMIT as usize
    }
}

/// A page of the batch metafield collection: each order metafield with its order, and
/// the cursor of the next page (`None`: this was the last).
#[derive(Debug, Default)]
pub struct MetafieldPage {
    pub metafields: Vec<(OrderId, Metafield)>,
    pub next: Option<String>,
}

#[derive(Deserialize)]
struct WireCount {
    #[serde(default)]
    count: u64,
}

impl ManagementClient {
    /// Up to one page of the store's orders with an id of at least `min_id`, ascending, with
    /// deleted (archived) ones left out as the list leaves them out.
    pub async fn orders_from_id(
        &self,
        min_id: u64,
        deadline: Instant,
    ) -> Result<OrderPage, ManagementError> {
        let mut url = self.url("v2/orders");
        url.query_pairs_mut()
            .append_pair("min_id", &min_id.max(1).to_string())
            .append_pair("sort", "id:asc")
            .append_pair("limit", &PAGE_LIMIT.to_string());
        self.order_page(url, Operation::SyncOrders, deadline, |_| true)
            .await
    }

    /// Page `page` of the store's orders modified at or after `since`, oldest change first.
    pub async fn orders_modified_since(
        &self,
        since: OffsetDateTime,
        page: u32,
        deadline: Instant,
    ) -> Result<OrderPage, ManagementError> {
        let operation = Operation::SyncOrders;
        let since = since
            .format(&Rfc3339)
            .map_err(|error| ManagementError::InvalidResponse {
                operation,
                reason: format!("cannot write the date: {error}"),
            })?;
        let mut url = self.url("v2/orders");
        url.query_pairs_mut()
            .append_pair("min_date_modified", &since)
            .append_pair("sort", "date_modified:asc")
            .append_pair("limit", &PAGE_LIMIT.to_string())
            .append_pair("page", &page.max(1).to_string());
        self.order_page(url, operation, deadline, |_| true).await
    }

    /// One order as it is now: present, or gone (archived, or `404`).
    pub async fn order_state(
        &self,
        order: OrderId,
        deadline: Instant,
    ) -> Result<OrderState, ManagementError> {
        let operation = Operation::SyncOrders;
        let url = self.url(&format!("v2/orders/{order}"));
        let answer = match self.get(url, operation, deadline).await {
            Ok(answer) => answer,
            Err(ManagementError::NotFound { .. }) => return Ok(OrderState::Gone(order)),
            Err(error) => return Err(error),
        };
        if answer.status == StatusCode::NO_CONTENT || answer.body.is_empty() {
            return Ok(OrderState::Gone(order));
        }
        let wire: WireOrder = super::decode(&answer.body.bytes, operation)?;
        if wire.id != order.get() {
            return Err(ManagementError::InvalidResponse {
                operation,
                reason: "upstream answered another order".to_owned(),
            });
        }
        if wire.is_deleted {
            return Ok(OrderState::Gone(order));
        }
        wire.into_order()
            .map(|order| OrderState::Present(Box::new(order)))
            .map_err(|reason| ManagementError::InvalidResponse { operation, reason })
    }

    /// How many orders the store has (`GET /v2/orders/count`).
    pub async fn orders_count(&self, deadline: Instant) -> Result<u64, ManagementError> {
        let operation = Operation::SyncOrders;
        let answer = self
            .get(self.url("v2/orders/count"), operation, deadline)
            .await?;
        if answer.body.is_empty() {
            return Ok(0);
        }
        let count: WireCount = super::decode(&answer.body.bytes, operation)?;
        Ok(count.count)
    }

    /// One page of the store's order metafields (every permission set this app may read),
    /// after `cursor`, modified at or after `since` when given.
    pub async fn metafields_page(
        &self,
        cursor: Option<&str>,
        since: Option<OffsetDateTime>,
        deadline: Instant,
    ) -> Result<MetafieldPage, ManagementError> {
        let operation = Operation::SyncMetafields;
        let since = since
            .map(|since| since.format(&Rfc3339))
            .transpose()
            .map_err(|error| ManagementError::InvalidResponse {
                operation,
                reason: format!("cannot write the date: {error}"),
            })?;
        let (found, next) = self
            .batch_metafield_page(cursor, since.as_deref(), operation, deadline)
            .await?;
        let metafields = found
            .into_iter()
            .filter_map(|(order, metafield)| Some((order.and_then(OrderId::new)?, metafield)))
            .collect();
        Ok(MetafieldPage { metafields, next })
    }

    /// One page of the batch `GET /v3/orders/metafields` after `cursor`, modified at or
    /// after `since` (`date_modified:min`, as BigCommerce takes it) when given: each order
    /// metafield with the order BigCommerce names, and the cursor of the next page (`None`
    /// on the last, or when the cursor would not move).
    pub(super) async fn batch_metafield_page(
        &self,
        cursor: Option<&str>,
        since: Option<&str>,
        operation: Operation,
        deadline: Instant,
    ) -> Result<(Vec<(Option<u64>, Metafield)>, Option<String>), ManagementError> {
        let mut url = self.url("v3/orders/metafields");
        url.query_pairs_mut()
            .append_pair("limit", &PAGE_LIMIT.to_string());
        if let Some(since) = since {
            url.query_pairs_mut()
                .append_pair("date_modified:min", since);
        }
        if let Some(cursor) = cursor {
            url.query_pairs_mut().append_pair("after", cursor);
        }
        let answer = self.get(url, operation, deadline).await?;
        if answer.status == StatusCode::NO_CONTENT || answer.body.is_empty() {
            return Ok((Vec::new(), None));
        }
        let wire: WireMetafieldPage = super::decode(&answer.body.bytes, operation)?;
        let received = wire.data.len();
        let next = wire
            .meta
            .and_then(|meta| meta.cursor_pagination)
            .filter(|paging| {
                paging
                    .links
                    .as_ref()
                    .is_some_and(|links| links.next.is_some())
            })
            .and_then(|paging| paging.end_cursor)
            // A cursor that does not move would walk for ever.
            .filter(|next| received > 0 && Some(next.as_str()) != cursor);
        let mut metafields = Vec::with_capacity(received);
        for metafield in wire.data {
            if metafield
                .resource_type
                .as_deref()
                .is_some_and(|kind| kind != "order")
            {
                continue;
            }
            let order = metafield.resource_id;
            let metafield = metafield
                .into_metafield()
                .map_err(|reason| ManagementError::InvalidResponse { operation, reason })?;
            metafields.push((order, metafield));
        }
        Ok((metafields, next))
    }

    /// One page of v2 orders from `url`: those `keep` accepts (looked at before they are
    /// read), deleted (archived) ones left out, and the page's own length, first and last
    /// ids and newest modification for paging.
    pub(super) async fn order_page(
        &self,
        url: url::Url,
        operation: Operation,
        deadline: Instant,
        keep: impl Fn(&WireOrder) -> bool,
    ) -> Result<OrderPage, ManagementError> {
        let answer = self.get(url, operation, deadline).await?;
        // The v2 API answers an empty list with 204 and no body.
        if answer.status == StatusCode::NO_CONTENT || answer.body.is_empty() {
            return Ok(OrderPage::default());
        }
        let wire: Vec<WireOrder> = super::decode(&answer.body.bytes, operation)?;
        let mut page = OrderPage {
            orders: Vec::with_capacity(wire.len()),
            received: wire.len(),
            first_id: wire.first().map(|order| order.id),
            last_id: wire.last().map(|order| order.id),
            newest_modified: None,
        };
        for order in wire {
            if order.is_deleted || !keep(&order) {
                if let Some(modified) = order.date_modified.as_deref().and_then(parse_date) {
                    page.newest_modified = page.newest_modified.max(Some(modified));
                }
                continue;
            }
            let order = order
                .into_order()
                .map_err(|reason| ManagementError::InvalidResponse { operation, reason })?;
            page.newest_modified = page.newest_modified.max(Some(order.date_modified));
            page.orders.push(order);
        }
        Ok(page)
    }
}
