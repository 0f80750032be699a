//! Deterministic seed data: a small hand-written demo store (shoppers with 0, 1, a few and 260
//! orders, guest orders, metafields in every permission set) plus, on request, many generated
//! shoppers from a seeded PRNG for benchmarks. Same `SeedSpec`, same store, on every machine.

use std::sync::Arc;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::data::{
    Address, Currency, Customer, Metafield, Money, Order, PermissionSet, StoreState,
};
use crate::order_status::status_id;

/// What data a sandbox store starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedSpec {
    /// Generated shoppers added after the hand-written demo shoppers (ids follow theirs).
    pub extra_customers: u32,
    /// Orders per generated shopper.
    pub extra_orders_per_customer: u32,
    /// Seed of the PRNG that generates the extra shoppers and orders.
    pub rng_seed: u64,
}

impl Default for SeedSpec {
    /// The small hand-written demo data set and nothing generated.
    fn default() -> Self {
        Self {
            extra_customers: 0,
            extra_orders_per_customer: 0,
            rng_seed: 0x5eed,
        }
    }
}

/// The password every seeded shopper signs in with (a demo store, shown on its sign-in page).
pub const DEMO_PASSWORD: &str = "sandbox-password";

/// Builds the store described by `spec`; `app_client_id` owns the metafields the sandbox's
/// own app wrote, the others belong to two fictional apps.
pub(crate) fn build(spec: &SeedSpec, app_client_id: &str) -> StoreState {
    let guest_address = Arc::new(address(
        ("Guest", "Shopper"),
        "1 Infinite Loop",
        ("Cupertino", "California", "95014"),
        ("United States", "US"),
        "guest.shopper@example.org",
    ));
    let mut state = StoreState::empty(guest_address);
    let owners = Owners {
        this_app: Arc::from(app_client_id),
        shipping_app: Arc::from("shipstation0sandbox0client0id01"),
        erp_app: Arc::from("erpconnector0sandbox0client0id2"),
    };
    seed_demo(&mut state, &owners);
    seed_generated(&mut state, spec, &owners);
    state
}

/// A new order as a storefront checkout creates it: awaiting fulfillment, USD, two items.
pub(crate) fn fresh_order(
    customer_id: u64,
    billing: Arc<Address>,
    created: OffsetDateTime,
) -> Order {
    let mut order = order_draft(customer_id, billing, created, OrderShape::default());
    order.ip_address = "192.0.2.10".to_owned();
    order.cart_id = Uuid::new_v4();
    order
}

struct Owners {
    this_app: Arc<str>,
    shipping_app: Arc<str>,
    erp_app: Arc<str>,
}

/// The parts of an order that the seed chooses; everything else follows from them.
#[derive(Clone, Copy)]
struct OrderShape {
    status_id: u8,
    currency: Currency,
    subtotal_cents: i64,
    shipping_cents: i64,
    discount_cents: i64,
    items: u32,
    digital: bool,
}

impl Default for OrderShape {
    fn default() -> Self {
        Self {
            status_id: status_id::AWAITING_FULFILLMENT,
            currency: Currency::Usd,
            subtotal_cents: 2_500,
            shipping_cents: 499,
            discount_cents: 0,
            items: 2,
            digital: false,
        }
    }
}

type MetafieldSeed = (
    PermissionSet,
    &'static str,
    &'static str,
    String,
    &'static str,
);

