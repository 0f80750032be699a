//! The sandbox store's data: customers, orders, order metafields, webhooks, their indexes, and
//! the counters of Management API requests. It owns the locking (one `Mutex`, never held across
//! an `.await`) and decides which hooks hear of a change; `wire` renders what it holds and
//! `delivery` sends the callbacks.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

use crate::delivery::{Deliveries, DeliveryRecord, Target};
use crate::events::{self, CONFIGURED_DESTINATION_SCOPE, StoreEvent};

/// A cloneable handle on a sandbox store's data and request counters, for tests and demos.
#[derive(Clone)]
pub struct SandboxStore {
    inner: Arc<StoreInner>,
}

/// A seeded shopper, as tests and the demo need to know them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedCustomerInfo {
    /// Customer id.
    pub id: u64,
    /// Sign-in email.
    pub email: String,
    /// Sign-in password (the same for every seeded shopper).
    pub password: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Customer group id as the Current Customer JWT carries it.
    pub group_id: String,
    /// How many orders this customer has.
    pub order_count: usize,
}

/// One order metafield, as tests need to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedMetafieldInfo {
    /// Global metafield id.
    pub id: u64,
    /// The order it belongs to.
    pub order_id: u64,
    /// Namespace.
    pub namespace: String,
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
    /// `permission_set` as BigCommerce spells it (`read_and_sf_access`, ...).
    pub permission_set: String,
}

/// The kinds of Management API request the sandbox counts separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// `GET /v2/orders`.
    OrdersList,
    /// `GET /v2/orders/count`.
    OrdersCount,
    /// `GET /v2/orders/{id}`.
    Order,
    /// Anything under `/v3/orders/{id}/metafields`.
    OrderMetafields,
    /// Anything under `/v3/orders/metafields` (batch).
    BatchMetafields,
    /// Anything under `/v3/hooks`.
    Hooks,
    /// Any other path under `/stores/{hash}/`.
    Other,
}

const REQUEST_KINDS: usize = 7;

impl RequestKind {
    fn index(self) -> usize {
        match self {
            RequestKind::OrdersList => 0,
            RequestKind::OrdersCount => 1,
            RequestKind::Order => 2,
            RequestKind::OrderMetafields => 3,
            RequestKind::BatchMetafields => 4,
            RequestKind::Hooks => 5,
            RequestKind::Other => 6,
        }
    }
}

struct StoreInner {
    state: Mutex<StoreState>,
    counters: [AtomicU64; REQUEST_KINDS],
    /// The `producer` of every callback is `stores/{store_hash}`.
    store_hash: String,
    deliveries: Deliveries,
}

/// Everything the store holds, with the indexes that keep per-request work proportional to the
/// answer rather than to the store's size.
pub(crate) struct StoreState {
    pub customers: BTreeMap<u64, Customer>,
    pub orders: BTreeMap<u64, Order>,
    /// Order ids per customer id (0 for guests), ascending.
    pub orders_by_customer: HashMap<u64, Vec<u64>>,
    pub metafields: BTreeMap<u64, Metafield>,
    /// Metafield ids per order id, ascending.
    pub metafields_by_order: HashMap<u64, Vec<u64>>,
    pub next_order_id: u64,
    pub next_metafield_id: u64,
    /// Billing details used for orders of customers the store does not know (guests).
    pub guest_address: Arc<Address>,
    /// Webhooks registered through `/v3/hooks`, by id.
    pub hooks: BTreeMap<u64, Hook>,
    pub next_hook_id: u64,
}

pub(crate) struct Customer {
    pub id: u64,
    pub email: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub group_id: String,
    pub address: Arc<Address>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Address {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub street_1: String,
    pub street_2: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub country: String,
    pub country_iso2: String,
    pub phone: String,
    pub email: String,
}

/// An amount in ten-thousandths, because the v2 API prints money with four decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct Money(pub i64);

impl Money {
    pub fn from_cents(cents: i64) -> Self {
        Money(cents * 100)
    }

