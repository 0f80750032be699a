//! Micro-benchmarks of the hot path: token verification (the service's verifier beside a
//! bare jsonwebtoken decode, the baseline's whole work), the memory of verified tokens read
//! by several threads at once (the moka cache beside the mutex-guarded map it replaced),
//! cache hits through `Access` and the `Cache` API, and whole requests through the routes in
//! process (no socket, no middleware).
//!
//! Run with `cargo bench --bench hot_path`; numbers are for reading, never asserted.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{App, test, web};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use order_metafields_sandbox::{TokenCustomer, mint_current_customer_token};
use order_metafields_service::access::Access;
use order_metafields_service::auth::current_customer::CustomerTokenVerifier;
use order_metafields_service::auth::memory::{VerifiedCustomerToken, VerifiedTokens};
use order_metafields_service::auth::verifier::unix_now;
use order_metafields_service::cache::{Cache, CustomerOrders, OrderMetafields};
use order_metafields_service::config::Settings;
use order_metafields_service::domain::{
    CustomerId, Decimal, Order, OrderId, StoreHash, VisibilityPolicy,
};
use order_metafields_service::management::ManagementApi;
use order_metafields_service::routes;
use order_metafields_service::stores::{Origin, Store, StoreRegistry};
use order_metafields_service::throttle::CustomerThrottle;
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
    token_for(CUSTOMER)
}

