//! Behaviour of the sandbox BigCommerce store over HTTP: Management API authentication, v2
//! paging and errors, the quota window, metafield writes, request counters and the storefront's
//! sign-in and `/customer/current.jwt`. Each test starts its own sandbox on a free port.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use order_metafields_sandbox::{
    self as sandbox, RequestKind, RunningSandbox, SandboxConfig, SeedSpec,
};
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

struct TestStore {
    running: RunningSandbox,
    config: SandboxConfig,
    client: reqwest::Client,
}

impl TestStore {
    async fn start(config: SandboxConfig) -> Self {
        let running = sandbox::start(config.clone()).await.unwrap();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            running,
            config,
            client,
        }
    }

    async fn demo() -> Self {
        Self::start(SandboxConfig::demo_defaults()).await
    }

    fn api(&self, tail: &str) -> String {
        format!(
            "{}stores/{}/{tail}",
            self.running.api_base_url(),
            self.config.store_hash
        )
    }

    async fn get(&self, tail: &str) -> reqwest::Response {
        self.client
            .get(self.api(tail))
            .header("X-Auth-Token", &self.config.access_token)
            .send()
            .await
            .unwrap()
    }

    async fn order_ids(&self, tail: &str) -> (StatusCode, Vec<u64>) {
        let response = self.get(tail).await;
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return (status, Vec::new());
        }
        let body: Value = response.json().await.unwrap();
        let ids = body
            .as_array()
            .unwrap()
            .iter()
            .map(|order| order["id"].as_u64().unwrap())
            .collect();
        (status, ids)
    }

    /// Signs in through the form and returns the session cookie pair.
    async fn sign_in(&self, email: &str) -> String {
        let response = self
            .client
            .post(format!("{}login", self.running.storefront_url()))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("email={email}&password={}", sandbox::DEMO_PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        cookie.split(';').next().unwrap().to_owned()
    }

    async fn current_jwt(
        &self,
        cookie: Option<&str>,
        client_id: Option<&str>,
    ) -> reqwest::Response {
        let mut url = format!("{}customer/current.jwt", self.running.storefront_url());
        if let Some(client_id) = client_id {
            url.push_str(&format!("?app_client_id={client_id}"));
        }
        let mut request = self.client.get(url);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.unwrap()
    }
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn management_api_is_401_without_the_right_access_token() {
    let store = TestStore::demo().await;
    let cases = [
        (None, "v2/orders", "no token on v2"),
        (Some("wrong"), "v2/orders", "wrong token on v2"),
        (None, "v3/orders/metafields", "no token on v3"),
    ];

    for (token, tail, description) in cases {
        let mut request = store.client.get(store.api(tail));
        if let Some(token) = token {
            request = request.header("X-Auth-Token", token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{description}");
        let body: Value = response.json().await.unwrap();
        if tail.starts_with("v2") {
            assert_eq!(body[0]["status"], 401, "{description}: {body}");
            assert!(body[0]["message"].is_string(), "{description}: {body}");
        } else {
            assert_eq!(body["status"], 401, "{description}: {body}");
            assert!(body["title"].is_string(), "{description}: {body}");
        }
    }
    store.running.stop().await;
}

#[tokio::test]
async fn management_api_is_404_for_another_store_hash() {
    let store = TestStore::demo().await;

    let response = store
        .client
        .get(format!(
            "{}stores/otherhash/v2/orders",
            store.running.api_base_url()
        ))
        .header("X-Auth-Token", &store.config.access_token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    store.running.stop().await;
}

#[tokio::test]
async fn orders_list_is_204_with_no_body_when_customer_has_none() {
    let store = TestStore::demo().await;
    let carol = store.running.store().customers()[2].clone();
    assert_eq!(
        (carol.email.as_str(), carol.order_count),
        ("carol@example.com", 0)
    );

    let response = store
        .get(&format!("v2/orders?customer_id={}", carol.id))
        .await;

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.unwrap().is_empty());
    store.running.stop().await;
}

#[tokio::test]
async fn orders_list_pages_through_all_260_orders_of_one_customer() {
    let store = TestStore::demo().await;

    let (first_status, first) = store
        .order_ids("v2/orders?customer_id=4&limit=250&page=1")
        .await;
    let (second_status, second) = store
        .order_ids("v2/orders?customer_id=4&limit=250&page=2")
        .await;
    let (third_status, third) = store
        .order_ids("v2/orders?customer_id=4&limit=250&page=3")
        .await;

    assert_eq!((first_status, first.len()), (StatusCode::OK, 250));
    assert_eq!((second_status, second.len()), (StatusCode::OK, 10));
    assert_eq!((third_status, third.len()), (StatusCode::NO_CONTENT, 0));
    let all: Vec<u64> = first.into_iter().chain(second).collect();
    assert_eq!(all, store.running.store().orders_of(4));
    assert!(all.windows(2).all(|pair| pair[0] < pair[1]));
    store.running.stop().await;
}

#[tokio::test]
async fn orders_list_defaults_to_50_and_includes_guest_orders_without_a_customer_filter() {
    let store = TestStore::demo().await;

    let (_, default_page) = store.order_ids("v2/orders").await;
    let mut customers = Vec::new();
    for page in 1..=2 {
        let response = store.get(&format!("v2/orders?limit=250&page={page}")).await;
        let orders: Value = response.json().await.unwrap();
        customers.extend(
            orders
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["customer_id"].as_u64().unwrap()),
        );
    }

    assert_eq!(default_page.len(), 50);
    assert_eq!(customers.len(), 271);
    assert_eq!(customers.iter().filter(|id| **id == 0).count(), 3);
    store.running.stop().await;
}

#[tokio::test]
async fn orders_list_refuses_a_limit_over_250_with_413_and_a_v2_error_array() {
    let store = TestStore::demo().await;

    let response = store.get("v2/orders?customer_id=4&limit=251").await;

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body[0]["status"], 413);
    assert!(body[0]["message"].is_string());
    store.running.stop().await;
}

#[tokio::test]
async fn orders_sorted_by_date_created_descending_put_the_newest_first() {
    let store = TestStore::demo().await;

    let response = store
        .get("v2/orders?customer_id=1&sort=date_created:desc")
        .await;

    let orders: Value = response.json().await.unwrap();
    let ids: Vec<u64> = orders
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_u64().unwrap())
        .collect();
    let mut expected = store.running.store().orders_of(1);
    expected.reverse();
    assert_eq!(ids, expected);
    assert_eq!(orders[0]["status"], "Awaiting Fulfillment");
    assert_eq!(orders[0]["date_shipped"], "");
    store.running.stop().await;
}

