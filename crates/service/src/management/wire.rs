//! The Management API's JSON shapes, private to the client, and their conversion into
//! domain values. Only the fields a customer may see are read; everything else in the
//! upstream body (staff notes, IP address, cost prices...) is never deserialised.

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

use crate::domain::{Decimal, Metafield, Order, OrderId, PermissionSet};

/// A v2 order (`GET /v2/orders`). Fields BigCommerce always sends but that do not decide
/// ownership default when absent, so one odd field cannot hide a customer's orders.
#[derive(Deserialize)]
pub struct WireOrder {
    pub id: u64,
    pub customer_id: u64,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub status_id: u32,
    pub date_created: String,
    #[serde(default)]
    pub date_modified: Option<String>,
    #[serde(default)]
    pub date_shipped: Option<String>,
    #[serde(default)]
    pub currency_code: String,
    #[serde(default)]
    pub subtotal_ex_tax: Money,
    #[serde(default)]
    pub subtotal_inc_tax: Money,
    #[serde(default)]
    pub shipping_cost_inc_tax: Money,
    #[serde(default)]
    pub total_tax: Money,
    #[serde(default)]
    pub total_ex_tax: Money,
    #[serde(default)]
    pub total_inc_tax: Money,
    #[serde(default)]
    pub discount_amount: Money,
    #[serde(default)]
    pub refunded_amount: Money,
    #[serde(default)]
    pub items_total: u32,
    #[serde(default)]
    pub items_shipped: u32,
    #[serde(default)]
    pub payment_method: Option<String>,
    #[serde(default)]
    pub order_is_digital: bool,
    #[serde(default)]
    pub is_deleted: bool,
    /// The channel (storefront) the order was placed on; orders from before channels
    /// existed have none, and belong to the default channel.
    #[serde(default)]
    pub channel_id: Option<u64>,
}

/// A money amount as BigCommerce sends it: a decimal string, or (from some fakes and
/// older endpoints) a JSON number.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum Money {
    Text(String),
    Number(serde_json::Number),
}

/// One page of `GET /v3/orders/{id}/metafields`.
#[derive(Deserialize)]
pub struct WireMetafieldPage {
    pub data: Vec<WireMetafield>,
    #[serde(default)]
    pub meta: Option<WireMeta>,
}

#[derive(Deserialize)]
pub struct WireMeta {
    #[serde(default)]
    pub pagination: Option<WirePagination>,
    /// The batch endpoints' cursor paging (`meta.cursor_pagination`).
    #[serde(default)]
    pub cursor_pagination: Option<WireCursorPagination>,
}

/// v3 cursor paging: the next page is `after={end_cursor}` while `links.next` is present.
#[derive(Deserialize)]
pub struct WireCursorPagination {
    #[serde(default)]
    pub end_cursor: Option<String>,
    #[serde(default)]
    pub links: Option<WireCursorLinks>,
}

#[derive(Deserialize)]
pub struct WireCursorLinks {
    #[serde(default)]
    pub next: Option<String>,
}

/// v3 collection paging (`meta.pagination`).
#[derive(Deserialize)]
pub struct WirePagination {
    #[serde(default)]
    pub current_page: Option<u64>,
    #[serde(default)]
    pub total_pages: Option<u64>,
}

/// A v3 metafield. Only the id is required: a metafield missing its `permission_set` is
/// treated as `app_only` (never shown) rather than failing the whole order's answer.
#[derive(Deserialize)]
pub struct WireMetafield {
    pub id: u64,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub permission_set: String,
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(default)]
    pub resource_id: Option<u64>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_modified: Option<String>,
}

impl Default for Money {
    fn default() -> Self {
        Money::Text("0.0000".to_owned())
    }
}

impl Money {
    fn into_decimal(self, field: &str) -> Result<Decimal, String> {
        let text = match self {
            Money::Text(text) => text,
            Money::Number(number) => number.to_string(),
        };
        Decimal::parse(&text).ok_or_else(|| format!("{field} is not a decimal amount"))
    }
}

impl WireOrder {
    /// The customer-visible order; an error names the field that could not be read.
    pub fn into_order(self) -> Result<Order, String> {
        let id = OrderId::new(self.id).ok_or("order id is 0")?;
        let date_created = parse_date(&self.date_created)
            .ok_or_else(|| format!("date_created of order {id} is not a date"))?;
        let date_modified = match self.date_modified.as_deref() {
            None | Some("") => date_created,
            Some(text) => parse_date(text)
                .ok_or_else(|| format!("date_modified of order {id} is not a date"))?,
        };
        // BigCommerce sends "" for an order that has not shipped.
        let date_shipped = match self.date_shipped.as_deref() {
            None | Some("") => None,
            Some(text) => Some(
                parse_date(text)
                    .ok_or_else(|| format!("date_shipped of order {id} is not a date"))?,
            ),
        };
        Ok(Order {
            id,
            customer_id: self.customer_id,
            status: self.status,
            status_id: self.status_id,
            date_created,
            date_modified,
            date_shipped,
            currency_code: self.currency_code,
            subtotal_ex_tax: self.subtotal_ex_tax.into_decimal("subtotal_ex_tax")?,
            subtotal_inc_tax: self.subtotal_inc_tax.into_decimal("subtotal_inc_tax")?,
            shipping_cost_inc_tax: self
                .shipping_cost_inc_tax
                .into_decimal("shipping_cost_inc_tax")?,
            total_tax: self.total_tax.into_decimal("total_tax")?,
            total_ex_tax: self.total_ex_tax.into_decimal("total_ex_tax")?,
            total_inc_tax: self.total_inc_tax.into_decimal("total_inc_tax")?,
            discount_amount: self.discount_amount.into_decimal("discount_amount")?,
            refunded_amount: self.refunded_amount.into_decimal("refunded_amount")?,
            items_total: self.items_total,
            items_shipped: self.items_shipped,
            payment_method: self.payment_method.unwrap_or_default(),
            order_is_digital: self.order_is_digital,
            channel_id: self.channel_id.unwrap_or(1),
        })
    }
}

