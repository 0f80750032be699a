//! The second store's hand-written data (`sandbox2`), a tea shop whose customer ids and order ids
//! coincide with the demo store's for other shoppers and orders: customer 1 (Noah) owns 321,
//! 323, 365, 369 and 371, customer 2 (Olivia) 322, 364 and 367; order ids 321 to 372. Owner
//! Rivka, users Sam and Kai.

use std::sync::Arc;

use time::Duration;
use time::macros::datetime;

use super::{Draft, OrderShape, Owners, SAM, add_customer, address, insert_drafts, staff_user};
use crate::data::{
    Currency, HEADLESS_CHANNEL_ID, PermissionSet, STOREFRONT_CHANNEL_ID, StaffUser, StoreState,
};
use crate::order_status::status_id;

/// Rivka owns the second store; Sam (the demo store's Sam) and Kai are users of it.
pub(super) fn users() -> Vec<StaffUser> {
    vec![
        staff_user(
            (
                7_654_322,
                "rivka@tea-shop.example.com",
                "en-GB",
                ("Rivka", "Owner"),
            ),
            true,
        ),
        staff_user(SAM, false),
        staff_user(
            (
                9_876_544,
                "kai@tea-shop.example.com",
                "de-DE",
                ("Kai", "Krüger"),
            ),
            false,
        ),
    ]
}

/// The second store: a tea shop in the United Kingdom. Its customer and order ids coincide with
/// the demo store's on purpose (see `DataSet::SecondStore`), so that a service that mixes stores
/// up serves one store's orders or metafields to the other's shopper, and a test sees it.
pub(super) fn seed(state: &mut StoreState, owners: &Owners) {
    const FIRST_ORDER_ID: u64 = 321;
    const LAST_ORDER_ID: u64 = 372;
    state.next_order_id = FIRST_ORDER_ID;
    let uk = |name: (&str, &str), street: &str, city: (&str, &str, &str), email: &str| {
        Arc::new(address(name, street, city, ("United Kingdom", "GB"), email))
    };
    let noah = add_customer(
        state,
        ("Noah", "Novak"),
        "noah@example.com",
        "1",
        uk(
            ("Noah", "Novak"),
            "14 Quay Street",
            ("Bristol", "Bristol", "BS1 4DB"),
            "noah@example.com",
        ),
    );
    let olivia = add_customer(
        state,
        ("Olivia", "Ortiz"),
        "olivia@example.com",
        "0",
        uk(
            ("Olivia", "Ortiz"),
            "3 Castle Terrace",
            ("Edinburgh", "City of Edinburgh", "EH1 2DP"),
            "olivia@example.com",
        ),
    );
    let priya = add_customer(
        state,
        ("Priya", "Prasad"),
        "priya@example.com",
        "0",
        uk(
            ("Priya", "Prasad"),
            "77 Deansgate",
            ("Manchester", "Greater Manchester", "M3 2BW"),
            "priya@example.com",
        ),
    );
    let quinn = add_customer(
        state,
        ("Quinn", "Quirke"),
        "quinn@example.com",
        "2",
        uk(
            ("Quinn", "Quirke"),
            "9 Bridge Street",
            ("Cardiff", "Cardiff", "CF10 2EE"),
            "quinn@example.com",
        ),
    );
    let tracking = |order_id: u64| {
        (
            PermissionSet::ReadAndSfAccess,
            "shipping_tracking",
            "tracking_url",
            format!(
                "https://www.royalmail.com/track-your-item#/tracking-results/RM{order_id:09}GB"
            ),
            "Tracking link",
        )
    };
    let shape = |status_id, subtotal_cents, items, digital| OrderShape {
        channel_id: STOREFRONT_CHANNEL_ID,
        status_id,
        currency: Currency::Gbp,
        subtotal_cents,
        shipping_cents: if digital { 0 } else { 395 },
        discount_cents: 0,
        items,
        digital,
    };
    let mut drafts: Vec<Draft> = Vec::new();
    for order_id in FIRST_ORDER_ID..=LAST_ORDER_ID {
        let index = (order_id - FIRST_ORDER_ID) as i64;
        let created = datetime!(2025-01-06 10:00:00 UTC)
            + Duration::days(index * 5)
            + Duration::hours((index * 37) % 11);
        let (customer_id, shape, metafields) = match order_id {
            // Noah's tea club order came through the headless (Catalyst) storefront.
            321 => (
                noah,
                OrderShape {
                    channel_id: HEADLESS_CHANNEL_ID,
                    ..shape(status_id::COMPLETED, 6_000, 1, true)
                },
                vec![(
                    PermissionSet::ReadAndSfAccess,
                    "licence",
                    "licence_key",
                    "TEA-CLUB-2025-NOAH".to_owned(),
                    "Tea club membership number",
                )],
            ),
            323 => (
                noah,
                shape(status_id::SHIPPED, 2_450, 2, false),
                vec![(
                    PermissionSet::Read,
                    "tasting",
                    "notes",
                    "Smoky, with a long finish".to_owned(),
                    "Tasting notes from the blender",
                )],
            ),
            365 => (
                noah,
                shape(status_id::SHIPPED, 3_800, 3, false),
                vec![
                    tracking(order_id),
                    (
                        PermissionSet::ReadAndSfAccess,
                        "shipping_tracking",
                        "carrier",
                        "Royal Mail".to_owned(),
                        "Carrier",
                    ),
                ],
            ),
            369 => (
                noah,
                shape(status_id::AWAITING_FULFILLMENT, 4_400, 2, false),
                vec![
                    (
                        PermissionSet::WriteAndSfAccess,
                        "delivery",
                        "slot",
                        "2025-12-02 08:00-10:00".to_owned(),
                        "Chosen delivery slot",
                    ),
                    (
                        PermissionSet::ReadAndSfAccess,
                        "gift",
                        "message",
                        "Enjoy the oolong, Noah!".to_owned(),
                        "Gift message printed on the packing slip",
                    ),
                    (
                        PermissionSet::AppOnly,
                        "Sales Department",
                        "Staff Name",
                        "Rivka".to_owned(),
                        "Name of staff member",
                    ),
                ],
            ),
            371 => (noah, shape(status_id::PENDING, 1_250, 1, false), Vec::new()),
            322 => (
                olivia,
                shape(status_id::COMPLETED, 2_900, 2, false),
                vec![(
                    PermissionSet::ReadAndSfAccess,
                    "gift",
                    "message",
                    "Happy housewarming, Olivia".to_owned(),
                    "Gift message printed on the packing slip",
                )],
            ),
            364 => (
                olivia,
                shape(status_id::SHIPPED, 5_100, 4, false),
                vec![tracking(order_id)],
            ),
            367 => (
                olivia,
                shape(status_id::CANCELLED, 1_800, 1, false),
                Vec::new(),
            ),
            366 => (
                priya,
                shape(status_id::REFUNDED, 2_200, 1, false),
                Vec::new(),
            ),
            id if id % 6 == 0 => (
                0,
                shape(status_id::AWAITING_PAYMENT, 1_500 + index * 10, 1, false),
                Vec::new(),
            ),
            _ => {
                let status = [
                    status_id::COMPLETED,
                    status_id::SHIPPED,
                    status_id::AWAITING_SHIPMENT,
                ][(index % 3) as usize];
                let metafields = if status == status_id::AWAITING_SHIPMENT {
                    Vec::new()
                } else {
                    vec![tracking(order_id)]
                };
                (
                    quinn,
                    shape(
                        status,
                        900 + (index * 611) % 6_000,
                        1 + (index % 4) as u32,
                        false,
                    ),
                    metafields,
                )
            }
        };
        drafts.push((created, customer_id, shape, metafields));
    }
    insert_drafts(state, owners, drafts);
}

