//! The `/v3/hooks` routes of the sandbox's Management API (webhooks.v3.yml): list with filters
//! and paging, create, read, update and delete, with BigCommerce's 400, 404 and 422 answers.
//! The gate in `management` has already checked hash, token and quota; sending is `delivery`'s.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use time::OffsetDateTime;

use crate::api::{
    ApiVersion, StoreRequest, borrowed, id_param, input_error, json_response, json_text,
    query_error, query_pairs,
};
use crate::data::{Hook, StoreState};
use crate::hook_input::{self, HookInput};
use crate::listing::HookQuery;
use crate::metafield_input::InputError;
use crate::wire;

pub(super) async fn list_hooks(request: HttpRequest, state: StoreRequest) -> HttpResponse {
    let pairs = query_pairs(&request);
    let query = match HookQuery::parse(borrowed(&pairs)) {
        Ok(query) => query,
        Err(error) => return query_error(ApiVersion::V3, &error),
    };
    let body = state.store.with_state(|store| {
        let (rows, total) = query.select(store);
        let data: Vec<wire::V3Hook> = rows
            .into_iter()
            .map(|hook| wire::v3_hook(hook, &state.client_id, state.store.hash()))
            .collect();
        let pagination = query.pagination(total, data.len());
        wire::to_json(&wire::Envelope {
            data,
            meta: json!({ "pagination": pagination }),
        })
    });
    json_text(StatusCode::OK, body)
}

pub(super) async fn create_hook(body: web::Bytes, state: StoreRequest) -> HttpResponse {
    let input = match hook_input::parse(&body, true) {
        Ok(input) => input,
        Err(error) => return input_error(error),
    };
    let HookInput {
        scope: Some(scope),
        destination: Some(destination),
        is_active,
        headers,
        events_history_enabled,
    } = input
    else {
        return input_error(InputError::Syntax);
    };
    let created = state.store.with_state(|store| {
        if is_duplicate(store, &scope, &destination, None) {
            return None;
        }
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let id = store.insert_hook(Hook {
            id: 0,
            scope,
            destination,
            is_active: is_active.unwrap_or(true),
            headers: headers.flatten(),
            events_history_enabled: events_history_enabled.unwrap_or(false),
            created_at: now,
            updated_at: now,
        });
        store
            .hooks
            .get(&id)
            .map(|hook| single_hook_body(hook, &state))
    });
    match created {
        Some(body) => json_text(StatusCode::OK, body),
        None => duplicate(),
    }
}

pub(super) async fn get_hook(request: HttpRequest, state: StoreRequest) -> HttpResponse {
    let Some(hook_id) = id_param(&request, "hook_id") else {
        return hook_not_found(request.match_info().get("hook_id").unwrap_or_default());
    };
    let found = state.store.with_state(|store| {
        store
            .hooks
            .get(&hook_id)
            .map(|hook| single_hook_body(hook, &state))
    });
    match found {
        Some(body) => json_text(StatusCode::OK, body),
        None => hook_not_found(&hook_id.to_string()),
    }
}

/// Why an update changed nothing.
enum UpdateRefusal {
    NotFound,
    Duplicate,
}

pub(super) async fn update_hook(
    request: HttpRequest,
    body: web::Bytes,
    state: StoreRequest,
) -> HttpResponse {
    let Some(hook_id) = id_param(&request, "hook_id") else {
        return hook_not_found(request.match_info().get("hook_id").unwrap_or_default());
    };
    let input = match hook_input::parse(&body, false) {
        Ok(input) => input,
        Err(error) => return input_error(error),
    };
    let updated = state.store.with_state(|store| {
        let Some(current) = store.hooks.get(&hook_id) else {
            return Err(UpdateRefusal::NotFound);
        };
        let scope = input.scope.as_deref().unwrap_or(&current.scope);
        let destination = input.destination.as_deref().unwrap_or(&current.destination);
        if is_duplicate(store, scope, destination, Some(hook_id)) {
            return Err(UpdateRefusal::Duplicate);
        }
        let Some(hook) = store.hooks.get_mut(&hook_id) else {
            return Err(UpdateRefusal::NotFound);
        };
        apply(hook, input);
        Ok(single_hook_body(hook, &state))
    });
    match updated {
        Ok(body) => json_text(StatusCode::OK, body),
        Err(UpdateRefusal::NotFound) => hook_not_found(&hook_id.to_string()),
        Err(UpdateRefusal::Duplicate) => duplicate(),
    }
}

/// webhooks.v3.yml, `deleteWebhook`: "When a webhook is deleted, it is returned in the response
/// as a 200 OK."
pub(super) async fn delete_hook(request: HttpRequest, state: StoreRequest) -> HttpResponse {
    let Some(hook_id) = id_param(&request, "hook_id") else {
        return hook_not_found(request.match_info().get("hook_id").unwrap_or_default());
    };
    let removed = state.store.with_state(|store| {
        store
            .hooks
            .remove(&hook_id)
            .map(|hook| single_hook_body(&hook, &state))
    });
    match removed {
        Some(body) => json_text(StatusCode::OK, body),
        None => hook_not_found(&hook_id.to_string()),
    }
}

fn apply(hook: &mut Hook, input: HookInput) {
    let HookInput {
        scope,
        destination,
        is_active,
        headers,
        events_history_enabled,
    } = input;
    if let Some(scope) = scope {
        hook.scope = scope;
    }
    if let Some(destination) = destination {
        hook.destination = destination;
    }
    if let Some(headers) = headers {
        hook.headers = headers;
    }
    hook.is_active = is_active.unwrap_or(hook.is_active);
    hook.events_history_enabled = events_history_enabled.unwrap_or(hook.events_history_enabled);
    hook.updated_at = OffsetDateTime::now_utc().unix_timestamp();
}

/// BigCommerce allows "only one webhook per unique combination of store_id + client_id + scope +
/// destination" (Webhooks Overview, "Platform limits"); each store keeps its own
/// hooks, and the sandbox knows one app.
fn is_duplicate(store: &StoreState, scope: &str, destination: &str, except: Option<u64>) -> bool {
    store.hooks.values().any(|hook| {
        Some(hook.id) != except && hook.scope == scope && hook.destination == destination
    })
}

/// The `webhook_Resp` body of webhooks.v3.yml: `{"data": hook, "meta": {}}`.
fn single_hook_body(hook: &Hook, state: &StoreRequest) -> String {
    wire::to_json(&wire::Envelope {
        data: wire::v3_hook(hook, &state.client_id, state.store.hash()),
        meta: json!({}),
    })
}

/// webhooks.v3.yml, `404_NotFound` example.
fn hook_not_found(hook_id: &str) -> HttpResponse {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({
            "status": 404,
            "title": format!("Webhook with id [{hook_id}] not found"),
            "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
        }),
    )
}

/// The reference documents no answer for a duplicate; the sandbox refuses it as invalid data,
/// one of the statuses `createWebhooks` lists.
fn duplicate() -> HttpResponse {
    json_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        &wire::v3_error(
            422,
            "JSON data is missing or invalid",
            json!({"destination": "a webhook for this scope and destination already exists"}),
        ),
    )
}
