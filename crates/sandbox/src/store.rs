//! One sandbox store's shared handle: who it is (hash, name, numeric id), its data behind one
//! `Mutex` (never held across an `.await`), its Management API quota window and request
//! counters, its access tokens and the app's installation, and the webhooks a change sends:
//! which hooks hear of it, which deliveries the write that caused it waits for, and none at all
//! while a test has paused them. `data` is
//! what it holds, `events` renders the callbacks and `delivery` sends them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use url::Url;

use crate::data::{
    ApiAccount, MAX_METAFIELDS_PER_ORDER, Metafield, PermissionSet, STOREFRONT_CHANNEL_ID,
    StaffUser, StoreState, now_to_the_second,
};
use crate::delivery::{Deliveries, DeliveryRecord, Pending, Target};
use crate::events::{self, CONFIGURED_DESTINATION_SCOPE, StoreEvent};
use crate::order_status::ORDER_STATUSES;
use crate::quota::{QuotaDecision, QuotaWindow};
use crate::seed;

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

/// A user of a store's control panel, as tests and the demo need to know them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlPanelUser {
    /// BigCommerce's user id, the same on every store the user works for.
    pub id: u64,
    /// Sign-in email.
    pub email: String,
    /// BCP 47 language tag, as `signed_payload_jwt` carries it.
    pub locale: String,
    /// First and last name.
    pub name: String,
    /// Whether this is the store owner.
    pub is_owner: bool,
    /// Whether the owner lets this user load the app.
    pub has_app_access: bool,
}

impl ControlPanelUser {
    fn of(user: &StaffUser) -> Self {
        Self {
            id: user.id,
            email: user.email.clone(),
            locale: user.locale.clone(),
            name: format!("{} {}", user.first_name, user.last_name),
            is_owner: user.is_owner,
            has_app_access: user.is_owner || user.app_access,
        }
    }
}

/// Who a sandbox store is.
pub(crate) struct StoreIdentity {
    /// The hash in Management API paths, `context`, `sub` and `producer`.
    pub hash: String,
    /// The name its storefront and control panel show.
    pub name: String,
    /// The numeric id its webhook callbacks carry.
    pub store_id: String,
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
    /// The client id of the app that created it.
    pub owner_client_id: String,
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
    /// Anything under `/v3/channels`.
    Channels,
    /// Anything under `/v3/sites`.
    Sites,
    /// Anything under `/v3/content/scripts`.
    Scripts,
    /// Anything under `/v3/storefront` (Storefront API tokens).
    StorefrontTokens,
}

const REQUEST_KINDS: usize = 11;

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
            RequestKind::Channels => 7,
            RequestKind::Sites => 8,
            RequestKind::Scripts => 9,
            RequestKind::StorefrontTokens => 10,
        }
    }
}

struct StoreInner {
    identity: StoreIdentity,
    state: Mutex<StoreState>,
    counters: [AtomicU64; REQUEST_KINDS],
    /// `POST /graphql` requests, on any of the store's sites.
    graphql_requests: AtomicU64,
    /// The store's Management API quota, shared by every token (BigCommerce's is per store).
    quota: Mutex<QuotaWindow>,
    deliveries: Deliveries,
    /// While set, `publish` sends nothing: every event is dropped unrecorded.
    webhooks_paused: AtomicBool,
}

impl SandboxStore {
    pub(crate) fn new(
        identity: StoreIdentity,
        state: StoreState,
        quota: QuotaWindow,
        deliveries: Deliveries,
    ) -> Self {
        Self {
            inner: Arc::new(StoreInner {
                identity,
                state: Mutex::new(state),
                counters: Default::default(),
                graphql_requests: AtomicU64::new(0),
                quota: Mutex::new(quota),
                deliveries,
                webhooks_paused: AtomicBool::new(false),
            }),
        }
    }

    /// The store hash: `/stores/{hash}/` in the Management API, `stores/{hash}` in `context`.
    pub fn hash(&self) -> &str {
        &self.inner.identity.hash
    }