impl WireMetafield {
    /// Whether BigCommerce says this metafield belongs to `order` (a missing
    /// `resource_type`/`resource_id` is taken from the request's path).
    pub fn belongs_to(&self, order: OrderId) -> bool {
        self.resource_type
            .as_deref()
            .is_none_or(|kind| kind == "order")
            && self.resource_id.is_none_or(|id| id == order.get())
    }

    /// The domain metafield; an unknown `permission_set` is treated as `app_only`, which
    /// is never shown, so a new BigCommerce value cannot leak a private field.
    pub fn into_metafield(self) -> Result<Metafield, String> {
        let date = |text: Option<&str>, field: &str| -> Result<OffsetDateTime, String> {
            match text {
                None | Some("") => Ok(OffsetDateTime::UNIX_EPOCH),
                Some(text) => parse_date(text)
                    .ok_or_else(|| format!("{field} of metafield {} is not a date", self.id)),
            }
        };
        let date_created = date(self.date_created.as_deref(), "date_created")?;
        let date_modified = match self.date_modified.as_deref() {
            None | Some("") => date_created,
            text => date(text, "date_modified")?,
        };
        Ok(Metafield {
            id: self.id,
            permission_set: PermissionSet::parse(&self.permission_set)
                .unwrap_or(PermissionSet::AppOnly),
            namespace: self.namespace,
            key: self.key,
            value: self.value,
            description: self.description.unwrap_or_default(),
            date_created,
            date_modified,
        })
    }
}

/// Reads a BigCommerce date: RFC 2822 in v2 (`Tue, 05 Mar 2019 21:40:11 +0000`), RFC 3339
/// in v3; the result is in UTC.
pub fn parse_date(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc2822)
        .or_else(|_| OffsetDateTime::parse(text, &Rfc3339))
        .ok()
        .map(|date| date.to_offset(time::UtcOffset::UTC))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::datetime;

    use super::*;

    #[test]
    fn parse_date_reads_both_bigcommerce_formats_into_utc() {
        let cases = [
            (
                "Tue, 05 Mar 2019 21:40:11 +0000",
                Some(datetime!(2019-03-05 21:40:11 UTC)),
            ),
            (
                "Tue, 05 Mar 2019 16:40:11 -0500",
                Some(datetime!(2019-03-05 21:40:11 UTC)),
            ),
            (
                "2022-06-16T18:39:00+00:00",
                Some(datetime!(2022-06-16 18:39:00 UTC)),
            ),
            ("2022-06-16", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_date(text), expected, "case: {text:?}");
        }
    }

    #[test]
    fn wire_order_keeps_only_customer_visible_fields() {
        let body = serde_json::json!({
            "id": 218, "customer_id": 11, "status": "Shipped", "status_id": 2,
            "date_created": "Tue, 05 Mar 2019 21:40:11 +0000",
            "date_modified": "Mon, 11 Mar 2019 15:17:25 +0000",
            "date_shipped": "", "currency_code": "USD",
            "subtotal_inc_tax": "67.8400", "total_inc_tax": 70.5,
            "staff_notes": "VIP, ships late", "ip_address": "12.345.678.910",
            "payment_provider_id": "ch_123", "items_total": 2, "items_shipped": 0
        });

        let order: WireOrder = serde_json::from_value(body).unwrap();
        let order = order.into_order().unwrap();
        let rendered = serde_json::to_string(&order).unwrap();

        assert_eq!(order.date_shipped, None);
        assert_eq!(order.subtotal_inc_tax.as_str(), "67.8400");
        assert_eq!(order.total_inc_tax.as_str(), "70.5");
        assert!(rendered.contains("\"date_created\":\"2019-03-05T21:40:11Z\""));
        for secret in ["VIP", "12.345", "ch_123", "staff_notes", "ip_address"] {
            assert!(!rendered.contains(secret), "{secret} leaked: {rendered}");
        }
    }

    #[test]
    fn wire_metafield_without_a_permission_set_is_treated_as_app_only() {
        let body = serde_json::json!({"id": 8, "namespace": "n", "key": "k", "value": "v"});

        let wire: WireMetafield = serde_json::from_value(body).unwrap();

        assert_eq!(
            wire.into_metafield().unwrap().permission_set,
            PermissionSet::AppOnly
        );
    }

    #[test]
    fn wire_metafield_with_unknown_permission_set_is_treated_as_app_only() {
        let body = serde_json::json!({
            "id": 7, "namespace": "n", "key": "k", "value": "v",
            "permission_set": "storefront_everything", "resource_type": "order",
            "resource_id": 100, "date_created": "2022-06-16T18:39:00+00:00"
        });

        let wire: WireMetafield = serde_json::from_value(body).unwrap();
        let belongs = wire.belongs_to(OrderId::new(100).unwrap());
        let other = wire.belongs_to(OrderId::new(101).unwrap());
        let metafield = wire.into_metafield().unwrap();

        assert_eq!(metafield.permission_set, PermissionSet::AppOnly);
        assert!(belongs);
        assert!(!other);
        assert_eq!(metafield.date_modified, datetime!(2022-06-16 18:39:00 UTC));
    }
}
