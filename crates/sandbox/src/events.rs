//! What the sandbox tells webhook subscribers: the store changes it reports, the scopes they
//! fire (BigCommerce's webhook events reference, Orders and Metafields tables, and the Channel
//! Webhooks guide's channel, script and site events), how a subscribed scope matches, and the
//! callback payloads of `webhooks-callbacks/`. Pure data: no locking, no HTTP; `delivery` sends
//! what this renders.

use aws_lc_rs::digest;
use serde::Serialize;

/// Every scope `/v3/hooks` accepts: BigCommerce's order and metafield scopes, wildcards included.
/// The sandbox only fires the order, order status and metafield events; the others are accepted
/// because BigCommerce accepts them, and simply never fire here.
pub(crate) const SUPPORTED_SCOPES: [&str; 17] = [
    "store/order/*",
    "store/order/created",
    "store/order/updated",
    "store/order/archived",
    "store/order/statusUpdated",
    "store/order/message/created",
    "store/order/refund/created",
    "store/order/transaction/created",
    "store/order/transaction/updated",
    "store/order/metafield/*",
    "store/order/metafield/created",
    "store/order/metafield/updated",
    "store/order/metafield/deleted",
    "store/metafield/*",
    "store/metafield/created",
    "store/metafield/updated",
    "store/metafield/deleted",
];

/// The channel scopes `/v3/hooks` accepts besides `SUPPORTED_SCOPES`, with `{channel_id}` for a
/// channel's id (BigCommerce's Channel Webhooks guide). The sandbox fires the site and script
/// events; the others never fire here.
const CHANNEL_SCOPES: [&str; 10] = [
    "store/channel/*",
    "store/channel/created",
    "store/channel/updated",
    "store/channel/{channel_id}/*",
    "store/channel/{channel_id}/settings/*",
    "store/channel/{channel_id}/settings/site/updated",
    "store/channel/{channel_id}/settings/route/updated",
    "store/channel/{channel_id}/script/*",
    "store/channel/{channel_id}/script/created",
    "store/channel/{channel_id}/script/updated",
];

/// Whether `/v3/hooks` accepts a hook on `scope`.
pub(crate) fn is_supported_scope(scope: &str) -> bool {
    SUPPORTED_SCOPES.contains(&scope)
        || CHANNEL_SCOPES
            .iter()
            .any(|pattern| match pattern.split_once("{channel_id}") {
                None => *pattern == scope,
                Some((before, after)) => scope
                    .strip_prefix(before)
                    .and_then(|rest| rest.strip_suffix(after))
                    .is_some_and(|id| {
                        !id.is_empty() && id.bytes().all(|byte| byte.is_ascii_digit())
                    }),
            })
}

/// What `SandboxConfig::webhook_destination` is subscribed to: every order event, order
/// metafield events included, but not the generic `store/metafield/*` ones.
pub(crate) const CONFIGURED_DESTINATION_SCOPE: &str = "store/order/*";

/// The numeric store id BigCommerce puts in every callback: the sandbox's first store has this
/// one, and each further store the next number.
const FIRST_STORE_ID: u64 = 1_001_197_568;

/// The numeric id of the sandbox's `index`th store (0 for the first), as callbacks print it.
pub(crate) fn store_id(index: usize) -> String {
    (FIRST_STORE_ID + index as u64).to_string()
}

/// A change to the store's data that webhooks report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreEvent {
    OrderCreated {
        order_id: u64,
    },
    /// An order changed otherwise than in status (its customer, for one).
    OrderUpdated {
        order_id: u64,
    },
    /// An order was archived (`DELETE /v2/orders/{id}`).
    OrderArchived {
        order_id: u64,
    },
    OrderStatusUpdated {
        order_id: u64,
        previous_status_id: u8,
        new_status_id: u8,
    },
    Metafield {
        change: MetafieldChange,
        metafield_id: u64,
        order_id: u64,
        namespace: String,
    },
    /// A channel's site was created, changed or deleted.
    SiteUpdated {
        channel_id: u64,
        site_id: u64,
    },
    /// A script of a channel was created (`updated: false`) or changed.
    Script {
        channel_id: u64,
        uuid: String,
        updated: bool,
    },
}

/// What happened to an order metafield.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetafieldChange {
    Created,
    Updated,
    Deleted,
}

/// One callback an event fires: its scope and its `data` object.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Notification {
    pub scope: String,
    pub data: CallbackData,
}

