//! The JSON shapes the sandbox answers with, copied from BigCommerce's reference: v2 orders
//! (`order_Resp` in orders.v2.oas2.yml, RFC 2822 dates, four-decimal money strings), v3 order
//! metafields (orders.v3.yml, RFC 3339 dates), webhooks (webhooks.v3.yml, Unix-second dates) and
//! the two error body families. No routing here.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;
use time::macros::format_description;

use crate::data::{Address, Hook, Metafield, Order};
use crate::order_status::{order_status, status_id};

/// `Tue, 05 Mar 2019 21:40:11 +0000`, as the v2 API prints every date.
pub(crate) fn rfc2822(moment: OffsetDateTime) -> String {
    moment.format(&Rfc2822).unwrap_or_default()
}

/// `2022-06-16T18:39:00+00:00`, as the v3 API prints every date (always UTC).
pub(crate) fn rfc3339(moment: OffsetDateTime) -> String {
    let utc = moment.to_offset(time::UtcOffset::UTC);
    utc.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]+00:00"
    ))
    .unwrap_or_default()
}

/// A v2 `{url, resource}` link to a sub-resource of an order.
#[derive(Serialize)]
struct ResourceLink {
    url: String,
    resource: String,
}

#[derive(Serialize)]
struct BillingAddress<'a> {
    #[serde(flatten)]
    address: &'a Address,
    form_fields: [(); 0],
}

/// A full v2 order in the field order of BigCommerce's `order_Resp` example.
#[derive(Serialize)]
pub(crate) struct V2Order<'a> {
    id: u64,
    customer_id: u64,
    date_created: String,
    date_modified: String,
    date_shipped: String,
    status_id: u8,
    status: &'static str,
    subtotal_ex_tax: String,
    subtotal_inc_tax: String,
    subtotal_tax: String,
    base_shipping_cost: String,
    shipping_cost_ex_tax: String,
    shipping_cost_inc_tax: String,
    shipping_cost_tax: String,
    shipping_cost_tax_class_id: u32,
    base_handling_cost: &'static str,
    handling_cost_ex_tax: &'static str,
    handling_cost_inc_tax: &'static str,
    handling_cost_tax: &'static str,
    handling_cost_tax_class_id: u32,
    base_wrapping_cost: &'static str,
    wrapping_cost_ex_tax: &'static str,
    wrapping_cost_inc_tax: &'static str,
    wrapping_cost_tax: &'static str,
    wrapping_cost_tax_class_id: u32,
    total_ex_tax: String,
    total_inc_tax: String,
    total_tax: String,
    is_tax_inclusive_pricing: bool,
    items_total: u32,
    items_shipped: u32,
    payment_method: &'static str,
    payment_provider_id: &'a str,
    payment_status: &'static str,
    refunded_amount: String,
    order_is_digital: bool,
    store_credit_amount: &'static str,
    gift_certificate_amount: &'static str,
    ip_address: &'a str,
    ip_address_v6: &'static str,
    geoip_country: &'a str,
    geoip_country_iso2: &'a str,
    currency_id: u32,
    currency_code: &'static str,
    currency_exchange_rate: &'static str,
    default_currency_id: u32,
    default_currency_code: &'static str,
    staff_notes: &'a str,
    customer_message: &'a str,
    discount_amount: String,
    coupon_discount: String,
    shipping_address_count: u32,
    is_deleted: bool,
    ebay_order_id: &'static str,
    cart_id: String,
    billing_address: BillingAddress<'a>,
    is_email_opt_in: bool,
    credit_card_type: Option<&'static str>,
    order_source: &'static str,
    channel_id: u64,
    external_source: Option<&'static str>,
    products: ResourceLink,
    shipping_addresses: ResourceLink,
    coupons: ResourceLink,
    external_id: Option<&'static str>,
    external_merchant_id: Option<&'static str>,
    tax_provider_id: &'static str,
    store_default_currency_code: &'static str,
    store_default_to_transactional_exchange_rate: &'static str,
    custom_status: &'static str,
    customer_locale: &'static str,
    external_order_id: &'static str,
}

const ZERO: &str = "0.0000";

