//! The demo store's hand-written data (`sandbox1`): Alice with orders in every permission set,
//! Bob with one order, Carol with none, Dave with 260 (more than a page), Erin, guest orders;
//! order ids 100 to 370. Owner Morgan, user Sam.

use std::sync::Arc;

use time::Duration;
use time::macros::datetime;

use super::{Draft, OrderShape, Owners, SAM, add_customer, address, insert_drafts, staff_user};
use crate::data::{
    Currency, HEADLESS_CHANNEL_ID, PermissionSet, STOREFRONT_CHANNEL_ID, StaffUser, StoreState,
};
use crate::order_status::status_id;

/// Morgan owns the demo store; Sam is a user of it.
pub(super) fn users() -> Vec<StaffUser> {
    vec![
        staff_user(
            (
                7_654_321,
                "morgan@sandbox-store.example.com",
                "en-US",
                ("Morgan", "Owner"),
            ),
            true,
        ),
        staff_user(SAM, false),
    ]
}

/// Fills `state` with the demo store.
pub(super) fn seed(state: &mut StoreState, owners: &Owners) {
    let alice = add_customer(
        state,
        ("Alice", "Andersen"),
        "alice@example.com",
        "1",
        Arc::new(address(
            ("Alice", "Andersen"),
            "455 Main Street",
            ("Austin", "Texas", "78751"),
            ("United States", "US"),
            "alice@example.com",
        )),
    );
    let bob = add_customer(
        state,
        ("Bob", "Brennan"),
        "bob@example.com",
        "0",
        Arc::new(address(
            ("Bob", "Brennan"),
            "12 Harbour Road",
            ("Portland", "Oregon", "97201"),
            ("United States", "US"),
            "bob@example.com",
        )),
    );
    add_customer(
        state,
        ("Carol", "Castillo"),
        "carol@example.com",
        "0",
        Arc::new(address(
            ("Carol", "Castillo"),
            "88 Ocean Avenue",
            ("Miami", "Florida", "33139"),
            ("United States", "US"),
            "carol@example.com",
        )),
    );
    let dave = add_customer(
        state,
        ("Dave", "Dubois"),
        "dave@example.com",
        "2",
        Arc::new(address(
            ("Dave", "Dubois"),
            "Friedrichstraße 123",
            ("Berlin", "Berlin", "10117"),
            ("Germany", "DE"),
            "dave@example.com",
        )),
    );
    let erin = add_customer(
        state,
        ("Erin", "Evans"),
        "erin@example.com",
        "1",
        Arc::new(address(
            ("Erin", "Evans"),
            "221B Baker Street",
            ("London", "Greater London", "NW1 6XE"),
            ("United Kingdom", "GB"),
            "erin@example.com",
        )),
    );

    let mut drafts: Vec<Draft> = Vec::new();
    let shape = |status_id, currency, subtotal_cents, items, digital| OrderShape {
        channel_id: STOREFRONT_CHANNEL_ID,
        status_id,
        currency,
        subtotal_cents,
        shipping_cents: if digital { 0 } else { 999 },
        discount_cents: 0,
        items,
        digital,
    };

    // Alice: the main demo shopper, with metafields in every permission set.
    // Her first order came through the store's headless (Catalyst) storefront.
    drafts.push((
        datetime!(2025-03-14 09:12:44 UTC),
        alice,
        OrderShape {
            channel_id: HEADLESS_CHANNEL_ID,
            ..shape(status_id::COMPLETED, Currency::Eur, 4_900, 1, true)
        },
        vec![(
            PermissionSet::ReadAndSfAccess,
            "licence",
            "licence_key",
            "PHTO-7Q2K-LM4X-99ZD".to_owned(),
            "Licence key for Photo Studio Pro",
        )],
    ));
    drafts.push((
        datetime!(2025-08-02 17:40:03 UTC),
        alice,
        shape(status_id::CANCELLED, Currency::Gbp, 3_150, 2, false),
        Vec::new(),
    ));
    drafts.push((
        datetime!(2025-10-20 11:05:27 UTC),
        alice,
        shape(status_id::SHIPPED, Currency::Usd, 12_999, 3, false),
        vec![
            (
                PermissionSet::ReadAndSfAccess,
                "shipping_tracking",
                "tracking_url",
                "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223344556677"
                    .to_owned(),
                "Tracking link",
            ),
            (
                PermissionSet::ReadAndSfAccess,
                "shipping_tracking",
                "carrier",
                "USPS".to_owned(),
                "Carrier",
            ),
            (
                PermissionSet::AppOnly,
                "Sales Department",
                "Staff Name",
                "Sam".to_owned(),
                "Name of staff member",
            ),
            (
                PermissionSet::Read,
                "warehouse",
                "pick_bin",
                "B-14".to_owned(),
                "Warehouse bin the order was picked from",
            ),
        ],
    ));
    drafts.push((
        datetime!(2025-11-01 08:30:00 UTC),
        alice,
        shape(
            status_id::AWAITING_FULFILLMENT,
            Currency::Usd,
            5_600,
            2,
            false,
        ),
        vec![
            (
                PermissionSet::WriteAndSfAccess,
                "delivery",
                "slot",
                "2025-11-14 09:00-12:00".to_owned(),
                "Chosen delivery slot",
            ),
            (
                PermissionSet::ReadAndSfAccess,
                "gift",
                "message",
                "Happy birthday, Sam! <3 & \"cheers\"".to_owned(),
                "Gift message printed on the packing slip",
            ),
            (
                PermissionSet::Write,
                "erp",
                "sync_state",
                "pending".to_owned(),
                "ERP export state",
            ),
        ],
    ));
    // Bob: exactly one order.
    drafts.push((
        datetime!(2025-09-10 14:22:10 UTC),
        bob,
        shape(status_id::SHIPPED, Currency::Usd, 2_999, 1, false),
        vec![
            (
                PermissionSet::ReadAndSfAccess,
                "shipping_tracking",
                "tracking_url",
                "https://www.ups.com/track?tracknum=1Z999AA10123456784".to_owned(),
                "Tracking link",
            ),
            (
                PermissionSet::AppOnly,
                "Sales Department",
                "Staff Name",
                "Priya".to_owned(),
                "Name of staff member",
            ),
        ],
    ));
    // Erin: a few orders in GBP.
    drafts.push((
        datetime!(2025-05-05 10:00:00 UTC),
        erin,
        shape(status_id::REFUNDED, Currency::Gbp, 8_000, 2, false),
        vec![(
            PermissionSet::Read,
            "returns",
            "rma_number",
            "RMA-20250512-0042".to_owned(),
            "Return authorisation",
        )],
    ));
    drafts.push((
        datetime!(2025-10-28 19:45:31 UTC),
        erin,
        shape(status_id::AWAITING_SHIPMENT, Currency::Gbp, 4_250, 3, false),
        vec![(
            PermissionSet::WriteAndSfAccess,
            "delivery",
            "slot",
            "2025-11-05 13:00-17:00".to_owned(),
            "Chosen delivery slot",
        )],
    ));
    drafts.push((
        datetime!(2025-11-02 21:03:09 UTC),
        erin,
        shape(status_id::PENDING, Currency::Gbp, 1_999, 1, false),
        Vec::new(),
    ));
    // Guest orders: never anybody's, whatever metafields they carry.
    drafts.push((
        datetime!(2025-06-18 12:00:00 UTC),
        0,
        shape(status_id::AWAITING_PAYMENT, Currency::Usd, 7_450, 2, false),
        vec![(
            PermissionSet::ReadAndSfAccess,
            "gift",
            "message",
            "For a guest's eyes only".to_owned(),
            "Gift message printed on the packing slip",
        )],
    ));
    drafts.push((
        datetime!(2025-07-30 08:15:00 UTC),
        0,
        shape(status_id::COMPLETED, Currency::Gbp, 2_200, 1, false),
        Vec::new(),
    ));
    drafts.push((
        datetime!(2025-10-01 16:30:00 UTC),
        0,
        shape(
            status_id::PARTIALLY_SHIPPED,
            Currency::Eur,
            15_800,
            4,
            false,
        ),
        Vec::new(),
    ));
    // Dave: 260 orders, one more than a full page of 250, spread over two years.
    let dave_statuses = [
        status_id::COMPLETED,
        status_id::SHIPPED,
        status_id::COMPLETED,
        status_id::REFUNDED,
        status_id::PARTIALLY_REFUNDED,
        status_id::CANCELLED,
        status_id::PARTIALLY_SHIPPED,
        status_id::COMPLETED,
    ];
    for index in 0..260_i64 {
        let created =
            datetime!(2023-09-01 07:00:00 UTC) + Duration::hours(index * 61 + (index * 37) % 11);
        let status = if index >= 257 {
            status_id::AWAITING_FULFILLMENT
        } else {
            dave_statuses[(index as usize) % dave_statuses.len()]
        };
        let currency = if index % 5 == 0 {
            Currency::Usd
        } else {
            Currency::Eur
        };
        let metafield = (
            PermissionSet::ReadAndSfAccess,
            "shipping_tracking",
            "tracking_url",
            format!("https://www.dhl.de/en/privatkunden.html?piececode=JJD00{index:08}"),
            "Tracking link",
        );
        drafts.push((
            created,
            dave,
            shape(
                status,
                currency,
                1_000 + (index * 1_733) % 40_000,
                1 + (index % 6) as u32,
                false,
            ),
            vec![metafield],
        ));
    }

    insert_drafts(state, owners, drafts);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use time::OffsetDateTime;

    use super::super::{SeedSpec, build};

    #[test]
    fn demo_seed_has_shoppers_with_none_one_few_and_more_than_a_page_of_orders() {
        let state = build(&SeedSpec::default(), "client");

        let counts: Vec<usize> = (1..=5)
            .map(|id| state.orders_by_customer.get(&id).map_or(0, Vec::len))
            .collect();

        assert_eq!(counts, vec![4, 1, 0, 260, 3]);
        assert_eq!(state.orders_by_customer.get(&0).map_or(0, Vec::len), 3);
    }

    #[test]
    fn demo_seed_uses_every_permission_set() {
        let state = build(&SeedSpec::default(), "client");

        let used: BTreeSet<&str> = state
            .metafields
            .values()
            .map(|metafield| metafield.permission_set.as_str())
            .collect();

        assert_eq!(used.len(), 5, "permission sets used: {used:?}");
    }

    #[test]
    fn demo_order_ids_start_at_100_and_follow_creation_time() {
        let state = build(&SeedSpec::default(), "client");

        let ids: Vec<u64> = state.orders.keys().copied().collect();
        let created: Vec<OffsetDateTime> = state.orders.values().map(|o| o.date_created).collect();

        assert_eq!(ids.first(), Some(&100));
        assert!(created.windows(2).all(|pair| pair[0] <= pair[1]));
    }
}
