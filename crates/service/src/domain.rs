//! The values the service reasons about: customer and order ids, orders and metafields as a
//! customer may see them, and the metafield visibility policy. Values are created by parsing
//! (from a verified token, a path, or the Management API client) and never carry anything the
//! customer has no business seeing.

use std::collections::BTreeSet;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A BigCommerce store's hash, the `abc123` of `stores/abc123`: 1 to 64 ASCII letters and
/// digits, cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreHash(Arc<str>);

/// One installation of the app on a store, in this process: the key its cached values are
/// filed under. A reinstall gets a new key, so nothing cached before an uninstall can be
/// served after it, even for the same store hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StoreKey(u32);

/// A BigCommerce customer id taken from a verified token; guests (id 0) cannot have one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomerId(NonZeroU64);

/// A BigCommerce order id, as given in a path or by the Management API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(NonZeroU64);

/// An order as the customer who placed it sees it.
///
/// Staff notes, IP address, cost prices, addresses and payment provider ids are
/// deliberately absent: the Management API client drops them when it parses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub customer_id: u64,
    pub status: String,
    pub status_id: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub date_created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub date_modified: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub date_shipped: Option<OffsetDateTime>,
    pub currency_code: String,
    pub subtotal_ex_tax: Decimal,
    pub subtotal_inc_tax: Decimal,
    pub shipping_cost_inc_tax: Decimal,
    pub total_tax: Decimal,
    pub total_ex_tax: Decimal,
    pub total_inc_tax: Decimal,
    pub discount_amount: Decimal,
    pub refunded_amount: Decimal,
    pub items_total: u32,
    pub items_shipped: u32,
    pub payment_method: String,
    pub order_is_digital: bool,
    /// The channel (storefront) it was placed on: 1 is the store's default storefront.
    pub channel_id: u64,
}

/// A money amount kept as the decimal string BigCommerce gives (e.g. `"67.8400"`), never
/// a float, so no cent is ever rounded away.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Decimal(String);

/// Who may read a metafield, as BigCommerce marks it. The default is the most private.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PermissionSet {
    #[default]
    AppOnly,
    Read,
    Write,
    ReadAndStorefront,
    WriteAndStorefront,
}

/// An order metafield as a customer may see it. Its permission set is never serialised
/// (read back, it is `app_only` until set).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metafield {
    pub id: u64,
    pub namespace: String,
    pub key: String,
    pub value: String,
    pub description: String,
    #[serde(with = "time::serde::rfc3339")]
    pub date_created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub date_modified: OffsetDateTime,
    #[serde(skip)]
    pub permission_set: PermissionSet,
}

/// Which metafields reach the storefront: the merchant's storefront marks, plus the `read`
/// and `write` metafields of namespaces the operator names; `app_only` never.
#[derive(Clone, Debug, Default)]
pub struct VisibilityPolicy {
    extra_namespaces: BTreeSet<String>,
}

/// A page request on a collection: `page` from 1, `limit` from 1 to 250.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub limit: u32,
}

impl StoreHash {
    /// The longest store hash accepted.
    pub const MAX_LEN: usize = 64;

    /// A store hash: 1 to 64 ASCII letters and digits.
    pub fn parse(text: &str) -> Option<Self> {
        let valid = (1..=Self::MAX_LEN).contains(&text.len())
            && text.bytes().all(|byte| byte.is_ascii_alphanumeric());
        valid.then(|| Self(text.into()))
    }

    /// The store of a BigCommerce `context` or `sub` (`stores/{hash}`).
    pub fn from_context(context: &str) -> Option<Self> {
        Self::parse(context.strip_prefix("stores/")?)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `stores/{hash}`, as BigCommerce names a store in `context`, `sub` and `producer`.
    pub fn context(&self) -> String {
        format!("stores/{}", self.0)
    }
}

impl Serialize for StoreHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for StoreHash {
    /// Only a well-formed hash: the same check as [`StoreHash::parse`].
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("not a store hash"))
    }
}

