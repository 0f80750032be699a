//! The sandbox storefront's account pages over HTTP: they render the documented snippets with
//! the shopper's session and the service's URL; the browser test (client/browser/) runs them.

use order_metafields_sandbox::{self as sandbox, DEMO_PASSWORD, RunningSandbox, SandboxConfig};
use reqwest::header::{COOKIE, SET_COOKIE};
use url::Url;

const SERVICE_URL: &str = "http://127.0.0.1:9/";

async fn start(service_url: Option<&str>) -> (RunningSandbox, reqwest::Client) {
    let sandbox = sandbox::start(SandboxConfig {
        service_url: service_url.map(|url| Url::parse(url).unwrap()),
        ..SandboxConfig::demo_defaults()
    })
    .await
    .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (sandbox, client)
}

async fn sign_in(sandbox: &RunningSandbox, client: &reqwest::Client) -> String {
    let response = client
        .post(format!("{}login", sandbox.storefront_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "email=alice%40example.com&password={DEMO_PASSWORD}"
        ))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

async fn page(
    sandbox: &RunningSandbox,
    client: &reqwest::Client,
    path: &str,
    cookie: Option<&str>,
) -> (u16, String) {
    let mut request = client.get(format!("{}{path}", sandbox.storefront_url()));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn order_page_renders_the_details_snippet_for_a_signed_in_shopper() {
    let (sandbox, client) = start(Some(SERVICE_URL)).await;
    let cookie = sign_in(&sandbox, &client).await;

    for path in [
        "account.php?action=view_order&order_id=369",
        "account/orders/369",
    ] {
        let (status, html) = page(&sandbox, &client, path, Some(&cookie)).await;

        assert_eq!(status, 200, "{path}");
        assert!(html.contains("data-order-id=\"369\""), "{path}: {html}");
        assert!(
            html.contains("data-api-base=\"http://127.0.0.1:9\""),
            "{path}"
        );
        assert!(html.contains("data-app-client-id=\"sandbox-demo-client-id\""));
        assert!(html.contains("<script type=\"module\">"), "{path}");
    }
}

#[tokio::test]
async fn orders_page_renders_the_list_snippet_for_a_signed_in_shopper() {
    let (sandbox, client) = start(Some(SERVICE_URL)).await;
    let cookie = sign_in(&sandbox, &client).await;

    let (status, html) = page(
        &sandbox,
        &client,
        "account.php?action=order_status",
        Some(&cookie),
    )
    .await;

    assert_eq!(status, 200);
    assert!(html.contains("id=\"order-metafields-orders\""), "{html}");
    assert!(html.contains("data-api-base=\"http://127.0.0.1:9\""));
}

#[tokio::test]
async fn account_pages_show_only_the_sign_in_message_to_a_guest() {
    let (sandbox, client) = start(Some(SERVICE_URL)).await;

    for path in [
        "account.php?action=view_order&order_id=369",
        "account.php?action=order_status",
    ] {
        let (status, html) = page(&sandbox, &client, path, None).await;

        assert_eq!(status, 200, "{path}");
        assert!(html.contains("Please <a href=\"/login.php\">sign in</a>"));
        assert!(!html.contains("<script"), "{path}: {html}");
    }
}

#[tokio::test]
async fn account_pages_say_so_when_the_sandbox_knows_no_service() {
    let (sandbox, client) = start(None).await;
    let cookie = sign_in(&sandbox, &client).await;

    let (status, html) = page(&sandbox, &client, "account/orders/369", Some(&cookie)).await;

    assert_eq!(status, 200);
    assert!(html.contains("runs without the order-metafields service"));
    assert!(!html.contains("<script"));
}

#[tokio::test]
async fn set_service_url_points_a_running_sandbox_at_the_service() {
    let (sandbox, client) = start(None).await;
    let cookie = sign_in(&sandbox, &client).await;

    sandbox.set_service_url(Url::parse(SERVICE_URL).unwrap());
    let (_, html) = page(&sandbox, &client, "account/orders/369", Some(&cookie)).await;

    assert!(
        html.contains("data-api-base=\"http://127.0.0.1:9\""),
        "{html}"
    );
}

#[tokio::test]
async fn account_pages_answer_404_for_other_actions_and_ids_that_are_not_orders() {
    let (sandbox, client) = start(Some(SERVICE_URL)).await;

    for path in [
        "account.php",
        "account.php?action=address_book",
        "account.php?action=view_order",
        "account.php?action=view_order&order_id=abc",
        "account.php?action=view_order&order_id=0",
        "account/orders/-1",
    ] {
        let (status, _) = page(&sandbox, &client, path, None).await;

        assert_eq!(status, 404, "{path}");
    }
}

/// The text of `html` with its tags removed and its whitespace collapsed.
fn text(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for character in html.chars() {
        match character {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            other if !in_tag => text.push(other),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn order_page_shows_the_shoppers_own_order_beside_the_snippet() {
    let (sandbox, client) = start(Some(SERVICE_URL)).await;
    let cookie = sign_in(&sandbox, &client).await;

    let (status, html) = page(&sandbox, &client, "account/orders/369", Some(&cookie)).await;

    assert_eq!(status, 200);
    let page_text = text(&html);
    for expected in [
        "Order #369",
        "Order Contents 2 items Awaiting Fulfillment 0 of 2 items shipped",
        "Subtotal: $56.00 Shipping: $9.99 Tax: $5.44 Grand total: $71.43",
        "Order Details Order status: Awaiting Fulfillment Order date: Nov 1, 2025 Order total: $71.43 Payment method: Test Payment Gateway",
        "Bill To Alice Andersen",
        "Alice Andersen Sign out",
    ] {
        assert!(
            page_text.contains(expected),
            "{expected} missing from: {page_text}"
        );
    }
    let sidebar = &html[html.find("<aside class=\"account-sidebar\">").unwrap()..];
    assert!(
        sidebar.find("Order Details").unwrap() < sidebar.find("id=\"order-metafields\"").unwrap(),
        "the store's own details come first in the sidebar, the snippet after them"
    );
    assert!(html.contains("<link rel=\"stylesheet\" href=\"/assets/css/theme.css\">"));
}

#[tokio::test]
async fn order_page_shows_nothing_of_another_customers_order_but_the_snippet() {
    let (sandbox, client) = start(Some(SERVICE_URL)).await;
    let cookie = sign_in(&sandbox, &client).await;

    // Order 365 is Bob's; Alice is signed in.
    let (status, html) = page(&sandbox, &client, "account/orders/365", Some(&cookie)).await;

    assert_eq!(status, 200);
    assert!(html.contains("data-order-id=\"365\""), "{html}");
    for absent in [
        "Order Details",
        "Order Contents",
        "Grand total",
        "Bill To",
        "Bob",
    ] {
        assert!(!html.contains(absent), "{absent} shown: {html}");
    }
}

#[tokio::test]
async fn an_archived_order_is_shown_no_more_and_a_moved_one_is_shown_to_its_new_customer() {
    let (sandbox, client) = start(Some(SERVICE_URL)).await;
    let cookie = sign_in(&sandbox, &client).await;
    let store = sandbox.store();

    assert!(store.archive_order(369));
    // Order 365 was Bob's; it is Alice's now.
    assert!(store.set_order_customer(365, 1));
    let (archived_status, archived) =
        page(&sandbox, &client, "account/orders/369", Some(&cookie)).await;
    let (moved_status, moved) = page(&sandbox, &client, "account/orders/365", Some(&cookie)).await;

    assert_eq!((archived_status, moved_status), (200, 200));
    assert!(archived.contains("data-order-id=\"369\""), "{archived}");
    for absent in ["Order Details", "Order Contents", "Grand total", "Bill To"] {
        assert!(!archived.contains(absent), "{absent} shown: {archived}");
    }
    let moved_text = text(&moved);
    for expected in ["Order #365", "Order Details", "Bill To Alice Andersen"] {
        assert!(
            moved_text.contains(expected),
            "{expected} missing from: {moved_text}"
        );
    }
}

#[tokio::test]
async fn storefront_serves_its_theme_stylesheet() {
    let (sandbox, client) = start(None).await;

    let response = client
        .get(format!("{}assets/css/theme.css", sandbox.storefront_url()))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/css; charset=utf-8"
    );
    let css = response.text().await.unwrap();
    assert!(css.contains(".account-sidebar-block"), "{css}");
}
