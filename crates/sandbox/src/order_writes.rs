//! The v2 order writes of the sandbox's Management API: `DELETE /v2/orders/{id}`, which
//! archives the order (orders.v2.oas2.yml, "Archive an Order", `204`), and `PUT
//! /v2/orders/{id}` with any of `customer_id` (moves the order to that customer, 0 for a guest),
//! `status_id` and `is_deleted: true` ("the same result as the DELETE an order request"),
//! answering the whole order as `GET` does. Other `order_Put` fields (products, addresses,
//! fees, ...) are accepted and ignored, and `is_deleted: false` changes nothing: the sandbox
//! does not restore archived orders. A `PUT` is checked whole before anything changes, and
//! every change it makes carries the same `date_modified`. Each write publishes its webhook
//! events (`store/order/archived`, `store/order/updated`, `store/order/statusUpdated`) and
//! answers once the configured destination has them; the gate in `management` has already
//! checked the token's `store_v2_orders` scope.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use crate::api::{ApiVersion, StoreRequest, id_param, json_text, v2_not_found};
use crate::data::{StoreState, now_to_the_second};
use crate::delivery::Pending;
use crate::events::StoreEvent;
use crate::listing::invalid;
use crate::order_status::ORDER_STATUSES;
use crate::wire;

/// What a `PUT /v2/orders/{id}` body asks for, of what the sandbox changes.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct OrderUpdate {
    pub customer_id: Option<u64>,
    pub status_id: Option<u8>,
    /// `is_deleted: true`.
    pub archive: bool,
}

/// Why a `PUT` body was refused: BigCommerce's v2 `400` message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refusal(pub String);

/// Reads a `PUT /v2/orders/{id}` body: a JSON object whose `customer_id` and `status_id`, when
/// present, are non-negative integers and whose `is_deleted` is a boolean.
pub(crate) fn parse_update(body: &[u8]) -> Result<OrderUpdate, Refusal> {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Err(Refusal(
            "The request body is not a valid JSON object.".to_owned(),
        ));
    };
    let field_error = |name: &str| Refusal(invalid(name).message);
    let mut update = OrderUpdate::default();
    if let Some(value) = fields.get("customer_id") {
        update.customer_id = Some(value.as_u64().ok_or_else(|| field_error("customer_id"))?);
    }
    if let Some(value) = fields.get("status_id") {
        let status = value
            .as_u64()
            .and_then(|status| u8::try_from(status).ok())
            .filter(|status| ORDER_STATUSES.iter().any(|known| known.id == *status))
            .ok_or_else(|| field_error("status_id"))?;
        update.status_id = Some(status);
    }
    if let Some(value) = fields.get("is_deleted") {
        update.archive = value.as_bool().ok_or_else(|| field_error("is_deleted"))?;
    }
    Ok(update)
}

/// Applies `update` to `order_id` in one go and returns the events it fires; `Ok(None)` when
/// there is no such order. A `customer_id` the store does not know (0 aside) refuses the whole
/// update before anything changes.
pub(crate) fn apply_update(
    state: &mut StoreState,
    order_id: u64,
    update: &OrderUpdate,
) -> Result<Option<Vec<StoreEvent>>, Refusal> {
    if !state.orders.contains_key(&order_id) {
        return Ok(None);
    }
    if let Some(customer_id) = update.customer_id
        && customer_id != 0
        && !state.customers.contains_key(&customer_id)
    {
        return Err(Refusal(invalid("customer_id").message));
    }
    let now = now_to_the_second();
    let mut events = Vec::new();
    let moved = update.customer_id.is_some_and(|customer_id| {
        state.set_order_customer(order_id, customer_id, now) == Some(true)
    });
    let previous_status = update
        .status_id
        .and_then(|status_id| state.set_order_status(order_id, status_id, now).flatten());
    match (previous_status, update.status_id) {
        // A status change fires `store/order/updated` too, which covers the move.
        (Some(previous_status_id), Some(new_status_id)) => {
            events.push(StoreEvent::OrderStatusUpdated {
                order_id,
                previous_status_id,
                new_status_id,
            });
        }
        _ if moved => events.push(StoreEvent::OrderUpdated { order_id }),
        _ => {}
    }
    if update.archive && state.archive_order(order_id, now) == Some(true) {
        events.push(StoreEvent::OrderArchived { order_id });
    }
    Ok(Some(events))
}

/// `DELETE /v2/orders/{order_id}`: archives the order; `204` with no body, `404` when there is
/// no such order.
pub(crate) async fn archive_order(request: HttpRequest, store: StoreRequest) -> HttpResponse {
    let Some(order_id) = id_param(&request, "order_id") else {
        return v2_not_found();
    };
    match store.store.archive(order_id) {
        Some(pending) => {
            pending.finished().await;
            HttpResponse::NoContent().finish()
        }
        None => v2_not_found(),
    }
}