impl std::borrow::Borrow<str> for StoreHash {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StoreHash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl StoreKey {
    /// The key numbered `number`; the store registry hands them out.
    pub const fn new(number: u32) -> Self {
        Self(number)
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl CustomerId {
    /// The id of a real customer; `None` for 0, which BigCommerce uses for guests.
    pub fn new(id: u64) -> Option<Self> {
        NonZeroU64::new(id).map(Self)
    }

    pub fn get(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(formatter)
    }
}

impl OrderId {
    /// An order id; `None` for 0, which BigCommerce never assigns.
    pub fn new(id: u64) -> Option<Self> {
        NonZeroU64::new(id).map(Self)
    }

    /// Parses a path segment: ASCII digits only, no sign, no spaces, not zero.
    pub fn parse(text: &str) -> Option<Self> {
        if text.is_empty() || text.len() > 20 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        text.parse::<u64>().ok().and_then(Self::new)
    }

    pub fn get(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(formatter)
    }
}

impl Decimal {
    /// Accepts an optional minus sign, digits, and an optional fraction.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = match digits.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (digits, None),
        };
        let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if all_digits(whole) && fraction.is_none_or(all_digits) {
            Some(Self(text.to_owned()))
        } else {
            None
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Read back only through [`Decimal::parse`], so a stored amount is checked like a fetched one.
impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Decimal::parse(&text).ok_or_else(|| serde::de::Error::custom("not a decimal amount"))
    }
}

impl PermissionSet {
    /// Parses BigCommerce's `permission_set` value.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "app_only" => Some(Self::AppOnly),
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            "read_and_sf_access" => Some(Self::ReadAndStorefront),
            "write_and_sf_access" => Some(Self::WriteAndStorefront),
            _ => None,
        }
    }

    /// BigCommerce's name of it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AppOnly => "app_only",
            Self::Read => "read",
            Self::Write => "write",
            Self::ReadAndStorefront => "read_and_sf_access",
            Self::WriteAndStorefront => "write_and_sf_access",
        }
    }
}

impl VisibilityPolicy {
    pub fn new(extra_namespaces: BTreeSet<String>) -> Self {
        Self { extra_namespaces }
    }

    /// The namespaces whose `read` and `write` metafields are shown besides the
    /// storefront-marked ones (what the store's settings hold).
    pub fn extra_namespaces(&self) -> &BTreeSet<String> {
        &self.extra_namespaces
    }

    /// Whether a customer may see this metafield of their own order.
    pub fn allows(&self, metafield: &Metafield) -> bool {
        self.shows(&metafield.namespace, metafield.permission_set)
    }

    /// Whether a metafield of `namespace` with `permission_set` reaches the storefront.
    pub fn shows(&self, namespace: &str, permission_set: PermissionSet) -> bool {
        match permission_set {
            PermissionSet::ReadAndStorefront | PermissionSet::WriteAndStorefront => true,
            PermissionSet::Read | PermissionSet::Write => self.extra_namespaces.contains(namespace),
            PermissionSet::AppOnly => false,
        }
    }
}

impl PageRequest {
    pub const MAX_LIMIT: u32 = 250;
    pub const DEFAULT_LIMIT: u32 = 50;

    /// Checks the bounds; `None` when `page` is 0 or `limit` is outside 1..=250.
    pub fn new(page: u32, limit: u32) -> Option<Self> {
        (page >= 1 && (1..=Self::MAX_LIMIT).contains(&limit)).then_some(Self { page, limit })
    }

    /// The positions of this page's items among `total` items (empty past the end).
    pub fn positions(&self, total: usize) -> std::ops::Range<usize> {
        let start = (self.page as usize - 1).saturating_mul(self.limit as usize);
        let end = start.saturating_add(self.limit as usize).min(total);
        start.min(end)..end
    }