    /// The store's numeric id as a string (`store_id` in webhook payloads).
    pub(crate) fn store_id(&self) -> &str {
        &self.inner.identity.store_id
    }

    /// The store's name, as its storefront and control panel show it.
    pub fn name(&self) -> &str {
        &self.inner.identity.name
    }

    /// The control panel's users, the owner first.
    pub fn users(&self) -> Vec<ControlPanelUser> {
        self.with_state(|state| state.users.iter().map(ControlPanelUser::of).collect())
    }

    /// The control panel user `user_id`, if the store has one.
    pub fn user(&self, user_id: u64) -> Option<ControlPanelUser> {
        self.with_state(|state| {
            state
                .users
                .iter()
                .find(|user| user.id == user_id)
                .map(ControlPanelUser::of)
        })
    }

    /// The store owner.
    pub fn owner(&self) -> Option<ControlPanelUser> {
        self.with_state(|state| state.owner().map(ControlPanelUser::of))
    }

    /// The scopes the app was installed with; `None` while it is not installed.
    pub fn app_scopes(&self) -> Option<Vec<String>> {
        self.with_state(|state| {
            state
                .installation
                .as_ref()
                .map(|installation| installation.scopes.clone())
        })
    }

    /// Installs the app: `token`, with `scopes`, becomes its one access token on this store.
    pub(crate) fn install_app(&self, token: String, client_id: Arc<str>, scopes: Vec<String>) {
        self.with_state(|state| state.install_app(token, client_id, scopes));
    }

    /// Uninstalls the app: its tokens stop working and its hooks are deleted at once. False
    /// when it was not installed.
    pub(crate) fn uninstall_app(&self) -> bool {
        self.with_state(StoreState::uninstall_app)
    }

    /// Adds a store-level API account: `token` is accepted by the Management API as the app
    /// `client_id` with `scopes`. Tests use it to play another app (one that owns metafields
    /// this app may or may not see) or a token with fewer scopes. Uninstalling the app does not
    /// revoke it.
    pub fn add_api_account(&self, token: &str, client_id: &str, scopes: &[&str]) {
        self.with_state(|state| {
            state.api_tokens.insert(
                token.to_owned(),
                ApiAccount {
                    client_id: Arc::from(client_id),
                    scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
                    from_install: false,
                },
            );
        });
    }

    /// The API account behind `token`, if the store accepts it.
    pub(crate) fn authenticate(&self, token: &str) -> Option<ApiAccount> {
        self.with_state(|state| state.api_tokens.get(token).cloned())
    }

    /// Spends one request of the store's quota at `now`.
    pub(crate) fn take_quota(&self, now: Instant) -> QuotaDecision {
        self.inner
            .quota
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(now)
    }

