//! Multi-storefront in app mode: each installed store's sites (`GET /v3/sites`) are its
//! allowed CORS origins with no setting, beside `CORS_ALLOWED_ORIGINS`; a `store/channel/*`
//! webhook reads them again, and a store that leaves takes its origins with it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, ResponseTemplate};

use crate::helpers::app::{AppMode, customer_token, payload};
use crate::helpers::{v2_order, v3_metafield};
use crate::merchant_page::{open, post};

const STORE: &str = "storea";
const FIXED_ORIGIN: &str = "https://fixed.example.com";

fn sites(urls: &[(u64, &str)]) -> Value {
    let data: Vec<Value> = urls
        .iter()
        .enumerate()
        .map(|(index, (channel, url))| {
            json!({"id": index + 1, "channel_id": channel, "url": url,
                   "urls": [{"url": url, "type": "primary"},
                            {"url": format!("https://store-{STORE}-{channel}.mybigcommerce.com"), "type": "canonical"}]})
        })
        .collect();
    json!({"data": data, "meta": {"pagination": {"total": urls.len(), "count": urls.len(), "per_page": 250, "current_page": 1, "total_pages": 1}}})
}

/// Mounts the store's sites, answering whatever `current` holds at each request.
async fn mount_sites(app: &AppMode, current: Arc<Mutex<Value>>) {
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE}/v3/sites")))
        .respond_with(move |_: &Request| {
            let body = current.lock().map(|body| body.clone()).unwrap_or_default();
            ResponseTemplate::new(200).set_body_json(body)
        })
        .mount(&app.bigcommerce)
        .await;
}

/// Whether a preflight from `origin` is allowed.
async fn allowed(app: &AppMode, origin: &str) -> bool {
    let response = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/orders", app.address),
        )
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    response
        .headers()
        .get("access-control-allow-origin")
        .is_some_and(|value| value == origin)
}

