//! Multi-storefront in app mode: each installed store's sites (`GET /v3/sites`) are its
//! allowed CORS origins with no setting, beside `CORS_ALLOWED_ORIGINS`; a `store/channel/*`
//! webhook reads them again, and a store that leaves takes its origins with it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, ResponseTemplate};

use crate::helpers::app::{AppMode, payload};

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
