//! Generated shoppers for benchmarks: as many as `SeedSpec::extra_customers` asks, each with
//! `extra_orders_per_customer` orders, from a PRNG seeded with `SeedSpec::rng_seed`.

use std::sync::Arc;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use time::Duration;
use time::macros::datetime;
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
        for _ in 0..spec.extra_orders_per_customer {
            let created = datetime!(2024-01-01 00:00:00 UTC)
                + Duration::seconds(rng.random_range(0..57_000_000_i64));
            let shape = OrderShape {
                channel_id: STOREFRONT_CHANNEL_ID,
                status_id: STATUSES[rng.random_range(0..STATUSES.len())],
                currency,
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
            let mut order = order_draft(customer_id, Arc::clone(&billing), created, shape);
            order.cart_id = Uuid::from_bytes(rng.random());
            order.ip_address = format!("203.0.113.{}", rng.random_range(1..255_u32));
            let ships = order.date_shipped.is_some();
            let order_id = state.insert_order(order);
            if ships {
                state.insert_metafield(Metafield {
                    id: 0,
                    order_id,
                    permission_set: PermissionSet::ReadAndSfAccess,
                    namespace: "shipping_tracking".to_owned(),
                    key: "tracking_url".to_owned(),
                    value: format!("https://track.example.com/{order_id}"),
                    description: "Tracking link".to_owned(),
                    owner_client_id: Arc::clone(&owners.shipping_app),
                    date_created: created + Duration::hours(30),
                    date_modified: created + Duration::hours(30),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::build;
    use super::*;

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
        assert_eq!(summary(&first), summary(&second));
        assert_eq!(first.customers.len(), 25);
        assert_eq!(first.orders.len(), 271 + 100);
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
