//! Micro-benchmarks of the hot path: token verification (the service's verifier beside a
//! bare jsonwebtoken decode, the baseline's whole work), cache hits through `Access` and the
//! `Cache` API, and whole requests through the routes in process (no socket, no middleware).
//!
//! Run with `cargo bench --bench hot_path`; numbers are for reading, never asserted.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, test, web};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use order_metafields_sandbox::{TokenCustomer, mint_current_customer_token};
use order_metafields_service::access::Access;
use order_metafields_service::auth::TokenVerifier;
use order_metafields_service::cache::{Cache, CustomerOrders, OrderMetafields};
use order_metafields_service::config::Settings;
use order_metafields_service::domain::{CustomerId, Decimal, Order, OrderId, VisibilityPolicy};
use order_metafields_service::management::ManagementClient;
use order_metafields_service::routes;
use time::macros::datetime;

const CLIENT_ID: &str = "bench-client-id";
const SECRET: &str = "bench-client-secret-of-a-realistic-length-0123456789";
const STORE_HASH: &str = "bench1";
const CUSTOMER: u64 = 42;
const ORDERS: u64 = 5;
const FIRST_ORDER: u64 = 100;
const METAFIELDS_BODY: &[u8] = br#"{"data":[{"id":7,"namespace":"shipping_tracking","key":"tracking_url","value":"https://track.example.com/104","description":"Tracking link","date_created":"2024-05-02T10:00:00Z","date_modified":"2024-05-02T10:00:00Z"}]}"#;

fn settings() -> Settings {
    Settings::from_pairs([
        ("BC_STORE_HASH", STORE_HASH),
        ("BC_ACCESS_TOKEN", "bench-access-token"),
        ("BC_CLIENT_ID", CLIENT_ID),
        ("BC_CLIENT_SECRET", SECRET),
        // Nothing listens here: every benchmark below runs on a warm cache.
        ("BC_API_BASE_URL", "http://127.0.0.1:9/"),
        ("ORDERS_CACHE_TTL", "1h"),
        ("METAFIELDS_CACHE_TTL", "1h"),
    ])
    .expect("the benchmark settings are valid")
}

fn token() -> String {
    mint_current_customer_token(
        CLIENT_ID,
        SECRET.as_bytes(),
        STORE_HASH,
        &TokenCustomer {
            id: CUSTOMER,
            email: "shopper@example.com".to_owned(),
            group_id: "0".to_owned(),
        },
        Algorithm::HS256,
        Duration::from_secs(3600),
    )
    .expect("minting a benchmark token works")
}

fn money(text: &str) -> Decimal {
    Decimal::parse(text).expect("a decimal literal")
}

fn order(id: u64) -> Order {
    Order {
        id: OrderId::new(id).expect("order ids are positive"),
        customer_id: CUSTOMER,
        status: "Shipped".to_owned(),
        status_id: 2,
        date_created: datetime!(2024-05-01 10:00 UTC),
        date_modified: datetime!(2024-05-02 10:00 UTC),
        date_shipped: Some(datetime!(2024-05-02 10:00 UTC)),
        currency_code: "USD".to_owned(),
        subtotal_ex_tax: money("67.8400"),
        subtotal_inc_tax: money("73.4400"),
        shipping_cost_inc_tax: money("9.9900"),
        total_tax: money("5.6000"),
        total_ex_tax: money("77.8300"),
        total_inc_tax: money("83.4300"),
        discount_amount: money("0.0000"),
        refunded_amount: money("0.0000"),
        items_total: 3,
        items_shipped: 3,
        payment_method: "Credit Card".to_owned(),
        order_is_digital: false,
    }
}

/// An `Access` whose cache already holds the customer's orders and one order's metafields.
async fn warm_access(settings: &Settings) -> Access {
    let management = ManagementClient::new(&settings.store, &settings.upstream)
        .expect("the management client builds");
    let cache = Cache::new(
        &settings.cache,
        order_metafields_service::metrics::CacheMetrics::default(),
    );
    let customer = CustomerId::new(CUSTOMER).expect("customer ids are positive");
    let orders: Vec<Order> = (FIRST_ORDER..FIRST_ORDER + ORDERS).map(order).collect();
    cache
        .orders
        .get_or_load(customer, cache.as_of(), || async {
            Ok::<_, Infallible>(CustomerOrders::new(orders))
        })
        .await
        .expect("filling the order list");
    let metafields = OrderMetafields {
        body: bytes::Bytes::from_static(METAFIELDS_BODY),
        count: 1,
    };
    cache
        .metafields
        .get_or_load(
            OrderId::new(FIRST_ORDER).expect("order ids are positive"),
            cache.as_of(),
            || async { Ok::<_, Infallible>(metafields) },
        )
        .await
        .expect("filling the metafields");
    Access::new(
        management,
        cache,
        VisibilityPolicy::new(BTreeSet::new()),
        settings.cache.orders_refresh_interval,
    )
}

