//! The sandbox store's data model: customers, orders, order metafields, registered hooks, money
//! and currencies, the control panel's users, the Management API's access tokens and the app's
//! installation, the sales channels and their sites, installed scripts, the GraphQL Storefront
//! API's private and customer access tokens, and `StoreState`, which holds them with the
//! indexes that keep per-request work proportional to the answer. Pure data: no locking, no HTTP, no rendering; `store` locks it,
//! `wire` renders it, `seed` fills it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

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
    /// The sandbox's own app's client id: it owns the metafields the seed and
    /// `SandboxStore::add_metafield` write for that app.
    pub app_client_id: Arc<str>,
    /// Webhooks registered through `/v3/hooks`, by id.
    pub hooks: BTreeMap<u64, Hook>,
    /// Scripts installed through the Scripts API, oldest first.
    pub scripts: Vec<Script>,
    /// GraphQL Storefront API private tokens, by token.
    pub private_tokens: HashMap<String, PrivateToken>,
    /// Customer access tokens the GraphQL `login` mutation issued, by token.
    pub customer_access_tokens: HashMap<String, CustomerAccessToken>,
    pub next_hook_id: u64,
    /// The control panel's users, the owner first.
    pub users: Vec<StaffUser>,
    /// Every Management API access token the store accepts, with what it may do.
    pub api_tokens: HashMap<String, ApiAccount>,
    /// The app's installation, while it is installed.
    pub installation: Option<Installation>,
    /// The store's sales channels, the default Stencil storefront (id 1) first.
    pub channels: Vec<Channel>,
    /// Each channel's site, by site id.
    pub sites: BTreeMap<u64, Site>,
}

/// The default Stencil storefront's channel id: BigCommerce's is always 1.
pub const STOREFRONT_CHANNEL_ID: u64 = 1;
/// The id of each store's second channel, a headless (Catalyst) storefront. BigCommerce numbers
/// added channels with large ids; the sandbox's stores share this one, as stores' ids overlap.
pub const HEADLESS_CHANNEL_ID: u64 = 1_573_291;

/// A sales channel (channels.v3.yml, `ChannelWithoutCurrencies`).
pub(crate) struct Channel {
    pub id: u64,
    pub name: String,
    /// `storefront`, `marketplace`, `pos` or `marketing`.
    pub kind: &'static str,
    /// `bigcommerce` (Stencil), `catalyst`, ...
    pub platform: &'static str,
    pub status: &'static str,
    pub date_created: OffsetDateTime,
    pub date_modified: OffsetDateTime,
}

