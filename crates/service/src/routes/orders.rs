//! `GET /v1/orders` and `GET /v1/orders/{order_id}`: the verified customer's own orders.
//! The path and query parameters are typed ([`OrderPath`], [`PageQuery`]); what a malformed
//! one answers is decided by the extractor error handlers in `routes`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Deserializer, Serialize};

use crate::access::Access;
use crate::domain::{OrderId, PageRequest};
use crate::problem::ApiError;
use crate::routes::channels::shown_channel;
use crate::routes::{customer_data, data_envelope};
use crate::throttle::ThrottledCustomer;

/// The `{order_id}` path segment: a positive whole number.
#[derive(Debug, Deserialize)]
pub struct OrderPath {
    #[serde(deserialize_with = "order_id")]
    pub order_id: OrderId,
}

/// The detail of a `400` for a malformed `{order_id}`.
pub const BAD_ORDER_ID: &str = "order_id must be a positive whole number.";
const BAD_PAGE: &str = "page must be a whole number from 1.";
const BAD_LIMIT: &str = "limit must be a whole number from 1 to 250.";

/// The query of `GET /v1/orders`: `page` (from 1, default 1) and `limit` (1 to 250, default
/// 50). Other parameters are ignored; a repeated one is refused (by serde, as a duplicate
/// field). Each field's error message is the `400`'s detail.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    #[serde(default, deserialize_with = "page")]
    page: Option<u32>,
    #[serde(default, deserialize_with = "limit")]
    limit: Option<u32>,
}

#[derive(Serialize)]
struct Meta {
    pagination: Pagination,
}

#[derive(Serialize)]
struct Pagination {
    total: usize,
    count: usize,
    per_page: u32,
    current_page: u32,
    total_pages: usize,
}

/// `GET /v1/orders`: newest first, paginated (only the request's channel's orders when the
/// store's channel-orders setting is on).
pub async fn list_orders(
    request: HttpRequest,
    customer: ThrottledCustomer,
    query: web::Query<PageQuery>,
    access: web::Data<Access>,
) -> Result<HttpResponse, ApiError> {
    let page = query.page_request();
    let orders = access.orders(&customer.store.scope, customer.id).await?;
    let only_channel;
    let list = match shown_channel(&request, &customer) {
        None => orders.value(),
        Some(channel) => {
            only_channel = orders.value().in_channel(channel);
            &only_channel
        }
    };
    let positions = page.positions(list.len());
    let meta = Meta {
        pagination: Pagination {
            total: list.len(),
            count: positions.len(),
            per_page: page.limit,
            current_page: page.page,
            total_pages: page.total_pages(list.len()),
        },
    };
    // The orders' JSON was rendered when the list was loaded; only the page's frame is new.
    let data = list.json_run(positions);
    let body = data_envelope(b"[", data, b"]", Some(&meta))?;
    Ok(customer_data(orders.stale_age())
        .content_type("application/json")
        .body(body))
}

/// `GET /v1/orders/{order_id}`: one order, if the customer placed it (on the request's
/// channel, when the store's channel-orders setting is on).
pub async fn get_order(
    request: HttpRequest,
    customer: ThrottledCustomer,
    path: web::Path<OrderPath>,
    access: web::Data<Access>,
) -> Result<HttpResponse, ApiError> {
    let owned = access
        .order(&customer.store.scope, customer.id, path.order_id)
        .await?;
    if shown_channel(&request, &customer).is_some_and(|channel| channel != owned.channel_id) {
        return Err(ApiError::NotFound);
    }
    let body = data_envelope(b"", &owned.json, b"", None::<&()>)?;
    Ok(customer_data(owned.stale_age)
        .content_type("application/json")
        .body(body))
}

impl PageQuery {
    /// The page asked for, defaults filled in; the bounds were checked while parsing.
    fn page_request(&self) -> PageRequest {
        let page = self.page.unwrap_or(1);
        let limit = self.limit.unwrap_or(PageRequest::DEFAULT_LIMIT);
        PageRequest::new(page, limit).unwrap_or(PageRequest {
            page: 1,
            limit: PageRequest::DEFAULT_LIMIT,
        })
    }
}

fn order_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OrderId, D::Error> {
    let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
    OrderId::parse(&text).ok_or_else(|| serde::de::Error::custom(BAD_ORDER_ID))
}

fn page<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
    whole_number(&text)
        .filter(|page| *page >= 1)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(BAD_PAGE))
}

fn limit<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
    whole_number(&text)
        .filter(|limit| (1..=PageRequest::MAX_LIMIT).contains(limit))
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(BAD_LIMIT))
}

/// ASCII digits only: no sign, no spaces, no fraction (which `str::parse` would let by).
fn whole_number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The detail of a `400` for a query that did not parse: the field's own message, or, for a
/// parameter given twice, which one.
pub fn query_error_detail(message: &str) -> String {
    if let Some(name) = message
        .strip_prefix("duplicate field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return format!("{name} is given more than once.");
    }
    match message {
        BAD_PAGE | BAD_LIMIT => message.to_owned(),
        _ => "The query string is malformed.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<(u32, u32), String> {
        web::Query::<PageQuery>::from_query(query)
            .map(|query| {
                let page = query.page_request();
                (page.page, page.limit)
            })
            .map_err(|error| match error {
                actix_web::error::QueryPayloadError::Deserialize(error) => {
                    query_error_detail(&error.to_string())
                }
                other => other.to_string(),
            })
    }

    #[test]
    fn page_query_reads_defaults_bounds_and_refuses_bad_values_with_their_detail() {
        let page = Err(BAD_PAGE.to_owned());
        let limit = Err(BAD_LIMIT.to_owned());
        let cases = [
            ("", Ok((1, 50)), "defaults"),
            ("page=2&limit=250", Ok((2, 250)), "explicit"),
            ("limit=1&other=x", Ok((1, 1)), "unknown parameter ignored"),
            ("page=0", page.clone(), "page zero"),
            ("limit=0", limit.clone(), "limit zero"),
            ("limit=251", limit.clone(), "limit too large"),
            ("page=-1", page.clone(), "negative"),
            ("page=%2B1", page.clone(), "a plus sign"),
            ("page=abc", page.clone(), "not a number"),
            ("page=1.5", page.clone(), "fraction"),
            ("page=", page.clone(), "empty"),
            ("page=99999999999", page.clone(), "overflow"),
            (
                "page=1&page=2",
                Err("page is given more than once.".to_owned()),
                "repeated",
            ),
            (
                "limit=5&limit=5",
                Err("limit is given more than once.".to_owned()),
                "repeated, same value",
            ),
        ];
        for (query, expected, description) in cases {
            assert_eq!(parse(query), expected, "case: {description}");
        }
    }
}
