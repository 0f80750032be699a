//! The merchant page through the real callbacks and forms: the session cookie's attributes
//! and the page's CSP; every refusal (no session, a forged or expired one, another store's,
//! a removed user, a form without or with a wrong CSRF token); field definitions saved on
//! the page reaching the storefront's answers at once (labels, types, order, hidden keys),
//! a definition that would show an `app_only` key or has a pattern outside the linear-time
//! syntax refused; and the preview giving exactly the storefront's answer.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::app::{AppMode, OWNER_ID, customer_token, payload};
use crate::helpers::{CLIENT_SECRET, metafield_page, now, v2_order, v3_metafield};
use wiremock::matchers::body_partial_json;

const STORE: &str = "abc123";
const OTHER: &str = "xyz789";
const COOKIE: &str = "__Host-om_merchant";

/// A store's page opened through `load`: the session cookie and the page's CSRF token.
pub(crate) struct Session {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

pub(crate) async fn open(app: &AppMode, store: &str) -> Session {
    let response = app.callback("load", &payload(store, OWNER_ID)).await;
    assert_eq!(response.status(), 200);
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let page = response.text().await.unwrap();
    Session {
        cookie,
        csrf: csrf_of(&page),
    }
}

fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("the page has a csrf field") + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

pub(crate) async fn post(
    app: &AppMode,
    store: &str,
    route: &str,
    cookie: Option<&str>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!(
            "{}/bigcommerce/stores/{store}/{route}",
            app.address
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish(),
        );
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

async fn get_page(app: &AppMode, store: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .get(format!("{}/bigcommerce/stores/{store}", app.address));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

/// A session cookie signed as the service signs them (key derived from the client
/// secret), for a user and expiry the test chooses.
fn signed_cookie(store: &str, user: i64, expires_at: u64) -> String {
    let master = hmac::Key::new(hmac::HMAC_SHA256, CLIENT_SECRET.as_bytes());
    let derived = hmac::sign(&master, b"order-metafields merchant session v1");
    let key = hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref());
    let body = format!("v1.{store}.{user}.{expires_at}.bm9uY2Vub25jZQ");
    let signature = URL_SAFE_NO_PAD.encode(hmac::sign(&key, body.as_bytes()));
    format!("{COOKIE}={body}.{signature}")
}

async fn installed(stores: &[&str]) -> AppMode {
    let app = AppMode::spawn().await;
    for store in stores {
        app.install(store, &format!("token-{store}")).await;
    }
    app
}

/// Mounts the batch look-up of a key's permission sets (what a save that shows it asks).
async fn mount_key(app: &AppMode, store: &str, namespace: &str, key: &str, set: &str) {
    Mock::given(method("GET"))
        .and(path(format!("/stores/{store}/v3/orders/metafields")))
        .and(query_param("namespace", namespace))
        .and(query_param("key", key))
        .respond_with(ResponseTemplate::new(200).set_body_json(metafield_page(
            vec![v3_metafield(90, 1, set, namespace, key)],
            1,
            1,
            1,
        )))
        .named(format!("permission sets of {namespace}.{key}"))
        .mount(&app.bigcommerce)
        .await;
}

#[tokio::test]
async fn load_answers_the_page_with_a_partitioned_third_party_cookie_and_a_frame_ancestors_policy()
{
    let app = installed(&[STORE]).await;

    let response = app.callback("load", &payload(STORE, OWNER_ID)).await;

    assert_eq!(response.status(), 200);
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let attributes: Vec<&str> = set_cookie.split("; ").skip(1).collect();
    assert!(set_cookie.starts_with(&format!("{COOKIE}=v1.{STORE}.{OWNER_ID}.")));
    assert_eq!(
        attributes,
        [
            "Path=/",
            "Max-Age=3600",
            "HttpOnly",
            "Secure",
            "SameSite=None",
            "Partitioned"
        ]
    );
    assert_eq!(
        response.headers()["content-security-policy"],
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors https://*.bigcommerce.com"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    let page = response.text().await.unwrap();
    assert!(page.contains("Field definitions"), "{page}");
    assert!(page.contains("Preview as a customer"), "{page}");
    // The snippet is filled in with this app's address and client id.
    assert!(
        page.contains("data-api-base=&#34;https://app.example.com&#34;"),
        "{page}"
    );
    assert!(!page.contains("your-app-client-id"), "{page}");
}

#[tokio::test]
async fn frame_ancestors_follow_control_panel_origins() {
    let app = AppMode::spawn_with(&[("CONTROL_PANEL_ORIGINS", "https://cp.example.com")]).await;
    app.install(STORE, "token").await;
    let session = open(&app, STORE).await;

    let response = get_page(&app, STORE, Some(&session.cookie)).await;

    assert_eq!(response.status(), 200);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.ends_with("frame-ancestors https://cp.example.com"),
        "{policy}"
    );
}

#[tokio::test]
async fn the_page_is_refused_without_a_valid_live_session_of_its_store_and_user() {
    let app = installed(&[STORE, OTHER]).await;
    let session = open(&app, STORE).await;
    let forged = session.cookie.replace(".7654321.", ".7654322.");
    let expired = signed_cookie(STORE, OWNER_ID, now().unsigned_abs() - 1);
    let too_long = signed_cookie(STORE, OWNER_ID, now().unsigned_abs() + 7200);

    let cases = [
        (None, STORE, 401, "no cookie"),
        (Some(forged.as_str()), STORE, 401, "forged"),
        (Some(expired.as_str()), STORE, 401, "expired"),
        (Some(too_long.as_str()), STORE, 401, "longer than an hour"),
        (Some(session.cookie.as_str()), OTHER, 403, "another store"),
        (Some(session.cookie.as_str()), STORE, 200, "its own store"),
    ];
    for (cookie, store, status, case) in cases {
        let response = get_page(&app, store, cookie).await;
        assert_eq!(response.status(), status, "{case}");
        let page = response.text().await.unwrap();
        assert!(!page.contains(&session.csrf) || status == 200, "{case}");
    }
    // A removed user's session ends at once.
    let removed = app.callback("remove_user", &payload(STORE, OWNER_ID)).await;
    assert_eq!(removed.status(), 200);
    let after = get_page(&app, STORE, Some(&session.cookie)).await;
    assert_eq!(after.status(), 401);
}

#[tokio::test]
async fn state_changing_forms_are_refused_without_the_sessions_csrf_token_and_change_nothing() {
    let app = installed(&[STORE, OTHER]).await;
    let session = open(&app, STORE).await;
    let other = open(&app, OTHER).await;
    let form = |csrf: &'static str| {
        vec![
            ("csrf", csrf),
            ("namespace", "Gifts"),
            ("key", "note"),
            ("type", "text"),
            ("hidden", "1"),
        ]
    };

    let missing = post(&app, STORE, "fields", Some(&session.cookie), &form("")[1..]).await;
    let wrong = post(
        &app,
        STORE,
        "fields",
        Some(&session.cookie),
        &form("not-the-token"),
    )
    .await;
    let mut with_others = form("");
    with_others[0].1 = &other.csrf;
    let others_token = post(&app, STORE, "fields", Some(&session.cookie), &with_others).await;
    let mut good = form("");
    good[0].1 = &session.csrf;
    let other_store = post(&app, OTHER, "fields", Some(&session.cookie), &good).await;
    let no_session = post(&app, STORE, "fields", None, &good).await;
    // The right cookie and token, sent by another site's page (a storefront's script).
    let cross_site = app
        .client
        .post(format!("{}/bigcommerce/stores/{STORE}/fields", app.address))
        .header("cookie", &session.cookie)
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&good)
                .finish(),
        )
        .send()
        .await
        .unwrap();

    assert_eq!(missing.status(), 403);
    assert_eq!(wrong.status(), 403);
    assert_eq!(others_token.status(), 403);
    assert_eq!(other_store.status(), 403);
    assert_eq!(no_session.status(), 401);
    assert_eq!(cross_site.status(), 403);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("This form has expired")
    );
    let database = stored_in(&app).await;
    assert!(database.field_definitions(STORE).await.unwrap().is_empty());
    assert!(database.field_definitions(OTHER).await.unwrap().is_empty());
}

