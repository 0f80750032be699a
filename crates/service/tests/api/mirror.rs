//! `SYNC_MODE=mirror` (issue 18) against the sandbox, a whole fake BigCommerce: reads served
//! from the mirror answer exactly what on-demand reads answer, for every shopper of the
//! sandbox's data set, at zero Management API calls; a change shows within one catch-up
//! interval with no webhook at all; an order moved to another customer leaves the first and
//! reaches the second; a restart in the middle of the initial sync resumes where it stopped.
//! The database is an SQLite file, or a fresh PostgreSQL database with `TEST_POSTGRES_URL`.
//! Every wait is a bounded poll.

use std::time::Duration;

use order_metafields_sandbox::{RequestKind, RunningSandbox, SandboxConfig, TokenCustomer};
use order_metafields_service::config::Settings;
use order_metafields_service::database::{
    Database, DatabaseUrl, MirrorSize, MirrorStateRecord, MirrorWrite, MirroredOrder,
};
use order_metafields_service::startup::Application;
use serde_json::Value;
use tokio::time::Instant;

use crate::test_database::TestDatabase;

/// Where a test's mirror lives: a temporary SQLite file, or a fresh PostgreSQL database.
struct Place {
    url: String,
    _postgres: Option<TestDatabase>,
    _directory: Option<tempfile::TempDir>,
}

impl Place {
    async fn new() -> Self {
        if std::env::var_os("TEST_POSTGRES_URL").is_some() {
            let database = TestDatabase::new().await;
            return Self {
                url: database.url_text.clone(),
                _postgres: Some(database),
                _directory: None,
            };
        }
        let directory = tempfile::tempdir().expect("a temporary directory");
        let url = format!(
            "sqlite://{}",
            directory.path().join("mirror.db").to_string_lossy()
        );
        Self {
            url,
            _postgres: None,
            _directory: Some(directory),
        }
    }

    async fn database(&self) -> Database {
        Database::connect(&self.url.parse::<DatabaseUrl>().expect("a database url"))
            .await
            .expect("the test reaches the database")
    }
}

/// The sandbox and what the app is given to reach its store.
struct Lab {
    sandbox: RunningSandbox,
    client_id: String,
    client_secret: String,
    access_token: String,
}

impl std::ops::Deref for Lab {
    type Target = RunningSandbox;

    fn deref(&self) -> &RunningSandbox {
        &self.sandbox
    }
}

/// The sandbox with one store and a quota no test comes near.
async fn sandbox(extra_customers: u32, orders_each: u32, latency: Duration) -> Lab {
    let mut config = SandboxConfig::demo_defaults();
    config.more_stores.clear();
    config.quota = 100_000;
    config.latency = latency;
    config.seed.extra_customers = extra_customers;
    config.seed.extra_orders_per_customer = orders_each;
    let (client_id, client_secret, access_token) = (
        config.client_id.clone(),
        config.client_secret.clone(),
        config.access_token.clone(),
    );
    Lab {
        sandbox: order_metafields_sandbox::start(config)
            .await
            .expect("the sandbox starts"),
        client_id,
        client_secret,
        access_token,
    }
}