/// `PUT /v2/orders/{order_id}`: the updated order, `400` for a body it refuses, `404` when
/// there is no such order.
pub(crate) async fn update_order(
    request: HttpRequest,
    body: web::Bytes,
    store: StoreRequest,
) -> HttpResponse {
    let Some(order_id) = id_param(&request, "order_id") else {
        return v2_not_found();
    };
    let update = match parse_update(&body) {
        Ok(update) => update,
        Err(Refusal(message)) => return ApiVersion::V2.error(StatusCode::BAD_REQUEST, &message),
    };
    let outcome = store.store.with_state(|state| {
        let events = apply_update(state, order_id, &update)?;
        Ok(events.and_then(|events| {
            let order = state.orders.get(&order_id)?;
            Some((
                wire::to_json(&wire::v2_order(order, &store.v2_base)),
                events,
            ))
        }))
    });
    match outcome {
        Ok(Some((body, events))) => {
            let mut pending = Pending::default();
            for event in &events {
                pending.extend(store.store.publish(event));
            }
            pending.finished().await;
            json_text(StatusCode::OK, body)
        }
        Ok(None) => v2_not_found(),
        Err(Refusal(message)) => ApiVersion::V2.error(StatusCode::BAD_REQUEST, &message),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::seed::{SeedSpec, build};

    #[test]
    fn update_bodies_are_read_field_by_field_and_others_are_ignored() {
        let cases: [(&str, Result<OrderUpdate, Refusal>); 8] = [
            (
                r#"{"customer_id": 2}"#,
                Ok(OrderUpdate {
                    customer_id: Some(2),
                    ..OrderUpdate::default()
                }),
            ),
            (
                r#"{"is_deleted": true, "status_id": 5, "billing_address": {"city": "Austin"}}"#,
                Ok(OrderUpdate {
                    customer_id: None,
                    status_id: Some(5),
                    archive: true,
                }),
            ),
            (r#"{"is_deleted": false}"#, Ok(OrderUpdate::default())),
            (
                r#"{"customer_id": -1}"#,
                Err(Refusal("The field 'customer_id' is invalid.".to_owned())),
            ),
            (
                r#"{"customer_id": "2"}"#,
                Err(Refusal("The field 'customer_id' is invalid.".to_owned())),
            ),
            (
                r#"{"status_id": 15}"#,
                Err(Refusal("The field 'status_id' is invalid.".to_owned())),
            ),
            (
                r#"{"is_deleted": "yes"}"#,
                Err(Refusal("The field 'is_deleted' is invalid.".to_owned())),
            ),
            (
                "[1]",
                Err(Refusal(
                    "The request body is not a valid JSON object.".to_owned(),
                )),
            ),
        ];

        for (body, expected) in cases {
            assert_eq!(parse_update(body.as_bytes()), expected, "{body}");
        }
    }

    #[test]
    fn one_update_moves_restatuses_and_archives_with_one_date_and_the_right_events() {
        let mut state = build(&SeedSpec::default(), "client");
        let update = OrderUpdate {
            customer_id: Some(2),
            status_id: Some(5),
            archive: true,
        };
        let before = state.orders[&321].status_id;

        let events = apply_update(&mut state, 321, &update).unwrap().unwrap();

        let order = &state.orders[&321];
        assert_eq!(
            (order.customer_id, order.status_id, order.is_deleted),
            (2, 5, true)
        );
        assert_eq!(order.billing.email, state.customers[&2].email);
        assert_eq!(
            events,
            [
                StoreEvent::OrderStatusUpdated {
                    order_id: 321,
                    previous_status_id: before,
                    new_status_id: 5,
                },
                StoreEvent::OrderArchived { order_id: 321 },
            ]
        );
        assert!(state.orders_by_customer[&2].contains(&321));
        assert!(!state.orders_by_customer[&1].contains(&321));
    }

    #[test]
    fn an_unknown_customer_refuses_the_whole_update_and_a_missing_order_is_none() {
        let mut state = build(&SeedSpec::default(), "client");
        let update = OrderUpdate {
            customer_id: Some(999),
            status_id: Some(5),
            archive: true,
        };

        let refused = apply_update(&mut state, 321, &update);
        let missing = apply_update(&mut state, 99_999, &OrderUpdate::default());

        assert_eq!(
            refused,
            Err(Refusal("The field 'customer_id' is invalid.".to_owned()))
        );
        let order = &state.orders[&321];
        assert_eq!((order.customer_id, order.is_deleted), (1, false));
        assert_eq!(missing, Ok(None));
    }

    #[test]
    fn moves_keep_both_customers_order_lists_ascending_and_whole() {
        let mut state = build(&SeedSpec::default(), "client");
        let dave_before = state.orders_by_customer[&4].clone();
        let to_dave = OrderUpdate {
            customer_id: Some(4),
            ..OrderUpdate::default()
        };
        let back_to_alice = OrderUpdate {
            customer_id: Some(1),
            ..OrderUpdate::default()
        };

        apply_update(&mut state, 364, &to_dave).unwrap().unwrap();
        let dave_with = state.orders_by_customer[&4].clone();
        let alice_without = state.orders_by_customer[&1].clone();
        apply_update(&mut state, 364, &back_to_alice)
            .unwrap()
            .unwrap();

        let mut expected = dave_before.clone();
        expected.push(364);
        expected.sort_unstable();
        assert_eq!(dave_with, expected);
        assert_eq!(alice_without, [321, 367, 369]);
        assert_eq!(state.orders_by_customer[&4], dave_before);
        assert_eq!(state.orders_by_customer[&1], [321, 364, 367, 369]);
    }

    #[test]
    fn a_move_alone_fires_order_updated_and_a_no_op_fires_nothing() {
        let mut state = build(&SeedSpec::default(), "client");
        let to_guest = OrderUpdate {
            customer_id: Some(0),
            ..OrderUpdate::default()
        };

        let moved = apply_update(&mut state, 321, &to_guest).unwrap().unwrap();
        let again = apply_update(&mut state, 321, &to_guest).unwrap().unwrap();

        assert_eq!(moved, [StoreEvent::OrderUpdated { order_id: 321 }]);
        assert!(again.is_empty());
        assert_eq!(state.orders[&321].billing.email, state.guest_address.email);
    }
}