/// Renders `order` as the v2 API does; `v2_base` is `{api base}/stores/{hash}/v2` for links.
pub(crate) fn v2_order<'a>(order: &'a Order, v2_base: &str) -> V2Order<'a> {
    let status = order_status(order.status_id);
    let link = |tail: &str| ResourceLink {
        url: format!("{v2_base}/orders/{}/{tail}", order.id),
        resource: format!("/orders/{}/{tail}", order.id),
    };
    let refunded = match order.status_id {
        status_id::REFUNDED => order.total_inc_tax(),
        status_id::PARTIALLY_REFUNDED => order.subtotal_inc_tax().percent_bp(5_000),
        _ => Default::default(),
    };
    V2Order {
        id: order.id,
        customer_id: order.customer_id,
        date_created: rfc2822(order.date_created),
        date_modified: rfc2822(order.date_modified),
        date_shipped: order.date_shipped.map(rfc2822).unwrap_or_default(),
        status_id: order.status_id,
        status: status.name,
        subtotal_ex_tax: order.subtotal_ex_tax.to_string(),
        subtotal_inc_tax: order.subtotal_inc_tax().to_string(),
        subtotal_tax: order.subtotal_tax.to_string(),
        base_shipping_cost: order.shipping_ex_tax.to_string(),
        shipping_cost_ex_tax: order.shipping_ex_tax.to_string(),
        shipping_cost_inc_tax: order.shipping_inc_tax().to_string(),
        shipping_cost_tax: order.shipping_tax.to_string(),
        shipping_cost_tax_class_id: 2,
        base_handling_cost: ZERO,
        handling_cost_ex_tax: ZERO,
        handling_cost_inc_tax: ZERO,
        handling_cost_tax: ZERO,
        handling_cost_tax_class_id: 2,
        base_wrapping_cost: ZERO,
        wrapping_cost_ex_tax: ZERO,
        wrapping_cost_inc_tax: ZERO,
        wrapping_cost_tax: ZERO,
        wrapping_cost_tax_class_id: 3,
        total_ex_tax: order.total_ex_tax().to_string(),
        total_inc_tax: order.total_inc_tax().to_string(),
        total_tax: order.total_tax().to_string(),
        is_tax_inclusive_pricing: false,
        items_total: order.items_total,
        items_shipped: order.items_shipped,
        payment_method: order.payment_method,
        payment_provider_id: &order.payment_provider_id,
        payment_status: payment_status(order.status_id),
        refunded_amount: refunded.to_string(),
        order_is_digital: order.is_digital,
        store_credit_amount: ZERO,
        gift_certificate_amount: ZERO,
        ip_address: &order.ip_address,
        ip_address_v6: "",
        geoip_country: &order.billing.country,
        geoip_country_iso2: &order.billing.country_iso2,
        currency_id: order.currency.id(),
        currency_code: order.currency.code(),
        currency_exchange_rate: order.currency.rate_from_default(),
        default_currency_id: order.currency.id(),
        default_currency_code: order.currency.code(),
        staff_notes: &order.staff_notes,
        customer_message: &order.customer_message,
        discount_amount: order.discount.to_string(),
        coupon_discount: order.discount.to_string(),
        shipping_address_count: u32::from(!order.is_digital),
        is_deleted: order.is_deleted,
        ebay_order_id: "0",
        cart_id: order.cart_id.to_string(),
        billing_address: BillingAddress {
            address: &order.billing,
            form_fields: [],
        },
        is_email_opt_in: false,
        credit_card_type: None,
        order_source: order.order_source,
        channel_id: order.channel_id,
        external_source: None,
        products: link("products"),
        shipping_addresses: link("shippingaddresses"),
        coupons: link("coupons"),
        external_id: None,
        external_merchant_id: None,
        tax_provider_id: "BasicTaxProvider",
        store_default_currency_code: "USD",
        store_default_to_transactional_exchange_rate: order.currency.rate_from_default(),
        custom_status: status.name,
        customer_locale: "en",
        external_order_id: "",
    }
}

fn payment_status(status: u8) -> &'static str {
    match status {
        status_id::INCOMPLETE | status_id::PENDING => "",
        status_id::AWAITING_PAYMENT => "pending",
        status_id::DECLINED => "declined",
        status_id::CANCELLED => "void",
        status_id::REFUNDED => "refunded",
        status_id::PARTIALLY_REFUNDED => "partially refunded",
        status_id::MANUAL_VERIFICATION_REQUIRED | status_id::DISPUTED => "held for review",
        _ => "captured",
    }
}