/// A running application, stopped (and its syncs with it) by [`App::stop`].
struct App {
    address: String,
    database: Database,
    handle: actix_web::dev::ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl App {
    async fn start(sandbox: &Lab, database: &str, mode: &str) -> Self {
        Self::start_with(sandbox, database, mode, "1s").await
    }

    async fn start_with(sandbox: &Lab, database: &str, mode: &str, catch_up: &str) -> Self {
        Self::start_with_pairs(
            sandbox,
            database,
            &[("SYNC_MODE", mode), ("MIRROR_CATCH_UP_INTERVAL", catch_up)],
        )
        .await
    }

    async fn start_with_pairs(sandbox: &Lab, database: &str, overrides: &[(&str, &str)]) -> Self {
        let base = sandbox.api_base_url().to_string();
        let pairs: Vec<(&str, &str)> = vec![
            ("BC_STORE_HASH", sandbox.store_hash()),
            ("BC_ACCESS_TOKEN", &sandbox.access_token),
            ("BC_CLIENT_ID", &sandbox.client_id),
            ("BC_CLIENT_SECRET", &sandbox.client_secret),
            ("BC_API_BASE_URL", &base),
            ("LISTEN_ADDR", "127.0.0.1:0"),
            ("DATABASE_URL", database),
            ("SYNC_MODE", "mirror"),
            ("MIRROR_CATCH_UP_INTERVAL", "1s"),
            ("ORDERS_REFRESH_INTERVAL", "1s"),
        ];
        let mut pairs: Vec<(&str, &str)> = pairs
            .into_iter()
            .filter(|(name, _)| !overrides.iter().any(|(other, _)| other == name))
            .collect();
        pairs.extend_from_slice(overrides);
        let settings = Settings::from_pairs(pairs).expect("test settings are valid");
        let application = Application::build(settings)
            .await
            .expect("the application builds");
        let address = format!("http://127.0.0.1:{}", application.port());
        let handle = application.server_handle();
        let database = application.database().clone();
        let server = tokio::spawn(application.run_until_stopped());
        Self {
            address,
            database,
            handle,
            server,
        }
    }

    async fn stop(self) {
        self.handle.stop(false).await;
        let _ = self.server.await;
    }

    /// `GET path` as `customer`: status and body.
    async fn get(&self, sandbox: &Lab, customer: u64, path: &str) -> (u16, Value) {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", self.address))
            .bearer_auth(token(sandbox, customer))
            .send()
            .await
            .expect("the app answers");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }
}

fn token(sandbox: &Lab, customer: u64) -> String {
    order_metafields_sandbox::mint_current_customer_token(
        &sandbox.client_id,
        sandbox.client_secret.as_bytes(),
        sandbox.store_hash(),
        &TokenCustomer {
            id: customer,
            email: format!("shopper{customer}@example.com"),
            group_id: "0".to_owned(),
        },
        jsonwebtoken::Algorithm::HS256,
        Duration::from_secs(900),
    )
    .expect("a token")
}

/// The mirror's state once `done` holds, or the last one seen after `limit`.
async fn state_when(
    database: &Database,
    store: &str,
    limit: Duration,
    done: impl Fn(&MirrorStateRecord) -> bool,
) -> Option<MirrorStateRecord> {
    let until = Instant::now() + limit;
    let mut last = None;
    while Instant::now() < until {
        last = database.mirror_state(store).await.ok().flatten();
        if last.as_ref().is_some_and(&done) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    last
}

/// Waits (at most 30 s) until the store's mirror is complete and caught up, as a replica
/// needs it to serve reads; fails the test otherwise.
async fn serves_reads(database: &Database, store: &str) {
    let state = state_when(database, store, Duration::from_secs(30), complete).await;
    assert!(state.as_ref().is_some_and(complete), "{state:?}");
}

/// Complete and caught up: what a mirror needs to serve reads.
fn complete(state: &MirrorStateRecord) -> bool {
    state.orders_complete && state.metafields_complete && state.caught_up_at.is_some()
}

/// Waits until `check` holds of what `customer` is answered at `path`, within `limit`;
/// how long it took.
async fn until_answer(
    app: &App,
    sandbox: &Lab,
    customer: u64,
    path: &str,
    limit: Duration,
    check: impl Fn(u16, &Value) -> bool,
) -> Option<Duration> {
    let began = Instant::now();
    while began.elapsed() < limit {
        let (status, body) = app.get(sandbox, customer, path).await;
        if check(status, &body) {
            return Some(began.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

fn order_ids(body: &Value) -> Vec<u64> {
    body["data"]
        .as_array()
        .map(|orders| {
            orders
                .iter()
                .filter_map(|order| order["id"].as_u64())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn mirrored_reads_answer_what_on_demand_reads_answer_for_every_shopper_at_no_upstream_call() {
    let sandbox = sandbox(20, 3, Duration::ZERO).await;
    let place = Place::new().await;
    let database = place.database().await;
    let on_demand = App::start(&sandbox, "sqlite::memory:", "on-demand").await;
    // No catch-up while the reads are compared: every Management API call counted is a read's.
    let mirrored = App::start_with(&sandbox, &place.url, "mirror", "1h").await;
    let store = sandbox.store_hash().to_owned();
    let state = state_when(&database, &store, Duration::from_secs(30), complete).await;
    assert!(state.as_ref().is_some_and(complete), "{state:?}");
    // The mirror's reads switch over right after the state is saved.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let customers: Vec<u64> = sandbox
        .store()
        .customers()
        .iter()
        .map(|customer| customer.id)
        .collect();

    let mut compared = 0;
    for &customer in &customers {
        sandbox.store().reset_request_counts();
        let before = sandbox.store().management_requests();
        let mirror_list = mirrored
            .get(&sandbox, customer, "/v1/orders?limit=250")
            .await;
        let mut orders = order_ids(&mirror_list.1);
        // Ids nobody owns, and another shopper's real order, answer the same 404 too.
        let someone_elses = customers
            .iter()
            .filter(|other| **other != customer)
            .flat_map(|other| sandbox.store().orders_of(*other))
            .next()
            .expect("another shopper has an order");
        orders.extend([1, 99_999_999, someone_elses]);
        let mut answers = vec![mirror_list];
        for order in &orders {
            answers.push(
                mirrored
                    .get(
                        &sandbox,
                        customer,
                        &format!("/v1/orders/{order}/metafields"),
                    )
                    .await,
            );
        }
        let mirror_calls = sandbox.store().management_requests() - before;
        assert_eq!(
            mirror_calls, 0,
            "customer {customer}: reads from the mirror"
        );
        let expected_list = on_demand
            .get(&sandbox, customer, "/v1/orders?limit=250")
            .await;
        assert_eq!(answers[0], expected_list, "customer {customer}'s orders");
        for (order, answer) in orders.iter().zip(&answers[1..]) {
            let expected = on_demand
                .get(
                    &sandbox,
                    customer,
                    &format!("/v1/orders/{order}/metafields"),
                )
                .await;
            assert_eq!(*answer, expected, "customer {customer}, order {order}");
            compared += 1;
        }
    }
    // What is stored is what shoppers may see, nothing more: no `app_only`, no `read` or
    // `write` metafield (no namespace is allowed here), no guest's order.
    let mut stored = 0;
    for &customer in &customers {
        for order in sandbox.store().orders_of(customer) {
            for metafield in database
                .mirrored_metafields_of(&store, order)
                .await
                .unwrap()
            {
                assert!(
                    metafield.1.ends_with("_sf_access"),
                    "order {order}: a {} metafield is stored",
                    metafield.1
                );
                stored += 1;
            }
        }
    }
    for guest_order in sandbox.store().orders_of(0) {
        assert!(
            database
                .mirrored_order_bodies(&store, &[guest_order])
                .await
                .unwrap()
                .is_empty(),
            "guest order {guest_order} stored"
        );
    }
    assert!(stored > 0);
    eprintln!(
        "compared {} shoppers and {compared} metafield answers",
        customers.len()
    );
    assert!(customers.len() >= 20 && compared >= 60);
    mirrored.stop().await;
    on_demand.stop().await;
}

#[tokio::test]
async fn a_change_shows_within_one_catch_up_interval_with_no_webhook() {
    let sandbox = sandbox(0, 0, Duration::ZERO).await;
    assert!(
        sandbox.store().webhook_destination().is_none(),
        "no webhooks"
    );
    let place = Place::new().await;
    let database = place.database().await;
    let app = App::start(&sandbox, &place.url, "mirror").await;
    let store = sandbox.store_hash().to_owned();
    serves_reads(&database, &store).await;
    // Alice (customer 1) owns order 321 with a storefront metafield.
    let metafield = sandbox
        .store()
        .metafields_of(321)
        .into_iter()
        .find(|metafield| metafield.permission_set.ends_with("_sf_access"))
        .expect("a storefront metafield on order 321");
    let (status, before) = app.get(&sandbox, 1, "/v1/orders/321/metafields").await;
    assert_eq!(status, 200);
    let (_, list_before) = app.get(&sandbox, 1, "/v1/orders").await;

    sandbox
        .store()
        .set_metafield_value(metafield.id, "changed while no webhook was listening");
    let placed = sandbox.store().add_order(1);

    let shown = until_answer(
        &app,
        &sandbox,
        1,
        "/v1/orders/321/metafields",
        Duration::from_secs(10),
        |status, body| {
            status == 200
                && body["data"].as_array().is_some_and(|fields| {
                    fields
                        .iter()
                        .any(|field| field["value"] == "changed while no webhook was listening")
                })
        },
    )
    .await;
    let listed = until_answer(
        &app,
        &sandbox,
        1,
        "/v1/orders",
        Duration::from_secs(10),
        |status, body| status == 200 && order_ids(body).contains(&placed),
    )
    .await;

    assert_ne!(before["data"], Value::Null);
    assert!(!order_ids(&list_before).contains(&placed));
    // One catch-up interval (1 s) and the read's own polling; generous for a loaded machine.
    let interval = Duration::from_secs(1);
    assert!(
        shown.is_some_and(|took| took <= interval * 4),
        "metafield change shown after {shown:?}"
    );
    assert!(
        listed.is_some_and(|took| took <= interval * 4),
        "new order listed after {listed:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_order_moved_to_another_customer_leaves_the_first_and_reaches_the_second() {
    let sandbox = sandbox(0, 0, Duration::ZERO).await;
    let place = Place::new().await;
    let database = place.database().await;
    let app = App::start(&sandbox, &place.url, "mirror").await;
    let store = sandbox.store_hash().to_owned();
    serves_reads(&database, &store).await;
    // Alice (1) owns 321; Bob (2) does not. Both lists are cached first.
    let (_, alice) = app.get(&sandbox, 1, "/v1/orders").await;
    let (_, bob) = app.get(&sandbox, 2, "/v1/orders").await;
    assert!(order_ids(&alice).contains(&321));
    assert!(!order_ids(&bob).contains(&321));
    let (status, metafields) = app.get(&sandbox, 1, "/v1/orders/321/metafields").await;
    assert_eq!(status, 200);

    assert!(sandbox.store().set_order_customer(321, 2));

    let left = until_answer(
        &app,
        &sandbox,
        1,
        "/v1/orders",
        Duration::from_secs(10),
        |status, body| status == 200 && !order_ids(body).contains(&321),
    )
    .await;
    let reached = until_answer(
        &app,
        &sandbox,
        2,
        "/v1/orders",
        Duration::from_secs(10),
        |status, body| status == 200 && order_ids(body).contains(&321),
    )
    .await;
    let (alice_status, _) = app.get(&sandbox, 1, "/v1/orders/321/metafields").await;
    let (bob_status, bob_metafields) = app.get(&sandbox, 2, "/v1/orders/321/metafields").await;

    assert!(left.is_some(), "order 321 still listed for Alice");
    assert!(reached.is_some(), "order 321 never listed for Bob");
    assert_eq!(alice_status, 404, "no longer Alice's");
    assert_eq!(bob_status, 200);
    assert_eq!(bob_metafields, metafields, "the same fields, now Bob's");
    app.stop().await;
}

#[tokio::test]
async fn a_restart_in_the_middle_of_the_initial_sync_resumes_where_it_stopped() {
    // 3,010 orders: 13 pages of 250, each answered after 100 ms.
    let sandbox = sandbox(300, 10, Duration::from_millis(100)).await;
    let place = Place::new().await;
    let database = place.database().await;
    let store = sandbox.store_hash().to_owned();
    let app = App::start(&sandbox, &place.url, "mirror").await;
    let midway = state_when(&database, &store, Duration::from_secs(60), |state| {
        state.orders_synced >= 750
    })
    .await
    .expect("the initial sync began");
    app.stop().await;
    let stopped = database
        .mirror_state(&store)
        .await
        .unwrap()
        .expect("the sync's state is saved");
    assert!(!stopped.orders_complete, "stopped midway: {stopped:?}");
    let total = u64::try_from(stopped.orders_total).unwrap();
    sandbox.store().reset_request_counts();

    let again = App::start(&sandbox, &place.url, "mirror").await;
    let done = state_when(&database, &store, Duration::from_secs(60), complete).await;
    let pages_after = sandbox
        .store()
        .management_requests_of(RequestKind::OrdersList);
    let counts = sandbox
        .store()
        .management_requests_of(RequestKind::OrdersCount);
    let size = database.mirror_size(&store).await.unwrap();

    assert!(midway.orders_synced >= 750);
    assert!(done.as_ref().is_some_and(complete), "{done:?}");
    assert_eq!(
        done.unwrap().started_at,
        stopped.started_at,
        "the same sync, resumed"
    );
    let customers_orders: u64 = sandbox
        .store()
        .customers()
        .iter()
        .map(|customer| customer.order_count as u64)
        .sum();
    assert_eq!(
        size.orders, customers_orders,
        "every customer's order mirrored once (guests' never)"
    );
    assert!(customers_orders > 3_000 && customers_orders <= total);
    assert_eq!(
        counts, 0,
        "not begun again (a new sync counts the orders first)"
    );
    let left = total - u64::try_from(stopped.orders_synced).unwrap();
    // The pages left, the short last one, and at most one catch-up page.
    let expected = left.div_ceil(250) + 2;
    assert!(
        pages_after <= expected,
        "{pages_after} order pages after the restart; {left} orders were left ({expected} pages at most)"
    );
    again.stop().await;
}

#[tokio::test]
async fn an_archived_order_whose_webhook_never_came_is_gone_after_one_reconciliation() {
    let sandbox = sandbox(0, 0, Duration::ZERO).await;
    let place = Place::new().await;
    let database = place.database().await;
    let app =
        App::start_with_pairs(&sandbox, &place.url, &[("MIRROR_RECONCILE_INTERVAL", "2s")]).await;
    let store = sandbox.store_hash().to_owned();
    serves_reads(&database, &store).await;
    let (status, _) = app.get(&sandbox, 1, "/v1/orders/321/metafields").await;
    assert_eq!(status, 200);

    // Archived orders leave the lists and no date query finds them: only a comparison does.
    assert!(sandbox.store().archive_order(321));
    let gone = until_answer(
        &app,
        &sandbox,
        1,
        "/v1/orders/321/metafields",
        Duration::from_secs(15),
        |status, _| status == 404,
    )
    .await;
    let (_, list) = app.get(&sandbox, 1, "/v1/orders").await;

    assert!(gone.is_some(), "order 321 still served");
    assert!(!order_ids(&list).contains(&321));
    assert!(order_ids(&list).contains(&364), "Alice's other orders stay");
    app.stop().await;
}

/// Several replicas (PostgreSQL): one syncs the store, every one reads the mirror, and a
/// webhook any of them receives reaches the one that syncs.
#[tokio::test]
async fn one_replica_syncs_a_store_every_replica_reads_it_and_a_webhook_to_any_reaches_the_sync() {
    let sandbox = sandbox(20, 3, Duration::ZERO).await;
    let store = sandbox.store_hash().to_owned();
    let api_base = sandbox.api_base_url().to_string();
    let Some(cluster) = crate::helpers::replicas::Cluster::spawn_in_front_of(
        "mirror across replicas",
        &api_base,
        (&sandbox.client_id, &sandbox.client_secret),
        &[(&store, &sandbox.access_token)],
        3,
        &[
            ("SYNC_MODE", "mirror"),
            // Only a webhook can bring a change within the test.
            ("MIRROR_CATCH_UP_INTERVAL", "1h"),
            ("WEBHOOK_SECRET", crate::helpers::CLIENT_SECRET),
        ],
    )
    .await
    else {
        return;
    };
    let database = Database::connect(&cluster.database_url()).await.unwrap();
    let state = state_when(&database, &store, Duration::from_secs(30), complete).await;
    assert!(state.as_ref().is_some_and(complete), "{state:?}");
    let mut syncing = Vec::new();
    for number in 1..=3 {
        let metrics = cluster.metrics(number).await;
        let wrote = metrics.lines().any(|line| {
            line.starts_with("order_metafields_mirror_rows_written_total{kind=\"orders\"}")
        });
        syncing.push(wrote);
    }
    // Each replica reads the mirror once it has seen it complete and caught up (the others
    // look every few seconds). A shopper not read before proves it: no cached list answers.
    let mut fresh_shoppers = sandbox
        .store()
        .customers()
        .into_iter()
        .map(|customer| customer.id)
        .filter(|id| *id > 5);
    let mut took = Vec::new();
    for number in 1..=3 {
        let began = Instant::now();
        let mut served = None;
        while began.elapsed() < Duration::from_secs(20) {
            let Some(shopper) = fresh_shoppers.next() else {
                break;
            };
            let before = sandbox.store().management_requests();
            let status = cluster
                .get(number, "/v1/orders", Some(&token(&sandbox, shopper)))
                .await
                .status()
                .as_u16();
            if status == 200 && sandbox.store().management_requests() == before {
                served = Some(began.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        took.push(served);
    }
    sandbox.store().reset_request_counts();
    let mut answers = Vec::new();
    for number in 1..=3 {
        let response = cluster
            .get(
                number,
                "/v1/orders/321/metafields",
                Some(&token(&sandbox, 1)),
            )
            .await;
        answers.push(response.status().as_u16());
    }
    let reads_cost = sandbox.store().management_requests();

    // Archived, and the webhook delivered to replica 3 alone.
    assert!(sandbox.store().archive_order(321));
    let delivered = cluster
        .deliver(
            3,
            &store,
            &serde_json::json!({"scope": "store/order/archived", "store_id": "1",
                "data": {"type": "order", "id": 321},
                "hash": "archived-321", "created_at": 1, "producer": format!("stores/{store}")}),
        )
        .await
        .status()
        .as_u16();
    let gone = crate::helpers::replicas::within(Duration::from_secs(10), || async {
        let mut all = true;
        for number in 1..=3 {
            let status = cluster
                .get(
                    number,
                    "/v1/orders/321/metafields",
                    Some(&token(&sandbox, 1)),
                )
                .await
                .status()
                .as_u16();
            all &= status == 404;
        }
        all
    })
    .await;

    assert_eq!(
        syncing.iter().filter(|wrote| **wrote).count(),
        1,
        "one replica syncs: {syncing:?}"
    );
    assert_eq!(answers, [200, 200, 200]);
    assert!(
        took.iter().all(Option::is_some),
        "replicas reading the mirror: {took:?}"
    );
    assert_eq!(reads_cost, 0, "every replica reads the mirror");
    assert_eq!(delivered, 200);
    assert!(
        gone.is_some(),
        "the archived order is still served somewhere"
    );
}

#[tokio::test]
async fn a_webhook_the_database_cannot_note_is_refused_so_bigcommerce_retries_it() {
    let sandbox = sandbox(0, 0, Duration::ZERO).await;
    let place = Place::new().await;
    let secret = "a-webhook-secret-of-at-least-32-characters";
    let app = App::start_with_pairs(&sandbox, &place.url, &[("WEBHOOK_SECRET", secret)]).await;
    let store = sandbox.store_hash().to_owned();
    let deliver = |hash: &'static str| {
        let body = serde_json::json!({"scope": "store/order/updated", "store_id": "1",
            "data": {"type": "order", "id": 321}, "hash": hash, "created_at": 1,
            "producer": format!("stores/{store}")});
        reqwest::Client::new()
            .post(format!("{}/webhooks/bigcommerce", app.address))
            .header("x-webhook-secret", secret)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let database = place.database().await;
    serves_reads(&database, &store).await;
    sandbox.store().reset_request_counts();
    let noted = deliver("first").await.unwrap().status().as_u16();
    // The sync reads the order again (`GET /v2/orders/321`), and its note is cleared.
    let mut reread = false;
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until && !reread {
        reread = sandbox.store().management_requests_of(RequestKind::Order) == 1
            && database
                .mirror_pending(&store, 10)
                .await
                .unwrap()
                .is_empty();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    app.database.close().await;
    let refused = deliver("second").await.unwrap();
    // BigCommerce's retry of the refused delivery (the same hash) is not a duplicate.
    let retried = deliver("second").await.unwrap().status().as_u16();
    let status = refused.status().as_u16();
    let content_type = refused
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);

    assert_eq!(noted, 200);
    assert!(reread, "the webhook's order was never read again");
    assert_eq!(status, 503);
    assert_eq!(
        retried, 503,
        "the retry is acted on, not taken for a duplicate"
    );
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    app.stop().await;
}

#[tokio::test]
async fn a_shoppers_write_shows_in_the_next_read_from_the_mirror() {
    let sandbox = sandbox(0, 0, Duration::ZERO).await;
    let place = Place::new().await;
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("fields.json");
    std::fs::write(
        &file,
        serde_json::json!({"version": 1, "definitions": [
            {"namespace": "gift", "key": "message", "label": "Gift message",
             "customer_editable": true, "max_length": 200}
        ]})
        .to_string(),
    )
    .unwrap();
    // No catch-up within the test: only the write itself can bring its value to the mirror.
    let app = App::start_with_pairs(
        &sandbox,
        &place.url,
        &[
            ("FIELD_DEFINITIONS_FILE", file.to_str().unwrap()),
            ("MIRROR_CATCH_UP_INTERVAL", "1h"),
        ],
    )
    .await;
    let database = place.database().await;
    let store = sandbox.store_hash().to_owned();
    serves_reads(&database, &store).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, before) = app.get(&sandbox, 1, "/v1/orders/321/metafields").await;

    let written = reqwest::Client::new()
        .put(format!(
            "{}/v1/orders/321/metafields/gift/message",
            app.address
        ))
        .bearer_auth(token(&sandbox, 1))
        .json(&serde_json::json!({"value": "Happy birthday, Bob"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    sandbox.store().reset_request_counts();
    let (status, after) = app.get(&sandbox, 1, "/v1/orders/321/metafields").await;
    let read_cost = sandbox.store().management_requests();

    let message = |body: &Value| {
        body["data"].as_array().and_then(|fields| {
            fields
                .iter()
                .find(|field| field["key"] == "message")
                .map(|field| field["value"].clone())
        })
    };
    assert_eq!(message(&before), None);
    assert_eq!(written, 200);
    assert_eq!(status, 200);
    assert_eq!(message(&after), Some(Value::from("Happy birthday, Bob")));
    assert_eq!(read_cost, 0, "read from the mirror");
    app.stop().await;
}

#[tokio::test]
async fn forgetting_a_store_deletes_its_mirror() {
    let place = Place::new().await;
    let database = place.database().await;
    let state = MirrorStateRecord {
        policy: "[]".to_owned(),
        started_at: 1,
        ..MirrorStateRecord::default()
    };
    database.start_mirror("gone1", &state).await.unwrap();
    database.start_mirror("kept1", &state).await.unwrap();
    let order = |store: &str| MirroredOrder {
        order_id: 100,
        customer_id: 7,
        date_modified: 1,
        body: format!("{{\"store\":\"{store}\"}}"),
    };
    for store in ["gone1", "kept1"] {
        let rows = [order(store)];
        database
            .write_mirror(
                store,
                MirrorWrite {
                    orders: &rows,
                    generation: Some(1),
                    ..MirrorWrite::default()
                },
            )
            .await
            .unwrap();
        database.mark_mirror_pending(store, 100).await.unwrap();
    }
    // A write for a mirror begun again (another generation) writes nothing.
    let stale = database
        .write_mirror(
            "kept1",
            MirrorWrite {
                orders: &[MirroredOrder {
                    order_id: 101,
                    ..order("kept1")
                }],
                generation: Some(2),
                ..MirrorWrite::default()
            },
        )
        .await;

    database.forget_store("gone1").await.unwrap();

    assert!(stale.is_err());
    assert_eq!(database.mirror_state("gone1").await.unwrap(), None);
    assert_eq!(
        database.mirror_size("gone1").await.unwrap(),
        MirrorSize::default()
    );
    assert!(
        database
            .mirror_pending("gone1", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        database.mirror_size("kept1").await.unwrap(),
        MirrorSize {
            orders: 1,
            metafields: 0
        }
    );
    assert_eq!(
        database.mirror_pending("kept1", 10).await.unwrap(),
        [(100, 1)]
    );
}

#[tokio::test]
async fn a_webhook_that_arrives_while_its_order_is_read_again_keeps_it_waiting() {
    let place = Place::new().await;
    let database = place.database().await;
    database.mark_mirror_pending("store1", 100).await.unwrap();
    let read = database.mirror_pending("store1", 10).await.unwrap();
    // Another webhook for the order while the sync reads it again.
    database.mark_mirror_pending("store1", 100).await.unwrap();
    database
        .clear_mirror_pending("store1", 100, read[0].1)
        .await
        .unwrap();
    let still = database.mirror_pending("store1", 10).await.unwrap();
    database
        .clear_mirror_pending("store1", 100, still[0].1)
        .await
        .unwrap();

    assert_eq!(read, [(100, 1)]);
    assert_eq!(still, [(100, 2)], "the second webhook's note stays");
    assert!(
        database
            .mirror_pending("store1", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_newest_order_archived_without_a_webhook_is_gone_after_one_reconciliation() {
    let sandbox = sandbox(0, 0, Duration::ZERO).await;
    let place = Place::new().await;
    let database = place.database().await;
    let app =
        App::start_with_pairs(&sandbox, &place.url, &[("MIRROR_RECONCILE_INTERVAL", "2s")]).await;
    let store = sandbox.store_hash().to_owned();
    serves_reads(&database, &store).await;
    // The store's newest order, mirrored by a catch-up, then archived: no order above it is
    // listed, so only a look at each mirrored id above the last one listed finds it.
    let newest = sandbox.store().add_order(1);
    let listed = until_answer(
        &app,
        &sandbox,
        1,
        "/v1/orders",
        Duration::from_secs(10),
        |status, body| status == 200 && order_ids(body).contains(&newest),
    )
    .await;
    assert!(sandbox.store().archive_order(newest));
    let gone = until_answer(
        &app,
        &sandbox,
        1,
        "/v1/orders",
        Duration::from_secs(20),
        |status, body| status == 200 && !order_ids(body).contains(&newest),
    )
    .await;

    assert!(listed.is_some(), "the new order never showed");
    assert!(gone.is_some(), "the archived newest order is still listed");
    app.stop().await;
}