fn token_verification(criterion: &mut Criterion) {
    let settings = settings();
    let token = token();
    let verifier = TokenVerifier::new(&settings.auth, STORE_HASH);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[CLIENT_ID]);
    validation.set_issuer(&["bc/apps"]);
    let key = DecodingKey::from_secret(SECRET.as_bytes());
    let mut group = criterion.benchmark_group("verify");
    // A token seen for the first time: every check, then remembered.
    group.bench_function("service TokenVerifier::verify, first sight", |bencher| {
        bencher.iter_batched(
            || TokenVerifier::new(&settings.auth, STORE_HASH),
            |verifier| verifier.verify(black_box(&token)).expect("a valid token"),
            BatchSize::SmallInput,
        )
    });
    // The same token again, as a storefront sends it with every request.
    verifier.verify(&token).expect("a valid token");
    group.bench_function("service TokenVerifier::verify, remembered", |bencher| {
        bencher.iter(|| verifier.verify(black_box(&token)).expect("a valid token"))
    });
    group.bench_function("bare jsonwebtoken::decode (baseline)", |bencher| {
        bencher.iter(|| {
            jsonwebtoken::decode::<serde_json::Value>(black_box(&token), &key, &validation)
                .expect("a valid token")
        })
    });
    group.finish();
}

fn cache_hits(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let settings = settings();
    let access = runtime.block_on(warm_access(&settings));
    let customer = CustomerId::new(CUSTOMER).expect("customer ids are positive");
    let order = OrderId::new(FIRST_ORDER).expect("order ids are positive");
    let mut group = criterion.benchmark_group("cache hit");
    group.bench_function("Access::orders", |bencher| {
        bencher
            .to_async(&runtime)
            .iter(|| async { access.orders(black_box(customer)).await.expect("warm") })
    });
    group.bench_function("Access::order", |bencher| {
        bencher.to_async(&runtime).iter(|| async {
            access
                .order(black_box(customer), black_box(order))
                .await
                .expect("warm")
        })
    });
    group.bench_function("Access::metafields", |bencher| {
        bencher.to_async(&runtime).iter(|| async {
            access
                .metafields(black_box(customer), black_box(order))
                .await
                .expect("warm")
        })
    });
    group.bench_function("Cache::order_metafields", |bencher| {
        bencher.to_async(&runtime).iter(|| async {
            let cache = access.cache();
            cache
                .metafields
                .get_or_load(black_box(order), cache.as_of(), || {
                    std::future::pending::<Result<OrderMetafields, Infallible>>()
                })
                .await
                .expect("warm")
        })
    });
    group.finish();
}

fn requests(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let settings = settings();
    let token = token();
    let access = runtime.block_on(warm_access(&settings));
    let verifier = web::Data::new(Arc::new(TokenVerifier::new(&settings.auth, STORE_HASH)));
    let app = runtime.block_on(test::init_service(
        App::new()
            .app_data(verifier)
            .app_data(web::Data::new(access))
            .configure(routes::configure),
    ));
    let mut group = criterion.benchmark_group("request in process");
    for (name, path) in [
        ("GET /v1/orders (5 orders)", "/v1/orders".to_owned()),
        (
            "GET /v1/orders/{id}/metafields",
            format!("/v1/orders/{FIRST_ORDER}/metafields"),
        ),
    ] {
        group.bench_function(name, |bencher| {
            bencher.to_async(&runtime).iter(|| async {
                let request = test::TestRequest::get()
                    .uri(&path)
                    .insert_header(("authorization", format!("Bearer {token}")))
                    .to_request();
                let response = test::call_service(&app, request).await;
                assert!(response.status().is_success());
                test::read_body(response).await
            })
        });
    }
    group.finish();
}

criterion_group!(benches, token_verification, cache_hits, requests);
criterion_main!(benches);