    /// Applies a rate given in basis points, rounding to whole cents like a checkout does.
    pub fn percent_bp(self, basis_points: i64) -> Self {
        let cents = (self.0 / 100 * basis_points + 5_000) / 10_000;
        Money::from_cents(cents)
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money(self.0 + other.0)
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, other: Money) -> Money {
        Money(self.0 - other.0)
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        write!(
            formatter,
            "{sign}{}.{:04}",
            magnitude / 10_000,
            magnitude % 10_000
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Currency {
    Usd,
    Eur,
    Gbp,
}

impl Currency {
    pub fn id(self) -> u32 {
        match self {
            Currency::Usd => 1,
            Currency::Eur => 2,
            Currency::Gbp => 3,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
        }
    }

    /// The exchange rate from the store's default currency (USD), printed with ten decimals as
    /// the v2 API does.
    pub fn rate_from_default(self) -> &'static str {
        match self {
            Currency::Usd => "1.0000000000",
            Currency::Eur => "0.9200000000",
            Currency::Gbp => "0.7900000000",
        }
    }

    /// Sales tax or VAT in basis points.
    pub fn tax_rate_bp(self) -> i64 {
        match self {
            Currency::Usd => 825,
            Currency::Eur => 1_900,
            Currency::Gbp => 2_000,
        }
    }
}

pub(crate) struct Order {
    pub id: u64,
    pub customer_id: u64,
    pub status_id: u8,
    pub date_created: OffsetDateTime,
    pub date_modified: OffsetDateTime,
    pub date_shipped: Option<OffsetDateTime>,
    pub currency: Currency,
    pub subtotal_ex_tax: Money,
    pub subtotal_tax: Money,
    pub shipping_ex_tax: Money,
    pub shipping_tax: Money,
    pub discount: Money,
    pub items_total: u32,
    pub items_shipped: u32,
    pub is_digital: bool,
    pub payment_method: &'static str,
    pub payment_provider_id: String,
    pub ip_address: String,
    pub staff_notes: String,
    pub customer_message: String,
    pub cart_id: Uuid,
    pub order_source: &'static str,
    pub billing: Arc<Address>,
}

impl Order {
    pub fn subtotal_inc_tax(&self) -> Money {
        self.subtotal_ex_tax + self.subtotal_tax
    }

    pub fn shipping_inc_tax(&self) -> Money {
        self.shipping_ex_tax + self.shipping_tax
    }

    pub fn total_ex_tax(&self) -> Money {
        self.subtotal_ex_tax + self.shipping_ex_tax - self.discount
    }

    pub fn total_tax(&self) -> Money {
        self.subtotal_tax + self.shipping_tax
    }

    pub fn total_inc_tax(&self) -> Money {
        self.total_ex_tax() + self.total_tax()
    }
}

/// BigCommerce's `permission_set` values (orders.v3.yml, `MetafieldBase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PermissionSet {
    AppOnly,
    Read,
    Write,
    ReadAndSfAccess,
    WriteAndSfAccess,
}

impl PermissionSet {
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionSet::AppOnly => "app_only",
            PermissionSet::Read => "read",
            PermissionSet::Write => "write",
            PermissionSet::ReadAndSfAccess => "read_and_sf_access",
            PermissionSet::WriteAndSfAccess => "write_and_sf_access",
        }
    }
}

pub(crate) struct Metafield {
    pub id: u64,
    pub order_id: u64,
    pub permission_set: PermissionSet,
    pub namespace: String,
    pub key: String,
    pub value: String,
    pub description: String,
    pub owner_client_id: Arc<str>,
    pub date_created: OffsetDateTime,
    pub date_modified: OffsetDateTime,
}

/// A webhook registered through `/v3/hooks` (webhooks.v3.yml, `webhook_Full`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hook {
    pub id: u64,
    pub scope: String,
    /// As it was sent: BigCommerce echoes destinations unchanged.
    pub destination: String,
    pub is_active: bool,
    /// Custom headers sent with every callback; `None` prints as `null`, as BigCommerce does
    /// for a hook created without any.
    pub headers: Option<BTreeMap<String, String>>,
    pub events_history_enabled: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

impl StoreState {
    pub(crate) fn empty(guest_address: Arc<Address>) -> Self {
        Self {
            customers: BTreeMap::new(),
            orders: BTreeMap::new(),
            orders_by_customer: HashMap::new(),
            metafields: BTreeMap::new(),
            metafields_by_order: HashMap::new(),
            next_order_id: 100,
            next_metafield_id: 1,
            guest_address,
            hooks: BTreeMap::new(),
            next_hook_id: 1,
        }
    }

    /// Stores `hook` under the next hook id; returns that id.
    pub(crate) fn insert_hook(&mut self, mut hook: Hook) -> u64 {
        let id = self.next_hook_id;
        self.next_hook_id += 1;
        hook.id = id;
        self.hooks.insert(id, hook);
        id
    }

    /// Stores `order` under the next order id and indexes it; returns that id.
    pub(crate) fn insert_order(&mut self, mut order: Order) -> u64 {
        let id = self.next_order_id;
        self.next_order_id += 1;
        order.id = id;
        self.orders_by_customer
            .entry(order.customer_id)
            .or_default()
            .push(id);
        self.orders.insert(id, order);
        id
    }