#[tokio::test]
async fn definitions_saved_on_the_page_label_type_order_and_hide_the_storefronts_fields_at_once() {
    let app = installed(&[STORE]).await;
    let session = open(&app, STORE).await;
    let token = customer_token(STORE, 7);
    app.mount_orders(STORE, 7, vec![v2_order(100, 7, 1)], 1)
        .await;
    app.mount_metafields(
        STORE,
        100,
        vec![
            v3_metafield(1, 100, "read_and_sf_access", "Shipping", "tracking_url"),
            v3_metafield(2, 100, "read_and_sf_access", "Shipping", "delivery_date"),
            v3_metafield(3, 100, "read_and_sf_access", "Shipping", "warehouse"),
            v3_metafield(4, 100, "write_and_sf_access", "Gifts", "note"),
        ],
        // Before the definitions, and once again after they changed.
        2,
    )
    .await;
    mount_key(
        &app,
        STORE,
        "Shipping",
        "tracking_url",
        "read_and_sf_access",
    )
    .await;
    mount_key(
        &app,
        STORE,
        "Shipping",
        "delivery_date",
        "read_and_sf_access",
    )
    .await;

    let before: Value = app
        .get("/v1/orders/100/metafields", &token)
        .await
        .json()
        .await
        .unwrap();
    let saves = [
        vec![
            ("namespace", "Shipping"),
            ("key", "tracking_url"),
            ("label", "Track your parcel"),
            ("type", "url"),
            ("position", "2"),
        ],
        vec![
            ("namespace", "Shipping"),
            ("key", "delivery_date"),
            ("label", "Delivery"),
            ("type", "date"),
            ("position", "1"),
        ],
        vec![
            ("namespace", "Shipping"),
            ("key", "warehouse"),
            ("type", "text"),
            ("hidden", "1"),
        ],
    ];
    for save in saves {
        let mut form = vec![("csrf", session.csrf.as_str())];
        form.extend(save);
        let response = post(&app, STORE, "fields", Some(&session.cookie), &form).await;
        assert_eq!(response.status(), 303);
        assert_eq!(
            response.headers()["location"],
            format!("/bigcommerce/stores/{STORE}?done=saved")
        );
    }
    let after: Value = app
        .get("/v1/orders/100/metafields", &token)
        .await
        .json()
        .await
        .unwrap();

    let item = |id: u64, key: &str, namespace: &str, label: &str, kind: &str, position: Value| {
        json!({"id": id, "namespace": namespace, "key": key, "value": format!("value of {key}"),
               "description": format!("about {key}"), "date_created": "2024-03-05T10:00:00Z",
               "date_modified": "2024-03-06T10:00:00Z", "label": label, "type": kind,
               "position": position, "editable": false})
    };
    assert_eq!(
        before,
        json!({"data": [
            item(1, "tracking_url", "Shipping", "about tracking_url", "text", Value::Null),
            item(2, "delivery_date", "Shipping", "about delivery_date", "text", Value::Null),
            item(3, "warehouse", "Shipping", "about warehouse", "text", Value::Null),
            item(4, "note", "Gifts", "about note", "text", Value::Null),
        ]})
    );
    assert_eq!(
        after,
        json!({"data": [
            item(2, "delivery_date", "Shipping", "Delivery", "date", json!(1)),
            item(1, "tracking_url", "Shipping", "Track your parcel", "url", json!(2)),
            item(4, "note", "Gifts", "about note", "text", Value::Null),
        ]})
    );
    // The page lists them, and the database keeps them.
    let page = get_page(&app, STORE, Some(&session.cookie)).await;
    let text = page.text().await.unwrap();
    assert!(text.contains("Track your parcel"));
    let stored = stored_in(&app)
        .await
        .field_definitions(STORE)
        .await
        .unwrap();
    assert_eq!(stored.len(), 3);
    // Hidden saves asked BigCommerce nothing; each shown one asked once.
    // (Page loads also asked for the keys on recent orders: not look-ups.)
    let lookups: Vec<String> = app
        .calls(&format!("/stores/{STORE}/v3/orders/metafields"))
        .await
        .into_iter()
        .filter_map(|request| request.url.query().map(str::to_owned))
        .filter(|query| query.contains("namespace="))
        .collect();
    assert_eq!(lookups.len(), 2, "{lookups:?}");
}

