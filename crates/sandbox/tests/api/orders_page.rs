//! The control panel's Orders page: each order with its status and a form that changes it, the
//! change answered only once the configured webhook destination heard of it, and refusals for
//! an order or a status that does not exist.

use order_metafields_sandbox::{self as sandbox, RunningSandbox, SandboxConfig};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const ALICE: u64 = 1;
const OPEN_ORDER: u64 = 369;

struct Panel {
    running: RunningSandbox,
    client: reqwest::Client,
}

impl Panel {
    async fn start() -> Self {
        Self {
            running: sandbox::start(SandboxConfig::demo_defaults())
                .await
                .unwrap(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    fn url(&self, tail: &str) -> String {
        format!(
            "{}/{tail}",
            self.running.control_panel_url("sandbox1").unwrap()
        )
    }

    async fn page(&self, tail: &str) -> (StatusCode, String) {
        let response = self.client.get(self.url(tail)).send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    async fn change(&self, order_id: &str, form: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("orders/{order_id}/status?customer_id={ALICE}")))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .unwrap()
    }
}

/// The `data-status-id` of each order row, in page order.
fn rows(html: &str) -> Vec<(u64, u8)> {
    html.split("<tr id=\"order-")
        .skip(1)
        .map(|row| {
            let id = row.split('"').next().unwrap().parse().unwrap();
            let status = row
                .split("data-status-id=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            (id, status)
        })
        .collect()
}

#[tokio::test]
async fn the_orders_page_lists_orders_newest_first_with_a_status_form_each() {
    let panel = Panel::start().await;

    let (status, all) = panel.page("orders").await;
    let (_, alice) = panel.page(&format!("orders?customer_id={ALICE}")).await;
    let (_, last_page) = panel.page("orders?page=6").await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&all).len(), 50);
    assert_eq!(rows(&all)[0].0, 370, "the newest first");
    assert!(all.contains("271 orders, page 1 of 6"), "{all}");
    assert_eq!(
        rows(&alice),
        [(369, 11), (367, 2), (364, 5), (321, 10)],
        "her orders and their statuses"
    );
    assert!(
        alice.contains("Sandbox Store (Catalyst)"),
        "order 321's channel"
    );
    assert!(alice.contains(&format!(
        "<form method=\"post\" action=\"/manage/orders/{OPEN_ORDER}/status?customer_id={ALICE}\">"
    )));
    assert_eq!(alice.matches("<option value=").count(), 4 * 15);
    assert!(alice.contains("<option value=\"11\" selected>Awaiting Fulfillment</option>"));
    assert_eq!(rows(&last_page).len(), 21);
    assert!(all.contains("<a href=\"/manage/orders\" aria-current=\"page\">Orders</a>"));
    panel.running.stop().await;
}

#[tokio::test]
async fn a_status_change_answers_once_the_destination_has_its_webhooks() {
    let destination = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&destination)
        .await;
    let panel = Panel::start().await;
    panel
        .running
        .set_webhook_destination(Some(destination.uri().parse().unwrap()));

    let changed = panel.change(&OPEN_ORDER.to_string(), "status_id=2").await;
    let received = destination.received_requests().await.unwrap();
    let unchanged = panel.change(&OPEN_ORDER.to_string(), "status_id=2").await;
    let (_, page) = panel
        .page(&format!("orders?customer_id={ALICE}&changed={OPEN_ORDER}"))
        .await;

    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        changed.headers()[LOCATION],
        format!("/manage/orders?customer_id={ALICE}&changed={OPEN_ORDER}#order-{OPEN_ORDER}")
            .as_str()
    );
    assert_eq!(panel.running.store().order_status(OPEN_ORDER), Some(2));
    let bodies: Vec<Value> = received
        .iter()
        .map(|request| serde_json::from_slice(&request.body).unwrap())
        .collect();
    let scopes: Vec<&str> = bodies
        .iter()
        .map(|body| body["scope"].as_str().unwrap())
        .collect();
    assert_eq!(scopes, ["store/order/statusUpdated", "store/order/updated"]);
    assert_eq!(
        bodies[0]["data"],
        json!({"type": "order", "id": OPEN_ORDER, "status": {"previous_status_id": 11, "new_status_id": 2}})
    );
    assert_eq!(unchanged.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        destination.received_requests().await.unwrap().len(),
        2,
        "the same status again changes nothing"
    );
    assert!(page.contains("Order #369 is now <strong>Shipped</strong>."));
    assert_eq!(rows(&page)[0], (OPEN_ORDER, 2));
    panel.running.stop().await;
}

#[tokio::test]
async fn an_unknown_order_or_status_is_refused_and_changes_nothing() {
    let panel = Panel::start().await;

    let unknown_order = panel.change("99999", "status_id=2").await;
    let unknown_status = panel.change(&OPEN_ORDER.to_string(), "status_id=15").await;
    let not_a_number = panel
        .change(&OPEN_ORDER.to_string(), "status_id=shipped")
        .await;

    assert_eq!(unknown_order.status(), StatusCode::NOT_FOUND);
    assert!(
        unknown_order
            .text()
            .await
            .unwrap()
            .contains("There is no such order.")
    );
    assert_eq!(unknown_status.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown_status
            .text()
            .await
            .unwrap()
            .contains("There is no order status 15.")
    );
    assert_eq!(not_a_number.status(), StatusCode::BAD_REQUEST);
    assert_eq!(panel.running.store().order_status(OPEN_ORDER), Some(11));
    panel.running.stop().await;
}