/// A channel's site (sites.v3.yml, `_site`): where its storefront is served.
pub(crate) struct Site {
    pub id: u64,
    pub channel_id: u64,
    /// Exactly as it was set: BigCommerce returns URLs as the merchant entered them.
    pub url: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A user of the store's control panel: the owner, or a user the owner let in. The app guides'
/// `user` and `owner` objects are made of these.
pub(crate) struct StaffUser {
    pub id: u64,
    pub email: String,
    /// BCP 47 language tag.
    pub locale: String,
    pub first_name: String,
    pub last_name: String,
    pub is_owner: bool,
    /// Whether the owner lets this user load the app (the owner always may).
    pub app_access: bool,
}

/// The OAuth scopes that let a token read orders and their metafields.
pub(crate) const ORDERS_READ_SCOPES: [&str; 2] = ["store_v2_orders_read_only", "store_v2_orders"];
/// The OAuth scope that lets a token change orders and their metafields.
pub(crate) const ORDERS_MODIFY_SCOPE: &str = "store_v2_orders";
/// The OAuth scopes that let a token read channels (channels.v3.yml, Channel Settings).
pub(crate) const CHANNELS_READ_SCOPES: [&str; 2] =
    ["store_channel_settings_read_only", "store_channel_settings"];
/// The OAuth scope that lets a token change channels.
pub(crate) const CHANNELS_MODIFY_SCOPE: &str = "store_channel_settings";
/// The OAuth scopes that let a token read sites (sites.v3.yml, Sites & Routes).
pub(crate) const SITES_READ_SCOPES: [&str; 2] = ["store_sites_read_only", "store_sites"];
/// The OAuth scope that lets a token change sites.
pub(crate) const SITES_MODIFY_SCOPE: &str = "store_sites";
/// The OAuth scopes that let a token read scripts (scripts.v3.yml, Content).
pub(crate) const CONTENT_READ_SCOPES: [&str; 2] =
    ["store_v2_content_read_only", "store_v2_content"];
/// The OAuth scope that lets a token change scripts.
pub(crate) const CONTENT_MODIFY_SCOPE: &str = "store_v2_content";
/// The OAuth scope a script on `all_pages` or `checkout` also needs (scripts.v3.yml,
/// `visibility`: "you need to have `Checkout content` scope").
pub(crate) const CHECKOUT_CONTENT_SCOPE: &str = "store_content_checkout";
/// The OAuth scope that lets a token create Storefront API tokens (storefront_tokens.v3.yml).
pub(crate) const STOREFRONT_TOKENS_SCOPE: &str = "store_storefront_api";

/// orders.v3.yml: "The maximum number of metafields allowed on each order [...] is 250 per
/// client ID."
pub(crate) const MAX_METAFIELDS_PER_ORDER: usize = 250;

/// The API account behind one Management API access token.
#[derive(Clone)]
pub(crate) struct ApiAccount {
    /// Its client id: it owns what it creates.
    pub client_id: Arc<str>,
    /// Its OAuth scopes.
    pub scopes: Vec<String>,
    /// Issued by the login service when the app was installed; uninstalling revokes it.
    pub from_install: bool,
}

impl ApiAccount {
    /// Whether one of its scopes is one of `any_of`; an empty `any_of` needs none.
    pub fn has_any_scope(&self, any_of: &[&str]) -> bool {
        any_of.is_empty()
            || self
                .scopes
                .iter()
                .any(|scope| any_of.contains(&scope.as_str()))
    }
}

/// The app, installed on this store.
pub(crate) struct Installation {
    /// The app's client id.
    pub client_id: Arc<str>,
    /// The scopes the merchant granted.
    pub scopes: Vec<String>,
}

/// A script the Scripts API installed on a channel's storefront pages (scripts.v3.yml,
/// `script_Full`).
pub(crate) struct Script {
    pub uuid: Uuid,
    pub name: String,
    pub description: String,
    pub body: ScriptBody,
    pub auto_uninstall: bool,
    /// `default`, `async` or `defer`.
    pub load_method: &'static str,
    /// `head` or `footer`.
    pub location: &'static str,
    /// `storefront`, `all_pages`, `checkout` or `order_confirmation`.
    pub visibility: &'static str,
    /// The client id of the API account that created it.
    pub api_client_id: Arc<str>,
    /// `essential`, `functional`, `analytics`, `targeting`, or `unknown` when not given.
    pub consent_category: &'static str,
    pub enabled: bool,
    pub channel_id: u64,
    pub integrity_hashes: Vec<String>,
    pub date_created: OffsetDateTime,
    pub date_modified: OffsetDateTime,
}

/// A private token for the GraphQL Storefront API (storefront_tokens.v3.yml,
/// `TokenPostPrivate`): server to server only, for some channels and access scopes, until
/// `expires_at`.
#[derive(Debug, Clone)]
pub(crate) struct PrivateToken {
    pub channel_ids: Vec<u64>,
    /// `Unauthenticated`, `Customer` or `B2B`.
    pub scopes: Vec<&'static str>,
    pub expires_at: OffsetDateTime,
    /// The client id of the API account that created it.
    pub client_id: Arc<str>,
}

/// A customer access token: one shopper's GraphQL session, until `expires_at` or a `logout`.
#[derive(Debug, Clone)]
pub(crate) struct CustomerAccessToken {
    pub customer_id: u64,
    /// The channel whose `/graphql` issued it.
    pub channel_id: u64,
    pub expires_at: OffsetDateTime,
}

/// What a script puts on the page, by its `kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScriptBody {
    /// `kind: src`: a `script` tag with this `src`.
    Src(String),
    /// `kind: script_tag`: this HTML, exactly one `script` element.
    Html(String),
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
    /// The channel the order was placed on (orders.v2.oas2.yml: "defaults to 1").
    pub channel_id: u64,
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
    /// Archived (orders.v2.oas2.yml, `is_deleted`: "deleted/archived"): still served by id,
    /// left out of the lists.
    pub is_deleted: bool,
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
    pub(crate) fn empty(guest_address: Arc<Address>, app_client_id: Arc<str>) -> Self {
        Self {
            customers: BTreeMap::new(),
            orders: BTreeMap::new(),
            orders_by_customer: HashMap::new(),
            metafields: BTreeMap::new(),
            metafields_by_order: HashMap::new(),
            next_order_id: 100,
            next_metafield_id: 1,
            guest_address,
            app_client_id,
            hooks: BTreeMap::new(),
            scripts: Vec::new(),
            private_tokens: HashMap::new(),
            customer_access_tokens: HashMap::new(),
            next_hook_id: 1,
            users: Vec::new(),
            api_tokens: HashMap::new(),
            installation: None,
            channels: Vec::new(),
            sites: BTreeMap::new(),
        }
    }