    /// Stores `metafield` under the next global metafield id and indexes it; returns that id.
    pub(crate) fn insert_metafield(&mut self, mut metafield: Metafield) -> u64 {
        let id = self.next_metafield_id;
        self.next_metafield_id += 1;
        metafield.id = id;
        self.metafields_by_order
            .entry(metafield.order_id)
            .or_default()
            .push(id);
        self.metafields.insert(id, metafield);
        id
    }

    pub(crate) fn remove_metafield(&mut self, metafield_id: u64) -> Option<Metafield> {
        let metafield = self.metafields.remove(&metafield_id)?;
        if let Some(ids) = self.metafields_by_order.get_mut(&metafield.order_id) {
            ids.retain(|id| *id != metafield_id);
        }
        Some(metafield)
    }

    pub(crate) fn billing_for(&self, customer_id: u64) -> Arc<Address> {
        self.customers
            .get(&customer_id)
            .map(|customer| Arc::clone(&customer.address))
            .unwrap_or_else(|| Arc::clone(&self.guest_address))
    }
}

impl SandboxStore {
    pub(crate) fn new(state: StoreState, store_hash: &str, deliveries: Deliveries) -> Self {
        Self {
            inner: Arc::new(StoreInner {
                state: Mutex::new(state),
                counters: Default::default(),
                store_hash: store_hash.to_owned(),
                deliveries,
            }),
        }
    }

    /// Runs `action` with the store locked. Keep it short: every request waits on this lock.
    pub(crate) fn with_state<T>(&self, action: impl FnOnce(&mut StoreState) -> T) -> T {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters to a sandbox, so a poisoned lock is simply taken over.
        let mut state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        action(&mut state)
    }