#[tokio::test]
async fn a_definition_that_would_show_an_app_only_key_or_has_a_backtracking_pattern_is_refused() {
    let app = installed(&[STORE]).await;
    let session = open(&app, STORE).await;
    mount_key(&app, STORE, "Costs", "margin", "app_only").await;
    mount_key(&app, STORE, "Gifts", "note", "write_and_sf_access").await;

    let exposing = post(
        &app,
        STORE,
        "fields",
        Some(&session.cookie),
        &[
            ("csrf", &session.csrf),
            ("namespace", "Costs"),
            ("key", "margin"),
            ("label", "Margin"),
            ("type", "number"),
        ],
    )
    .await;
    let backtracking = post(
        &app,
        STORE,
        "fields",
        Some(&session.cookie),
        &[
            ("csrf", &session.csrf),
            ("namespace", "Gifts"),
            ("key", "note"),
            ("type", "text"),
            ("pattern", r"^(\w+)\1$"),
        ],
    )
    .await;
    let hidden = post(
        &app,
        STORE,
        "fields",
        Some(&session.cookie),
        &[
            ("csrf", &session.csrf),
            ("namespace", "Costs"),
            ("key", "margin"),
            ("type", "number"),
            ("hidden", "1"),
        ],
    )
    .await;

    assert_eq!(exposing.status(), 422);
    let page = exposing.text().await.unwrap();
    assert!(
        page.contains("Costs.margin is app_only on this store&#39;s orders, which shoppers never see; a definition can only hide it")
            || page.contains("Costs.margin is app_only on this store's orders, which shoppers never see; a definition can only hide it"),
        "{page}"
    );
    assert_eq!(backtracking.status(), 422);
    let page = backtracking.text().await.unwrap();
    assert!(
        page.contains("not a regular expression that runs in linear time"),
        "{page}"
    );
    assert!(page.contains("backreferences are not supported"), "{page}");
    assert_eq!(hidden.status(), 303, "hiding an app_only key is allowed");
    let stored = stored_in(&app)
        .await
        .field_definitions(STORE)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored.get("Costs", "margin").unwrap().hidden);
}