    /// The store's owner; every seeded store has one.
    pub(crate) fn owner(&self) -> Option<&StaffUser> {
        self.users.iter().find(|user| user.is_owner)
    }

    /// Installs the app: `token` becomes the app's one access token on this store, with
    /// `scopes`, and any token an earlier install issued stops working (BigCommerce: "When your
    /// app receives a new token, any previously issued token is invalidated").
    pub(crate) fn install_app(&mut self, token: String, client_id: Arc<str>, scopes: Vec<String>) {
        self.api_tokens.retain(|_, account| !account.from_install);
        self.api_tokens.insert(
            token,
            ApiAccount {
                client_id: Arc::clone(&client_id),
                scopes: scopes.clone(),
                from_install: true,
            },
        );
        self.installation = Some(Installation { client_id, scopes });
    }

    /// Uninstalls the app: revokes every token an install issued, deletes the hooks (the
    /// sandbox knows one app, which owns them all) and the app's scripts marked
    /// `auto_uninstall` (scripts.v3.yml: "automatic cleanup of the script when the single click
    /// app is uninstalled"). False when it was not installed.
    pub(crate) fn uninstall_app(&mut self) -> bool {
        let installation = self.installation.take();
        self.api_tokens.retain(|_, account| !account.from_install);
        let Some(installation) = installation else {
            return false;
        };
        self.hooks.clear();
        self.scripts.retain(|script| {
            !(script.auto_uninstall && script.api_client_id == installation.client_id)
        });
        true
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

    /// Archives `order_id` at `now` (BigCommerce's `DELETE /v2/orders/{id}`): `Some(true)` when
    /// it was archived now, `Some(false)` when it already was (nothing changes), `None` when
    /// there is no such order.
    pub(crate) fn archive_order(&mut self, order_id: u64, now: OffsetDateTime) -> Option<bool> {
        let order = self.orders.get_mut(&order_id)?;
        if order.is_deleted {
            return Some(false);
        }
        order.is_deleted = true;
        order.date_modified = now;
        Some(true)
    }

    /// Moves `order_id` to the status `status_id` at `now` (the caller checks the status
    /// exists): `Some(Some(previous))` when it changed, `Some(None)` when it already had it
    /// (nothing changes), `None` when there is no such order.
    pub(crate) fn set_order_status(
        &mut self,
        order_id: u64,
        status_id: u8,
        now: OffsetDateTime,
    ) -> Option<Option<u8>> {
        let order = self.orders.get_mut(&order_id)?;
        let previous = order.status_id;
        if previous == status_id {
            return Some(None);
        }
        order.status_id = status_id;
        order.date_modified = now;
        Some(Some(previous))
    }

    /// Moves `order_id` to `customer_id` at `now`: its owner, both customers' entries in
    /// `orders_by_customer` (kept ascending) and its billing address, which becomes the new
    /// customer's (a guest's for 0). `Some(true)` when it moved, `Some(false)` when it already
    /// was theirs (nothing changes), `None` when there is no such order.
    pub(crate) fn set_order_customer(
        &mut self,
        order_id: u64,
        customer_id: u64,
        now: OffsetDateTime,
    ) -> Option<bool> {
        let billing = self.billing_for(customer_id);
        let order = self.orders.get_mut(&order_id)?;
        let previous = order.customer_id;
        if previous == customer_id {
            return Some(false);
        }
        order.customer_id = customer_id;
        order.billing = billing;
        order.date_modified = now;
        if let Some(ids) = self.orders_by_customer.get_mut(&previous) {
            ids.retain(|id| *id != order_id);
            if ids.is_empty() {
                self.orders_by_customer.remove(&previous);
            }
        }
        let ids = self.orders_by_customer.entry(customer_id).or_default();
        if let Err(position) = ids.binary_search(&order_id) {
            ids.insert(position, order_id);
        }
        Some(true)
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

    /// The site of `channel_id`, if it has one.
    pub(crate) fn site_of(&self, channel_id: u64) -> Option<&Site> {
        self.sites
            .values()
            .find(|site| site.channel_id == channel_id)
    }

    pub(crate) fn billing_for(&self, customer_id: u64) -> Arc<Address> {
        self.customers
            .get(&customer_id)
            .map(|customer| Arc::clone(&customer.address))
            .unwrap_or_else(|| Arc::clone(&self.guest_address))
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

    fn empty_state() -> StoreState {
        let address = Address {
            first_name: String::new(),
            last_name: String::new(),
            company: String::new(),
            street_1: String::new(),
            street_2: String::new(),
            city: String::new(),
            state: String::new(),
            zip: String::new(),
            country: String::new(),
            country_iso2: String::new(),
            phone: String::new(),
            email: String::new(),
        };
        StoreState::empty(Arc::new(address), Arc::from("client"))
    }

    fn account(scopes: &[&str]) -> ApiAccount {
        ApiAccount {
            client_id: Arc::from("client"),
            scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
            from_install: false,
        }
    }

    #[test]
    fn read_routes_take_either_orders_scope_and_writes_only_modify() {
        let read_only = account(&["store_v2_orders_read_only"]);
        let modify = account(&["store_v2_orders"]);
        let other = account(&["store_v2_products"]);

        assert!(read_only.has_any_scope(&ORDERS_READ_SCOPES));
        assert!(modify.has_any_scope(&ORDERS_READ_SCOPES));
        assert!(!other.has_any_scope(&ORDERS_READ_SCOPES));
        assert!(!read_only.has_any_scope(&[ORDERS_MODIFY_SCOPE]));
        assert!(modify.has_any_scope(&[ORDERS_MODIFY_SCOPE]));
        assert!(other.has_any_scope(&[]));
    }

    #[test]
    fn a_new_install_revokes_the_previous_install_token_but_not_the_store_s_own() {
        let mut state = empty_state();
        state
            .api_tokens
            .insert("store-account".to_owned(), account(&["store_v2_orders"]));
        let scopes = vec!["store_v2_orders_read_only".to_owned()];

        state.install_app("first".to_owned(), Arc::from("app"), scopes.clone());
        state.install_app("second".to_owned(), Arc::from("app"), scopes);

        let mut tokens: Vec<&str> = state.api_tokens.keys().map(String::as_str).collect();
        tokens.sort_unstable();
        assert_eq!(tokens, ["second", "store-account"]);
    }

    #[test]
    fn uninstalling_revokes_install_tokens_and_deletes_hooks_once() {
        let mut state = empty_state();
        state
            .api_tokens
            .insert("store-account".to_owned(), account(&["store_v2_orders"]));
        state.install_app("app-token".to_owned(), Arc::from("app"), Vec::new());
        state.insert_hook(Hook {
            id: 0,
            scope: "store/order/*".to_owned(),
            destination: "https://app.example.com/hooks".to_owned(),
            is_active: true,
            headers: None,
            events_history_enabled: false,
            created_at: 0,
            updated_at: 0,
        });

        assert!(state.uninstall_app());

        assert!(state.installation.is_none());
        assert!(state.hooks.is_empty());
        assert_eq!(
            state.api_tokens.keys().collect::<Vec<_>>(),
            ["store-account"]
        );
        assert!(!state.uninstall_app());
    }

    #[test]
    fn permission_sets_round_trip_through_their_wire_names() {
        let names = [
            "app_only",
            "read",
            "write",
            "read_and_sf_access",
            "write_and_sf_access",
        ];

        for name in names {
            let parsed: PermissionSet =
                serde_json::from_value(serde_json::json!(name)).unwrap_or(PermissionSet::AppOnly);
            assert_eq!(parsed.as_str(), name);
        }
    }
}