#[tokio::test]
async fn single_order_is_v2_shaped_and_unknown_ids_are_404_with_a_v2_error_array() {
    let store = TestStore::demo().await;
    let alice_shipped = store.running.store().orders_of(1)[2];

    let found: Value = store
        .get(&format!("v2/orders/{alice_shipped}"))
        .await
        .json()
        .await
        .unwrap();
    let missing = store.get("v2/orders/99999").await;

    assert_eq!(found["customer_id"], 1);
    assert_eq!(found["status"], "Shipped");
    assert_eq!(found["currency_code"], "USD");
    assert!(
        found["total_inc_tax"]
            .as_str()
            .unwrap()
            .ends_with(|c: char| c.is_ascii_digit())
    );
    assert_eq!(
        found["total_inc_tax"]
            .as_str()
            .unwrap()
            .split('.')
            .nth(1)
            .unwrap()
            .len(),
        4
    );
    assert!(found["date_created"].as_str().unwrap().ends_with("+0000"));
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(
        body,
        json!([{"status": 404, "message": "The requested resource was not found."}])
    );
    store.running.stop().await;
}

#[tokio::test]
async fn every_management_answer_carries_quota_headers_and_a_spent_quota_is_429() {
    let store = TestStore::start(SandboxConfig {
        quota: 5,
        quota_window: Duration::from_secs(30),
        ..SandboxConfig::demo_defaults()
    })
    .await;
    let mut lefts = Vec::new();

    for _ in 0..5 {
        let response = store.get("v2/orders?customer_id=3").await;
        assert_eq!(header(&response, "x-rate-limit-requests-quota"), "5");
        assert_eq!(header(&response, "x-rate-limit-time-window-ms"), "30000");
        assert!(
            header(&response, "x-rate-limit-time-reset-ms")
                .parse::<u64>()
                .unwrap()
                <= 30_000
        );
        lefts.push(header(&response, "x-rate-limit-requests-left"));
    }
    let refused = store.get("v2/orders/100").await;

    assert_eq!(lefts, ["4", "3", "2", "1", "0"]);
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&refused, "x-rate-limit-requests-left"), "0");
    let reset_ms: u64 = header(&refused, "x-rate-limit-time-reset-ms")
        .parse()
        .unwrap();
    let retry_after: u64 = header(&refused, "x-retry-after").parse().unwrap();
    assert!(reset_ms > 0 && reset_ms <= 30_000);
    assert_eq!(retry_after, reset_ms.div_ceil(1_000));
    assert!(refused.json::<Value>().await.is_ok());
    store.running.stop().await;
}

