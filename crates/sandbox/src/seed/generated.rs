//! Generated shoppers for benchmarks: as many as `SeedSpec::extra_customers` asks, each with
//! `extra_orders_per_customer` orders, from a PRNG seeded with `SeedSpec::rng_seed`. The orders
//! are placed one after another over four weeks after the hand-written ones (ids follow
//! creation time, every shopper's orders spread over the period), and each carries a mix of
//! metafields of three apps in every permission set, some changed after they were written, so
//! that a mirror has something to sync.

use std::sync::Arc;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{OrderShape, Owners, SeedSpec, add_customer, address, order_draft};
use crate::data::{Currency, Metafield, PermissionSet, STOREFRONT_CHANNEL_ID, StoreState};
use crate::order_status::status_id;

/// Adds `spec.extra_customers` shoppers after the hand-written ones, with their orders.
pub(super) fn seed(state: &mut StoreState, spec: &SeedSpec, owners: &Owners) {
    if spec.extra_customers == 0 {
        return;
    }
    const FIRST: [&str; 12] = [
        "Ada", "Ben", "Chloe", "Diego", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi",
        "Liam",
    ];
    const LAST: [&str; 10] = [
        "Nguyen", "Okafor", "Patel", "Quinn", "Rossi", "Schmidt", "Tanaka", "Usman", "Varga",
        "Wright",
    ];
    const PLACES: [(&str, &str, &str, &str, &str, Currency); 3] = [
        (
            "Denver",
            "Colorado",
            "80202",
            "United States",
            "US",
            Currency::Usd,
        ),
        (
            "Lyon",
            "Auvergne-Rhône-Alpes",
            "69002",
            "France",
            "FR",
            Currency::Eur,
        ),
        (
            "Leeds",
            "West Yorkshire",
            "LS1 4DY",
            "United Kingdom",
            "GB",
            Currency::Gbp,
        ),
    ];
    const STATUSES: [u8; 10] = [
        status_id::COMPLETED,
        status_id::COMPLETED,
        status_id::SHIPPED,
        status_id::SHIPPED,
        status_id::AWAITING_FULFILLMENT,
        status_id::AWAITING_PAYMENT,
        status_id::PENDING,
        status_id::CANCELLED,
        status_id::REFUNDED,
        status_id::PARTIALLY_SHIPPED,
    ];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(spec.rng_seed);
    let first_id = state.customers.keys().next_back().map_or(1, |id| id + 1);
    let mut shoppers = Vec::with_capacity(spec.extra_customers as usize);
    for offset in 0..u64::from(spec.extra_customers) {
        let customer_id = first_id + offset;
        let first_name = FIRST[rng.random_range(0..FIRST.len())];
        let last_name = LAST[rng.random_range(0..LAST.len())];
        let (city, region, zip, country, iso2, currency) =
            PLACES[rng.random_range(0..PLACES.len())];
        let email = format!("shopper{customer_id}@example.net");
        let billing = Arc::new(address(
            (first_name, last_name),
            &format!("{} Market Street", rng.random_range(1..999_u32)),
            (city, region, zip),
            (country, iso2),
            &email,
        ));
        add_customer(
            state,
            (first_name, last_name),
            &email,
            if offset % 4 == 0 { "1" } else { "0" },
            Arc::clone(&billing),
        );
        shoppers.push((customer_id, billing, currency));
    }
    // Orders come in rounds, each shopper once per round in a shuffled order, so that every
    // shopper's orders spread over the whole period and ids follow creation time, as in a real
    // store; each order is placed a little after the one before.
    let total = shoppers.len() as i64 * i64::from(spec.extra_orders_per_customer);
    let step = (PERIOD.whole_seconds() / total.max(1)).max(1);
    let mut sequence = 0_i64;
    let mut round: Vec<usize> = (0..shoppers.len()).collect();
    for _ in 0..spec.extra_orders_per_customer {
        for index in (1..round.len()).rev() {
            round.swap(index, rng.random_range(0..=index));
        }
        for &shopper in &round {
            let (customer_id, billing, currency) = &shoppers[shopper];
            let created = START + Duration::seconds(sequence * step + rng.random_range(0..step));
            sequence += 1;
            let shape = OrderShape {
                channel_id: STOREFRONT_CHANNEL_ID,
                status_id: STATUSES[rng.random_range(0..STATUSES.len())],
                currency: *currency,
                subtotal_cents: rng.random_range(500..50_000_i64),
                shipping_cents: [0, 499, 999][rng.random_range(0..3_usize)],
                discount_cents: if rng.random_range(0..10_u32) == 0 {
                    500
                } else {
                    0
                },
                items: rng.random_range(1..8_u32),
                digital: false,
            };
            let mut order = order_draft(*customer_id, Arc::clone(billing), created, shape);
            order.cart_id = Uuid::from_bytes(rng.random());
            order.ip_address = format!("203.0.113.{}", rng.random_range(1..255_u32));
            let shipped = order.date_shipped;
            let order_id = state.insert_order(order);
            add_metafields(state, owners, &mut rng, order_id, created, shipped);
        }
    }
}

