//! The sandbox's Management API under `/stores/{hash}/`: v2 orders, v3 order metafields and v3
//! hooks, with BigCommerce's authentication, quota headers, `429`s and error bodies. A gate
//! middleware does the per-request bookkeeping (counting, latency, hash, token, quota) before
//! any handler runs.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{Error, HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::hooks;
use crate::listing::{OrderQuery, QueryError};
use crate::metafields;
use crate::quota::{QuotaDecision, QuotaWindow};
use crate::store::{RequestKind, SandboxStore};
use crate::wire::{self, ORDER_STATUSES};

/// What the Management API routes share.
pub(crate) struct ManagementState {
    pub store: SandboxStore,
    pub store_hash: String,
    pub access_token: String,
    /// The client id of the API account behind `access_token`; it owns what it creates.
    pub app_client_id: Arc<str>,
    /// `{api base}/stores/{hash}/v2`, for the links inside v2 orders.
    pub v2_base: String,
    pub quota: Mutex<QuotaWindow>,
    pub latency: Duration,
}

/// Registers every Management API route.
pub(crate) fn routes(config: &mut web::ServiceConfig) {
    config.service(
        web::scope("/stores/{store_hash}")
            .wrap(from_fn(gate))
            .route("/v2/orders", web::get().to(list_orders))
            .route("/v2/orders/count", web::get().to(count_orders))
            .route("/v2/orders/{order_id}", web::get().to(get_order))
            .route(
                "/v3/orders/metafields",
                web::get().to(metafields::list_all_order_metafields),
            )
            .route(
                "/v3/orders/{order_id}/metafields",
                web::get().to(metafields::list_order_metafields),
            )
            .route(
                "/v3/orders/{order_id}/metafields",
                web::post().to(metafields::create_order_metafield),
            )
            .route(
                "/v3/orders/{order_id}/metafields/{metafield_id}",
                web::get().to(metafields::get_order_metafield),
            )
            .route(
                "/v3/orders/{order_id}/metafields/{metafield_id}",
                web::put().to(metafields::update_order_metafield),
            )
            .route(
                "/v3/orders/{order_id}/metafields/{metafield_id}",
                web::delete().to(metafields::delete_order_metafield),
            )
            .route("/v3/hooks", web::get().to(hooks::list_hooks))
            .route("/v3/hooks", web::post().to(hooks::create_hook))
            .route("/v3/hooks/{hook_id}", web::get().to(hooks::get_hook))
            .route("/v3/hooks/{hook_id}", web::put().to(hooks::update_hook))
            .route("/v3/hooks/{hook_id}", web::delete().to(hooks::delete_hook))
            .default_service(web::to(unknown_route)),
    );
}

/// Which error body family a path answers with: v2 arrays or v3 objects.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ApiVersion {
    V2,
    V3,
}

impl ApiVersion {
    fn of(tail: &str) -> Self {
        if tail.starts_with("v2/") || tail == "v2" {
            ApiVersion::V2
        } else {
            ApiVersion::V3
        }
    }

    fn error(self, status: StatusCode, message: &str) -> HttpResponse {
        let body = match self {
            ApiVersion::V2 => wire::v2_error(status.as_u16(), message),
            ApiVersion::V3 => wire::v3_error(status.as_u16(), message, json!({})),
        };
        json_response(status, &body)
    }
}