#[tokio::test]
async fn the_preview_answers_exactly_what_the_storefront_answers_that_customer() {
    let app = installed(&[STORE]).await;
    let session = open(&app, STORE).await;
    app.mount_orders(STORE, 7, vec![v2_order(100, 7, 1), v2_order(101, 7, 2)], 1)
        .await;
    app.mount_metafields(
        STORE,
        101,
        vec![
            v3_metafield(1, 101, "read_and_sf_access", "Shipping", "tracking_url"),
            v3_metafield(2, 101, "app_only", "Costs", "margin"),
        ],
        1,
    )
    .await;

    let preview = post(
        &app,
        STORE,
        "preview",
        Some(&session.cookie),
        &[("csrf", &session.csrf), ("customer", "7"), ("order", "")],
    )
    .await;
    let not_theirs = post(
        &app,
        STORE,
        "preview",
        Some(&session.cookie),
        &[("csrf", &session.csrf), ("customer", "7"), ("order", "555")],
    )
    .await;
    let storefront = app
        .get("/v1/orders/101/metafields", &customer_token(STORE, 7))
        .await
        .text()
        .await
        .unwrap();

    assert_eq!(preview.status(), 200);
    let page = preview.text().await.unwrap();
    let start = page.find("<pre class=\"raw\">").unwrap() + "<pre class=\"raw\">".len();
    let raw = unescape(&page[start..start + page[start..].find("</pre>").unwrap()]);
    assert_eq!(
        raw, storefront,
        "the preview is the storefront's own answer"
    );
    assert!(page.contains("Customer 7, order 101"), "the newest order");
    assert!(!page.contains("margin"));
    let page = not_theirs.text().await.unwrap();
    assert!(
        page.contains("Order 555 is not one of customer 7"),
        "{page}"
    );
}