#[tokio::test]
async fn configured_latency_delays_management_answers() {
    let store = TestStore::start(SandboxConfig {
        latency: Duration::from_millis(300),
        ..SandboxConfig::demo_defaults()
    })
    .await;
    let started = Instant::now();

    let response = store.get("v2/orders/100").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
    store.running.stop().await;
}

#[tokio::test]
async fn request_counters_count_management_calls_by_kind() {
    let store = TestStore::demo().await;
    let handle = store.running.store();

    store.get("v2/orders?customer_id=1").await;
    store.get("v2/orders?customer_id=2").await;
    store.get("v2/orders/100").await;
    store.get("v3/orders/100/metafields").await;
    store.get("v3/orders/metafields").await;
    store.get("v2/orders/count").await;

    assert_eq!(handle.management_requests(), 6);
    assert_eq!(handle.management_requests_of(RequestKind::OrdersList), 2);
    assert_eq!(handle.management_requests_of(RequestKind::Order), 1);
    assert_eq!(
        handle.management_requests_of(RequestKind::OrderMetafields),
        1
    );
    assert_eq!(
        handle.management_requests_of(RequestKind::BatchMetafields),
        1
    );
    assert_eq!(handle.management_requests_of(RequestKind::OrdersCount), 1);
    handle.reset_request_counts();
    assert_eq!(handle.management_requests(), 0);
    store.running.stop().await;
}

#[tokio::test]
async fn order_metafields_are_filtered_by_namespace_and_paged_with_links() {
    let store = TestStore::demo().await;
    let alice_shipped = store.running.store().orders_of(1)[2];

    let all: Value = store
        .get(&format!("v3/orders/{alice_shipped}/metafields"))
        .await
        .json()
        .await
        .unwrap();
    let tracking: Value = store
        .get(&format!(
            "v3/orders/{alice_shipped}/metafields?namespace=shipping_tracking&limit=1"
        ))
        .await
        .json()
        .await
        .unwrap();

    let permission_sets: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["permission_set"].as_str().unwrap())
        .collect();
    assert_eq!(
        permission_sets,
        [
            "read_and_sf_access",
            "read_and_sf_access",
            "app_only",
            "read"
        ]
    );
    assert_eq!(all["data"][0]["resource_type"], "order");
    assert_eq!(all["data"][0]["resource_id"], alice_shipped);
    assert_eq!(tracking["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        tracking["meta"]["pagination"],
        json!({"total": 2, "count": 1, "per_page": 1, "current_page": 1, "total_pages": 2,
               "links": {"current": "?namespace=shipping_tracking&page=1&limit=1",
                         "next": "?namespace=shipping_tracking&page=2&limit=1"}})
    );
    store.running.stop().await;
}

#[tokio::test]
async fn metafield_writes_validate_like_bigcommerce() {
    let store = TestStore::demo().await;
    let order_id = store.running.store().orders_of(2)[0];
    let url = store.api(&format!("v3/orders/{order_id}/metafields"));
    let post = |body: Value| {
        store
            .client
            .post(&url)
            .header("X-Auth-Token", &store.config.access_token)
            .json(&body)
            .send()
    };
    let body = json!({"permission_set": "read_and_sf_access", "namespace": "gift", "key": "message", "value": "Enjoy"});

    let created = post(body.clone()).await.unwrap();
    let duplicate = post(body).await.unwrap();
    let invalid =
        post(json!({"permission_set": "read", "namespace": "", "key": "k", "value": "v"}))
            .await
            .unwrap();
    let unknown_order = store
        .client
        .post(store.api("v3/orders/99999/metafields"))
        .header("X-Auth-Token", &store.config.access_token)
        .json(&json!({"permission_set": "read", "namespace": "n", "key": "k", "value": "v"}))
        .send()
        .await
        .unwrap();

    assert_eq!(created.status(), StatusCode::OK);
    let created: Value = created.json().await.unwrap();
    assert_eq!(
        created["data"]["owner_client_id"],
        store.config.client_id.as_str()
    );
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let invalid: Value = invalid.json().await.unwrap();
    assert!(invalid["errors"]["namespace"].is_string(), "{invalid}");
    assert_eq!(unknown_order.status(), StatusCode::NOT_FOUND);
    store.running.stop().await;
}

