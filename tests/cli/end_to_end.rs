//! The real service against the sandbox store over HTTP, as a storefront uses it: sign in,
//! fetch `/customer/current.jwt`, call the API with that token.

use std::time::{Duration, Instant};

use order_metafields::demo::{Demo, DemoOptions, WEBHOOK_PATH};
use order_metafields_sandbox::{self as sandbox, RequestKind, RunningSandbox, SandboxConfig};
use order_metafields_service::config::Settings;
use order_metafields_service::startup::Application;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::Value;

struct Stack {
    sandbox: RunningSandbox,
    service: String,
    client: reqwest::Client,
}

async fn start_stack(config: SandboxConfig, overrides: &[(&str, &str)]) -> Stack {
    let sandbox = sandbox::start(config.clone()).await.unwrap();
    let base = sandbox.api_base_url().to_string();
    let mut pairs = vec![
        ("BC_STORE_HASH", config.store_hash.as_str()),
        ("BC_ACCESS_TOKEN", config.access_token.as_str()),
        ("BC_CLIENT_ID", config.client_id.as_str()),
        ("BC_CLIENT_SECRET", config.client_secret.as_str()),
        ("BC_API_BASE_URL", base.as_str()),
        ("LISTEN_ADDR", "127.0.0.1:0"),
    ];
    pairs.extend_from_slice(overrides);
    let application = Application::build(Settings::from_pairs(pairs).unwrap())
        .await
        .unwrap();
    let service = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Stack {
        sandbox,
        service,
        client,
    }
}