async fn stored_in(app: &AppMode) -> order_metafields_service::database::Database {
    order_metafields_service::database::Database::connect(&app.database.url)
        .await
        .unwrap()
}

fn unescape(html: &str) -> String {
    html.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn the_page_lists_the_keys_on_recent_orders_at_a_bounded_cached_cost_and_the_stores_figures()
{
    let app = installed(&[STORE]).await;
    let page_of = |data: Vec<Value>, next: Option<&str>| {
        let mut body = json!({"data": data, "meta": {"cursor_pagination": {
            "count": 2, "per_page": 250, "start_cursor": "c0", "end_cursor": next.unwrap_or("c9"),
            "links": {"current": "?after=c0"}
        }}});
        if let Some(next) = next {
            body["meta"]["cursor_pagination"]["links"]["next"] = json!(format!("?after={next}"));
        }
        body
    };
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE}/v3/orders/metafields")))
        .and(query_param("limit", "250"))
        .and(query_param_is_missing("after"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_of(
            vec![
                v3_metafield(1, 100, "read_and_sf_access", "Shipping", "tracking_url"),
                v3_metafield(2, 101, "read_and_sf_access", "Shipping", "tracking_url"),
                v3_metafield(3, 100, "app_only", "Costs", "margin"),
            ],
            Some("c1"),
        )))
        .expect(1)
        .mount(&app.bigcommerce)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE}/v3/orders/metafields")))
        .and(query_param("after", "c1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_of(
            vec![
                v3_metafield(4, 102, "read_and_sf_access", "Shipping", "tracking_url"),
                v3_metafield(5, 102, "write", "Gifts", "note"),
            ],
            None,
        )))
        .expect(1)
        .mount(&app.bigcommerce)
        .await;
    app.mount_orders(STORE, 7, vec![v2_order(100, 7, 1)], 1)
        .await;
    app.mount_metafields(STORE, 100, vec![], 1).await;
    let token = customer_token(STORE, 7);
    for _ in 0..2 {
        assert_eq!(
            app.get("/v1/orders/100/metafields", &token).await.status(),
            200
        );
    }

    let session = open(&app, STORE).await;
    let again = get_page(&app, STORE, Some(&session.cookie)).await;

    let page = again.text().await.unwrap();
    let rows: Vec<String> = page
        .split("<tr><td>")
        .skip(1)
        .map(|row| {
            let row = &row[..row.find("</tr>").unwrap()];
            let mut text = String::new();
            let mut inside = false;
            for character in row.chars() {
                match character {
                    '<' => inside = true,
                    '>' => {
                        inside = false;
                        text.push('|');
                    }
                    _ if !inside => text.push(character),
                    _ => {}
                }
            }
            text.split('|')
                .map(str::trim)
                .filter(|cell| !cell.is_empty())
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .collect();
    assert_eq!(
        rows,
        [
            "Costs / margin / app_only / 1 / never shown / Define",
            "Gifts / note / write / 1 / never shown / Define",
            "Shipping / tracking_url / read_and_sf_access / 3 / visible / Define",
        ]
    );
    assert!(
        page.contains("href=\"?namespace=Shipping&#38;key=tracking_url#add\""),
        "{page}"
    );
    // Two storefront requests: the first read the list and the metafields, the second
    // was answered from the cache.
    assert!(
        page.contains("2 answered from the cache, 2 read from BigCommerce"),
        "{page}"
    );
    assert!(page.contains("none since the service started"), "{page}");
    // Both page loads shared one discovery of two pages (the mocks expect one call each).
}

const WITH_CONTENT: &str = "store_v2_content store_v2_orders_read_only";

/// An app whose stores grant the Content scope the Scripts API needs, with `STORE` installed.
async fn installed_with_content() -> AppMode {
    let app = AppMode::spawn_with(&[("APP_SCOPES", WITH_CONTENT)]).await;
    app.mount_install_granting(STORE, "content-code", "token", WITH_CONTENT)
        .await;
    let response = app.auth_callback(STORE, "content-code", WITH_CONTENT).await;
    assert_eq!(response.status(), 200);
    app
}

#[tokio::test]
async fn the_storefront_switch_installs_one_script_with_this_apps_values_and_removes_it() {
    let app = installed_with_content().await;
    let scripts = format!("/stores/{STORE}/v3/content/scripts");
    // None at first; one after the switch was turned on.
    Mock::given(method("GET"))
        .and(path(&scripts))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [], "meta": {}})))
        .up_to_n_times(2)
        .mount(&app.bigcommerce)
        .await;
    Mock::given(method("POST"))
        .and(path(&scripts))
        .and(body_partial_json(json!({
            "name": "order-metafields", "kind": "script_tag", "visibility": "storefront",
            "location": "footer", "auto_uninstall": true, "consent_category": "essential",
            "enabled": true, "channel_id": 1
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "uuid": "0b4a5d7e-1111-4222-8333-444455556666", "name": "order-metafields"
        }})))
        .expect(1)
        .mount(&app.bigcommerce)
        .await;
    let session = open(&app, STORE).await;
    let on = post(
        &app,
        STORE,
        "script",
        Some(&session.cookie),
        &[("csrf", &session.csrf), ("enabled", "1")],
    )
    .await;
    let page_on = get_page(&app, STORE, Some(&session.cookie))
        .await
        .text()
        .await
        .unwrap();
    Mock::given(method("GET"))
        .and(path(&scripts))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"uuid": "0b4a5d7e-1111-4222-8333-444455556666", "name": "order-metafields"},
            {"uuid": "99999999-1111-4222-8333-444455556666", "name": "another app's script"}
        ], "meta": {}})))
        .mount(&app.bigcommerce)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!(
            "{scripts}/0b4a5d7e-1111-4222-8333-444455556666"
        )))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&app.bigcommerce)
        .await;
    let without_csrf = post(
        &app,
        STORE,
        "script",
        Some(&session.cookie),
        &[("enabled", "0")],
    )
    .await;
    let off = post(
        &app,
        STORE,
        "script",
        Some(&session.cookie),
        &[("csrf", &session.csrf), ("enabled", "0")],
    )
    .await;

    assert_eq!(on.status(), 303);
    assert_eq!(
        on.headers()["location"],
        format!("/bigcommerce/stores/{STORE}?done=script-on")
    );
    assert!(
        page_on.contains("<span class=\"badge success\">on</span> The script is installed."),
        "{page_on}"
    );
    assert_eq!(without_csrf.status(), 403);
    assert_eq!(off.status(), 303);
    let created = app
        .calls(&scripts)
        .await
        .into_iter()
        .find(|request| request.method.as_str() == "POST")
        .unwrap();
    let body: Value = serde_json::from_slice(&created.body).unwrap();
    let html = body["html"].as_str().unwrap();
    assert!(
        html.contains("const apiBase = \"https://app.example.com\";"),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "const appClientId = \"{}\";",
            crate::helpers::CLIENT_ID
        )),
        "{html}"
    );
    assert!(html.starts_with("<script type=\"module\""), "{html}");
    // Exactly one POST and one DELETE (the mocks' expectations), another app's script untouched.
    let deletes: Vec<String> = app
        .calls(&scripts)
        .await
        .into_iter()
        .filter(|request| request.method.as_str() == "DELETE")
        .map(|request| request.url.path().to_owned())
        .collect();
    assert_eq!(
        deletes,
        [format!("{scripts}/0b4a5d7e-1111-4222-8333-444455556666")]
    );
}