/// When the first generated order was placed: after the hand-written ones.
const START: OffsetDateTime = datetime!(2025-11-03 00:00:00 UTC);
/// The period the generated orders are spread over, whatever their number.
const PERIOD: Duration = Duration::days(28);

/// Gives a generated order a mix of metafields as several apps write them: the shipping app's
/// tracking link and carrier (storefront-visible) once it ships; this app's gift message and
/// delivery slot (storefront-visible, one written again later) and its `app_only` staff note;
/// the ERP's `read` pick bin and `write` sync state (changed days later) and its own `app_only`
/// reference. Each is present with a fixed chance, so orders differ.
fn add_metafields(
    state: &mut StoreState,
    owners: &Owners,
    rng: &mut Xoshiro256PlusPlus,
    order_id: u64,
    created: OffsetDateTime,
    shipped: Option<OffsetDateTime>,
) {
    struct Kind {
        /// Out of 100.
        chance: u32,
        owner: fn(&Owners) -> &Arc<str>,
        permission_set: PermissionSet,
        namespace: &'static str,
        key: &'static str,
        description: &'static str,
        /// When it was written and last changed, after the order was placed.
        written: Duration,
        changed: Duration,
    }
    const KINDS: [Kind; 6] = [
        Kind {
            chance: 35,
            owner: |owners| &owners.this_app,
            permission_set: PermissionSet::ReadAndSfAccess,
            namespace: "gift",
            key: "message",
            description: "Gift message printed on the packing slip",
            written: Duration::minutes(5),
            changed: Duration::minutes(5),
        },
        Kind {
            chance: 30,
            owner: |owners| &owners.this_app,
            permission_set: PermissionSet::WriteAndSfAccess,
            namespace: "delivery",
            key: "slot",
            description: "Chosen delivery slot",
            written: Duration::minutes(5),
            changed: Duration::hours(20),
        },
        Kind {
            chance: 40,
            owner: |owners| &owners.this_app,
            permission_set: PermissionSet::AppOnly,
            namespace: "Sales Department",
            key: "Staff Name",
            description: "Name of staff member",
            written: Duration::hours(1),
            changed: Duration::hours(1),
        },
        Kind {
            chance: 60,
            owner: |owners| &owners.erp_app,
            permission_set: PermissionSet::Read,
            namespace: "warehouse",
            key: "pick_bin",
            description: "Warehouse bin the order was picked from",
            written: Duration::hours(3),
            changed: Duration::hours(3),
        },
        Kind {
            chance: 50,
            owner: |owners| &owners.erp_app,
            permission_set: PermissionSet::Write,
            namespace: "erp",
            key: "sync_state",
            description: "ERP export state",
            written: Duration::minutes(10),
            changed: Duration::days(2),
        },
        Kind {
            chance: 25,
            owner: |owners| &owners.erp_app,
            permission_set: PermissionSet::AppOnly,
            namespace: "erp",
            key: "internal_ref",
            description: "ERP document number",
            written: Duration::minutes(10),
            changed: Duration::minutes(10),
        },
    ];
    const GIFT_MESSAGES: [&str; 4] = [
        "Happy birthday!",
        "Congratulations on the new home",
        "With love, from all of us",
        "Thank you for everything",
    ];
    const SLOTS: [&str; 3] = ["09:00-12:00", "12:00-15:00", "15:00-18:00"];
    const STAFF: [&str; 4] = ["Sam", "Priya", "Jonas", "Kemi"];
    const SYNC_STATES: [&str; 3] = ["exported", "exported", "pending"];
    const CARRIERS: [&str; 3] = ["USPS", "UPS", "Royal Mail"];
    if let Some(shipped) = shipped {
        let written = shipped - Duration::hours(19);
        let carrier = rng.random_range(0..CARRIERS.len() * 2);
        let tracking = [
            (
                "tracking_url",
                format!("https://track.example.com/{order_id}"),
                "Tracking link",
            ),
            (
                "carrier",
                CARRIERS
                    .get(carrier)
                    .copied()
                    .unwrap_or_default()
                    .to_owned(),
                "Carrier",
            ),
        ];
        // Half the shipments name their carrier.
        for (key, value, description) in tracking
            .into_iter()
            .filter(|(_, value, _)| !value.is_empty())
        {
            state.insert_metafield(Metafield {
                id: 0,
                order_id,
                permission_set: PermissionSet::ReadAndSfAccess,
                namespace: "shipping_tracking".to_owned(),
                key: key.to_owned(),
                value,
                description: description.to_owned(),
                owner_client_id: Arc::clone(&owners.shipping_app),
                date_created: written,
                date_modified: written,
            });
        }
    }
    for (index, kind) in KINDS.iter().enumerate() {
        if rng.random_range(0..100_u32) >= kind.chance {
            continue;
        }
        let value = match index {
            0 => GIFT_MESSAGES[rng.random_range(0..GIFT_MESSAGES.len())].to_owned(),
            1 => format!(
                "{} {}",
                (created + Duration::days(3)).date(),
                SLOTS[rng.random_range(0..SLOTS.len())]
            ),
            2 => STAFF[rng.random_range(0..STAFF.len())].to_owned(),
            3 => format!(
                "{}-{}",
                ["A", "B", "C"][rng.random_range(0..3_usize)],
                rng.random_range(1..40_u32)
            ),
            4 => SYNC_STATES[rng.random_range(0..SYNC_STATES.len())].to_owned(),
            _ => format!("SO-{order_id:07}"),
        };
        state.insert_metafield(metafield(kind, owners, order_id, created, value));
    }

    fn metafield(
        kind: &Kind,
        owners: &Owners,
        order_id: u64,
        created: OffsetDateTime,
        value: String,
    ) -> Metafield {
        Metafield {
            id: 0,
            order_id,
            permission_set: kind.permission_set,
            namespace: kind.namespace.to_owned(),
            key: kind.key.to_owned(),
            value,
            description: kind.description.to_owned(),
            owner_client_id: Arc::clone((kind.owner)(owners)),
            date_created: created + kind.written,
            date_modified: created + kind.changed,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::build;
    use super::*;
    use crate::data::Order;

    #[test]
    fn generated_seed_is_the_same_for_the_same_spec() {
        let spec = SeedSpec {
            extra_customers: 20,
            extra_orders_per_customer: 5,
            rng_seed: 7,
            ..SeedSpec::default()
        };

        let first = build(&spec, "client");
        let second = build(&spec, "client");

        let summary = |state: &StoreState| -> Vec<(u64, u64, String)> {
            state
                .orders
                .values()
                .map(|o| (o.id, o.customer_id, o.total_inc_tax().to_string()))
                .collect()
        };
        let metafields = |state: &StoreState| -> Vec<(u64, u64, String, String)> {
            state
                .metafields
                .values()
                .map(|m| (m.id, m.order_id, m.key.clone(), m.value.clone()))
                .collect()
        };
        assert_eq!(summary(&first), summary(&second));
        assert_eq!(metafields(&first), metafields(&second));
        assert_eq!(first.customers.len(), 25);
        assert_eq!(first.orders.len(), 271 + 100);
    }

    #[test]
    fn generated_orders_follow_the_hand_written_ones_in_time_and_spread_each_shopper_s() {
        let spec = SeedSpec {
            extra_customers: 50,
            extra_orders_per_customer: 4,
            ..SeedSpec::default()
        };
        let demo = build(&SeedSpec::default(), "client");

        let state = build(&spec, "client");

        let last_demo_id = *demo.orders.keys().next_back().unwrap();
        let last_demo_date = demo.orders.values().map(|o| o.date_created).max().unwrap();
        let generated: Vec<&Order> = state
            .orders
            .range(last_demo_id + 1..)
            .map(|(_, o)| o)
            .collect();
        assert_eq!(generated.len(), 200);
        assert!(generated[0].date_created > last_demo_date);
        assert!(
            generated
                .windows(2)
                .all(|pair| pair[0].date_created < pair[1].date_created)
        );
        assert!(
            generated
                .iter()
                .all(|o| o.date_modified >= o.date_created + Duration::minutes(7))
        );
        assert!(generated.last().unwrap().date_modified < OffsetDateTime::now_utc());
        for customer_id in 6..=55 {
            let ids = &state.orders_by_customer[&customer_id];
            assert_eq!(ids.len(), 4, "customer {customer_id}");
            assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
            // One order of each shopper per round of 50: the first and the fourth are three
            // rounds apart, give or take the shuffles.
            assert!(ids[3] - ids[0] > 100, "customer {customer_id}: {ids:?}");
        }
    }

    #[test]
    fn generated_orders_carry_metafields_of_every_permission_set_and_three_apps() {
        let spec = SeedSpec {
            extra_customers: 50,
            extra_orders_per_customer: 4,
            ..SeedSpec::default()
        };
        let demo = build(&SeedSpec::default(), "client");

        let state = build(&spec, "client");

        let first_generated = *demo.orders.keys().next_back().unwrap() + 1;
        let generated: Vec<&Metafield> = state
            .metafields
            .values()
            .filter(|m| m.order_id >= first_generated)
            .collect();
        let count = |permission_set: PermissionSet| {
            generated
                .iter()
                .filter(|m| m.permission_set == permission_set)
                .count()
        };
        let per_order = generated.len() as f64 / 200.0;
        assert!(
            (2.0..5.0).contains(&per_order),
            "{per_order} metafields per order"
        );
        for permission_set in [
            PermissionSet::ReadAndSfAccess,
            PermissionSet::WriteAndSfAccess,
            PermissionSet::AppOnly,
            PermissionSet::Read,
            PermissionSet::Write,
        ] {
            assert!(
                count(permission_set) >= 20,
                "{permission_set:?}: {}",
                count(permission_set)
            );
        }
        let mut owners: Vec<&str> = generated.iter().map(|m| &*m.owner_client_id).collect();
        owners.sort_unstable();
        owners.dedup();
        assert_eq!(owners.len(), 3);
        assert!(owners.contains(&"client"));
        let app_only_of_others = generated
            .iter()
            .filter(|m| {
                m.permission_set == PermissionSet::AppOnly && &*m.owner_client_id != "client"
            })
            .count();
        assert!(app_only_of_others > 0);
        assert!(generated.iter().any(|m| m.date_modified > m.date_created));
        let visible_orders = state
            .orders
            .range(first_generated..)
            .filter(|(id, _)| {
                state
                    .metafields_by_order
                    .get(id)
                    .into_iter()
                    .flatten()
                    .any(|mid| {
                        matches!(
                            state.metafields[mid].permission_set,
                            PermissionSet::ReadAndSfAccess | PermissionSet::WriteAndSfAccess
                        )
                    })
            })
            .count();
        assert!(
            visible_orders >= 100,
            "{visible_orders} of 200 orders show a metafield"
        );
        for metafield in &generated {
            let order = &state.orders[&metafield.order_id];
            assert!(metafield.date_created >= order.date_created);
            assert!(metafield.date_modified >= metafield.date_created);
        }
    }

    /// How fast is the benchmarks' question (`tools/bench`); a test only checks the result.
    #[test]
    fn a_hundred_thousand_generated_orders_are_all_indexed_by_customer() {
        let spec = SeedSpec {
            extra_customers: 5_000,
            extra_orders_per_customer: 20,
            rng_seed: 1,
            ..SeedSpec::default()
        };

        let state = build(&spec, "client");

        assert_eq!(state.orders.len(), 271 + 100_000);
        let indexed: usize = state.orders_by_customer.values().map(Vec::len).sum();
        assert_eq!(indexed, state.orders.len());
        assert!(state.orders_by_customer.iter().all(|(customer, ids)| {
            ids.iter()
                .all(|id| state.orders[id].customer_id == *customer)
        }));
    }
}