/// The `data` objects of the callbacks the sandbox sends, fields in the reference's order.
#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub(crate) enum CallbackData {
    /// `store/order/created|updated|archived` (`data/store_order_created.json`,
    /// `store_order_updated.json`, `store_order_archived.json`).
    Order { r#type: &'static str, id: u64 },
    /// `store/order/statusUpdated` (`data/store_order_statusUpdated.json`).
    OrderStatus {
        r#type: &'static str,
        id: u64,
        status: StatusChange,
    },
    /// `store/order/metafield/*` (`store_order_metafield_created.yml`): the order id is a string.
    OrderMetafield {
        metafield_id: u64,
        resource_id: String,
        namespace: String,
    },
    /// `store/metafield/*` (`store_metafield_created.yml`), which names the resource type.
    Metafield {
        metafield_id: u64,
        resource_id: String,
        resource_type: &'static str,
        namespace: String,
    },
    /// `store/channel/{channel_id}/settings/site/updated` (Channel Webhooks guide, Sites).
    Site { site_id: u64 },
    /// `store/channel/{channel_id}/script/created|updated` (Channel Webhooks guide, Scripts).
    Script { uuid: String },
}

/// `data.status` of `store/order/statusUpdated`.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub(crate) struct StatusChange {
    pub previous_status_id: u8,
    pub new_status_id: u8,
}

impl StoreEvent {
    /// The callbacks this event fires, most specific scope family first.
    pub(crate) fn notifications(&self) -> Vec<Notification> {
        match self {
            StoreEvent::OrderCreated { order_id } => vec![Notification {
                scope: "store/order/created".to_owned(),
                data: CallbackData::Order {
                    r#type: "order",
                    id: *order_id,
                },
            }],
            StoreEvent::OrderUpdated { order_id } => vec![Notification {
                scope: "store/order/updated".to_owned(),
                data: CallbackData::Order {
                    r#type: "order",
                    id: *order_id,
                },
            }],
            StoreEvent::OrderArchived { order_id } => vec![Notification {
                scope: "store/order/archived".to_owned(),
                data: CallbackData::Order {
                    r#type: "order",
                    id: *order_id,
                },
            }],
            // BigCommerce's events table: a status change also counts as an order update.
            StoreEvent::OrderStatusUpdated {
                order_id,
                previous_status_id,
                new_status_id,
            } => vec![
                Notification {
                    scope: "store/order/statusUpdated".to_owned(),
                    data: CallbackData::OrderStatus {
                        r#type: "order",
                        id: *order_id,
                        status: StatusChange {
                            previous_status_id: *previous_status_id,
                            new_status_id: *new_status_id,
                        },
                    },
                },
                Notification {
                    scope: "store/order/updated".to_owned(),
                    data: CallbackData::Order {
                        r#type: "order",
                        id: *order_id,
                    },
                },
            ],
            StoreEvent::Metafield {
                change,
                metafield_id,
                order_id,
                namespace,
            } => {
                let (order_scope, generic_scope) = match change {
                    MetafieldChange::Created => {
                        ("store/order/metafield/created", "store/metafield/created")
                    }
                    MetafieldChange::Updated => {
                        ("store/order/metafield/updated", "store/metafield/updated")
                    }
                    MetafieldChange::Deleted => {
                        ("store/order/metafield/deleted", "store/metafield/deleted")
                    }
                };
                vec![
                    Notification {
                        scope: order_scope.to_owned(),
                        data: CallbackData::OrderMetafield {
                            metafield_id: *metafield_id,
                            resource_id: order_id.to_string(),
                            namespace: namespace.clone(),
                        },
                    },
                    Notification {
                        scope: generic_scope.to_owned(),
                        data: CallbackData::Metafield {
                            metafield_id: *metafield_id,
                            resource_id: order_id.to_string(),
                            resource_type: "order",
                            namespace: namespace.clone(),
                        },
                    },
                ]
            }
            StoreEvent::SiteUpdated {
                channel_id,
                site_id,
            } => vec![Notification {
                scope: format!("store/channel/{channel_id}/settings/site/updated"),
                data: CallbackData::Site { site_id: *site_id },
            }],
            StoreEvent::Script {
                channel_id,
                uuid,
                updated,
            } => vec![Notification {
                scope: format!(
                    "store/channel/{channel_id}/script/{}",
                    if *updated { "updated" } else { "created" }
                ),
                data: CallbackData::Script { uuid: uuid.clone() },
            }],
        }
    }
}