/// A v3 order metafield in the field order of BigCommerce's examples (orders.v3.yml, `Metafield`).
#[derive(Serialize)]
pub(crate) struct V3Metafield<'a> {
    id: u64,
    key: &'a str,
    value: &'a str,
    namespace: &'a str,
    permission_set: &'static str,
    resource_type: &'static str,
    resource_id: u64,
    description: &'a str,
    date_created: String,
    date_modified: String,
    owner_client_id: &'a str,
}

/// A v3 `{"data": …, "meta": …}` body.
#[derive(Serialize)]
pub(crate) struct Envelope<T> {
    pub data: T,
    pub meta: Value,
}

/// Renders a metafield as the v3 API does.
pub(crate) fn v3_metafield(metafield: &Metafield) -> V3Metafield<'_> {
    V3Metafield {
        id: metafield.id,
        key: &metafield.key,
        value: &metafield.value,
        namespace: &metafield.namespace,
        permission_set: metafield.permission_set.as_str(),
        resource_type: "order",
        resource_id: metafield.order_id,
        description: &metafield.description,
        date_created: rfc3339(metafield.date_created),
        date_modified: rfc3339(metafield.date_modified),
        owner_client_id: &metafield.owner_client_id,
    }
}

/// A metafield as a collection answers it: every field, or with `include_fields` only `id`
/// and the fields named (orders.v3.yml, `IncludeFieldsParamMetafields`).
pub(crate) fn v3_metafield_fields(metafield: &Metafield, include: Option<&[String]>) -> Value {
    let mut value = serde_json::to_value(v3_metafield(metafield)).unwrap_or_default();
    if let (Some(include), Value::Object(fields)) = (include, &mut value) {
        fields.retain(|name, _| name == "id" || include.iter().any(|field| field == name));
    }
    value
}

/// A webhook in the field order of webhooks.v3.yml's `webhook_Resp` example.
#[derive(Serialize)]
pub(crate) struct V3Hook<'a> {
    id: u64,
    client_id: &'a str,
    store_hash: &'a str,
    created_at: i64,
    updated_at: i64,
    scope: &'a str,
    destination: &'a str,
    is_active: bool,
    headers: Option<&'a BTreeMap<String, String>>,
    /// Not in the reference snapshot's `webhook_Full`, but BigCommerce accepts it on create and
    /// returns it, and clients read it back.
    events_history_enabled: bool,
}

/// Renders a hook as `/v3/hooks` does; `client_id` is the app behind the access token.
pub(crate) fn v3_hook<'a>(hook: &'a Hook, client_id: &'a str, store_hash: &'a str) -> V3Hook<'a> {
    V3Hook {
        id: hook.id,
        client_id,
        store_hash,
        created_at: hook.created_at,
        updated_at: hook.updated_at,
        scope: &hook.scope,
        destination: &hook.destination,
        is_active: hook.is_active,
        headers: hook.headers.as_ref(),
        events_history_enabled: hook.events_history_enabled,
    }
}

/// Serialises a response body; the wire structs hold only strings and numbers, so this
/// cannot fail in practice, and an empty body would show up in the fidelity tests if it did.
pub(crate) fn to_json<T: Serialize>(body: &T) -> String {
    serde_json::to_string(body).unwrap_or_default()
}

/// The v2 error body: a bare array of `{status, message}`.
pub(crate) fn v2_error(status: u16, message: &str) -> Value {
    json!([{ "status": status, "message": message }])
}

/// The v3 error body (orders.v3.yml, `ErrorResponse`).
pub(crate) fn v3_error(status: u16, title: &str, errors: Value) -> Value {
    json!({
        "status": status,
        "title": title,
        "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
        "errors": errors,
    })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn rfc2822_matches_the_v2_api_example() {
        let formatted = rfc2822(datetime!(2019-03-05 21:40:11 UTC));

        assert_eq!(formatted, "Tue, 05 Mar 2019 21:40:11 +0000");
    }

    #[test]
    fn rfc3339_matches_the_v3_api_example() {
        let formatted = rfc3339(datetime!(2022-06-16 18:39:00 UTC));

        assert_eq!(formatted, "2022-06-16T18:39:00+00:00");
    }
}