async fn gate(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(state) = request.app_data::<web::Data<ManagementState>>().cloned() else {
        return Err(actix_web::error::ErrorInternalServerError(
            "sandbox management state is missing",
        ));
    };
    let tail = path_tail(request.path()).to_owned();
    let version = ApiVersion::of(&tail);
    state.store.count_request(classify(&tail));
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    if request.match_info().get("store_hash") != Some(state.store_hash.as_str()) {
        let response = version.error(StatusCode::NOT_FOUND, "The requested store was not found.");
        return Ok(request.into_response(response));
    }
    let token = request
        .headers()
        .get("X-Auth-Token")
        .and_then(|value| value.to_str().ok());
    if token != Some(state.access_token.as_str()) {
        let response = version.error(
            StatusCode::UNAUTHORIZED,
            "No valid credentials were found in this request",
        );
        return Ok(request.into_response(response));
    }
    let decision = state
        .quota
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take(Instant::now());
    if !decision.allowed {
        let mut response = version.error(
            StatusCode::TOO_MANY_REQUESTS,
            "You have exceeded your rate limit. Please wait and try again.",
        );
        add_quota_headers(response.headers_mut(), &decision);
        let retry_after = decision.time_reset.as_millis().div_ceil(1_000).max(1);
        insert_header(
            response.headers_mut(),
            "x-retry-after",
            &retry_after.to_string(),
        );
        return Ok(request.into_response(response));
    }
    let mut response = next.call(request).await?.map_into_boxed_body();
    add_quota_headers(response.headers_mut(), &decision);
    Ok(response)
}

/// The part of the path after `/stores/{hash}/`.
fn path_tail(path: &str) -> &str {
    let rest = path.trim_start_matches('/');
    rest.splitn(3, '/')
        .nth(2)
        .unwrap_or("")
        .trim_end_matches('/')
}

fn classify(tail: &str) -> RequestKind {
    let segments: Vec<&str> = tail.split('/').collect();
    match segments.as_slice() {
        ["v2", "orders"] => RequestKind::OrdersList,
        ["v2", "orders", "count"] => RequestKind::OrdersCount,
        ["v2", "orders", _] => RequestKind::Order,
        ["v3", "orders", "metafields", ..] => RequestKind::BatchMetafields,
        ["v3", "orders", _, "metafields", ..] => RequestKind::OrderMetafields,
        ["v3", "hooks", ..] => RequestKind::Hooks,
        _ => RequestKind::Other,
    }
}

fn add_quota_headers(headers: &mut HeaderMap, decision: &QuotaDecision) {
    insert_header(
        headers,
        "x-rate-limit-requests-left",
        &decision.requests_left.to_string(),
    );
    insert_header(
        headers,
        "x-rate-limit-requests-quota",
        &decision.requests_quota.to_string(),
    );
    insert_header(
        headers,
        "x-rate-limit-time-reset-ms",
        &decision.time_reset.as_millis().to_string(),
    );
    insert_header(
        headers,
        "x-rate-limit-time-window-ms",
        &decision.time_window.as_millis().to_string(),
    );
}

fn insert_header(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

pub(super) fn json_response(status: StatusCode, body: &Value) -> HttpResponse {
    json_text(status, body.to_string())
}

pub(super) fn json_text(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "application/json"))
        .body(body)
}

pub(super) fn query_pairs(request: &HttpRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(request.query_string().as_bytes())
        .into_owned()
        .collect()
}

pub(super) fn borrowed(pairs: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    pairs
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
}

pub(super) fn query_error(version: ApiVersion, error: &QueryError) -> HttpResponse {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    version.error(status, &error.message)
}

pub(super) fn id_param(request: &HttpRequest, name: &str) -> Option<u64> {
    request.match_info().get(name)?.parse().ok()
}

fn v2_not_found() -> HttpResponse {
    ApiVersion::V2.error(
        StatusCode::NOT_FOUND,
        "The requested resource was not found.",
    )
}

pub(super) fn v3_not_found(title: &str) -> HttpResponse {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({
            "status": 404,
            "title": title,
            "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
            "errors": [],
        }),
    )
}

async fn unknown_route(request: HttpRequest) -> HttpResponse {
    let version = ApiVersion::of(path_tail(request.path()));
    version.error(
        StatusCode::NOT_FOUND,
        "The requested resource was not found.",
    )
}

