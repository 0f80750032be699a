//! Several replicas on one PostgreSQL database (issue 17): what one replica learns, every
//! other acts on within a second; a replica that lost its listening connection serves
//! nothing it cannot vouch for; a BigCommerce outage leaves every replica ready, serving
//! cached and stale answers. Each test needs `TEST_POSTGRES_URL` and says so when unset.
//! Every wait is a bounded poll; no sleep is an assertion.

use std::time::Duration;

use order_metafields_service::database::Database;
use order_metafields_service::domain::StoreHash;
use order_metafields_service::replicas::{SILENT_AFTER, announce_forgotten};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::app::{OWNER_ID, customer_token, payload};
use crate::helpers::replicas::{Cluster, within};
use crate::helpers::{metafield_page, v2_order, v3_metafield};

const STORE: &str = "abc123";
/// The contract: every replica hears of a change within this.
const ONE_SECOND: Duration = Duration::from_secs(1);
/// How long a replica is given to serve a store another replica installed before the test
/// gives up (the contract's second, and some room for a loaded machine's start).
const SETTLE: Duration = Duration::from_secs(5);

/// Mounts customer 7's order 100 and its metafield `key` (priority `priority`: lower wins).
async fn mount_order(cluster: &Cluster, key: &str, priority: u8) {
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE}/v2/orders")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([v2_order(100, 7, 1)])))
        .with_priority(priority)
        .mount(&cluster.bigcommerce)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE}/v3/orders/100/metafields")))
        .respond_with(ResponseTemplate::new(200).set_body_json(metafield_page(
            vec![v3_metafield(1, 100, "read_and_sf_access", "shipping", key)],
            1,
            1,
            1,
        )))
        .with_priority(priority)
        .mount(&cluster.bigcommerce)
        .await;
}

