//! Deterministic seed data: one of two small hand-written stores (the demo store: shoppers with
//! 0, 1, a few and 260 orders, guest orders, metafields in every permission set; the second store:
//! other shoppers under the same customer ids and order ids), the control panel's users, plus, on
//! request, many generated shoppers from a seeded PRNG for benchmarks. Same `SeedSpec`, same
//! store, on every machine.

use std::sync::Arc;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::data::{
    Address, Currency, Customer, Metafield, Money, Order, PermissionSet, StaffUser, StoreState,
};
use crate::order_status::status_id;

/// Which hand-written store a sandbox store starts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DataSet {
    /// `sandbox1`'s: Alice (customer 1, orders 321, 364, 367, 369), Bob, Carol (no orders),
    /// Dave (260 orders), Erin, guest orders; order ids 100 to 370. Owner Morgan, user Sam.
    #[default]
    Demo,
    /// `sandbox2`'s, a tea shop whose ids overlap the demo store's on purpose: its customer 1
    /// (Noah) owns orders 321, 323, 365, 369 and 371, its customer 2 (Olivia) 322, 364 and 367,
    /// with other metafields under the same namespaces and keys; order ids 321 to 372. Owner
    /// Rivka, users Sam (the same user as the demo store's) and Kai.
    SecondStore,
}

/// What data a sandbox store starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedSpec {
    /// The hand-written store.
    pub data_set: DataSet,
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
            data_set: DataSet::Demo,
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
    match spec.data_set {
        DataSet::Demo => {
            seed_demo(&mut state, &owners);
            state.users = demo_users();
        }
        DataSet::SecondStore => {
            seed_second_store(&mut state, &owners);
            state.users = second_store_users();
        }
    }
    seed_generated(&mut state, spec, &owners);
    state
}

/// Sam is a user of both stores, as one BigCommerce login can be: the same id and email.
const SAM: (u64, &str, &str, (&str, &str)) = (
    9_876_543,
    "sam@staff.example.com",
    "en-GB",
    ("Sam", "Staff"),
);

fn demo_users() -> Vec<StaffUser> {
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

fn second_store_users() -> Vec<StaffUser> {
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

fn staff_user(
    (id, email, locale, (first_name, last_name)): (u64, &str, &str, (&str, &str)),
    is_owner: bool,
) -> StaffUser {
    StaffUser {
        id,
        email: email.to_owned(),
        locale: locale.to_owned(),
        first_name: first_name.to_owned(),
        last_name: last_name.to_owned(),
        is_owner,
        app_access: true,
    }
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

    let mut drafts: Vec<Draft> = Vec::new();
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

    insert_drafts(state, owners, drafts);
}

/// One hand-written order: when, whose (0 for a guest), its shape and its metafields.
type Draft = (OffsetDateTime, u64, OrderShape, Vec<MetafieldSeed>);

/// Inserts `drafts` in creation order, so that ids follow creation time as in a real store.
fn insert_drafts(state: &mut StoreState, owners: &Owners, mut drafts: Vec<Draft>) {
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
                "erp" | "warehouse" | "tasting" => Arc::clone(&owners.erp_app),
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

/// The second store: a tea shop in the United Kingdom. Its customer and order ids coincide with
/// the demo store's on purpose (see `DataSet::SecondStore`), so that a service that mixes stores
/// up serves one store's orders or metafields to the other's shopper, and a test sees it.
fn seed_second_store(state: &mut StoreState, owners: &Owners) {
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
            321 => (
                noah,
                shape(status_id::COMPLETED, 6_000, 1, true),
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

    #[test]
    fn every_store_has_one_owner_first_and_sam_works_for_both() {
        for data_set in [DataSet::Demo, DataSet::SecondStore] {
            let state = build(
                &SeedSpec {
                    data_set,
                    ..SeedSpec::default()
                },
                "client",
            );

            assert!(state.users[0].is_owner, "{data_set:?}");
            assert_eq!(state.users.iter().filter(|u| u.is_owner).count(), 1);
            assert!(state.users.iter().any(|u| u.id == 9_876_543 && !u.is_owner));
        }
    }

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