async fn list_orders(request: HttpRequest, state: web::Data<ManagementState>) -> HttpResponse {
    let pairs = query_pairs(&request);
    let query = match OrderQuery::parse(borrowed(&pairs)) {
        Ok(query) => query,
        Err(error) => return query_error(ApiVersion::V2, &error),
    };
    let body = state.store.with_state(|store| {
        let orders: Vec<wire::V2Order> = query
            .page(query.select(store))
            .into_iter()
            .map(|order| wire::v2_order(order, &state.v2_base))
            .collect();
        (!orders.is_empty()).then(|| wire::to_json(&orders))
    });
    match body {
        Some(body) => json_text(StatusCode::OK, body),
        // The v2 API answers an empty collection with 204 and no body at all.
        None => HttpResponse::NoContent().finish(),
    }
}

async fn count_orders(request: HttpRequest, state: web::Data<ManagementState>) -> HttpResponse {
    let pairs = query_pairs(&request);
    let query = match OrderQuery::parse(borrowed(&pairs)) {
        Ok(query) => query,
        Err(error) => return query_error(ApiVersion::V2, &error),
    };
    let per_status: Vec<u64> = state.store.with_state(|store| {
        let orders = query.select(store);
        ORDER_STATUSES
            .iter()
            .map(|status| {
                orders
                    .iter()
                    .filter(|order| order.status_id == status.id)
                    .count() as u64
            })
            .collect()
    });
    let statuses: Vec<Value> = ORDER_STATUSES
        .iter()
        .zip(&per_status)
        .map(|(status, count)| {
            json!({
                "id": status.id,
                "name": status.name,
                "system_label": status.name,
                "custom_label": status.name,
                "system_description": status.description,
                "count": count,
                "sort_order": status.sort_order,
            })
        })
        .collect();
    let total: u64 = per_status.iter().sum();
    json_response(
        StatusCode::OK,
        &json!({ "statuses": statuses, "count": total }),
    )
}

async fn get_order(request: HttpRequest, state: web::Data<ManagementState>) -> HttpResponse {
    let Some(order_id) = id_param(&request, "order_id") else {
        return v2_not_found();
    };
    let order = state.store.with_state(|store| {
        store
            .orders
            .get(&order_id)
            .map(|order| wire::to_json(&wire::v2_order(order, &state.v2_base)))
    });
    match order {
        Some(order) => json_text(StatusCode::OK, order),
        None => v2_not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::PermissionSet;

    #[test]
    fn request_paths_are_classified_by_kind() {
        let cases = [
            ("/stores/abc/v2/orders", RequestKind::OrdersList),
            ("/stores/abc/v2/orders/", RequestKind::OrdersList),
            ("/stores/abc/v2/orders/count", RequestKind::OrdersCount),
            ("/stores/abc/v2/orders/101", RequestKind::Order),
            (
                "/stores/abc/v3/orders/101/metafields",
                RequestKind::OrderMetafields,
            ),
            (
                "/stores/abc/v3/orders/101/metafields/7",
                RequestKind::OrderMetafields,
            ),
            (
                "/stores/abc/v3/orders/metafields",
                RequestKind::BatchMetafields,
            ),
            ("/stores/abc/v3/hooks", RequestKind::Hooks),
            ("/stores/abc/v3/hooks/22561593", RequestKind::Hooks),
            ("/stores/abc/v3/catalog/products", RequestKind::Other),
        ];

        for (path, expected) in cases {
            assert_eq!(classify(path_tail(path)), expected, "{path}");
        }
    }

    #[test]
    fn error_family_follows_the_api_version_in_the_path() {
        assert!(ApiVersion::of("v2/orders") == ApiVersion::V2);
        assert!(ApiVersion::of("v3/orders/metafields") == ApiVersion::V3);
    }

    #[test]
    fn permission_sets_round_trip_through_their_wire_names() {
        let names = [
            "app_only",
            "read",
            "write",
            "read_and_sf_access",
            "write_and_sf_access",
        ];

        for name in names {
            let parsed: PermissionSet =
                serde_json::from_value(json!(name)).unwrap_or(PermissionSet::AppOnly);
            assert_eq!(parsed.as_str(), name);
        }
    }
}
