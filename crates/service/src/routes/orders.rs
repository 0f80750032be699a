//! `GET /v1/orders` and `GET /v1/orders/{order_id}`: the verified customer's own orders.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::access::Access;
use crate::domain::{OrderId, PageRequest};
use crate::problem::ApiError;
use crate::routes::customer_data;
use crate::throttle::ThrottledCustomer;

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

/// `GET /v1/orders`: newest first, paginated.
pub async fn list_orders(
    customer: ThrottledCustomer,
    request: HttpRequest,
    access: web::Data<Access>,
) -> Result<HttpResponse, ApiError> {
    let page = page_request(request.query_string())?;
    let orders = access.orders(customer.id).await?;
    let list = orders.value();
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
    let mut body = Vec::with_capacity(data.len() + 160);
    body.extend_from_slice(b"{\"data\":[");
    body.extend_from_slice(data);
    body.extend_from_slice(b"],\"meta\":");
    serde_json::to_writer(&mut body, &meta).map_err(|_| ApiError::Internal)?;
    body.push(b'}');
    Ok(customer_data(orders.stale_age())
        .content_type("application/json")
        .body(body))
}

/// `GET /v1/orders/{order_id}`: one order, if the customer placed it.
pub async fn get_order(
    customer: ThrottledCustomer,
    path: web::Path<String>,
    access: web::Data<Access>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&path)?;
    let owned = access.order(customer.id, id).await?;
    let mut body = Vec::with_capacity(owned.json.len() + 10);
    body.extend_from_slice(b"{\"data\":");
    body.extend_from_slice(&owned.json);
    body.push(b'}');
    Ok(customer_data(owned.stale_age)
        .content_type("application/json")
        .body(body))
}

/// Parses the `{order_id}` path segment: a positive whole number.
pub fn order_id(text: &str) -> Result<OrderId, ApiError> {
    OrderId::parse(text).ok_or_else(|| ApiError::BadRequest {
        detail: "order_id must be a positive whole number.".to_owned(),
    })
}

/// Reads `page` (from 1, default 1) and `limit` (1 to 250, default 50); other parameters
/// are ignored, a repeated one is refused.
fn page_request(query: &str) -> Result<PageRequest, ApiError> {
    let mut page = None;
    let mut limit = None;
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match name.as_ref() {
            "page" => &mut page,
            "limit" => &mut limit,
            _ => continue,
        };
        if slot.is_some() {
            return Err(ApiError::BadRequest {
                detail: format!("{name} is given more than once."),
            });
        }
        *slot = Some(parse_number(&value).ok_or_else(|| bad_page_or_limit(&name))?);
    }
    PageRequest::new(
        page.unwrap_or(1),
        limit.unwrap_or(PageRequest::DEFAULT_LIMIT),
    )
    .ok_or_else(|| {
        if page == Some(0) {
            bad_page_or_limit("page")
        } else {
            bad_page_or_limit("limit")
        }
    })
}

fn parse_number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn bad_page_or_limit(name: &str) -> ApiError {
    ApiError::BadRequest {
        detail: if name == "page" {
            "page must be a whole number from 1.".to_owned()
        } else {
            "limit must be a whole number from 1 to 250.".to_owned()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_request_reads_defaults_bounds_and_refuses_bad_values() {
        let cases = [
            ("", Some((1, 50)), "defaults"),
            ("page=2&limit=250", Some((2, 250)), "explicit"),
            ("limit=1&other=x", Some((1, 1)), "unknown parameter ignored"),
            ("page=0", None, "page zero"),
            ("limit=0", None, "limit zero"),
            ("limit=251", None, "limit too large"),
            ("page=-1", None, "negative"),
            ("page=abc", None, "not a number"),
            ("page=1.5", None, "fraction"),
            ("page=", None, "empty"),
            ("page=99999999999", None, "overflow"),
            ("page=1&page=2", None, "repeated"),
        ];
        for (query, expected, description) in cases {
            let result = page_request(query).ok().map(|page| (page.page, page.limit));

            assert_eq!(result, expected, "case: {description}");
        }
    }
}