fn token_for(customer: u64) -> String {
    mint_current_customer_token(
        CLIENT_ID,
        SECRET.as_bytes(),
        STORE_HASH,
        &TokenCustomer {
            id: customer,
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
        channel_id: 1,
    }
}

/// The store served, and an `Access` whose cache already holds the customer's orders and
/// one order's metafields in it.
struct Warm {
    access: Access,
    stores: Arc<StoreRegistry>,
    store: Arc<Store>,
}

async fn warm_access(settings: &Settings) -> Warm {
    let one = settings.single_store().expect("single-store settings");
    let api = ManagementApi::new(&settings.api_base_url, &settings.upstream)
        .expect("the management client builds");
    let stores = Arc::new(StoreRegistry::new(api));
    let store = stores.serve(
        StoreHash::parse(STORE_HASH).expect("a store hash"),
        &one.access_token,
        VisibilityPolicy::new(BTreeSet::new()),
        order_metafields_service::fields::FieldDefinitions::default(),
        Origin::Environment,
        false,
    );
    let key = store.scope.key;
    let cache = Cache::new(
        &settings.cache,
        order_metafields_service::metrics::CacheMetrics::default(),
    );
    let customer = CustomerId::new(CUSTOMER).expect("customer ids are positive");
    let orders: Vec<Order> = (FIRST_ORDER..FIRST_ORDER + ORDERS).map(order).collect();
    cache
        .orders
        .get_or_load((key, customer), cache.as_of(), || async {
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
            (
                key,
                OrderId::new(FIRST_ORDER).expect("order ids are positive"),
            ),
            cache.as_of(),
            || async { Ok::<_, Infallible>(metafields) },
        )
        .await
        .expect("filling the metafields");
    Warm {
        access: Access::new(cache, settings.cache.orders_refresh_interval),
        stores,
        store,
    }
}

fn token_verification(criterion: &mut Criterion) {
    let settings = settings();
    let token = token();
    let verifier = CustomerTokenVerifier::new(&settings.auth);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[CLIENT_ID]);
    validation.set_issuer(&["bc/apps"]);
    let key = DecodingKey::from_secret(SECRET.as_bytes());
    let mut group = criterion.benchmark_group("verify");
    // A token seen for the first time: every check, then remembered. (The verifier is
    // dropped outside the timed part: dropping a cache is not part of a request.)
    group.bench_function(
        "service CustomerTokenVerifier::verify, first sight",
        |bencher| {
            bencher.iter_batched_ref(
                || CustomerTokenVerifier::new(&settings.auth),
                |verifier| verifier.verify(black_box(&token)).expect("a valid token"),
                BatchSize::SmallInput,
            )
        },
    );
    // The same token again, as a storefront sends it with every request.
    verifier.verify(&token).expect("a valid token");
    group.bench_function(
        "service CustomerTokenVerifier::verify, remembered",
        |bencher| bencher.iter(|| verifier.verify(black_box(&token)).expect("a valid token")),
    );
    group.bench_function("bare jsonwebtoken::decode (baseline)", |bencher| {
        bencher.iter(|| {
            jsonwebtoken::decode::<serde_json::Value>(black_box(&token), &key, &validation)
                .expect("a valid token")
        })
    });
    group.finish();
}

/// Shoppers whose tokens the memory benchmarks read, each thread cycling through all of
/// them from its own starting point (as the profile's 200 customers do).
const SHOPPERS: u64 = 200;

/// The memory of verified tokens read by 1, 2, 4 and 8 threads at once: the moka cache of
/// `auth::memory` beside the mutex-guarded map it replaced (`mutex_memory`, below). Each
/// figure is the wall time of one lookup in one thread while the others look up too.
fn token_memory(criterion: &mut Criterion) {
    let now = unix_now();
    let tokens: Vec<(String, VerifiedCustomerToken)> = (1..=SHOPPERS)
        .map(|customer| {
            let verified = VerifiedCustomerToken {
                store: StoreHash::parse(STORE_HASH).expect("a store hash"),
                customer: CustomerId::new(customer).expect("customer ids are positive"),
                issued_at: now,
                expires: now + 3600,
            };
            (token_for(customer), verified)
        })
        .collect();
    let moka = VerifiedTokens::new();
    let mutex = mutex_memory::VerifiedTokens::default();
    for (token, verified) in &tokens {
        moka.insert(token, verified.clone());
        mutex.insert(token, verified.clone(), now);
    }
    let leeway = Duration::from_secs(30);
    let mut group = criterion.benchmark_group("token memory");
    for threads in [1, 2, 4, 8] {
        group.bench_function(format!("moka::sync::Cache, {threads} threads"), |bencher| {
            bencher.iter_custom(|lookups| {
                in_threads(threads, lookups, &tokens, |token| {
                    moka.get(token, now, leeway).is_some()
                })
            })
        });
        group.bench_function(
            format!("Mutex<HashMap> (before), {threads} threads"),
            |bencher| {
                bencher.iter_custom(|lookups| {
                    in_threads(threads, lookups, &tokens, |token| {
                        mutex.get(token, now, 30).is_some()
                    })
                })
            },
        );
    }
    group.finish();
}

/// Runs `lookups` lookups in each of `threads` threads at once, and answers the wall time.
fn in_threads(
    threads: usize,
    lookups: u64,
    tokens: &[(String, VerifiedCustomerToken)],
    lookup: impl Fn(&str) -> bool + Sync,
) -> Duration {
    let barrier = std::sync::Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let (barrier, lookup) = (&barrier, &lookup);
            scope.spawn(move || {
                barrier.wait();
                let mut next = thread * tokens.len() / threads;
                for _ in 0..lookups {
                    assert!(
                        lookup(black_box(&tokens[next].0)),
                        "every token is remembered"
                    );
                    next = (next + 1) % tokens.len();
                }
            });
        }
        barrier.wait();
        let started = Instant::now();
        // The scope returns once every thread has finished its lookups.
        started
    })
    .elapsed()
}