/// The metafield key replica `number` answers for order 100, or its status when not 200.
async fn key_on(cluster: &Cluster, number: usize) -> Result<String, u16> {
    let response = cluster
        .get(
            number,
            "/v1/orders/100/metafields",
            Some(&customer_token(STORE, 7)),
        )
        .await;
    if response.status() != 200 {
        return Err(response.status().as_u16());
    }
    let body: Value = response.json().await.map_err(|_| 0u16)?;
    Ok(body["data"][0]["key"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// Installs the store through replica 1, waits until every replica serves it, and has
/// every replica cache `before`.
async fn installed_and_cached(cluster: &Cluster) {
    mount_order(cluster, "before", 10).await;
    cluster.install(1, STORE, "token-of-abc123").await;
    for number in 1..=cluster.replicas.len() {
        let served = within(SETTLE, || async {
            key_on(cluster, number).await.as_deref() == Ok("before")
        })
        .await;
        assert!(served.is_some(), "replica {number} never served the store");
    }
}

fn metafield_updated() -> Value {
    json!({"scope": "store/order/metafield/updated", "store_id": "1",
           "data": {"metafield_id": 1, "resource_id": "100"},
           "hash": uuid::Uuid::new_v4().to_string(), "created_at": 1,
           "producer": format!("stores/{STORE}")})
}

#[tokio::test]
async fn a_store_installed_on_one_replica_is_served_by_every_replica_within_a_second() {
    let Some(cluster) = Cluster::spawn("install fan-out", 3, &[]).await else {
        return;
    };
    mount_order(&cluster, "before", 10).await;

    let unknown = key_on(&cluster, 3).await;
    cluster.install(1, STORE, "token-of-abc123").await;
    let mut took = Vec::new();
    for number in [2, 3] {
        took.push(
            within(ONE_SECOND, || async {
                key_on(&cluster, number).await.as_deref() == Ok("before")
            })
            .await,
        );
    }

    assert_eq!(
        unknown,
        Err(401),
        "not installed yet: its tokens are refused"
    );
    assert!(took.iter().all(Option::is_some), "{took:?}");
}

#[tokio::test]
async fn a_webhook_to_replica_1_changes_what_replicas_2_and_3_answer_within_a_second() {
    let Some(cluster) = Cluster::spawn("webhook fan-out", 3, &[]).await else {
        return;
    };
    installed_and_cached(&cluster).await;
    mount_order(&cluster, "after", 5).await;

    let cached = [key_on(&cluster, 2).await, key_on(&cluster, 3).await];
    let accepted = cluster.deliver(1, STORE, &metafield_updated()).await;
    let mut took = Vec::new();
    for number in [2, 3] {
        took.push(
            within(ONE_SECOND, || async {
                key_on(&cluster, number).await.as_deref() == Ok("after")
            })
            .await,
        );
    }
    let metrics = cluster.metrics(2).await;

    assert_eq!(
        cached,
        [Ok("before".to_owned()), Ok("before".to_owned())],
        "the new value is not served before the webhook: the cache answers"
    );
    assert_eq!(accepted.status(), 200);
    assert!(took.iter().all(Option::is_some), "{took:?}");
    assert!(
        metrics.contains("order_metafields_replicas_notices_received_total "),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_uninstall_on_replica_2_refuses_the_stores_tokens_on_all_three_within_a_second() {
    let Some(cluster) = Cluster::spawn("uninstall fan-out", 3, &[]).await else {
        return;
    };
    installed_and_cached(&cluster).await;
    // BigCommerce revoked the store's token with the uninstall (the callback checks it).
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE}/v2/orders")))
        .and(wiremock::matchers::query_param("limit", "1"))
        .respond_with(ResponseTemplate::new(401))
        .with_priority(1)
        .mount(&cluster.bigcommerce)
        .await;

    let uninstall = cluster
        .client
        .get(crate::helpers::app::with_query(
            &format!("{}/bigcommerce/uninstall", cluster.replica(2).address),
            &[("signed_payload_jwt", &payload(STORE, OWNER_ID))],
        ))
        .send()
        .await
        .unwrap();
    let mut took = Vec::new();
    for number in [1, 2, 3] {
        took.push(
            within(ONE_SECOND, || async {
                key_on(&cluster, number).await == Err(401)
            })
            .await,
        );
    }

    assert_eq!(uninstall.status(), 200);
    assert!(took.iter().all(Option::is_some), "{took:?}");
}

#[tokio::test]
async fn a_store_an_operator_forgets_is_refused_by_every_replica_within_a_second() {
    let Some(cluster) = Cluster::spawn("operator forget", 3, &[]).await else {
        return;
    };
    installed_and_cached(&cluster).await;
    let store = StoreHash::parse(STORE).unwrap();

    // What `order-metafields stores forget` does, from outside every replica.
    let database = Database::connect(&cluster.database_url()).await.unwrap();
    let forgotten = database.forget_store(STORE).await.unwrap();
    announce_forgotten(&database, &store).await.unwrap();
    let mut took = Vec::new();
    for number in [1, 2, 3] {
        took.push(
            within(ONE_SECOND, || async {
                key_on(&cluster, number).await == Err(401)
            })
            .await,
        );
    }

    assert!(forgotten);
    assert!(took.iter().all(Option::is_some), "{took:?}");
}

#[tokio::test]
async fn a_replica_that_lost_its_listening_connection_drops_what_it_cannot_vouch_for() {
    let Some(cluster) = Cluster::spawn("lost listener", 3, &[]).await else {
        return;
    };
    installed_and_cached(&cluster).await;
    // BigCommerce changes with no notice reaching anyone: only a replica that cannot vouch
    // for its cache reloads.
    mount_order(&cluster, "after", 5).await;

    let ended = cluster.terminate_listener(3).await;
    let reloaded = within(SETTLE, || async {
        key_on(&cluster, 3).await.as_deref() == Ok("after")
    })
    .await;
    let others = [key_on(&cluster, 1).await, key_on(&cluster, 2).await];
    let metrics = cluster.metrics(3).await;
    // Listening again: a change announced now reaches replica 3 as before.
    mount_order(&cluster, "after again", 1).await;
    let accepted = cluster.deliver(1, STORE, &metafield_updated()).await;
    let heard = within(SETTLE, || async {
        key_on(&cluster, 3).await.as_deref() == Ok("after again")
    })
    .await;

    assert_eq!(ended, 1, "replica 3's listener was found and ended");
    assert!(reloaded.is_some(), "replica 3 kept serving its cache");
    assert_eq!(
        others,
        [Ok("before".to_owned()), Ok("before".to_owned())],
        "replicas that kept listening vouch for their caches"
    );
    assert!(
        metrics.contains("order_metafields_replicas_resynchronisations_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("order_metafields_replicas_stores_dropped_total 1\n"),
        "{metrics}"
    );
    assert_eq!(accepted.status(), 200);
    assert!(heard.is_some(), "replica 3 listens again");
}

#[tokio::test]
async fn bigcommerce_down_leaves_every_replica_ready_serving_cached_and_stale_answers() {
    let Some(cluster) = Cluster::spawn(
        "bigcommerce down",
        3,
        &[("METAFIELDS_CACHE_TTL", "1s"), ("ORDERS_CACHE_TTL", "1s")],
    )
    .await
    else {
        return;
    };
    installed_and_cached(&cluster).await;
    // BigCommerce goes down for every store path.
    Mock::given(path_regex("^/stores/"))
        .respond_with(ResponseTemplate::new(503))
        .with_priority(1)
        .mount(&cluster.bigcommerce)
        .await;

    let mut answers = Vec::new();
    let mut readiness = Vec::new();
    let mut up = Vec::new();
    for number in 1..=3 {
        // Past the 1 s lifetime: the cached answer is stale, BigCommerce fails, the stale one
        // is served (with its Age).
        let stale = within(SETTLE, || async {
            let response = cluster
                .get(
                    number,
                    "/v1/orders/100/metafields",
                    Some(&customer_token(STORE, 7)),
                )
                .await;
            response.status() == 200 && response.headers().contains_key("age")
        })
        .await;
        answers.push((stale.is_some(), key_on(&cluster, number).await));
        let ready = cluster.get(number, "/readyz", None).await;
        readiness.push((
            ready.status().as_u16(),
            ready.json::<Value>().await.unwrap(),
        ));
        up.push(
            cluster
                .metrics(number)
                .await
                .contains("\norder_metafields_upstream_up 0\n"),
        );
    }

    for (number, (stale, key)) in answers.into_iter().enumerate() {
        assert!(stale, "replica {} served a stale answer", number + 1);
        assert_eq!(key.as_deref(), Ok("before"), "replica {}", number + 1);
    }
    for (status, body) in readiness {
        assert_eq!(status, 200);
        assert_eq!(body["status"], "ready");
        assert_eq!(body["upstream"]["status"], "down", "{body}");
    }
    assert_eq!(up, [true, true, true], "metrics say the upstream is down");
}

/// The sandbox's store, its quota and what the store keeps for other apps at the default
/// `UPSTREAM_QUOTA_SHARE` of one half.
const QUOTA: u32 = 150;
const RESERVE: u32 = QUOTA / 2;
/// What another app leaves of the window before the replicas start: a little over the
/// reserve, far less than three replicas' load asks for.
const SPENT_DOWN_TO: u32 = RESERVE + 15;
/// Shoppers asking at once on each replica, each a cache miss.
const SHOPPERS_PER_REPLICA: usize = 40;

/// One request of another app on the store, with the store's own token: what it left.
async fn another_apps_request(
    client: &reqwest::Client,
    api_base: &str,
    store: &str,
    token: &str,
) -> u32 {
    let response = client
        .get(format!("{api_base}stores/{store}/v2/orders/count"))
        .header("X-Auth-Token", token)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    response
        .headers()
        .get("x-rate-limit-requests-left")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .unwrap()
}

#[tokio::test]
async fn three_replicas_under_load_never_push_a_spent_down_store_below_its_reserve() {
    let mut config = order_metafields_sandbox::SandboxConfig::demo_defaults();
    config.more_stores.clear();
    config.quota = QUOTA;
    // One window for the whole test: what is left at the end is the lowest it ever was.
    config.quota_window = Duration::from_secs(120);
    config.seed.extra_customers = 150;
    config.seed.extra_orders_per_customer = 1;
    let (client_id, client_secret, token) = (
        config.client_id.clone(),
        config.client_secret.clone(),
        config.access_token.clone(),
    );
    let sandbox = order_metafields_sandbox::start(config).await.unwrap();
    let store = sandbox.store_hash().to_owned();
    let api_base = sandbox.api_base_url().to_string();
    let Some(cluster) = Cluster::spawn_in_front_of(
        "quota across replicas",
        &api_base,
        (&client_id, &client_secret),
        &[(&store, &token)],
        3,
        &[],
    )
    .await
    else {
        return;
    };
    let http = reqwest::Client::new();
    // Another app spends the window down (bounded: a window has QUOTA requests).
    let mut left = QUOTA;
    for _ in 0..QUOTA {
        left = another_apps_request(&http, &api_base, &store, &token).await;
        if left <= SPENT_DOWN_TO {
            break;
        }
    }
    let customers: Vec<u64> = sandbox
        .store()
        .customers()
        .iter()
        .map(|customer| customer.id)
        .collect();
    assert!(customers.len() >= 3 * SHOPPERS_PER_REPLICA);

    let requests = customers
        .chunks(SHOPPERS_PER_REPLICA)
        .take(3)
        .enumerate()
        .flat_map(|(replica, shoppers)| {
            shoppers
                .iter()
                .map(move |customer| (replica + 1, *customer))
        })
        .map(|(replica, customer)| {
            let token = order_metafields_sandbox::mint_current_customer_token(
                &client_id,
                client_secret.as_bytes(),
                &store,
                &order_metafields_sandbox::TokenCustomer {
                    id: customer,
                    email: format!("shopper{customer}@example.com"),
                    group_id: "0".to_owned(),
                },
                jsonwebtoken::Algorithm::HS256,
                Duration::from_secs(900),
            )
            .unwrap();
            let cluster = &cluster;
            async move {
                cluster
                    .get(replica, "/v1/orders", Some(&token))
                    .await
                    .status()
                    .as_u16()
            }
        });
    let statuses = futures_util::future::join_all(requests).await;
    let lowest = another_apps_request(&http, &api_base, &store, &token).await + 1;

    let served = statuses.iter().filter(|status| **status == 200).count();
    let paced = statuses.iter().filter(|status| **status == 503).count();
    eprintln!(
        "quota across replicas: spent down to {left}, {served} served, {paced} paced, lowest left {lowest} (reserve {RESERVE})"
    );
    assert_eq!(left, SPENT_DOWN_TO, "another app spent the window down");
    assert_eq!(served + paced, statuses.len(), "{statuses:?}");
    assert!(served >= 1, "the replicas used the room above the reserve");
    assert!(
        lowest >= RESERVE,
        "the replicas together pushed the store to {lowest} requests left, below its reserve of {RESERVE}"
    );
}

#[tokio::test]
async fn single_store_replicas_sharing_a_postgresql_database_share_webhooks_too() {
    let Ok(_) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!(
            "skipped single-store replicas: they share webhooks only on PostgreSQL; set TEST_POSTGRES_URL=$(tools/postgres/start)"
        );
        return;
    };
    let secret = "a-long-random-webhook-secret-for-replicas";
    let database = crate::test_database::TestDatabase::new().await;
    let settings = [
        ("DATABASE_URL", database.url_text.as_str()),
        ("WEBHOOK_SECRET", secret),
    ];
    let first = crate::helpers::spawn_app_with(&settings).await;
    let second = crate::helpers::spawn_app_with(&settings).await;
    for app in [&first, &second] {
        app.mount_orders(7, vec![v2_order(100, 7, 1)], 0..).await;
        app.mount_metafields(
            100,
            vec![v3_metafield(
                1,
                100,
                "read_and_sf_access",
                "shipping",
                "before",
            )],
            0..,
        )
        .await;
    }
    let token = crate::helpers::token_for(7);
    let cached = single_store_key(&second, &token).await;
    for app in [&first, &second] {
        Mock::given(method("GET"))
            .and(path(format!(
                "/stores/{}/v3/orders/100/metafields",
                crate::helpers::STORE_HASH
            )))
            .respond_with(ResponseTemplate::new(200).set_body_json(metafield_page(
                vec![v3_metafield(
                    1,
                    100,
                    "read_and_sf_access",
                    "shipping",
                    "after",
                )],
                1,
                1,
                1,
            )))
            .with_priority(1)
            .mount(&app.management)
            .await;
    }
    let delivery = json!({"scope": "store/order/metafield/updated", "store_id": "1",
        "data": {"metafield_id": 1, "resource_id": "100"}, "hash": "h-single-store",
        "created_at": 1, "producer": format!("stores/{}", crate::helpers::STORE_HASH)});
    let accepted = first
        .client
        .post(format!("{}/webhooks/bigcommerce", first.address))
        .header("x-webhook-secret", secret)
        .header("content-type", "application/json")
        .body(delivery.to_string())
        .send()
        .await
        .unwrap();
    let took = within(ONE_SECOND, || async {
        single_store_key(&second, &token).await == "after"
    })
    .await;

    assert_eq!(cached, "before");
    assert_eq!(accepted.status(), 200);
    assert!(took.is_some(), "the second replica kept its cached answer");
}

/// The metafield key a single-store app answers for customer 7's order 100.
async fn single_store_key(app: &crate::helpers::TestApp, token: &str) -> String {
    let response = app.get_metafields(token, "100").await;
    let body: Value = response.json().await.unwrap_or_default();
    body["data"][0]["key"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Opens the store's page on replica `number` through `load`: its session cookie and the
/// page's CSRF token.
async fn merchant_session(cluster: &Cluster, number: usize) -> (String, String) {
    let response = cluster
        .client
        .get(crate::helpers::app::with_query(
            &format!("{}/bigcommerce/load", cluster.replica(number).address),
            &[("signed_payload_jwt", &payload(STORE, OWNER_ID))],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = response.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("the page has a csrf field") + marker.len();
    let csrf = page[start..].split('"').next().unwrap().to_owned();
    (cookie, csrf)
}

/// Saves a field definition through replica 1's merchant page: the form's `fields`.
async fn save_definition(cluster: &Cluster, fields: &[(&str, &str)]) -> reqwest::Response {
    save_form(cluster, "fields", fields).await
}

/// Posts one of replica 1's merchant page forms (`/bigcommerce/stores/{STORE}/{form}`).
async fn save_form(cluster: &Cluster, form: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let (cookie, csrf) = merchant_session(cluster, 1).await;
    cluster
        .client
        .post(format!(
            "{}/bigcommerce/stores/{STORE}/{form}",
            cluster.replica(1).address
        ))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("csrf", &csrf)
                .extend_pairs(fields)
                .finish(),
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_field_definition_saved_on_replica_1_is_applied_by_replicas_2_and_3_within_a_second() {
    let Some(cluster) = Cluster::spawn("definitions fan-out", 3, &[]).await else {
        return;
    };
    installed_and_cached(&cluster).await;

    // The merchant hides the one field the storefront shows (a hidden definition needs no
    // look-up at BigCommerce).
    let saved = save_definition(
        &cluster,
        &[
            ("namespace", "shipping"),
            ("key", "before"),
            ("type", "text"),
            ("hidden", "1"),
        ],
    )
    .await;
    let mut took = Vec::new();
    for number in [2, 3] {
        took.push(
            within(ONE_SECOND, || async {
                let response = cluster
                    .get(
                        number,
                        "/v1/orders/100/metafields",
                        Some(&customer_token(STORE, 7)),
                    )
                    .await;
                response.status() == 200
                    && response.json::<Value>().await.ok() == Some(json!({"data": []}))
            })
            .await,
        );
    }

    assert_eq!(saved.status(), 303);
    assert!(
        took.iter().all(Option::is_some),
        "replicas 2 and 3 still show the hidden field: {took:?}"
    );
}

/// Customer 7's order 100 with one editable gift note of `value` (priority `priority`).
async fn mount_note(cluster: &Cluster, value: &str, priority: u8) {
    let mut note = v3_metafield(1, 100, "write_and_sf_access", "gifts", "note");
    note["value"] = json!(value);
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE}/v2/orders")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([v2_order(100, 7, 1)])))
        .with_priority(priority)
        .mount(&cluster.bigcommerce)
        .await;
    let page = metafield_page(vec![note.clone()], 1, 1, 1);
    // The order's metafields; the merchant page's look-up of the key's permission sets
    // before it saves a definition; the write itself.
    let answers = [
        ("GET", "v3/orders/100/metafields", page.clone()),
        ("GET", "v3/orders/metafields", page),
        ("PUT", "v3/orders/100/metafields/1", json!({"data": note})),
    ];
    for (verb, route, body) in answers {
        Mock::given(method(verb))
            .and(path(format!("/stores/{STORE}/{route}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .with_priority(priority)
            .mount(&cluster.bigcommerce)
            .await;
    }
}

/// The gift note replica `number` answers for order 100.
async fn note_on(cluster: &Cluster, number: usize) -> Option<String> {
    let response = cluster
        .get(
            number,
            "/v1/orders/100/metafields",
            Some(&customer_token(STORE, 7)),
        )
        .await;
    let body: Value = response.json().await.ok()?;
    body["data"][0]["value"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn a_shoppers_write_on_replica_1_is_shown_by_replicas_2_and_3_within_a_second() {
    let Some(cluster) = Cluster::spawn("write fan-out", 3, &[]).await else {
        return;
    };
    mount_note(&cluster, "Old", 10).await;
    cluster.install(1, STORE, "token-of-abc123").await;
    let saved = save_definition(
        &cluster,
        &[
            ("namespace", "gifts"),
            ("key", "note"),
            ("type", "text"),
            ("customer_editable", "1"),
        ],
    )
    .await;
    assert_eq!(saved.status(), 303);
    // Every replica caches the old value once the definition has reached it.
    for number in 1..=3 {
        let cached = within(SETTLE, || async {
            let response = cluster
                .get(
                    number,
                    "/v1/orders/100/metafields",
                    Some(&customer_token(STORE, 7)),
                )
                .await;
            let body: Value = response.json().await.unwrap_or_default();
            body["data"][0]["editable"] == json!(true)
        })
        .await;
        assert!(
            cached.is_some(),
            "replica {number} never showed the editable note"
        );
    }
    mount_note(&cluster, "Happy birthday!", 5).await;
    let cached = [note_on(&cluster, 2).await, note_on(&cluster, 3).await];

    let written = cluster
        .client
        .put(format!(
            "{}/v1/orders/100/metafields/gifts/note",
            cluster.replica(1).address
        ))
        .bearer_auth(customer_token(STORE, 7))
        .json(&json!({"value": "Happy birthday!"}))
        .send()
        .await
        .unwrap();
    let mut took = Vec::new();
    for number in [2, 3] {
        took.push(
            within(ONE_SECOND, || async {
                note_on(&cluster, number).await.as_deref() == Some("Happy birthday!")
            })
            .await,
        );
    }

    assert_eq!(
        cached,
        [Some("Old".to_owned()), Some("Old".to_owned())],
        "before the write the replicas answer from their caches"
    );
    assert_eq!(written.status(), 200);
    assert!(
        took.iter().all(Option::is_some),
        "replicas 2 and 3 still show the old note: {took:?}"
    );
}

/// The order ids replica `number` lists for customer 7 from a page on `origin`.
async fn ids_on(cluster: &Cluster, number: usize, origin: &str) -> Option<Vec<u64>> {
    let response = cluster
        .client
        .get(format!("{}/v1/orders", cluster.replica(number).address))
        .bearer_auth(customer_token(STORE, 7))
        .header("origin", origin)
        .send()
        .await
        .ok()?;
    let body: Value = response.json().await.ok()?;
    let ids = body["data"]
        .as_array()?
        .iter()
        .filter_map(|order| order["id"].as_u64())
        .collect();
    Some(ids)
}

#[tokio::test]
async fn the_channel_setting_switched_on_replica_1_filters_on_replicas_2_and_3_within_a_second() {
    const KIDS: &str = "https://kids.shop.example";
    let Some(cluster) = Cluster::spawn("settings fan-out", 3, &[]).await else {
        return;
    };
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE}/v3/sites")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": 1, "channel_id": 2, "url": KIDS, "urls": [{"url": KIDS, "type": "primary"}]}
        ], "meta": {}})))
        .mount(&cluster.bigcommerce)
        .await;
    let mut kids_order = v2_order(102, 7, 2);
    kids_order["channel_id"] = json!(2);
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE}/v2/orders")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([v2_order(101, 7, 1), kids_order])),
        )
        .mount(&cluster.bigcommerce)
        .await;
    cluster.install(1, STORE, "token-of-abc123").await;
    // Every replica serves the store and has read its sites (the kids' origin is allowed).
    for number in 1..=3 {
        let ready = within(SETTLE, || async {
            let preflight = cluster
                .client
                .request(
                    reqwest::Method::OPTIONS,
                    format!("{}/v1/orders", cluster.replica(number).address),
                )
                .header("origin", KIDS)
                .header("access-control-request-method", "GET")
                .header("access-control-request-headers", "authorization")
                .send()
                .await;
            preflight.is_ok_and(|response| {
                response
                    .headers()
                    .get("access-control-allow-origin")
                    .is_some()
            }) && ids_on(&cluster, number, KIDS).await == Some(vec![102, 101])
        })
        .await;
        assert!(
            ready.is_some(),
            "replica {number} never read the store's sites"
        );
    }

    let switched = save_form(&cluster, "channels", &[("enabled", "1")]).await;
    let mut took = Vec::new();
    for number in [2, 3] {
        took.push(
            within(ONE_SECOND, || async {
                ids_on(&cluster, number, KIDS).await == Some(vec![102])
            })
            .await,
        );
    }

    assert_eq!(switched.status(), 303);
    assert!(
        took.iter().all(Option::is_some),
        "replicas 2 and 3 still list every order: {took:?}"
    );
}

#[tokio::test]
async fn of_two_writes_with_one_if_match_on_two_replicas_one_wins_and_the_other_is_412() {
    use std::sync::{Arc, Mutex};
    use wiremock::Request;

    let Some(cluster) = Cluster::spawn("writes across replicas", 2, &[]).await else {
        return;
    };
    // BigCommerce's gift note of order 100, as it changes with each write.
    let current = Arc::new(Mutex::new("Old".to_owned()));
    let note = |value: &str| {
        let mut note = v3_metafield(1, 100, "write_and_sf_access", "gifts", "note");
        note["value"] = json!(value);
        note
    };
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE}/v2/orders")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([v2_order(100, 7, 1)])))
        .mount(&cluster.bigcommerce)
        .await;
    for route in ["v3/orders/100/metafields", "v3/orders/metafields"] {
        let current = Arc::clone(&current);
        Mock::given(method("GET"))
            .and(path(format!("/stores/{STORE}/{route}")))
            .respond_with(move |request: &Request| {
                let value = current.lock().unwrap().clone();
                let page = metafield_page(vec![note(&value)], 1, 1, 1);
                let answer = ResponseTemplate::new(200).set_body_json(page);
                // The write's fresh read of the key is slow: both writes read it before
                // either writes, unless something keeps them apart.
                if request
                    .url
                    .query()
                    .is_some_and(|query| query.contains("key="))
                {
                    answer.set_delay(Duration::from_millis(400))
                } else {
                    answer
                }
            })
            .mount(&cluster.bigcommerce)
            .await;
    }
    let written = Arc::clone(&current);
    Mock::given(method("PUT"))
        .and(path(format!("/stores/{STORE}/v3/orders/100/metafields/1")))
        .respond_with(move |request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            let value = body["value"].as_str().unwrap_or_default().to_owned();
            *written.lock().unwrap() = value.clone();
            ResponseTemplate::new(200).set_body_json(json!({"data": note(&value)}))
        })
        .mount(&cluster.bigcommerce)
        .await;
    cluster.install(1, STORE, "token-of-abc123").await;
    let saved = save_definition(
        &cluster,
        &[
            ("namespace", "gifts"),
            ("key", "note"),
            ("type", "text"),
            ("customer_editable", "1"),
        ],
    )
    .await;
    assert_eq!(saved.status(), 303);
    let put = |number: usize, value: &'static str, if_match: Option<String>| {
        let mut request = cluster
            .client
            .put(format!(
                "{}/v1/orders/100/metafields/gifts/note",
                cluster.replica(number).address
            ))
            .bearer_auth(customer_token(STORE, 7))
            .json(&json!({"value": value}));
        if let Some(if_match) = if_match {
            request = request.header("if-match", if_match);
        }
        request.send()
    };
    // Replica 2 serves the store and its definition before the race starts.
    let ready = within(SETTLE, || async {
        let response = cluster
            .get(
                2,
                "/v1/orders/100/metafields",
                Some(&customer_token(STORE, 7)),
            )
            .await;
        let body: Value = response.json().await.unwrap_or_default();
        body["data"][0]["editable"] == json!(true)
    })
    .await;
    assert!(ready.is_some(), "replica 2 never showed the editable note");
    let first = put(1, "First", None).await.unwrap();
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();

    let (one, two) = tokio::join!(
        put(1, "From replica 1", Some(etag.clone())),
        put(2, "From replica 2", Some(etag.clone()))
    );

    let mut statuses = [
        one.unwrap().status().as_u16(),
        two.unwrap().status().as_u16(),
    ];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [200, 412],
        "one wins, the other is told the field changed"
    );
    let puts = cluster
        .bigcommerce
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|request| request.method.as_str() == "PUT")
        .count();
    assert_eq!(puts, 2, "the first write and the winner's");
}