#[cfg(test)]
mod tests {
    use super::super::{DataSet, SeedSpec, build};
    use super::*;

    #[test]
    fn second_store_reuses_the_demo_store_s_customer_and_order_ids_for_other_orders() {
        let demo = build(&SeedSpec::default(), "client");
        let second = build(
            &SeedSpec {
                data_set: DataSet::SecondStore,
                ..SeedSpec::default()
            },
            "client",
        );

        let orders_of = |state: &StoreState, customer: u64| {
            state
                .orders_by_customer
                .get(&customer)
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(orders_of(&demo, 1), [321, 364, 367, 369]);
        assert_eq!(orders_of(&second, 1), [321, 323, 365, 369, 371]);
        assert_eq!(orders_of(&second, 2), [322, 364, 367]);
        assert_eq!(demo.customers[&1].email, "alice@example.com");
        assert_eq!(second.customers[&1].email, "noah@example.com");
        let ids: Vec<u64> = second.orders.keys().copied().collect();
        assert_eq!(ids, (321..=372).collect::<Vec<u64>>());
        let values = |state: &StoreState, order: u64| -> Vec<(String, String)> {
            state.metafields_by_order[&order]
                .iter()
                .map(|id| &state.metafields[id])
                .map(|m| (format!("{}/{}", m.namespace, m.key), m.value.clone()))
                .collect()
        };
        let (demo_369, second_369) = (values(&demo, 369), values(&second, 369));
        assert!(second_369.iter().any(|(key, _)| key == "gift/message"));
        assert!(second_369.iter().all(|field| !demo_369.contains(field)));
    }
}
