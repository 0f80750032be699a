//! The v3 order metafield routes of the sandbox's Management API: collections (per order and
//! batch, with `metafield_query`'s filters and both kinds of paging), and single metafield read,
//! create, update and delete with BigCommerce's 403, 404, 409 and 422 answers; every write
//! publishes its webhook event. The gate in `management` has already checked hash, token,
//! scopes and quota.
//!
//! Metafields belong to the app (client id) that created them, as BigCommerce's do: an app sees
//! its own and every other app's that is not `app_only`; it changes anything of its own, but of
//! another app's metafield only the `value` and `description` of a `write` or
//! `write_and_sf_access` one (changing its `namespace`, `key` or `permission_set`, writing a
//! `read` one, or deleting any of them is `403`); an app has at most 250 metafields per order.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::api::{
    ApiVersion, StoreRequest, borrowed, id_param, input_error, json_response, json_text,
    query_error, query_pairs, v3_not_found,
};
use crate::data::{MAX_METAFIELDS_PER_ORDER, Metafield, PermissionSet, now_to_the_second};
use crate::events::{MetafieldChange, StoreEvent};
use crate::metafield_input::{self, InputError, MetafieldInput};
use crate::metafield_query::{MetafieldQuery, visible_to};
use crate::wire;

pub(super) async fn list_order_metafields(
    request: HttpRequest,
    state: StoreRequest,
) -> HttpResponse {
    let Some(order_id) = id_param(&request, "order_id") else {
        return v3_not_found("Order not found");
    };
    list_metafields(&request, &state, Some(order_id))
}

pub(super) async fn list_all_order_metafields(
    request: HttpRequest,
    state: StoreRequest,
) -> HttpResponse {
    list_metafields(&request, &state, None)
}

fn list_metafields(
    request: &HttpRequest,
    state: &StoreRequest,
    order_id: Option<u64>,
) -> HttpResponse {
    let pairs = query_pairs(request);
    let query = match MetafieldQuery::parse(borrowed(&pairs)) {
        Ok(query) => query,
        Err(error) => return query_error(ApiVersion::V3, &error),
    };
    let body = state.store.with_state(|store| {
        if let Some(order_id) = order_id
            && !store.orders.contains_key(&order_id)
        {
            return None;
        }
        let page = query.select(store, order_id, &state.client_id);
        let data: Vec<Value> = page
            .rows
            .iter()
            .map(|row| wire::v3_metafield_fields(row, query.include_fields.as_deref()))
            .collect();
        Some(wire::to_json(&wire::Envelope {
            data,
            meta: query.meta(&page),
        }))
    });
    match body {
        Some(body) => json_text(StatusCode::OK, body),
        None => v3_not_found("Order not found"),
    }
}

pub(super) async fn get_order_metafield(request: HttpRequest, state: StoreRequest) -> HttpResponse {
    let (Some(order_id), Some(metafield_id)) = (
        id_param(&request, "order_id"),
        id_param(&request, "metafield_id"),
    ) else {
        return v3_not_found("Metafield not found");
    };
    let found = state.store.with_state(|store| {
        store
            .metafields
            .get(&metafield_id)
            .filter(|metafield| metafield.order_id == order_id)
            .filter(|metafield| visible_to(metafield, &state.client_id))
            .map(single_metafield_body)
    });
    match found {
        Some(body) => json_text(StatusCode::OK, body),
        None => v3_not_found("Metafield not found"),
    }
}

/// The `MetafieldResponse` body of orders.v3.yml: `{"data": metafield, "meta": {}}`.
fn single_metafield_body(metafield: &Metafield) -> String {
    wire::to_json(&wire::Envelope {
        data: wire::v3_metafield(metafield),
        meta: json!({}),
    })
}

