//! Deterministic seed data: one of two small hand-written stores (`demo`: shoppers with 0, 1, a
//! few and 260 orders, guest orders, metafields in every permission set; `second_store`: other
//! shoppers under the same customer ids and order ids), the control panel's users, plus, on
//! request, many shoppers from a seeded PRNG for benchmarks (`generated`). Same `SeedSpec`, same
//! store, on every machine. This file has what they share: the spec, the order and address
//! builders and the insertion of hand-written orders.

mod demo;
mod generated;
mod second_store;

use std::sync::Arc;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::data::{
    Address, Channel, Currency, Customer, HEADLESS_CHANNEL_ID, Metafield, Money, Order,
    PermissionSet, STOREFRONT_CHANNEL_ID, Site, StaffUser, StoreState,
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
    let mut state = StoreState::empty(guest_address, Arc::from(app_client_id));
    let owners = Owners {
        this_app: Arc::clone(&state.app_client_id),
        shipping_app: Arc::from("shipstation0sandbox0client0id01"),
        erp_app: Arc::from("erpconnector0sandbox0client0id2"),
    };
    match spec.data_set {
        DataSet::Demo => {
            demo::seed(&mut state, &owners);
            state.users = demo::users();
        }
        DataSet::SecondStore => {
            second_store::seed(&mut state, &owners);
            state.users = second_store::users();
        }
    }
    generated::seed(&mut state, spec, &owners);
    state
}

/// Opens the store's two channels and their sites: its Stencil storefront (channel 1) at
/// `storefront_url`, and a headless Catalyst storefront at `headless_url`, both active since
/// before the first order.
pub(crate) fn add_channels(
    state: &mut StoreState,
    store_name: &str,
    storefront_url: &str,
    headless_url: &str,
) {
    let opened = datetime!(2022-11-07 09:30:00 UTC);
    let channels = [
        (
            STOREFRONT_CHANNEL_ID,
            store_name.to_owned(),
            "bigcommerce",
            1_000,
            storefront_url,
        ),
        (
            HEADLESS_CHANNEL_ID,
            format!("{store_name} (Catalyst)"),
            "catalyst",
            1_001,
            headless_url,
        ),
    ];
    for (id, name, platform, site_id, url) in channels {
        state.channels.push(Channel {
            id,
            name,
            kind: "storefront",
            platform,
            status: "active",
            date_created: opened,
            date_modified: opened,
        });
        state.sites.insert(
            site_id,
            Site {
                id: site_id,
                channel_id: id,
                url: url.to_owned(),
                created_at: opened,
                updated_at: opened,
            },
        );
    }
}

/// Sam is a user of both stores, as one BigCommerce login can be: the same id and email.
const SAM: (u64, &str, &str, (&str, &str)) = (
    9_876_543,
    "sam@staff.example.com",
    "en-GB",
    ("Sam", "Staff"),
);

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
    channel_id: u64,
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
            channel_id: STOREFRONT_CHANNEL_ID,
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
        channel_id: shape.channel_id,
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
        is_deleted: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