/// Whether a hook subscribed to `subscribed` receives a callback of `scope`: the same scope, or
/// a `…/*` wildcard over it at any depth. BigCommerce documents `store/order/*` as firing "for all
/// store/order events" and lists the order metafield events among them, so the wildcard covers
/// `store/order/metafield/…` too.
pub(crate) fn scope_matches(subscribed: &str, scope: &str) -> bool {
    match subscribed.strip_suffix("/*") {
        Some(prefix) => scope
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/')),
        None => subscribed == scope,
    }
}

/// The whole callback body as BigCommerce sends it: `scope`, `store_id`, `data`, `hash`,
/// `created_at`, `producer`, in the order of the reference's `data/*.json` examples.
pub(crate) fn callback_body(
    notification: &Notification,
    store_id: &str,
    store_hash: &str,
    created_at: i64,
) -> String {
    let mut callback = Callback {
        scope: &notification.scope,
        store_id,
        data: &notification.data,
        hash: None,
        created_at,
        producer: format!("stores/{store_hash}"),
    };
    // BigCommerce: "The SHA-1 hash of the JSON-encoded payload data. Ensures users can detect
    // duplicate events." The sandbox hashes the body without its `hash` field, so the same
    // event sent to two hooks (or retried) carries the same hash.
    let unhashed = serde_json::to_vec(&callback).unwrap_or_default();
    callback.hash = Some(hex(digest::digest(
        &digest::SHA1_FOR_LEGACY_USE_ONLY,
        &unhashed,
    )
    .as_ref()));
    serde_json::to_string(&callback).unwrap_or_default()
}