    pub(crate) fn count_request(&self, kind: RequestKind) {
        self.inner.counters[kind.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Every seeded (and added) customer with their sign-in details and order count.
    pub fn customers(&self) -> Vec<SeedCustomerInfo> {
        self.with_state(|state| {
            state
                .customers
                .values()
                .map(|customer| SeedCustomerInfo {
                    id: customer.id,
                    email: customer.email.clone(),
                    password: customer.password.clone(),
                    first_name: customer.first_name.clone(),
                    last_name: customer.last_name.clone(),
                    group_id: customer.group_id.clone(),
                    order_count: state
                        .orders_by_customer
                        .get(&customer.id)
                        .map_or(0, Vec::len),
                })
                .collect()
        })
    }

    /// The ids of `customer_id`'s orders, ascending (0 gives the guest orders).
    pub fn orders_of(&self, customer_id: u64) -> Vec<u64> {
        self.with_state(|state| {
            state
                .orders_by_customer
                .get(&customer_id)
                .cloned()
                .unwrap_or_default()
        })
    }

    /// The metafields of one order, by ascending id.
    pub fn metafields_of(&self, order_id: u64) -> Vec<SeedMetafieldInfo> {
        self.with_state(|state| {
            state
                .metafields_by_order
                .get(&order_id)
                .into_iter()
                .flatten()
                .filter_map(|id| state.metafields.get(id))
                .map(|metafield| SeedMetafieldInfo {
                    id: metafield.id,
                    order_id: metafield.order_id,
                    namespace: metafield.namespace.clone(),
                    key: metafield.key.clone(),
                    value: metafield.value.clone(),
                    permission_set: metafield.permission_set.as_str().to_owned(),
                })
                .collect()
        })
    }

    /// Changes a metafield's value (and its `date_modified`) and sends the
    /// `store/order/metafield/updated` webhooks; false when there is no such id.
    pub fn set_metafield_value(&self, metafield_id: u64, value: impl Into<String>) -> bool {
        let value = value.into();
        let event = self.with_state(|state| {
            let metafield = state.metafields.get_mut(&metafield_id)?;
            metafield.value = value;
            metafield.date_modified = now_to_the_second();
            Some(StoreEvent::Metafield {
                change: events::MetafieldChange::Updated,
                metafield_id,
                order_id: metafield.order_id,
                namespace: metafield.namespace.clone(),
            })
        });
        match event {
            Some(event) => {
                self.publish(&event);
                true
            }
            None => false,
        }
    }

    /// Places a new order, dated now and awaiting fulfillment, for `customer_id`, and sends the
    /// `store/order/created` webhooks; returns its id.
    ///
    /// An unknown `customer_id` (0 included) gets guest billing details, as BigCommerce keeps
    /// whatever billing address the checkout sent.
    pub fn add_order(&self, customer_id: u64) -> u64 {
        let order_id = self.with_state(|state| {
            let billing = state.billing_for(customer_id);
            let order = crate::seed::fresh_order(customer_id, billing, now_to_the_second());
            state.insert_order(order)
        });
        self.publish(&StoreEvent::OrderCreated { order_id });
        order_id
    }

    /// Moves an order to another status (BigCommerce's ids, 0 to 14) and, when the status
    /// really changes, sends the `store/order/statusUpdated` and `store/order/updated`
    /// webhooks; false when there is no such order or status.
    pub fn set_order_status(&self, order_id: u64, status_id: u8) -> bool {
        if !crate::wire::ORDER_STATUSES
            .iter()
            .any(|status| status.id == status_id)
        {
            return false;
        }
        let change = self.with_state(|state| {
            let order = state.orders.get_mut(&order_id)?;
            let previous_status_id = order.status_id;
            if previous_status_id != status_id {
                order.status_id = status_id;
                order.date_modified = now_to_the_second();
            }
            Some(previous_status_id)
        });
        match change {
            Some(previous_status_id) if previous_status_id != status_id => {
                self.publish(&StoreEvent::OrderStatusUpdated {
                    order_id,
                    previous_status_id,
                    new_status_id: status_id,
                });
                true
            }
            Some(_) => true,
            None => false,
        }
    }

    /// Sends the webhooks `event` fires to every active hook whose scope matches and, for order
    /// events, to the configured destination. Returns before anything is sent.
    pub(crate) fn publish(&self, event: &StoreEvent) {
        let deliveries = &self.inner.deliveries;
        let configured = deliveries.destination();
        let created_at = OffsetDateTime::now_utc().unix_timestamp();
        for notification in event.notifications() {
            let mut targets: Vec<Target> = self.with_state(|state| {
                state
                    .hooks
                    .values()
                    .filter(|hook| hook.is_active)
                    .filter(|hook| events::scope_matches(&hook.scope, notification.scope))
                    .filter_map(|hook| {
                        // Destinations were parsed when the hook was saved.
                        Some(Target {
                            destination: Url::parse(&hook.destination).ok()?,
                            hook_id: Some(hook.id),
                            headers: hook.headers.clone().unwrap_or_default(),
                        })
                    })
                    .collect()
            });
            if let Some(destination) = &configured
                && events::scope_matches(CONFIGURED_DESTINATION_SCOPE, notification.scope)
            {
                targets.push(Target {
                    destination: destination.clone(),
                    hook_id: None,
                    headers: BTreeMap::new(),
                });
            }
            if targets.is_empty() {
                continue;
            }
            let body = events::callback_body(&notification, &self.inner.store_hash, created_at);
            deliveries.send(notification.scope, &body, targets);
        }
    }

    /// Points every order event at `destination` besides registered hooks (`None`: nowhere).
    pub fn set_webhook_destination(&self, destination: Option<Url>) {
        self.inner.deliveries.set_destination(destination);
    }

    /// Where order events go besides registered hooks, if anywhere.
    pub fn webhook_destination(&self) -> Option<Url> {
        self.inner.deliveries.destination()
    }

    /// Every webhook message finished so far (delivered or given up on), in finishing order.
    pub fn webhook_deliveries(&self) -> Vec<DeliveryRecord> {
        self.inner.deliveries.records()
    }

    /// Waits until at least `count` webhook messages have finished and none is in flight, or
    /// until `timeout`; returns `webhook_deliveries()` either way. `count` 0 waits for quiet.
    pub async fn wait_for_deliveries(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Vec<DeliveryRecord> {
        self.inner.deliveries.wait(count, timeout).await
    }

    /// Total Management API requests received, whatever their outcome (401 and 429 included).
    pub fn management_requests(&self) -> u64 {
        self.inner
            .counters
            .iter()
            .map(|counter| counter.load(Ordering::Relaxed))
            .sum()
    }

    /// Management API requests received of one kind.
    pub fn management_requests_of(&self, kind: RequestKind) -> u64 {
        self.inner.counters[kind.index()].load(Ordering::Relaxed)
    }

    /// Sets every request counter back to zero.
    pub fn reset_request_counts(&self) {
        for counter in &self.inner.counters {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

/// The current time without sub-second precision, since BigCommerce's dates have none.
pub(crate) fn now_to_the_second() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_prints_four_decimals_like_the_v2_api() {
        let cases = [
            (Money(678_400), "67.8400"),
            (Money(0), "0.0000"),
            (Money(5), "0.0005"),
            (Money(-50_000), "-5.0000"),
        ];

        for (money, expected) in cases {
            assert_eq!(money.to_string(), expected, "printing {money:?}");
        }
    }

    #[test]
    fn money_percentages_round_to_whole_cents() {
        let tax = Money::from_cents(6_784).percent_bp(825);

        assert_eq!(tax, Money::from_cents(560));
    }
}