fn cache_hits(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let settings = settings();
    let warm = runtime.block_on(warm_access(&settings));
    let (access, store) = (&warm.access, &warm.store.scope);
    let customer = CustomerId::new(CUSTOMER).expect("customer ids are positive");
    let order = OrderId::new(FIRST_ORDER).expect("order ids are positive");
    let mut group = criterion.benchmark_group("cache hit");
    group.bench_function("Access::orders", |bencher| {
        bencher.to_async(&runtime).iter(|| async {
            access
                .orders(store, black_box(customer))
                .await
                .expect("warm")
        })
    });
    group.bench_function("Access::order", |bencher| {
        bencher.to_async(&runtime).iter(|| async {
            access
                .order(store, black_box(customer), black_box(order))
                .await
                .expect("warm")
        })
    });
    group.bench_function("Access::metafields", |bencher| {
        bencher.to_async(&runtime).iter(|| async {
            access
                .metafields(store, black_box(customer), black_box(order))
                .await
                .expect("warm")
        })
    });
    group.bench_function("Cache::order_metafields", |bencher| {
        bencher.to_async(&runtime).iter(|| async {
            let cache = access.cache();
            cache
                .metafields
                .get_or_load((store.key, black_box(order)), cache.as_of(), || {
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
    let warm = runtime.block_on(warm_access(&settings));
    let verifier = web::Data::new(CustomerTokenVerifier::new(&settings.auth));
    // The limiter runs, with a limit no benchmark reaches, as in `tools/bench/profile`.
    let unreachable = NonZeroU32::new(1_000_000_000);
    let throttle = web::Data::new(CustomerThrottle::new(
        unreachable,
        unreachable.expect("a positive limit"),
    ));
    let app = runtime.block_on(test::init_service(
        App::new()
            .app_data(verifier)
            .app_data(throttle)
            .app_data(web::Data::new(warm.access))
            .app_data(web::Data::from(warm.stores))
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

criterion_group!(
    benches,
    token_verification,
    token_memory,
    cache_hits,
    requests
);
criterion_main!(benches);

/// The memory of verified tokens as it was before `auth::memory` moved onto moka (commit
/// 97b6f1d): a process-wide mutex over a map keyed by a keyed hash of the signature, with
/// hand-written eviction. Kept here only so that the comparison can be run again.
mod mutex_memory {
    use std::collections::HashMap;
    use std::hash::{BuildHasher, RandomState};
    use std::sync::{Mutex, PoisonError};

    use order_metafields_service::auth::memory::VerifiedCustomerToken;
    use order_metafields_service::domain::CustomerId;

    const VERIFIED_TOKENS_MAX: usize = 16_384;
    const VERIFIED_TOKENS_MAX_BYTES: usize = 16 * 1024 * 1024;

    #[derive(Default)]
    pub struct VerifiedTokens {
        hasher: RandomState,
        memory: Mutex<Memory>,
    }

    #[derive(Default)]
    struct Memory {
        tokens: HashMap<u64, VerifiedToken>,
        bytes: usize,
    }

    struct VerifiedToken {
        token: Box<str>,
        verified: VerifiedCustomerToken,
    }

    impl VerifiedTokens {
        fn key(&self, token: &str) -> u64 {
            let signature = token
                .rsplit_once('.')
                .map_or(token, |(_, signature)| signature);
            self.hasher.hash_one(signature)
        }

        pub fn get(&self, token: &str, now: u64, leeway: u64) -> Option<CustomerId> {
            let key = self.key(token);
            let memory = self.memory.lock().unwrap_or_else(PoisonError::into_inner);
            let known = memory.tokens.get(&key)?;
            let same = aws_lc_rs::constant_time::verify_slices_are_equal(
                known.token.as_bytes(),
                token.as_bytes(),
            )
            .is_ok();
            let verified = &known.verified;
            let in_time =
                now < verified.expires && verified.issued_at <= now.saturating_add(leeway);
            (same && in_time).then_some(verified.customer)
        }

        pub fn insert(&self, token: &str, verified: VerifiedCustomerToken, now: u64) {
            let key = self.key(token);
            let mut memory = self.memory.lock().unwrap_or_else(PoisonError::into_inner);
            if memory.tokens.len() >= VERIFIED_TOKENS_MAX
                || memory.bytes + token.len() > VERIFIED_TOKENS_MAX_BYTES
            {
                memory
                    .tokens
                    .retain(|_, known| now < known.verified.expires);
                memory.bytes = memory.tokens.values().map(|known| known.token.len()).sum();
                if memory.tokens.len() > VERIFIED_TOKENS_MAX / 8 * 7
                    || memory.bytes + token.len() > VERIFIED_TOKENS_MAX_BYTES / 8 * 7
                {
                    memory.tokens.clear();
                    memory.bytes = 0;
                }
            }
            let replaced = memory.tokens.insert(
                key,
                VerifiedToken {
                    token: token.into(),
                    verified,
                },
            );
            memory.bytes =
                memory.bytes + token.len() - replaced.map_or(0, |known| known.token.len());
        }
    }
}
