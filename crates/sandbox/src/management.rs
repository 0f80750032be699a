//! The sandbox's Management API under `/stores/{hash}/`, for every store: v2 orders, v3 order
//! metafields, v3 hooks, channels and sites, scripts and Storefront API tokens, with
//! BigCommerce's authentication, OAuth scopes, quota headers,
//! `429`s and error bodies. A gate middleware does the per-request bookkeeping (store, counting,
//! latency, token, scopes, quota) before any handler runs.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{Next, from_fn};
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::api::{
    ApiVersion, ManagementState, StoreRequest, borrowed, id_param, json_response, json_text,
    query_error, query_pairs, v2_not_found,
};
use crate::channels;
use crate::data::{
    CHANNELS_MODIFY_SCOPE, CHANNELS_READ_SCOPES, CONTENT_MODIFY_SCOPE, CONTENT_READ_SCOPES,
    ORDERS_MODIFY_SCOPE, ORDERS_READ_SCOPES, SITES_MODIFY_SCOPE, SITES_READ_SCOPES,
    STOREFRONT_TOKENS_SCOPE,
};
use crate::hooks;
use crate::listing::OrderQuery;
use crate::metafields;
use crate::order_status::ORDER_STATUSES;
use crate::order_writes;
use crate::quota::QuotaDecision;
use crate::scripts;
use crate::store::RequestKind;
use crate::storefront_tokens;
use crate::wire;

/// Registers every Management API route.
pub(crate) fn routes(config: &mut web::ServiceConfig) {
    config.service(
        web::scope("/stores/{store_hash}")
            .wrap(from_fn(gate))
            .route("/v2/orders", web::get().to(list_orders))
            .route("/v2/orders/count", web::get().to(count_orders))
            .route("/v2/orders/{order_id}", web::get().to(get_order))
            .route(
                "/v2/orders/{order_id}",
                web::put().to(order_writes::update_order),
            )
            .route(
                "/v2/orders/{order_id}",
                web::delete().to(order_writes::archive_order),
            )
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
            .route("/v3/channels", web::get().to(channels::list_channels))
            .route(
                "/v3/channels/{channel_id}",
                web::get().to(channels::get_channel),
            )
            .route(
                "/v3/channels/{channel_id}/site",
                web::get().to(channels::get_channel_site),
            )
            .route(
                "/v3/channels/{channel_id}/site",
                web::put().to(channels::update_channel_site),
            )
            .route("/v3/content/scripts", web::get().to(scripts::list_scripts))
            .route(
                "/v3/content/scripts",
                web::post().to(scripts::create_script),
            )
            .route(
                "/v3/content/scripts/{uuid}",
                web::get().to(scripts::get_script),
            )
            .route(
                "/v3/content/scripts/{uuid}",
                web::put().to(scripts::update_script),
            )
            .route(
                "/v3/content/scripts/{uuid}",
                web::delete().to(scripts::delete_script),
            )
            .route(
                "/v3/storefront/api-token-private",
                web::post().to(storefront_tokens::create_private_token),
            )
            .route(
                "/v3/storefront/api-token",
                web::delete().to(storefront_tokens::revoke_token),
            )
            .route("/v3/sites", web::get().to(channels::list_sites))
            .route("/v3/sites/{site_id}", web::get().to(channels::get_site))
            .route("/v3/sites/{site_id}", web::put().to(channels::update_site))
            .default_service(web::to(unknown_route)),
    );
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
    let kind = classify(&tail);
    let store = request
        .match_info()
        .get("store_hash")
        .and_then(|hash| state.stores.get(hash))
        .cloned();
    // A request for a store that does not exist is nobody's to count.
    if let Some(store) = &store {
        store.count_request(kind);
    }
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    let Some(store) = store else {
        let response = version.error(StatusCode::NOT_FOUND, "The requested store was not found.");
        return Ok(request.into_response(response));
    };
    let account = request
        .headers()
        .get("X-Auth-Token")
        .and_then(|value| value.to_str().ok())
        .and_then(|token| store.authenticate(token));
    let Some(account) = account else {
        let response = version.error(
            StatusCode::UNAUTHORIZED,
            "No valid credentials were found in this request",
        );
        return Ok(request.into_response(response));
    };
    if !account.has_any_scope(required_scopes(kind, request.method())) {
        let response = version.error(
            StatusCode::FORBIDDEN,
            "You don't have a required scope to access the endpoint",
        );
        return Ok(request.into_response(response));
    }
    let decision = store.take_quota(Instant::now());
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
    let v2_base = Arc::from(format!("{}stores/{}/v2", state.api_base, store.hash()));
    request.extensions_mut().insert(StoreRequest {
        store,
        client_id: account.client_id,
        scopes: account.scopes.into(),
        v2_base,
    });
    let mut response = next.call(request).await?.map_into_boxed_body();
    add_quota_headers(response.headers_mut(), &decision);
    Ok(response)
}