#[tokio::test]
async fn metafield_update_and_delete_change_what_the_api_serves() {
    let store = TestStore::demo().await;
    let order_id = store.running.store().orders_of(1)[3];
    let slot = store.running.store().metafields_of(order_id)[0].clone();
    assert_eq!(
        (slot.namespace.as_str(), slot.key.as_str()),
        ("delivery", "slot")
    );
    let url = store.api(&format!("v3/orders/{order_id}/metafields/{}", slot.id));

    let updated = store
        .client
        .put(&url)
        .header("X-Auth-Token", &store.config.access_token)
        .json(&json!({"value": "2025-11-15 13:00-17:00"}))
        .send()
        .await
        .unwrap();
    let deleted = store
        .client
        .delete(&url)
        .header("X-Auth-Token", &store.config.access_token)
        .send()
        .await
        .unwrap();
    let after = store
        .get(&format!("v3/orders/{order_id}/metafields/{}", slot.id))
        .await;

    assert_eq!(updated.status(), StatusCode::OK);
    let updated: Value = updated.json().await.unwrap();
    assert_eq!(updated["data"]["value"], "2025-11-15 13:00-17:00");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(after.status(), StatusCode::NOT_FOUND);
    store.running.stop().await;
}

#[tokio::test]
async fn store_handle_changes_are_served_at_once() {
    let store = TestStore::demo().await;
    let handle = store.running.store();
    let order_id = handle.orders_of(2)[0];
    let tracking = handle.metafields_of(order_id)[0].clone();

    assert!(handle.set_metafield_value(tracking.id, "https://example.com/new"));
    let new_order = handle.add_order(3);
    let metafields: Value = store
        .get(&format!("v3/orders/{order_id}/metafields"))
        .await
        .json()
        .await
        .unwrap();
    let (status, carol_orders) = store.order_ids("v2/orders?customer_id=3").await;

    assert_eq!(metafields["data"][0]["value"], "https://example.com/new");
    assert_eq!((status, carol_orders), (StatusCode::OK, vec![new_order]));
    assert_eq!(new_order, 371);
    assert!(!handle.set_metafield_value(999_999, "nothing"));
    store.running.stop().await;
}

/// How fast is the benchmarks' question (`tools/bench`); a test only checks the answer.
#[tokio::test]
async fn a_benchmark_sized_store_serves_one_customers_orders() {
    let store = TestStore::start(SandboxConfig {
        seed: SeedSpec {
            extra_customers: 5_000,
            extra_orders_per_customer: 20,
            rng_seed: 42,
            ..SeedSpec::default()
        },
        ..SandboxConfig::demo_defaults()
    })
    .await;
    let handle = store.running.store();
    let customers = handle.customers();
    let last = customers.last().unwrap().clone();

    let (status, ids) = store
        .order_ids(&format!("v2/orders?customer_id={}&limit=250", last.id))
        .await;

    assert_eq!(customers.len(), 5_005);
    assert_eq!((status, ids.len()), (StatusCode::OK, 20));
    assert_eq!(ids, handle.orders_of(last.id));
    store.running.stop().await;
}

#[tokio::test]
async fn current_jwt_is_404_for_a_guest() {
    let store = TestStore::demo().await;

    let response = store.current_jwt(None, Some(&store.config.client_id)).await;

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&response, CACHE_CONTROL.as_str()), "no-store");
    store.running.stop().await;
}

#[tokio::test]
async fn current_jwt_is_404_for_a_wrong_or_missing_app_client_id() {
    let store = TestStore::demo().await;
    let cookie = store.sign_in("alice@example.com").await;

    let wrong = store.current_jwt(Some(&cookie), Some("another-app")).await;
    let missing = store.current_jwt(Some(&cookie), None).await;

    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    store.running.stop().await;
}