    /// Lets `user_id` load the app, or stops them; false when there is no such user or it is
    /// the owner, who always may.
    pub(crate) fn set_app_access(&self, user_id: u64, allowed: bool) -> bool {
        self.with_state(|state| {
            match state
                .users
                .iter_mut()
                .find(|user| user.id == user_id && !user.is_owner)
            {
                Some(user) => {
                    user.app_access = allowed;
                    true
                }
                None => false,
            }
        })
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
                    owner_client_id: metafield.owner_client_id.to_string(),
                })
                .collect()
        })
    }

    /// The metafield of `order_id` with `namespace` and `key`, whoever owns it (the lowest id
    /// when several apps use the same pair).
    pub fn metafield(
        &self,
        order_id: u64,
        namespace: &str,
        key: &str,
    ) -> Option<SeedMetafieldInfo> {
        self.metafields_of(order_id)
            .into_iter()
            .find(|metafield| metafield.namespace == namespace && metafield.key == key)
    }

    /// Changes a metafield's value (and its `date_modified`) and sends the
    /// `store/order/metafield/updated` webhooks; false when there is no such id.
    ///
    /// Like every change made through this handle (not through the Management API), it returns
    /// before its webhooks are sent; `wait_for_deliveries` waits for them.
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
                drop(self.publish(&event));
                true
            }
            None => false,
        }
    }

    /// Deletes a metafield, whoever owns it, and sends the `store/order/metafield/deleted`
    /// webhooks; false when there is no such id. The order's `date_modified` is left alone, as
    /// BigCommerce leaves it for metafield changes. Returns before the webhooks are sent.
    pub fn delete_metafield(&self, metafield_id: u64) -> bool {
        let event = self.with_state(|state| {
            let metafield = state.remove_metafield(metafield_id)?;
            Some(StoreEvent::Metafield {
                change: events::MetafieldChange::Deleted,
                metafield_id,
                order_id: metafield.order_id,
                namespace: metafield.namespace,
            })
        });
        match event {
            Some(event) => {
                drop(self.publish(&event));
                true
            }
            None => false,
        }
    }

    /// Adds a metafield to `order_id`, owned by the sandbox's own app (`SandboxConfig::client_id`)
    /// and dated now, with an empty description, and sends the `store/order/metafield/created`
    /// webhooks; returns its id. `permission_set` is spelled as BigCommerce does
    /// (`read_and_sf_access`, ...). `None`, with nothing changed, when there is no such order or
    /// permission set, or when the app already has a metafield with that namespace and key on
    /// the order or 250 of them (the Management API's `409` and `422`). The order's
    /// `date_modified` is left alone. Returns before the webhooks are sent.
    pub fn add_metafield(
        &self,
        order_id: u64,
        namespace: &str,
        key: &str,
        value: impl Into<String>,
        permission_set: &str,
    ) -> Option<u64> {
        let permission_set: PermissionSet =
            serde_json::from_value(serde_json::Value::from(permission_set)).ok()?;
        let value = value.into();
        let metafield_id = self.with_state(|state| {
            if !state.orders.contains_key(&order_id) {
                return None;
            }
            let owner = Arc::clone(&state.app_client_id);
            let own: Vec<&Metafield> = state
                .metafields_by_order
                .get(&order_id)
                .into_iter()
                .flatten()
                .filter_map(|id| state.metafields.get(id))
                .filter(|metafield| metafield.owner_client_id == owner)
                .collect();
            if own.len() >= MAX_METAFIELDS_PER_ORDER
                || own
                    .iter()
                    .any(|metafield| metafield.namespace == namespace && metafield.key == key)
            {
                return None;
            }
            let now = now_to_the_second();
            Some(state.insert_metafield(Metafield {
                id: 0,
                order_id,
                permission_set,
                namespace: namespace.to_owned(),
                key: key.to_owned(),
                value,
                description: String::new(),
                owner_client_id: owner,
                date_created: now,
                date_modified: now,
            }))
        })?;
        drop(self.publish(&StoreEvent::Metafield {
            change: events::MetafieldChange::Created,
            metafield_id,
            order_id,
            namespace: namespace.to_owned(),
        }));
        Some(metafield_id)
    }

    /// Archives an order as `DELETE /v2/orders/{id}` does (`is_deleted` becomes true and
    /// `date_modified` now; the order leaves the v2 lists and the shopper's pages but is still
    /// served by id) and sends the `store/order/archived` webhooks; false when there is no such
    /// order. Archiving an archived order changes and sends nothing. Returns before the webhooks
    /// are sent.
    pub fn archive_order(&self, order_id: u64) -> bool {
        self.archive(order_id).is_some()
    }

    /// `archive_order`, handing back the configured destination's webhooks still being sent;
    /// `None` when there is no such order.
    pub(crate) fn archive(&self, order_id: u64) -> Option<Pending> {
        let archived =
            self.with_state(|state| state.archive_order(order_id, now_to_the_second()))?;
        Some(if archived {
            self.publish(&StoreEvent::OrderArchived { order_id })
        } else {
            Pending::default()
        })
    }

    /// Moves an order to another customer (0: a guest), as `PUT /v2/orders/{id}` with a
    /// `customer_id` does: its owner, both customers' order lists, its billing address (the new
    /// customer's, as `add_order` uses) and `date_modified` (now) change, and the
    /// `store/order/updated` webhooks are sent. False when there is no such order or customer;
    /// moving an order to the customer it has changes and sends nothing. Returns before the
    /// webhooks are sent.
    pub fn set_order_customer(&self, order_id: u64, customer_id: u64) -> bool {
        let moved = self.with_state(|state| {
            if customer_id != 0 && !state.customers.contains_key(&customer_id) {
                return None;
            }
            state.set_order_customer(order_id, customer_id, now_to_the_second())
        });
        match moved {
            Some(true) => {
                drop(self.publish(&StoreEvent::OrderUpdated { order_id }));
                true
            }
            Some(false) => true,
            None => false,
        }
    }

    /// Whether an order is archived; `None` when there is no such order.
    pub fn order_is_archived(&self, order_id: u64) -> Option<bool> {
        self.with_state(|state| state.orders.get(&order_id).map(|order| order.is_deleted))
    }

    /// The customer an order belongs to (0 for a guest).
    pub fn order_customer(&self, order_id: u64) -> Option<u64> {
        self.with_state(|state| state.orders.get(&order_id).map(|order| order.customer_id))
    }

    /// Places a new order, dated now and awaiting fulfillment, for `customer_id`, and sends the
    /// `store/order/created` webhooks; returns its id.
    ///
    /// An unknown `customer_id` (0 included) gets guest billing details, as BigCommerce keeps
    /// whatever billing address the checkout sent.
    pub fn add_order(&self, customer_id: u64) -> u64 {
        self.add_order_on_channel(customer_id, STOREFRONT_CHANNEL_ID)
            .unwrap_or_default()
    }

    /// As `add_order`, on the channel `channel_id` (1, the Stencil storefront, or the headless
    /// channel `HEADLESS_CHANNEL_ID`); `None` when the store has no such channel.
    pub fn add_order_on_channel(&self, customer_id: u64, channel_id: u64) -> Option<u64> {
        let order_id = self.with_state(|state| {
            if !state
                .channels
                .iter()
                .any(|channel| channel.id == channel_id)
            {
                return None;
            }
            let billing = state.billing_for(customer_id);
            let mut order = seed::fresh_order(customer_id, billing, now_to_the_second());
            order.channel_id = channel_id;
            Some(state.insert_order(order))
        })?;
        drop(self.publish(&StoreEvent::OrderCreated { order_id }));
        Some(order_id)
    }

    /// The channel an order was placed on.
    pub fn order_channel(&self, order_id: u64) -> Option<u64> {
        self.with_state(|state| state.orders.get(&order_id).map(|order| order.channel_id))
    }

    /// The status id of an order (BigCommerce's ids, 0 to 14).
    pub fn order_status(&self, order_id: u64) -> Option<u8> {
        self.with_state(|state| state.orders.get(&order_id).map(|order| order.status_id))
    }

    /// The URL of the site of `channel_id`, exactly as it was set.
    pub fn site_url(&self, channel_id: u64) -> Option<String> {
        self.with_state(|state| state.site_of(channel_id).map(|site| site.url.clone()))
    }

    /// Moves the site of `channel_id` to `url` (kept as given, as BigCommerce keeps it) and sends
    /// the `store/channel/{channel_id}/settings/site/updated` webhooks; false when the channel
    /// has no site. Returns before the webhooks are sent, like every change made through this
    /// handle.
    pub fn set_site_url(&self, channel_id: u64, url: &str) -> bool {
        let event = self.with_state(|state| {
            let site = state
                .sites
                .values_mut()
                .find(|site| site.channel_id == channel_id)?;
            site.url = url.to_owned();
            site.updated_at = now_to_the_second();
            Some(StoreEvent::SiteUpdated {
                channel_id,
                site_id: site.id,
            })
        });
        match event {
            Some(event) => {
                drop(self.publish(&event));
                true
            }
            None => false,
        }
    }

    /// Moves an order to another status (BigCommerce's ids, 0 to 14) and, when the status
    /// really changes, sends the `store/order/statusUpdated` and `store/order/updated`
    /// webhooks; false when there is no such order or status.
    pub fn set_order_status(&self, order_id: u64, status_id: u8) -> bool {
        self.move_order(order_id, status_id).is_some()
    }

    /// `set_order_status`, handing back the configured destination's webhooks still being sent,
    /// for the control panel to wait for as a Management API write does; `None` when there is
    /// no such order or status.
    pub(crate) fn move_order(&self, order_id: u64, status_id: u8) -> Option<Pending> {
        if !ORDER_STATUSES.iter().any(|status| status.id == status_id) {
            return None;
        }
        let changed = self
            .with_state(|state| state.set_order_status(order_id, status_id, now_to_the_second()))?;
        let Some(previous_status_id) = changed else {
            return Some(Pending::default());
        };
        Some(self.publish(&StoreEvent::OrderStatusUpdated {
            order_id,
            previous_status_id,
            new_status_id: status_id,
        }))
    }

    /// Sends the webhooks `event` fires to every active hook whose scope matches and, for order
    /// events, to the configured destination. Returns before anything is sent, with the
    /// configured destination's messages pending: a Management API write waits for them before
    /// it answers, so that a script (or the demo) that changes a metafield and then reads it
    /// through the service sees the change. Registered hooks are sent in the background, as
    /// BigCommerce sends them.
    pub(crate) fn publish(&self, event: &StoreEvent) -> Pending {
        let mut pending = Pending::default();
        if self.webhooks_paused() {
            return pending;
        }
        let deliveries = &self.inner.deliveries;
        let configured = deliveries.destination();
        let created_at = OffsetDateTime::now_utc().unix_timestamp();
        for notification in event.notifications() {
            let mut targets: Vec<Target> = self.with_state(|state| {
                state
                    .hooks
                    .values()
                    .filter(|hook| hook.is_active)
                    .filter(|hook| events::scope_matches(&hook.scope, &notification.scope))
                    .filter_map(|hook| {
                        // Destinations were parsed when the hook was saved.
                        Some(Target {
                            destination: Url::parse(&hook.destination).ok()?,
                            hook_id: Some(hook.id),
                            headers: hook.headers.clone().unwrap_or_default(),
                            synchronous: false,
                        })
                    })
                    .collect()
            });
            if let Some(destination) = &configured
                && events::scope_matches(CONFIGURED_DESTINATION_SCOPE, &notification.scope)
            {
                targets.push(Target {
                    destination: destination.clone(),
                    hook_id: None,
                    headers: BTreeMap::new(),
                    synchronous: true,
                });
            }
            if targets.is_empty() {
                continue;
            }
            let identity = &self.inner.identity;
            let body = events::callback_body(
                &notification,
                &identity.store_id,
                &identity.hash,
                created_at,
            );
            pending.extend(deliveries.send(&notification.scope, &body, targets));
        }
        pending
    }

    /// Pauses (or resumes) every webhook of the store: while paused, each event is dropped
    /// before any message is made, as if BigCommerce had given up delivering it: no registered
    /// hook or configured destination hears of it, `webhook_deliveries` does not list it, and
    /// resuming does not send it later. Messages already on their way still finish.
    pub fn set_webhooks_paused(&self, paused: bool) {
        self.inner.webhooks_paused.store(paused, Ordering::SeqCst);
    }

    /// Whether `set_webhooks_paused` paused the store's webhooks.
    pub fn webhooks_paused(&self) -> bool {
        self.inner.webhooks_paused.load(Ordering::SeqCst)
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

    pub(crate) fn count_graphql_request(&self) {
        self.inner.graphql_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// `POST /graphql` requests received on any of the store's sites, whatever their outcome.
    pub fn graphql_requests(&self) -> u64 {
        self.inner.graphql_requests.load(Ordering::Relaxed)
    }

    /// Sets every request counter back to zero, the GraphQL one too.
    pub fn reset_request_counts(&self) {
        for counter in &self.inner.counters {
            counter.store(0, Ordering::Relaxed);
        }
        self.inner.graphql_requests.store(0, Ordering::Relaxed);
    }
}
