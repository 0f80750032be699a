//! What the binary's tests tell it and its fake Management API: the store's credentials,
//! Current Customer tokens signed the way BigCommerce signs them, and v2 order and v3
//! metafield bodies as BigCommerce returns them, private fields included. The service's own
//! API tests have their own copy (`crates/service/tests/api/helpers.rs`): a test binary
//! cannot include another crate's test files, and these are a few lines.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

pub const STORE_HASH: &str = "teststore1";
pub const CLIENT_ID: &str = "test-client-id";
pub const CLIENT_SECRET: &str = "test-client-secret-value";
pub const ACCESS_TOKEN: &str = "test-access-token-value";

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

/// The claims BigCommerce puts in a Current Customer JWT for this app and store.
pub fn claims_for(customer_id: u64) -> Value {
    json!({
        "customer": {"id": customer_id, "email": "shopper@example.com", "group_id": "0"},
        "iss": "bc/apps", "sub": STORE_HASH, "iat": now(), "exp": now() + 900,
        "version": 1, "aud": CLIENT_ID, "application_id": CLIENT_ID,
        "store_hash": STORE_HASH, "operation": "current_customer"
    })
}

/// Signs any claims with any algorithm and secret.
pub fn sign(claims: &Value, algorithm: Algorithm, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("test claims sign")
}

/// A valid token for the customer.
pub fn token_for(customer_id: u64) -> String {
    sign(&claims_for(customer_id), Algorithm::HS256, CLIENT_SECRET)
}

/// A full v2 order as BigCommerce returns it, private fields included.
pub fn v2_order(id: u64, customer_id: u64, day: u32) -> Value {
    json!({
        "id": id, "customer_id": customer_id,
        "date_created": format!("Tue, {day:02} Mar 2024 10:00:00 +0000"),
        "date_modified": format!("Wed, {day:02} Apr 2024 10:00:00 +0000"),
        "date_shipped": "", "status_id": 11, "status": "Awaiting Fulfillment",
        "subtotal_ex_tax": "62.6793", "subtotal_inc_tax": "67.8400", "subtotal_tax": "4.4000",
        "base_shipping_cost": "12.0000", "shipping_cost_ex_tax": "11.0900",
        "shipping_cost_inc_tax": "12.0000", "shipping_cost_tax": "0.9100",
        "total_ex_tax": "64.5300", "total_inc_tax": "79.8400", "total_tax": "5.3100",
        "items_total": 2, "items_shipped": 0, "payment_method": "Credit Card",
        "payment_provider_id": "ch_secret_provider_id", "payment_status": "captured",
        "refunded_amount": "0.0000", "order_is_digital": false,
        "discount_amount": "0.0000", "coupon_discount": "0.0000",
        "ip_address": "203.0.113.77", "staff_notes": "STAFF-ONLY note",
        "customer_message": "", "currency_code": "USD", "is_deleted": false,
        "billing_address": {"first_name": "Jane", "street_1": "1 Private Road", "email": "jane@example.com"},
        "products": {"url": "https://api.bigcommerce.com/stores/x/v2/orders/1/products", "resource": "/orders/1/products"}
    })
}

/// A v3 order metafield.
pub fn v3_metafield(
    id: u64,
    order_id: u64,
    permission_set: &str,
    namespace: &str,
    key: &str,
) -> Value {
    json!({
        "id": id, "key": key, "value": format!("value of {key}"), "namespace": namespace,
        "permission_set": permission_set, "resource_type": "order", "resource_id": order_id,
        "description": format!("about {key}"), "date_created": "2024-03-05T10:00:00+00:00",
        "date_modified": "2024-03-06T10:00:00+00:00", "owner_client_id": "other-app-client-id"
    })
}

/// `{data, meta.pagination}` around one page of metafields.
pub fn metafield_page(data: Vec<Value>, current_page: u64, total_pages: u64, total: u64) -> Value {
    json!({
        "data": data,
        "meta": {"pagination": {
            "total": total, "count": 0, "per_page": 250,
            "current_page": current_page, "total_pages": total_pages, "links": {"current": "?page=1&limit=250"}
        }}
    })
}