#[tokio::test]
async fn signed_in_shopper_gets_a_token_with_every_current_customer_claim() {
    let store = TestStore::demo().await;
    let cookie = store.sign_in("Alice@Example.com").await;

    let response = store
        .current_jwt(Some(&cookie), Some(&store.config.client_id))
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CACHE_CONTROL.as_str()), "no-store");
    assert!(header(&response, CONTENT_TYPE.as_str()).starts_with("text/plain"));
    let token = response.text().await.unwrap();
    let header = decode_header(&token).unwrap();
    assert_eq!(
        (header.alg, header.typ.as_deref()),
        (Algorithm::HS256, Some("JWT"))
    );
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[&store.config.client_id]);
    validation.set_issuer(&["bc/apps"]);
    let claims = decode::<Value>(
        &token,
        &DecodingKey::from_secret(store.config.client_secret.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims;
    let issued_at = claims["iat"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(issued_at.abs_diff(now) <= 5);
    assert_eq!(claims["exp"].as_u64().unwrap(), issued_at + 900);
    assert_eq!(
        claims,
        json!({
            "customer": {"id": 1, "email": "alice@example.com", "group_id": "1"},
            "iss": "bc/apps", "sub": "sandbox1", "iat": issued_at, "exp": issued_at + 900,
            "version": 1, "aud": store.config.client_id, "application_id": store.config.client_id,
            "store_hash": "sandbox1", "operation": "current_customer"
        })
    );
    store.running.stop().await;
}

#[tokio::test]
async fn current_jwt_answers_a_token_object_when_json_is_accepted() {
    let store = TestStore::demo().await;
    let cookie = store.sign_in("bob@example.com").await;

    let response = store
        .client
        .get(format!(
            "{}customer/current.jwt?app_client_id={}",
            store.running.storefront_url(),
            store.config.client_id
        ))
        .header(COOKIE, &cookie)
        .header("Accept", "application/json, text/plain, */*")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CONTENT_TYPE.as_str()), "application/json");
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3);
    store.running.stop().await;
}

#[tokio::test]
async fn configured_hs512_signs_current_customer_tokens_with_hs512() {
    let store = TestStore::start(SandboxConfig {
        jwt_algorithm: Algorithm::HS512,
        ..SandboxConfig::demo_defaults()
    })
    .await;
    let cookie = store.sign_in("erin@example.com").await;

    let token = store
        .current_jwt(Some(&cookie), Some(&store.config.client_id))
        .await
        .text()
        .await
        .unwrap();

    assert_eq!(decode_header(&token).unwrap().alg, Algorithm::HS512);
    store.running.stop().await;
}

#[tokio::test]
async fn sign_out_ends_the_session_and_a_wrong_password_starts_none() {
    let store = TestStore::demo().await;
    let cookie = store.sign_in("alice@example.com").await;
    let storefront = store.running.storefront_url();

    let signed_out = store
        .client
        .post(format!("{storefront}logout"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    let after = store
        .current_jwt(Some(&cookie), Some(&store.config.client_id))
        .await;
    let refused = store
        .client
        .post(format!("{storefront}login"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("email=alice%40example.com&password=guess")
        .send()
        .await
        .unwrap();

    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&signed_out, LOCATION.as_str()), "/");
    assert!(header(&signed_out, SET_COOKIE.as_str()).contains("Max-Age=0"));
    assert_eq!(after.status(), StatusCode::NOT_FOUND);
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.headers().get(SET_COOKIE).is_none());
    store.running.stop().await;
}

#[tokio::test]
async fn sign_in_page_lists_the_demo_shoppers_and_their_password() {
    let store = TestStore::demo().await;

    let response = store
        .client
        .get(format!("{}login", store.running.storefront_url()))
        .send()
        .await
        .unwrap();

    assert!(header(&response, CONTENT_TYPE.as_str()).starts_with("text/html"));
    let page = response.text().await.unwrap();
    for email in [
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
        "erin@example.com",
    ] {
        assert!(page.contains(email), "{email} listed");
    }
    assert!(page.contains(sandbox::DEMO_PASSWORD));
    store.running.stop().await;
}

#[tokio::test]
async fn stopped_sandbox_no_longer_answers() {
    let store = TestStore::demo().await;
    let url = store.api("v2/orders");
    let client = store.client.clone();

    store.running.stop().await;
    let result = client.get(url).send().await;

    assert!(result.is_err());
}