/// Why a metafield write changed nothing.
enum WriteRefusal {
    OrderNotFound,
    MetafieldNotFound,
    Conflict,
    /// Another app's metafield, and not this change: the message says why.
    Forbidden(&'static str),
    TooMany,
}

impl WriteRefusal {
    fn response(self) -> HttpResponse {
        let refusal = |status: StatusCode, title: &str| {
            json_response(status, &wire::v3_error(status.as_u16(), title, json!({})))
        };
        match self {
            WriteRefusal::OrderNotFound => v3_not_found("Order not found"),
            WriteRefusal::MetafieldNotFound => v3_not_found("Metafield not found"),
            WriteRefusal::Conflict => refusal(
                StatusCode::CONFLICT,
                "A metafield with this namespace and key already exists on this order for this app",
            ),
            WriteRefusal::Forbidden(title) => refusal(StatusCode::FORBIDDEN, title),
            WriteRefusal::TooMany => refusal(
                StatusCode::UNPROCESSABLE_ENTITY,
                "The maximum number of metafields allowed on each order is 250 per client ID",
            ),
        }
    }
}

/// The metafields of `order_id`, by ascending id.
fn metafields_of(store: &crate::data::StoreState, order_id: u64) -> Vec<&Metafield> {
    store
        .metafields_by_order
        .get(&order_id)
        .into_iter()
        .flatten()
        .filter_map(|id| store.metafields.get(id))
        .collect()
}

/// Whether another metafield of the same app already uses `namespace`/`key` on the order.
fn is_duplicate(
    metafields: &[&Metafield],
    owner: &str,
    namespace: &str,
    key: &str,
    except: Option<u64>,
) -> bool {
    metafields.iter().any(|metafield| {
        Some(metafield.id) != except
            && &*metafield.owner_client_id == owner
            && metafield.namespace == namespace
            && metafield.key == key
    })
}

/// Whether the app `client_id` may make `input`'s changes to `metafield`, which it can see.
fn may_change(
    metafield: &Metafield,
    client_id: &str,
    input: &MetafieldInput,
) -> Result<(), WriteRefusal> {
    if &*metafield.owner_client_id == client_id {
        return Ok(());
    }
    if !matches!(
        metafield.permission_set,
        PermissionSet::Write | PermissionSet::WriteAndSfAccess
    ) {
        return Err(WriteRefusal::Forbidden(
            "This metafield belongs to another app and is not open for writing",
        ));
    }
    let renames = input
        .namespace
        .as_ref()
        .is_some_and(|namespace| *namespace != metafield.namespace)
        || input.key.as_ref().is_some_and(|key| *key != metafield.key)
        || input
            .permission_set
            .is_some_and(|permission_set| permission_set != metafield.permission_set);
    if renames {
        return Err(WriteRefusal::Forbidden(
            "Only the app that created a metafield can change its namespace, key or permission_set",
        ));
    }
    Ok(())
}

pub(super) async fn create_order_metafield(
    request: HttpRequest,
    body: web::Bytes,
    state: StoreRequest,
) -> HttpResponse {
    let Some(order_id) = id_param(&request, "order_id") else {
        return v3_not_found("Order not found");
    };
    let input = match metafield_input::parse(&body, true) {
        Ok(input) => input,
        Err(error) => return input_error(error),
    };
    let MetafieldInput {
        permission_set: Some(permission_set),
        namespace: Some(namespace),
        key: Some(key),
        value: Some(value),
        description,
    } = input
    else {
        return input_error(InputError::Syntax);
    };
    let created = state.store.with_state(|store| {
        if !store.orders.contains_key(&order_id) {
            return Err(WriteRefusal::OrderNotFound);
        }
        let siblings = metafields_of(store, order_id);
        if is_duplicate(&siblings, &state.client_id, &namespace, &key, None) {
            return Err(WriteRefusal::Conflict);
        }
        let own = siblings
            .iter()
            .filter(|metafield| metafield.owner_client_id == state.client_id)
            .count();
        if own >= MAX_METAFIELDS_PER_ORDER {
            return Err(WriteRefusal::TooMany);
        }
        let now = now_to_the_second();
        let id = store.insert_metafield(Metafield {
            id: 0,
            order_id,
            permission_set,
            namespace,
            key,
            value,
            description: description.unwrap_or_default(),
            owner_client_id: Arc::clone(&state.client_id),
            date_created: now,
            date_modified: now,
        });
        store
            .metafields
            .get(&id)
            .map(|metafield| {
                (
                    single_metafield_body(metafield),
                    metafield_event(MetafieldChange::Created, metafield),
                )
            })
            .ok_or(WriteRefusal::MetafieldNotFound)
    });
    respond_and_publish(&state, created).await
}

/// `PUT`: any of the fields; BigCommerce documents no required field for an update (the
/// catalog's metafield reference: "Required Fields: none").
pub(super) async fn update_order_metafield(
    request: HttpRequest,
    body: web::Bytes,
    state: StoreRequest,
) -> HttpResponse {
    let (Some(order_id), Some(metafield_id)) = (
        id_param(&request, "order_id"),
        id_param(&request, "metafield_id"),
    ) else {
        return v3_not_found("Metafield not found");
    };
    let input = match metafield_input::parse(&body, false) {
        Ok(input) => input,
        Err(error) => return input_error(error),
    };
    let updated = state.store.with_state(|store| {
        let Some(current) = store
            .metafields
            .get(&metafield_id)
            .filter(|metafield| metafield.order_id == order_id)
            .filter(|metafield| visible_to(metafield, &state.client_id))
        else {
            return Err(WriteRefusal::MetafieldNotFound);
        };
        may_change(current, &state.client_id, &input)?;
        let namespace = input.namespace.as_deref().unwrap_or(&current.namespace);
        let key = input.key.as_deref().unwrap_or(&current.key);
        if is_duplicate(
            &metafields_of(store, order_id),
            &current.owner_client_id,
            namespace,
            key,
            Some(metafield_id),
        ) {
            return Err(WriteRefusal::Conflict);
        }
        let Some(metafield) = store.metafields.get_mut(&metafield_id) else {
            return Err(WriteRefusal::MetafieldNotFound);
        };
        apply(metafield, input);
        Ok((
            single_metafield_body(metafield),
            metafield_event(MetafieldChange::Updated, metafield),
        ))
    });
    respond_and_publish(&state, updated).await
}

/// Publishes a write's event once the store is unlocked again, and answers it once the
/// configured destination has heard of it (see `SandboxStore::publish`).
async fn respond_and_publish(
    state: &StoreRequest,
    outcome: Result<(String, StoreEvent), WriteRefusal>,
) -> HttpResponse {
    match outcome {
        Ok((body, event)) => {
            state.store.publish(&event).finished().await;
            json_text(StatusCode::OK, body)
        }
        Err(refusal) => refusal.response(),
    }
}

fn metafield_event(change: MetafieldChange, metafield: &Metafield) -> StoreEvent {
    StoreEvent::Metafield {
        change,
        metafield_id: metafield.id,
        order_id: metafield.order_id,
        namespace: metafield.namespace.clone(),
    }
}

fn apply(metafield: &mut Metafield, input: MetafieldInput) {
    let MetafieldInput {
        permission_set,
        namespace,
        key,
        value,
        description,
    } = input;
    metafield.permission_set = permission_set.unwrap_or(metafield.permission_set);
    if let Some(namespace) = namespace {
        metafield.namespace = namespace;
    }
    if let Some(key) = key {
        metafield.key = key;
    }
    if let Some(value) = value {
        metafield.value = value;
    }
    if let Some(description) = description {
        metafield.description = description;
    }
    metafield.date_modified = now_to_the_second();
}

pub(super) async fn delete_order_metafield(
    request: HttpRequest,
    state: StoreRequest,
) -> HttpResponse {
    let (Some(order_id), Some(metafield_id)) = (
        id_param(&request, "order_id"),
        id_param(&request, "metafield_id"),
    ) else {
        return v3_not_found("Metafield not found");
    };
    let removed = state.store.with_state(|store| {
        let Some(current) = store
            .metafields
            .get(&metafield_id)
            .filter(|metafield| metafield.order_id == order_id)
            .filter(|metafield| visible_to(metafield, &state.client_id))
        else {
            return Err(WriteRefusal::MetafieldNotFound);
        };
        if current.owner_client_id != state.client_id {
            return Err(WriteRefusal::Forbidden(
                "Only the app that created a metafield can delete it",
            ));
        }
        store
            .remove_metafield(metafield_id)
            .map(|metafield| metafield_event(MetafieldChange::Deleted, &metafield))
            .ok_or(WriteRefusal::MetafieldNotFound)
    });
    match removed {
        Ok(event) => {
            state.store.publish(&event).finished().await;
            HttpResponse::NoContent().finish()
        }
        Err(refusal) => refusal.response(),
    }
}