#[derive(Serialize)]
struct Callback<'a> {
    scope: &'a str,
    store_id: &'a str,
    data: &'a CallbackData,
    #[serde(skip_serializing_if = "Option::is_none")]
    hash: Option<String>,
    created_at: i64,
    producer: String,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut text, byte| {
            let _ = write!(text, "{byte:02x}");
            text
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn wildcards_match_every_scope_below_them_and_nothing_else() {
        let cases = [
            (
                "store/order/*",
                "store/order/created",
                true,
                "wildcard over a child",
            ),
            (
                "store/order/*",
                "store/order/metafield/updated",
                true,
                "wildcard over a grandchild",
            ),
            (
                "store/order/*",
                "store/metafield/updated",
                false,
                "another family",
            ),
            (
                "store/order/*",
                "store/orders/created",
                false,
                "a longer sibling name",
            ),
            ("store/order/*", "store/order", false, "the prefix itself"),
            (
                "store/order/metafield/*",
                "store/order/statusUpdated",
                false,
                "a narrower wildcard",
            ),
            (
                "store/order/created",
                "store/order/created",
                true,
                "exact scope",
            ),
            (
                "store/order/created",
                "store/order/updated",
                false,
                "another exact scope",
            ),
        ];

        for (subscribed, scope, expected, description) in cases {
            assert_eq!(scope_matches(subscribed, scope), expected, "{description}");
        }
    }

    #[test]
    fn every_fired_scope_is_a_supported_scope() {
        let events = [
            StoreEvent::OrderCreated { order_id: 1 },
            StoreEvent::OrderUpdated { order_id: 1 },
            StoreEvent::OrderArchived { order_id: 1 },
            StoreEvent::OrderStatusUpdated {
                order_id: 1,
                previous_status_id: 1,
                new_status_id: 2,
            },
            StoreEvent::Metafield {
                change: MetafieldChange::Created,
                metafield_id: 1,
                order_id: 1,
                namespace: "n".to_owned(),
            },
            StoreEvent::Metafield {
                change: MetafieldChange::Updated,
                metafield_id: 1,
                order_id: 1,
                namespace: "n".to_owned(),
            },
            StoreEvent::Metafield {
                change: MetafieldChange::Deleted,
                metafield_id: 1,
                order_id: 1,
                namespace: "n".to_owned(),
            },
            StoreEvent::SiteUpdated {
                channel_id: 1_573_291,
                site_id: 1_001,
            },
            StoreEvent::Script {
                channel_id: 1,
                uuid: "0187cc6c-cebf-45f9-93b8-7dd0a2e09774".to_owned(),
                updated: true,
            },
        ];

        for event in events {
            for notification in event.notifications() {
                assert!(
                    is_supported_scope(&notification.scope),
                    "{}",
                    notification.scope
                );
            }
        }
    }

    #[test]
    fn status_update_body_matches_the_reference_example_field_for_field() {
        let event = StoreEvent::OrderStatusUpdated {
            order_id: 250,
            previous_status_id: 0,
            new_status_id: 11,
        };
        let notifications = event.notifications();

        let body = callback_body(&notifications[0], &store_id(0), "abc123", 1_561_479_335);

        let parsed: Value = serde_json::from_str(&body).unwrap();
        let hash = parsed["hash"].as_str().unwrap().to_owned();
        assert_eq!(
            parsed,
            json!({
                "scope": "store/order/statusUpdated",
                "store_id": "1001197568",
                "data": {"type": "order", "id": 250, "status": {"previous_status_id": 0, "new_status_id": 11}},
                "hash": hash,
                "created_at": 1_561_479_335,
                "producer": "stores/abc123"
            })
        );
        assert!(body.starts_with(r#"{"scope":"store/order/statusUpdated","store_id":"#));
        assert_eq!(hash.len(), 40);
        assert!(hash.bytes().all(|byte| byte.is_ascii_hexdigit()));
    }

    #[test]
    fn metafield_events_fire_the_order_and_the_generic_scope() {
        let event = StoreEvent::Metafield {
            change: MetafieldChange::Deleted,
            metafield_id: 14,
            order_id: 270,
            namespace: "delivery".to_owned(),
        };

        let bodies: Vec<Value> = event
            .notifications()
            .iter()
            .map(|notification| {
                serde_json::from_str(&callback_body(notification, "1", "h", 1)).unwrap()
            })
            .collect();

        assert_eq!(bodies[0]["scope"], "store/order/metafield/deleted");
        assert_eq!(
            bodies[0]["data"],
            json!({"metafield_id": 14, "resource_id": "270", "namespace": "delivery"})
        );
        assert_eq!(bodies[1]["scope"], "store/metafield/deleted");
        assert_eq!(
            bodies[1]["data"],
            json!({"metafield_id": 14, "resource_id": "270", "resource_type": "order", "namespace": "delivery"})
        );
    }

    #[test]
    fn the_same_event_hashes_the_same_and_a_different_one_differently() {
        let notification = &StoreEvent::OrderCreated { order_id: 7 }.notifications()[0];
        let other = &StoreEvent::OrderCreated { order_id: 8 }.notifications()[0];
        let hash = |body: String| serde_json::from_str::<Value>(&body).unwrap()["hash"].clone();

        let first = hash(callback_body(notification, "1", "h", 100));
        let again = hash(callback_body(notification, "1", "h", 100));
        let different = hash(callback_body(other, "1", "h", 100));

        assert_eq!(first, again);
        assert_ne!(first, different);
    }

    #[test]
    fn channel_scopes_take_a_numeric_channel_id_in_place_of_the_placeholder() {
        let accepted = [
            "store/channel/*",
            "store/channel/updated",
            "store/channel/1/settings/site/updated",
            "store/channel/1573291/*",
            "store/channel/1/script/created",
            "store/order/metafield/updated",
        ];
        let refused = [
            "store/channel/{channel_id}/settings/site/updated",
            "store/channel//settings/site/updated",
            "store/channel/one/*",
            "store/channel/1/settings/site/deleted",
            "store/product/*",
        ];

        for scope in accepted {
            assert!(is_supported_scope(scope), "{scope}");
        }
        for scope in refused {
            assert!(!is_supported_scope(scope), "{scope}");
        }
    }

    #[test]
    fn site_and_script_events_carry_the_guide_s_payloads() {
        let site = StoreEvent::SiteUpdated {
            channel_id: 1,
            site_id: 1_001,
        };
        let script = StoreEvent::Script {
            channel_id: 1,
            uuid: "0187cc6c-cebf-45f9-93b8-7dd0a2e09774".to_owned(),
            updated: false,
        };

        let bodies: Vec<Value> = [site, script]
            .iter()
            .flat_map(StoreEvent::notifications)
            .map(|notification| {
                serde_json::from_str(&callback_body(
                    &notification,
                    "11111",
                    "abcde",
                    1_641_641_646,
                ))
                .unwrap()
            })
            .collect();

        assert_eq!(bodies[0]["scope"], "store/channel/1/settings/site/updated");
        assert_eq!(bodies[0]["data"], json!({"site_id": 1_001}));
        assert_eq!(bodies[1]["scope"], "store/channel/1/script/created");
        assert_eq!(
            bodies[1]["data"],
            json!({"uuid": "0187cc6c-cebf-45f9-93b8-7dd0a2e09774"})
        );
        assert_eq!(bodies[1]["producer"], "stores/abcde");
    }
}