#[tokio::test]
async fn a_listener_that_goes_silent_without_a_word_is_replaced_and_its_cache_dropped() {
    let Some(cluster) = Cluster::spawn("silent listener", 2, &[]).await else {
        return;
    };
    installed_and_cached(&cluster).await;
    mount_order(&cluster, "after", 5).await;

    // Replica 2's listening connection stays open and says nothing from now on.
    let stopped = cluster.silence_listener(2).await;
    let accepted = cluster.deliver(1, STORE, &metafield_updated()).await;
    let on_replica_1 = within(ONE_SECOND, || async {
        key_on(&cluster, 1).await.as_deref() == Ok("after")
    })
    .await;
    // Found silent within SILENT_AFTER and a heartbeat or two: it listens anew and drops
    // what it could not vouch for.
    let recovered = within(SILENT_AFTER + Duration::from_secs(15), || async {
        key_on(&cluster, 2).await.as_deref() == Ok("after")
    })
    .await;
    let metrics = cluster.metrics(2).await;
    mount_order(&cluster, "after again", 1).await;
    let again = cluster.deliver(1, STORE, &metafield_updated()).await;
    let heard = within(SETTLE, || async {
        key_on(&cluster, 2).await.as_deref() == Ok("after again")
    })
    .await;
    crate::helpers::replicas::resume(&stopped);

    assert!(!stopped.is_empty(), "replica 2's listener was found");
    assert_eq!(accepted.status(), 200);
    assert!(on_replica_1.is_some());
    assert!(recovered.is_some(), "replica 2 kept serving its cache");
    assert!(
        metrics.contains("order_metafields_replicas_failures_total{reason=\"silent\"} 1\n"),
        "{metrics}"
    );
    assert_eq!(again.status(), 200);
    assert!(heard.is_some(), "replica 2 listens again");
}