#[tokio::test]
async fn without_the_content_scope_the_switch_says_why_and_changes_nothing() {
    let app = installed(&[STORE]).await;
    let session = open(&app, STORE).await;

    let page = get_page(&app, STORE, Some(&session.cookie))
        .await
        .text()
        .await
        .unwrap();
    let on = post(
        &app,
        STORE,
        "script",
        Some(&session.cookie),
        &[("csrf", &session.csrf), ("enabled", "1")],
    )
    .await;

    assert!(
        page.contains("did not grant this app the Content scope (store_v2_content)"),
        "{page}"
    );
    assert_eq!(on.status(), 409);
    assert!(
        app.calls(&format!("/stores/{STORE}/v3/content"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_last_authentic_webhook_of_the_store_shows_on_its_page() {
    let app = installed(&[STORE]).await;
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
    let session = open(&app, STORE).await;
    let before = get_page(&app, STORE, Some(&session.cookie))
        .await
        .text()
        .await
        .unwrap();
    let deliver = |secret: String| {
        app.client
            .post(format!("{}/webhooks/bigcommerce", app.address))
            .header("x-webhook-secret", secret)
            .header("content-type", "application/json")
            .body(
                json!({"scope": "store/order/metafield/updated", "store_id": "1",
                       "data": {"metafield_id": 1, "resource_id": "100"},
                       "hash": "h-1", "created_at": 1, "producer": format!("stores/{STORE}")})
                .to_string(),
            )
            .send()
    };

    let forged = deliver("not-the-secret".to_owned()).await.unwrap();
    let after_forged = get_page(&app, STORE, Some(&session.cookie))
        .await
        .text()
        .await
        .unwrap();
    let accepted = deliver(secret).await.unwrap();
    let after = get_page(&app, STORE, Some(&session.cookie))
        .await
        .text()
        .await
        .unwrap();

    assert!(
        before.contains("<dt>Last webhook</dt><dd>none since the service started</dd>"),
        "{before}"
    );
    assert_eq!(forged.status(), 401);
    assert!(
        after_forged.contains("none since the service started"),
        "a refused delivery is not seen"
    );
    assert_eq!(accepted.status(), 200);
    let year = time::OffsetDateTime::now_utc().year();
    assert!(
        after.contains(&format!("<dt>Last webhook</dt><dd>{year}-")),
        "{after}"
    );
}

#[tokio::test]
async fn the_merchant_page_gives_no_cors_answer_even_to_an_allowed_storefront_origin() {
    const STOREFRONT: &str = "https://www.shop.example";
    let app = AppMode::spawn_with(&[("CORS_ALLOWED_ORIGINS", STOREFRONT)]).await;
    app.install(STORE, "token-of-abc123").await;
    let session = open(&app, STORE).await;

    let page = app
        .client
        .get(format!("{}/bigcommerce/stores/{STORE}", app.address))
        .header("cookie", &session.cookie)
        .header("origin", STOREFRONT)
        .send()
        .await
        .unwrap();
    let preflight = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/bigcommerce/stores/{STORE}/fields", app.address),
        )
        .header("origin", STOREFRONT)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    let api = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/orders", app.address),
        )
        .header("origin", STOREFRONT)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();

    assert_eq!(page.headers().get("access-control-allow-origin"), None);
    assert_eq!(page.headers().get("access-control-allow-credentials"), None);
    assert_eq!(preflight.headers().get("access-control-allow-origin"), None);
    assert_eq!(
        api.headers()["access-control-allow-origin"],
        STOREFRONT,
        "the API still answers the storefront"
    );
}