/// The OAuth scopes of which a token needs one for a request, from each reference's scope
/// table: orders and their metafields are read with `store_v2_orders_read_only` or
/// `store_v2_orders` and changed with `store_v2_orders` (orders.v2.oas2.yml, orders.v3.yml);
/// hooks need none (webhooks.v3.yml); channels need a Channel Settings scope (channels.v3.yml),
/// sites a Sites & Routes scope (sites.v3.yml), scripts a Content scope (scripts.v3.yml), and
/// Storefront API tokens `store_storefront_api` (storefront_tokens.v3.yml).
fn required_scopes(kind: RequestKind, method: &Method) -> &'static [&'static str] {
    let reading = method == Method::GET || method == Method::HEAD;
    match kind {
        RequestKind::Hooks | RequestKind::Other => &[],
        RequestKind::Channels if reading => &CHANNELS_READ_SCOPES,
        // A channel's site is written through the Channels API or the Sites API.
        RequestKind::Channels => &[CHANNELS_MODIFY_SCOPE, SITES_MODIFY_SCOPE],
        RequestKind::Sites if reading => &SITES_READ_SCOPES,
        RequestKind::Sites => &[SITES_MODIFY_SCOPE],
        RequestKind::Scripts if reading => &CONTENT_READ_SCOPES,
        RequestKind::Scripts => &[CONTENT_MODIFY_SCOPE],
        RequestKind::StorefrontTokens => &[STOREFRONT_TOKENS_SCOPE],
        _ if reading => &ORDERS_READ_SCOPES,
        _ => &[ORDERS_MODIFY_SCOPE],
    }
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
        ["v3", "channels", ..] => RequestKind::Channels,
        ["v3", "sites", ..] => RequestKind::Sites,
        ["v3", "content", "scripts", ..] => RequestKind::Scripts,
        ["v3", "storefront", ..] => RequestKind::StorefrontTokens,
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

async fn unknown_route(request: HttpRequest) -> HttpResponse {
    let version = ApiVersion::of(path_tail(request.path()));
    version.error(
        StatusCode::NOT_FOUND,
        "The requested resource was not found.",
    )
}

async fn list_orders(request: HttpRequest, store: StoreRequest) -> HttpResponse {
    let pairs = query_pairs(&request);
    let query = match OrderQuery::parse(borrowed(&pairs)) {
        Ok(query) => query,
        Err(error) => return query_error(ApiVersion::V2, &error),
    };
    let body = store.store.with_state(|state| {
        let orders: Vec<wire::V2Order> = query
            .page(query.select(state))
            .into_iter()
            .map(|order| wire::v2_order(order, &store.v2_base))
            .collect();
        (!orders.is_empty()).then(|| wire::to_json(&orders))
    });
    match body {
        Some(body) => json_text(StatusCode::OK, body),
        // The v2 API answers an empty collection with 204 and no body at all.
        None => HttpResponse::NoContent().finish(),
    }
}

async fn count_orders(request: HttpRequest, store: StoreRequest) -> HttpResponse {
    let pairs = query_pairs(&request);
    let query = match OrderQuery::parse(borrowed(&pairs)) {
        Ok(query) => query,
        Err(error) => return query_error(ApiVersion::V2, &error),
    };
    let per_status: Vec<u64> = store.store.with_state(|state| {
        let orders = query.select(state);
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

async fn get_order(request: HttpRequest, store: StoreRequest) -> HttpResponse {
    let Some(order_id) = id_param(&request, "order_id") else {
        return v2_not_found();
    };
    let order = store.store.with_state(|state| {
        state
            .orders
            .get(&order_id)
            .map(|order| wire::to_json(&wire::v2_order(order, &store.v2_base)))
    });
    match order {
        Some(order) => json_text(StatusCode::OK, order),
        None => v2_not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn reads_need_an_orders_scope_writes_the_modify_scope_and_hooks_none() {
        assert_eq!(
            required_scopes(RequestKind::OrdersList, &Method::GET),
            ORDERS_READ_SCOPES
        );
        assert_eq!(
            required_scopes(RequestKind::OrderMetafields, &Method::PUT),
            [ORDERS_MODIFY_SCOPE]
        );
        assert_eq!(
            required_scopes(RequestKind::BatchMetafields, &Method::POST),
            [ORDERS_MODIFY_SCOPE]
        );
        assert!(required_scopes(RequestKind::Hooks, &Method::POST).is_empty());
    }
}