    /// How many pages `total` items make at this page size.
    pub fn total_pages(&self, total: usize) -> usize {
        total.div_ceil(self.limit as usize)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::datetime;

    use super::*;

    #[test]
    fn store_hashes_are_letters_and_digits_and_contexts_name_them() {
        for (text, valid) in [
            ("abc123", true),
            ("Z4ZN3WO", true),
            ("", false),
            ("abc-123", false),
            ("abc 123", false),
            ("ab/c", false),
            (&"a".repeat(64), true),
            (&"a".repeat(65), false),
        ] {
            assert_eq!(StoreHash::parse(text).is_some(), valid, "case: {text:?}");
        }
        assert_eq!(
            StoreHash::from_context("stores/g5cd38").map(|hash| hash.context()),
            Some("stores/g5cd38".to_owned())
        );
        assert_eq!(StoreHash::from_context("store/g5cd38"), None);
        assert_eq!(StoreHash::from_context("stores/"), None);
        assert_eq!(StoreHash::from_context("stores/a/b"), None);
    }

    fn metafield(namespace: &str, permission_set: PermissionSet) -> Metafield {
        Metafield {
            id: 1,
            namespace: namespace.to_owned(),
            key: "key".to_owned(),
            value: "value".to_owned(),
            description: String::new(),
            date_created: datetime!(2024-01-01 0:00 UTC),
            date_modified: datetime!(2024-01-01 0:00 UTC),
            permission_set,
        }
    }

    #[test]
    fn order_id_parse_accepts_only_positive_decimal_digits() {
        let cases = [
            ("123", Some(123)),
            ("007", Some(7)),
            ("0", None),
            ("-1", None),
            ("+1", None),
            (" 1", None),
            ("1.0", None),
            ("abc", None),
            ("", None),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("123456789012345678901", None),
        ];
        for (text, expected) in cases {
            assert_eq!(
                OrderId::parse(text).map(OrderId::get),
                expected,
                "case: {text:?}"
            );
        }
    }

    #[test]
    fn decimal_parse_accepts_bigcommerce_money_strings_only() {
        for good in ["67.8400", "0", "-1.50", "12"] {
            assert!(Decimal::parse(good).is_some(), "case: {good}");
        }
        for bad in ["", "1.", ".5", "1e3", "NaN", "1,00", "--1"] {
            assert!(Decimal::parse(bad).is_none(), "case: {bad}");
        }
    }

    #[test]
    fn visibility_policy_shows_storefront_marks_and_named_namespaces_only() {
        let policy = VisibilityPolicy::new(BTreeSet::from(["Shipping".to_owned()]));
        let cases = [
            ("Gifts", PermissionSet::ReadAndStorefront, true),
            ("Gifts", PermissionSet::WriteAndStorefront, true),
            ("Gifts", PermissionSet::Read, false),
            ("Gifts", PermissionSet::Write, false),
            ("Shipping", PermissionSet::Read, true),
            ("Shipping", PermissionSet::Write, true),
            ("Shipping", PermissionSet::AppOnly, false),
            ("shipping", PermissionSet::Read, false),
        ];
        for (namespace, permission_set, expected) in cases {
            assert_eq!(
                policy.allows(&metafield(namespace, permission_set)),
                expected,
                "case: {namespace} {permission_set:?}"
            );
        }
    }

    #[test]
    fn page_request_finds_its_positions_and_counts_pages() {
        let first = PageRequest::new(1, 3).unwrap();
        let last = PageRequest::new(3, 3).unwrap();
        let beyond = PageRequest::new(9, 3).unwrap();

        assert_eq!(first.positions(7), 0..3);
        assert_eq!(last.positions(7), 6..7);
        assert!(beyond.positions(7).is_empty());
        assert!(first.positions(0).is_empty());
        assert_eq!(first.total_pages(7), 3);
        assert_eq!(first.total_pages(0), 0);
        assert_eq!(PageRequest::new(0, 10), None);
        assert_eq!(PageRequest::new(1, 0), None);
        assert_eq!(PageRequest::new(1, 251), None);
        assert!(
            PageRequest::new(u32::MAX, 250)
                .unwrap()
                .positions(7)
                .is_empty()
        );
    }
}