fn seed_demo(state: &mut StoreState, owners: &Owners) {
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

    let mut drafts: Vec<(OffsetDateTime, u64, OrderShape, Vec<MetafieldSeed>)> = Vec::new();
    let shape = |status_id, currency, subtotal_cents, items, digital| OrderShape {
        status_id,
        currency,
        subtotal_cents,
        shipping_cents: if digital { 0 } else { 999 },
        discount_cents: 0,
        items,
        digital,
    };

    // Alice: the main demo shopper, with metafields in every permission set.
    drafts.push((
        datetime!(2025-03-14 09:12:44 UTC),
        alice,
        shape(status_id::COMPLETED, Currency::Eur, 4_900, 1, true),
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

    // Ids follow creation time, as in a real store.
    drafts.sort_by_key(|(created, ..)| *created);
    for (sequence, (created, customer_id, shape, metafields)) in drafts.into_iter().enumerate() {
        let billing = state.billing_for(customer_id);
        let mut order = order_draft(customer_id, billing, created, shape);
        order.ip_address = format!("198.51.100.{}", 10 + sequence % 200);
        order.payment_method = ["Credit Card", "PayPal", "Test Payment Gateway"][sequence % 3];
        if sequence % 7 == 3 {
            order.staff_notes = "Customer asked to leave the parcel with a neighbour".to_owned();
            order.customer_message = "Please ring twice".to_owned();
        }
        let order_id = state.insert_order(order);
        for (permission_set, namespace, key, value, description) in metafields {
            let owner = match namespace {
                "shipping_tracking" => Arc::clone(&owners.shipping_app),
                "erp" | "warehouse" => Arc::clone(&owners.erp_app),
                _ => Arc::clone(&owners.this_app),
            };
            let written = created + Duration::hours(2);
            state.insert_metafield(Metafield {
                id: 0,
                order_id,
                permission_set,
                namespace: namespace.to_owned(),
                key: key.to_owned(),
                value,
                description: description.to_owned(),
                owner_client_id: owner,
                date_created: written,
                date_modified: written,
            });
        }
    }
}

fn seed_generated(state: &mut StoreState, spec: &SeedSpec, owners: &Owners) {
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

fn add_customer(
    state: &mut StoreState,
    (first_name, last_name): (&str, &str),
    email: &str,
    group_id: &str,
    address: Arc<Address>,
) -> u64 {
    let id = state.customers.keys().next_back().map_or(1, |id| id + 1);
    state.customers.insert(
        id,
        Customer {
            id,
            email: email.to_owned(),
            password: DEMO_PASSWORD.to_owned(),
            first_name: first_name.to_owned(),
            last_name: last_name.to_owned(),
            group_id: group_id.to_owned(),
            address,
        },
    );
    id
}

fn address(
    (first_name, last_name): (&str, &str),
    street: &str,
    (city, state, zip): (&str, &str, &str),
    (country, country_iso2): (&str, &str),
    email: &str,
) -> Address {
    Address {
        first_name: first_name.to_owned(),
        last_name: last_name.to_owned(),
        company: String::new(),
        street_1: street.to_owned(),
        street_2: String::new(),
        city: city.to_owned(),
        state: state.to_owned(),
        zip: zip.to_owned(),
        country: country.to_owned(),
        country_iso2: country_iso2.to_owned(),
        phone: "555-0100".to_owned(),
        email: email.to_owned(),
    }
}

fn order_draft(
    customer_id: u64,
    billing: Arc<Address>,
    created: OffsetDateTime,
    shape: OrderShape,
) -> Order {
    let subtotal_ex_tax = Money::from_cents(shape.subtotal_cents);
    let shipping_ex_tax = Money::from_cents(shape.shipping_cents);
    let tax_rate = shape.currency.tax_rate_bp();
    let shipped = matches!(
        shape.status_id,
        status_id::SHIPPED | status_id::COMPLETED | status_id::PARTIALLY_SHIPPED
    ) || (shape.status_id == status_id::REFUNDED && !shape.digital);
    let items_shipped = match shape.status_id {
        status_id::PARTIALLY_SHIPPED => shape.items.div_ceil(2),
        _ if shipped && !shape.digital => shape.items,
        _ => 0,
    };
    let date_shipped = (shipped && !shape.digital).then(|| created + Duration::hours(49));
    let date_modified = date_shipped.unwrap_or(created) + Duration::minutes(7);
    // The cart id is derived from the creation time so the demo data stays deterministic.
    let cart_seed = created.unix_timestamp().unsigned_abs() ^ customer_id.rotate_left(32);
    let cart_bytes: [u8; 16] = Xoshiro256PlusPlus::seed_from_u64(cart_seed).random();
    Order {
        id: 0,
        customer_id,
        status_id: shape.status_id,
        date_created: created,
        date_modified,
        date_shipped,
        currency: shape.currency,
        subtotal_ex_tax,
        subtotal_tax: subtotal_ex_tax.percent_bp(tax_rate),
        shipping_ex_tax,
        shipping_tax: shipping_ex_tax.percent_bp(tax_rate),
        discount: Money::from_cents(shape.discount_cents),
        items_total: shape.items,
        items_shipped,
        is_digital: shape.digital,
        payment_method: "Credit Card",
        payment_provider_id: String::new(),
        ip_address: String::new(),
        staff_notes: String::new(),
        customer_message: String::new(),
        cart_id: uuid::Builder::from_random_bytes(cart_bytes).into_uuid(),
        order_source: "www",
        billing,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

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

    #[test]
    fn generated_seed_is_the_same_for_the_same_spec() {
        let spec = SeedSpec {
            extra_customers: 20,
            extra_orders_per_customer: 5,
            rng_seed: 7,
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