impl Stack {
    /// Signs in on the storefront and returns the session cookie.
    async fn sign_in(&self, email: &str) -> String {
        let response = self
            .client
            .post(format!("{}login", self.sandbox.storefront_url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "email={}&password={}",
                email.replace('@', "%40"),
                sandbox::DEMO_PASSWORD
            ))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "{}", response.status());
        let cookie = response.headers()[SET_COOKIE].to_str().unwrap();
        cookie.split(';').next().unwrap().to_owned()
    }

    /// Signs in as `email` and fetches their Current Customer JWT, as a storefront page does.
    async fn token_of(&self, email: &str, client_id: &str) -> String {
        let cookie = self.sign_in(email).await;
        let response = self.current_jwt(&cookie, client_id).await;
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// What the storefront's JavaScript does: fetch the shopper's token on the store's origin.
    async fn current_jwt(&self, cookie: &str, client_id: &str) -> reqwest::Response {
        self.client
            .get(format!(
                "{}customer/current.jwt?app_client_id={client_id}",
                self.sandbox.storefront_url()
            ))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap()
    }

    async fn call(&self, route: &str, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{route}", self.service))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_signed_in_shopper_sees_their_orders_and_metafields_and_nobody_elses() {
    let config = SandboxConfig::demo_defaults();
    let stack = start_stack(config.clone(), &[]).await;
    let cookie = stack.sign_in("alice@example.com").await;

    let jwt = stack.current_jwt(&cookie, &config.client_id).await;
    assert_eq!(jwt.status(), 200);
    let token = jwt.text().await.unwrap();
    let orders: Value = stack.call("/v1/orders", &token).await.json().await.unwrap();
    let metafields = stack.call("/v1/orders/369/metafields", &token).await;
    let bobs = stack.call("/v1/orders/365", &token).await;
    let guest = stack.call("/v1/orders/361/metafields", &token).await;

    let ids: Vec<u64> = orders["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|order| order["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![369, 367, 364, 321]);
    assert_eq!(metafields.status(), 200);
    let metafields: Value = metafields.json().await.unwrap();
    let keys: Vec<&str> = metafields["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|metafield| metafield["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        vec!["slot", "message"],
        "erp/sync_state is `write`, hidden"
    );
    assert_eq!(bobs.status(), 404);
    assert_eq!(guest.status(), 404);
}

#[tokio::test]
async fn a_customer_with_more_than_250_orders_sees_them_all() {
    let config = SandboxConfig::demo_defaults();
    let stack = start_stack(config.clone(), &[]).await;
    let token = stack.token_of("dave@example.com", &config.client_id).await;

    let page: Value = stack
        .call("/v1/orders?page=2&limit=250", &token)
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(page["meta"]["pagination"]["total"], 260);
    assert_eq!(page["data"].as_array().unwrap().len(), 10);
    assert_eq!(
        stack
            .sandbox
            .store()
            .management_requests_of(RequestKind::OrdersList),
        2
    );
}

#[tokio::test]
async fn a_quota_spent_by_another_app_makes_the_service_wait_and_recover() {
    let config = SandboxConfig {
        quota: 2,
        quota_window: Duration::from_millis(1500),
        ..SandboxConfig::demo_defaults()
    };
    let stack = start_stack(config.clone(), &[("UPSTREAM_RETRY_BUDGET", "5s")]).await;
    let token = stack.token_of("alice@example.com", &config.client_id).await;
    // Another app on the store spends the whole window first.
    for _ in 0..2 {
        let spent = stack
            .client
            .get(format!(
                "{}stores/{}/v2/orders/count",
                stack.sandbox.api_base_url(),
                config.store_hash
            ))
            .header("x-auth-token", &config.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(spent.status(), 200);
    }
    let started = Instant::now();

    let orders = stack.call("/v1/orders", &token).await;

    assert_eq!(orders.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "waited for the window: {:?}",
        started.elapsed()
    );
    assert_eq!(
        stack
            .sandbox
            .store()
            .management_requests_of(RequestKind::OrdersList),
        2,
        "one 429, then the retry after the reset"
    );
}

#[tokio::test]
async fn the_service_paces_itself_within_its_share_and_never_meets_a_429() {
    let config = SandboxConfig {
        quota: 4,
        quota_window: Duration::from_millis(1500),
        ..SandboxConfig::demo_defaults()
    };
    let stack = start_stack(config.clone(), &[("UPSTREAM_RETRY_BUDGET", "5s")]).await;
    let token = stack.token_of("alice@example.com", &config.client_id).await;
    let started = Instant::now();

    // Half of 4 per window is this service's: the third upstream call waits for the next window.
    let orders = stack.call("/v1/orders", &token).await;
    let first = stack.call("/v1/orders/369/metafields", &token).await;
    let second = stack.call("/v1/orders/367/metafields", &token).await;

    assert_eq!(orders.status(), 200);
    assert_eq!(first.status(), 200);
    assert_eq!(second.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        stack.sandbox.store().management_requests(),
        3,
        "no 429 was met"
    );
}

#[tokio::test]
async fn a_metafield_changed_in_the_store_is_served_on_the_next_request_after_its_webhook() {
    let config = SandboxConfig::demo_defaults();
    // Long lifetimes: only the webhook can make the service fetch again.
    let stack = start_stack(
        config.clone(),
        &[("METAFIELDS_CACHE_TTL", "1h"), ("ORDERS_CACHE_TTL", "1h")],
    )
    .await;
    stack.sandbox.set_webhook_destination(Some(
        format!("{}/webhooks/bigcommerce", stack.service)
            .parse()
            .unwrap(),
    ));
    let token = stack.token_of("alice@example.com", &config.client_id).await;
    let store = stack.sandbox.store();
    let slot = store
        .metafields_of(369)
        .into_iter()
        .find(|metafield| metafield.key == "slot")
        .unwrap();
    let before: Value = stack
        .call("/v1/orders/369/metafields", &token)
        .await
        .json()
        .await
        .unwrap();
    let cached: Value = stack
        .call("/v1/orders/369/metafields", &token)
        .await
        .json()
        .await
        .unwrap();
    let metafield_calls = store.management_requests_of(RequestKind::OrderMetafields);

    assert!(store.set_metafield_value(slot.id, "2025-11-15 14:00-17:00"));
    let deliveries = store.wait_for_deliveries(1, Duration::from_secs(5)).await;
    let after: Value = stack
        .call("/v1/orders/369/metafields", &token)
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(before, cached);
    assert_eq!(metafield_calls, 1, "the second read was a cache hit");
    assert!(
        deliveries
            .iter()
            .all(|delivery| delivery.status == Some(200)),
        "{deliveries:?}"
    );
    assert_eq!(after["data"][0]["value"], "2025-11-15 14:00-17:00");
    assert_eq!(
        store.management_requests_of(RequestKind::OrderMetafields),
        2
    );
}

#[tokio::test]
async fn many_customers_against_a_nearly_spent_quota_keep_the_reserve_and_get_503s() {
    let config = SandboxConfig {
        quota: 20,
        quota_window: Duration::from_secs(30),
        seed: sandbox::SeedSpec {
            extra_customers: 40,
            extra_orders_per_customer: 2,
            ..sandbox::SeedSpec::default()
        },
        ..SandboxConfig::demo_defaults()
    };
    let stack = start_stack(config.clone(), &[("UPSTREAM_RETRY_BUDGET", "2s")]).await;
    let token = |id: u64| {
        sandbox::mint_current_customer_token(
            &config.client_id,
            config.client_secret.as_bytes(),
            &config.store_hash,
            &sandbox::TokenCustomer {
                id,
                email: format!("shopper{id}@example.net"),
                group_id: "0".to_owned(),
            },
            jsonwebtoken::Algorithm::HS256,
            Duration::from_secs(900),
        )
        .unwrap()
    };
    let spend_as_another_app = |count: usize| {
        let client = stack.client.clone();
        let url = format!(
            "{}stores/{}/v2/orders/count",
            stack.sandbox.api_base_url(),
            config.store_hash
        );
        let access_token = config.access_token.clone();
        async move {
            let mut left = None;
            for _ in 0..count {
                let response = client
                    .get(&url)
                    .header("x-auth-token", &access_token)
                    .send()
                    .await
                    .unwrap();
                left = response.headers()["x-rate-limit-requests-left"]
                    .to_str()
                    .ok()
                    .and_then(|value| value.parse::<u32>().ok());
            }
            left
        }
    };
    // Two customers' lists are cached; then other apps spend most of what is left.
    for id in [1, 2] {
        assert_eq!(stack.call("/v1/orders", &token(id)).await.status(), 200);
    }
    assert_eq!(spend_as_another_app(6).await, Some(12));
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let burst = (1..=2).chain(6..=45).map(|id| {
        let token = token(id);
        let stack = &stack;
        async move { (id, stack.call("/v1/orders", &token).await) }
    });
    let responses = futures_util::future::join_all(burst).await;
    let left_after = spend_as_another_app(1).await;

    let mut served = 0;
    let mut refused = 0;
    for (id, response) in responses {
        match response.status().as_u16() {
            200 => served += 1,
            503 => {
                let retry_after: u64 = response.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(
                    (1..=30).contains(&retry_after),
                    "customer {id}: {retry_after}"
                );
                refused += 1;
            }
            status => panic!("customer {id}: unexpected {status}"),
        }
    }
    // Half of 20 is kept for other apps: the service spent 2 more (12 -> 10), no further.
    assert_eq!(served, 2 + 2, "two cached customers and two new ones");
    assert_eq!(refused, 38);
    assert_eq!(
        left_after,
        Some(9),
        "10 left for other apps, this probe spent one of them"
    );
}

#[tokio::test]
async fn the_demo_prints_curl_lines_that_answer_as_described() {
    let demo = Demo::start(DemoOptions {
        service: "127.0.0.1:0".parse().unwrap(),
        sandbox: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .unwrap();
    let instructions = demo.instructions();
    let lines = demo.curl_lines();
    let client = reqwest::Client::new();

    let mut statuses = Vec::new();
    for (line, _) in &lines {
        assert!(instructions.contains(line.as_str()));
        // Each line is `curl -s -i 'URL' -H 'Authorization: Bearer TOKEN'`.
        let parts: Vec<&str> = line.split('\'').collect();
        let (url, header) = (parts[1], parts[3]);
        let (name, value) = header.split_once(": ").unwrap();
        let response = client.get(url).header(name, value).send().await.unwrap();
        statuses.push(response.status().as_u16());
    }

    // Alice's orders, her order, its metafields, Bob's order; the same order id in the
    // second store, its own customer's.
    assert_eq!(statuses, vec![200, 200, 200, 404, 200]);
    assert!(
        instructions.contains("/manage"),
        "the control panels are printed"
    );
    demo.stop().await;
}

#[tokio::test]
async fn the_demo_prints_a_curl_line_with_which_alice_edits_her_gift_message() {
    let demo = Demo::start(DemoOptions {
        service: "127.0.0.1:0".parse().unwrap(),
        sandbox: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .unwrap();
    let line = demo.edit_gift_message_line();
    // `curl -s -i -X PUT 'URL' -H 'Authorization: Bearer TOKEN' -H '…' -d '{…}'`.
    let parts: Vec<&str> = line.split('\'').collect();
    let (url, authorization, body) = (parts[1], parts[3], parts[7]);
    let (name, value) = authorization.split_once(": ").unwrap();
    let client = reqwest::Client::new();

    let edited = client
        .put(url)
        .header(name, value)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = edited.status().as_u16();
    let etag = edited.headers().get("etag").cloned();
    let edited: Value = edited.json().await.unwrap();
    let read: Value = client
        .get(format!("{}/v1/orders/369/metafields", demo.service_url))
        .header(name, value)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert!(demo.instructions().contains(&line));
    assert_eq!(status, 200, "{edited}");
    assert!(etag.is_some());
    assert_eq!(
        edited["data"]["value"],
        "Happy birthday, Sam! Love from Alice"
    );
    assert_eq!(edited["data"]["label"], "Gift message");
    let message = read["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|field| field["key"] == "message")
        .unwrap();
    assert_eq!(message["value"], "Happy birthday, Sam! Love from Alice");
    assert_eq!(message["editable"], true);
    demo.stop().await;
}

#[tokio::test]
async fn the_demo_sends_the_sandbox_webhooks_to_the_service() {
    let demo = Demo::start(DemoOptions {
        service: "127.0.0.1:0".parse().unwrap(),
        sandbox: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .unwrap();
    let line = demo.change_metafield_line().unwrap();
    let instructions = demo.instructions();
    let webhook_url = format!("{}{WEBHOOK_PATH}", demo.service_url);
    // The printed line is `curl -s -X PUT 'URL' -H 'X-Auth-Token: TOKEN' -H '…' -d '{…}'`.
    let parts: Vec<&str> = line.split('\'').collect();
    let (url, token) = (parts[1], parts[3].trim_start_matches("X-Auth-Token: "));

    let changed = reqwest::Client::new()
        .put(url)
        .header("X-Auth-Token", token)
        .header("Content-Type", "application/json")
        .body(parts[7].to_owned())
        .send()
        .await
        .unwrap();
    let records: Vec<_> = demo
        .sandbox
        .store()
        .wait_for_deliveries(1, Duration::from_secs(10))
        .await
        .into_iter()
        .filter(|record| record.hook_id.is_none())
        .collect();

    assert!(instructions.contains(&line));
    assert!(instructions.contains(&webhook_url));
    assert_eq!(changed.status(), 200);
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].destination, webhook_url);
    assert_eq!(records[0].scope, "store/order/metafield/updated");
    // Until the service has its webhook route it answers 404, which the demo shrugs off; either
    // way the service answered.
    assert!(records[0].succeeded(), "{records:#?}");
    demo.stop().await;
}

#[tokio::test]
async fn the_demos_headless_line_answers_alices_metafields_with_a_customer_access_token() {
    let demo = Demo::start(DemoOptions {
        service: "127.0.0.1:0".parse().unwrap(),
        sandbox: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .unwrap();
    let line = demo
        .headless_line()
        .expect("the demo logged alice in through GraphQL");
    let instructions = demo.instructions();
    // `curl -s -i 'URL' -H 'X-Bc-Customer-Access-Token: T' -H 'X-Bc-Store-Hash: H' -H 'X-Bc-Channel-Id: C'`
    let parts: Vec<&str> = line.split('\'').collect();
    let client = reqwest::Client::new();
    let send = || {
        let mut request = client.get(parts[1]);
        for header in [parts[3], parts[5], parts[7]] {
            let (name, value) = header.split_once(": ").unwrap();
            request = request.header(name, value);
        }
        request.send()
    };
    // The service learns the headless channel's GraphQL address from the store's sites,
    // which it reads in the background within seconds of the install: a person reading the
    // demo's output is slower than that, a test is not. Bounded: 50 tries, 10 s.
    let mut headless = send().await.unwrap();
    for _ in 0..50 {
        if headless.status() != 502 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        headless = send().await.unwrap();
    }
    let headless_status = headless.status().as_u16();
    let headless_body: serde_json::Value = headless.json().await.unwrap();
    let with_jwt: serde_json::Value = client
        .get(parts[1])
        .bearer_auth(demo.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Without the store's proof of the shopper, the same headers are refused.
    let mut forged = client.get(parts[1]);
    for header in [parts[5], parts[7]] {
        let (name, value) = header.split_once(": ").unwrap();
        forged = forged.header(name, value);
    }
    let forged = forged
        .header("X-Bc-Customer-Access-Token", "not-a-token-the-store-issued")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();

    assert!(instructions.contains(&line));
    assert_eq!(headless_status, 200, "{headless_body}");
    assert_eq!(
        headless_body, with_jwt,
        "the customer access token sees exactly what alice's JWT sees"
    );
    assert!(
        !headless_body["data"].as_array().unwrap().is_empty(),
        "{headless_body}"
    );
    assert_eq!(forged, 401);
    demo.stop().await;
}