/// Waits (at most 10 s, in 100 ms steps) until `origin` is allowed or not, as expected.
async fn eventually(app: &AppMode, origin: &str, expected: bool) -> bool {
    for _ in 0..100 {
        if allowed(app, origin).await == expected {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

async fn sites_calls(app: &AppMode) -> usize {
    app.calls(&format!("/stores/{STORE}/v3/sites")).await.len()
}

#[tokio::test]
async fn an_installed_stores_sites_are_its_allowed_origins_until_a_channel_webhook_changes_them() {
    let app = AppMode::spawn_with(&[("CORS_ALLOWED_ORIGINS", FIXED_ORIGIN)]).await;
    let current = Arc::new(Mutex::new(sites(&[
        (1, "https://www.shop-a.example"),
        (2, "https://headless.shop-a.example/"),
    ])));
    mount_sites(&app, Arc::clone(&current)).await;
    assert!(!allowed(&app, "https://www.shop-a.example").await);

    app.install(STORE, "access-a").await;

    assert!(eventually(&app, "https://www.shop-a.example", true).await);
    assert!(allowed(&app, "https://headless.shop-a.example").await);
    assert!(allowed(&app, &format!("https://store-{STORE}-2.mybigcommerce.com")).await);
    assert!(allowed(&app, FIXED_ORIGIN).await);
    assert!(!allowed(&app, "https://evil.example").await);
    assert_eq!(
        sites_calls(&app).await,
        1,
        "read once, not on every request"
    );

    // A channel's site moves; the webhook makes the service read the sites again at once.
    *current.lock().unwrap() = sites(&[
        (1, "https://www.shop-a.example"),
        (2, "https://new-headless.shop-a.example"),
    ]);
    let secret = app
        .calls(&format!("/stores/{STORE}/v3/hooks"))
        .await
        .iter()
        .find(|request| request.method.as_str() == "POST")
        .map(|request| {
            let hook: Value = serde_json::from_slice(&request.body).unwrap();
            hook["headers"]["x-webhook-secret"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .unwrap();
    let delivery = app
        .client
        .post(format!("{}/webhooks/bigcommerce", app.address))
        .header("x-webhook-secret", secret)
        .header("content-type", "application/json")
        .body(
            json!({"scope": "store/channel/updated", "store_id": "1",
                   "data": {"type": "channel", "id": 2},
                   "hash": "channel-2-moved", "created_at": 1, "producer": format!("stores/{STORE}")})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(delivery.status(), 200);

    assert!(eventually(&app, "https://new-headless.shop-a.example", true).await);
    assert!(!allowed(&app, "https://headless.shop-a.example").await);
    assert!(allowed(&app, "https://www.shop-a.example").await);
    assert_eq!(sites_calls(&app).await, 2);
}

#[tokio::test]
async fn a_store_that_leaves_takes_its_origins_with_it() {
    let app = AppMode::spawn().await;
    let current = Arc::new(Mutex::new(sites(&[(1, "https://www.shop-a.example")])));
    mount_sites(&app, current).await;
    app.install(STORE, "access-a").await;
    assert!(eventually(&app, "https://www.shop-a.example", true).await);

    let uninstalled = app.callback("uninstall", &payload(STORE, 1)).await;
    assert_eq!(uninstalled.status(), 200);

    assert!(eventually(&app, "https://www.shop-a.example", false).await);
}

#[tokio::test]
async fn sites_that_cannot_be_read_leave_the_configured_origins_alone() {
    let app = AppMode::spawn_with(&[("CORS_ALLOWED_ORIGINS", FIXED_ORIGIN)]).await;
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE}/v3/sites")))
        .respond_with(ResponseTemplate::new(403))
        .mount(&app.bigcommerce)
        .await;
    app.install(STORE, "access-a").await;

    // Read (and refused) once the store is served.
    for _ in 0..100 {
        if sites_calls(&app).await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    assert_eq!(sites_calls(&app).await, 1);
    assert!(allowed(&app, FIXED_ORIGIN).await);
    assert!(!allowed(&app, "https://www.shop-a.example").await);
}

/// The order ids `GET /v1/orders` answers customer 7 of the store, from a page on `origin`
/// (none: a server's request), and the list's `total`.
async fn order_ids(app: &AppMode, origin: Option<&str>) -> (Vec<u64>, u64) {
    let mut request = app
        .client
        .get(format!("{}/v1/orders", app.address))
        .bearer_auth(customer_token(STORE, 7));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let body: Value = request.send().await.unwrap().json().await.unwrap();
    let ids = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|order| order["id"].as_u64().unwrap())
        .collect();
    (ids, body["meta"]["pagination"]["total"].as_u64().unwrap())
}

/// The status and body of a `GET` of `route` for customer 7 from a page on `origin`.
async fn read_from(app: &AppMode, route: &str, origin: &str) -> (u16, Value) {
    let response = app
        .client
        .get(format!("{}{route}", app.address))
        .bearer_auth(customer_token(STORE, 7))
        .header("origin", origin)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn with_the_channel_setting_on_each_storefront_shows_only_the_orders_placed_on_it() {
    const MAIN: &str = "https://www.shop-a.example";
    const KIDS: &str = "https://kids.shop-a.example";
    let app = AppMode::spawn_with(&[("CORS_ALLOWED_ORIGINS", FIXED_ORIGIN)]).await;
    mount_sites(&app, Arc::new(Mutex::new(sites(&[(1, MAIN), (2, KIDS)])))).await;
    let mut kids_order = v2_order(102, 7, 2);
    kids_order["channel_id"] = json!(2);
    // Loaded once: the setting filters per request, it drops no cached list.
    app.mount_orders(STORE, 7, vec![v2_order(101, 7, 1), kids_order], 1)
        .await;
    app.mount_metafields(STORE, 102, vec![], 1).await;
    // Shown on order 101 without a definition: a shopper who may see the order is told
    // the field is not editable (403), not that it is missing.
    app.mount_metafields(
        STORE,
        101,
        vec![v3_metafield(
            5,
            101,
            "read_and_sf_access",
            "shipping",
            "tracking",
        )],
        ..,
    )
    .await;
    app.install(STORE, "access-a").await;
    assert!(
        eventually(&app, KIDS, true).await,
        "the sites were never read"
    );

    let before = order_ids(&app, Some(KIDS)).await;
    let session = open(&app, STORE).await;
    let switched = post(
        &app,
        STORE,
        "channels",
        Some(&session.cookie),
        &[("csrf", session.csrf.as_str()), ("enabled", "1")],
    )
    .await;
    let on_kids = order_ids(&app, Some(KIDS)).await;
    let on_main = order_ids(&app, Some(MAIN)).await;
    let from_a_server = order_ids(&app, None).await;
    let from_no_site = order_ids(&app, Some(FIXED_ORIGIN)).await;
    let other_channels_order = read_from(&app, "/v1/orders/101", KIDS).await;
    let missing_order = read_from(&app, "/v1/orders/999", KIDS).await;
    let other_channels_metafields = read_from(&app, "/v1/orders/101/metafields", KIDS).await;
    let own_metafields = read_from(&app, "/v1/orders/102/metafields", KIDS).await;
    let write = |origin: &'static str| {
        app.client
            .put(format!(
                "{}/v1/orders/101/metafields/shipping/tracking",
                app.address
            ))
            .bearer_auth(customer_token(STORE, 7))
            .header("origin", origin)
            .json(&json!({"value": "x"}))
            .send()
    };
    let write_from_kids = write(KIDS).await.unwrap();
    let write_from_main = write(MAIN).await.unwrap();
    let page = open(&app, STORE).await;
    let switched_off = post(
        &app,
        STORE,
        "channels",
        Some(&page.cookie),
        &[("csrf", page.csrf.as_str()), ("enabled", "0")],
    )
    .await;
    let after = order_ids(&app, Some(KIDS)).await;

    assert_eq!(before, (vec![102, 101], 2), "off by default");
    assert_eq!(switched.status(), 303);
    assert_eq!(on_kids, (vec![102], 1));
    assert_eq!(on_main, (vec![101], 1));
    assert_eq!(from_a_server, (vec![102, 101], 2), "no channel named");
    assert_eq!(
        from_no_site,
        (vec![102, 101], 2),
        "an origin that is no site"
    );
    assert_eq!(other_channels_order.0, 404);
    assert_eq!(
        other_channels_order.1, missing_order.1,
        "another storefront's order answers exactly as a missing one"
    );
    assert_eq!(other_channels_metafields.0, 404);
    assert_eq!(other_channels_metafields.1, missing_order.1);
    assert_eq!(own_metafields, (200, json!({"data": []})));
    assert_eq!(write_from_kids.status(), 404, "another storefront's order");
    assert_eq!(
        write_from_kids.json::<Value>().await.unwrap(),
        missing_order.1
    );
    assert_eq!(write_from_main.status(), 403, "its own storefront's order");
    assert_eq!(switched_off.status(), 303);
    assert_eq!(after, (vec![102, 101], 2));
}

#[tokio::test]
async fn the_channel_setting_survives_a_restart_and_its_form_needs_the_pages_csrf_token() {
    let mut app = AppMode::spawn().await;
    mount_sites(
        &app,
        Arc::new(Mutex::new(sites(&[(1, "https://www.shop-a.example")]))),
    )
    .await;
    app.install(STORE, "access-a").await;
    let session = open(&app, STORE).await;

    let forged = post(
        &app,
        STORE,
        "channels",
        Some(&session.cookie),
        &[("csrf", "not-the-token"), ("enabled", "1")],
    )
    .await;
    let forged_status = forged.status();
    let still_off = app
        .callback("load", &payload(STORE, crate::helpers::app::OWNER_ID))
        .await;
    let still_off = still_off.text().await.unwrap();
    let switched = post(
        &app,
        STORE,
        "channels",
        Some(&session.cookie),
        &[("csrf", session.csrf.as_str()), ("enabled", "1")],
    )
    .await;
    app.stop().await;
    app.start().await;
    let page = app
        .callback("load", &payload(STORE, crate::helpers::app::OWNER_ID))
        .await;
    let page = page.text().await.unwrap();

    assert_eq!(forged_status, 403);
    assert!(
        still_off.contains("Every storefront shows all of a shopper"),
        "{still_off}"
    );
    assert_eq!(switched.status(), 303);
    assert!(
        page.contains("Each storefront shows only its own orders."),
        "{page}"
    );
}

#[tokio::test]
async fn a_cookie_session_starts_only_from_a_page_of_the_tokens_own_store() {
    const OTHER: &str = "storeb";
    const OWN_SITE: &str = "https://www.shop-a.example";
    const OTHER_SITE: &str = "https://www.shop-b.example";
    let app = AppMode::spawn().await;
    mount_sites(&app, Arc::new(Mutex::new(sites(&[(1, OWN_SITE)])))).await;
    Mock::given(method("GET"))
        .and(path(format!("/stores/{OTHER}/v3/sites")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": 1, "channel_id": 1, "url": OTHER_SITE, "urls": [{"url": OTHER_SITE, "type": "primary"}]}
        ], "meta": {}})))
        .mount(&app.bigcommerce)
        .await;
    app.install(STORE, "access-a").await;
    app.install(OTHER, "access-b").await;
    assert!(eventually(&app, OWN_SITE, true).await);
    assert!(eventually(&app, OTHER_SITE, true).await);
    let start_from = |origin: &'static str| {
        app.client
            .post(format!("{}/v1/session", app.address))
            .bearer_auth(customer_token(STORE, 7))
            .header("origin", origin)
            .send()
    };

    let from_other_store = start_from(OTHER_SITE).await.unwrap();
    let from_own_store = start_from(OWN_SITE).await.unwrap();

    assert_eq!(from_other_store.status(), 403);
    assert!(from_other_store.headers().get("set-cookie").is_none());
    assert_eq!(from_own_store.status(), 204);
}
