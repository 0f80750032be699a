//! Ownership under concurrency, as a property: random interleavings of customers' reads
//! (orders, one order, metafields), list loads that read the store and answer later (or
//! fail), order moves between customers, and webhook deliveries in any order never let a
//! customer read an order the store says is not theirs once that change's webhook has been
//! answered. The store is scripted; `Access` and the cache are the real ones, on tokio's
//! paused clock in one thread, so every interleaving is reproducible.

#![allow(clippy::unwrap_used)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Mutex;

use proptest::prelude::*;
use time::macros::datetime;
use tokio::sync::oneshot;

use super::*;
use crate::config::Settings;
use crate::domain::Decimal;

const CUSTOMERS: u64 = 3;
const FIRST_ORDER: u64 = 10;
const ORDERS: u64 = 4;

/// One step of a scenario.
#[derive(Clone, Debug)]
enum Step {
    /// A customer asks for their orders, one order, or its metafields.
    Read(Kind, u64, u64),
    /// The merchant gives an order to another customer (0: a guest).
    Move(u64, u64),
    /// BigCommerce delivers (and the service answers) one pending webhook, by position.
    Deliver(usize),
    /// One pending list load answers (by position): with what it read, or with an outage.
    Answer(usize, bool),
    /// Time passes (refresh interval, failure backoff).
    Wait(u64),
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Orders,
    Order,
    Metafields,
}

/// The scripted store: who owns each order, and the list loads waiting to answer.
#[derive(Clone, Default)]
struct Store(Arc<Mutex<StoreState>>);

#[derive(Default)]
struct StoreState {
    owners: BTreeMap<u64, u64>,
    loads: Vec<oneshot::Sender<bool>>,
}

/// What a read returned, and when it started and ended (in steps).
struct Seen {
    customer: u64,
    orders: Vec<u64>,
    started: usize,
    ended: usize,
}

/// A move of an order, when it happened and when its webhook was answered (in steps).
struct Moved {
    order: u64,
    owner: u64,
    at: usize,
    answered: Option<usize>,
}

impl OrderSource for Store {
    fn deadline(&self) -> Instant {
        Instant::now() + Duration::from_secs(3600)
    }

    /// Reads the store when called; answers when the scenario says.
    fn customer_orders(
        &self,
        customer: CustomerId,
        _deadline: Instant,
    ) -> impl Future<Output = Result<Vec<Order>, ManagementError>> {
        let (answer, answered) = oneshot::channel();
        let read: Vec<Order> = {
            let mut state = self.0.lock().unwrap();
            state.loads.push(answer);
            state
                .owners
                .iter()
                .filter(|(_, owner)| **owner == customer.get())
                .map(|(order, owner)| order_of(*order, *owner))
                .collect()
        };
        async move {
            match answered.await {
                Ok(true) => Ok(read),
                _ => Err(ManagementError::Unavailable {
                    operation: crate::management::error::Operation::CustomerOrders,
                    cause: "scripted outage".to_owned(),
                }),
            }
        }
    }

    fn order_metafields(
        &self,
        _order: OrderId,
        _deadline: Instant,
    ) -> impl Future<Output = Result<Vec<Metafield>, ManagementError>> {
        std::future::ready(Ok(Vec::new()))
    }
}

fn order_of(id: u64, owner: u64) -> Order {
    let zero = Decimal::parse("0.0000").unwrap();
    Order {
        id: OrderId::new(id).unwrap(),
        customer_id: owner,
        status: "Pending".to_owned(),
        status_id: 1,
        date_created: datetime!(2024-01-01 0:00 UTC),
        date_modified: datetime!(2024-01-01 0:00 UTC),
        date_shipped: None,
        currency_code: "EUR".to_owned(),
        subtotal_ex_tax: zero.clone(),
        subtotal_inc_tax: zero.clone(),
        shipping_cost_inc_tax: zero.clone(),
        total_tax: zero.clone(),
        total_ex_tax: zero.clone(),
        total_inc_tax: zero.clone(),
        discount_amount: zero.clone(),
        refunded_amount: zero,
        items_total: 1,
        items_shipped: 0,
        payment_method: "Card".to_owned(),
        order_is_digital: false,
        channel_id: 1,
    }
}

/// The key of the one store these scenarios read.
const STORE: StoreKey = StoreKey::new(1);

/// The real `Access` over the scripted store.
#[derive(Clone)]
struct Tested {
    access: Access,
    store: Rc<StoreScope<Store>>,
}

fn access(store: Store) -> Tested {
    let settings = Settings::from_pairs([
        ("BC_STORE_HASH", "store1"),
        ("BC_ACCESS_TOKEN", "access-token-value"),
        ("BC_CLIENT_ID", "client-id"),
        ("BC_CLIENT_SECRET", "client-secret-value"),
        ("BC_API_BASE_URL", "http://127.0.0.1:9/"),
        ("ORDERS_CACHE_TTL", "1h"),
        ("METAFIELDS_CACHE_TTL", "1h"),
        ("ORDERS_REFRESH_INTERVAL", "1s"),
        ("STALE_IF_ERROR", "1h"),
    ])
    .unwrap();
    let cache = Cache::new(&settings.cache, crate::metrics::CacheMetrics::new());
    Tested {
        access: Access::new(cache, settings.cache.orders_refresh_interval),
        store: Rc::new(StoreScope {
            key: STORE,
            source: store,
            policy: VisibilityPolicy::default(),
            fields: arc_swap::ArcSwap::from_pointee(crate::fields::FieldDefinitions::default()),
            figures: crate::access::StoreFigures::default(),
        }),
    }
}

/// Lets every read run until it waits for a load.
async fn settle() {
    for _ in 0..25 {
        tokio::task::yield_now().await;
    }
}

/// Runs the scenario; returns what every read saw and every move.
async fn run(owners: Vec<u64>, steps: Vec<Step>) -> (Vec<Seen>, Vec<Moved>) {
    let store = Store::default();
    store.0.lock().unwrap().owners = (FIRST_ORDER..).zip(owners).collect();
    let access = access(store.clone());
    let seen = Rc::new(RefCell::new(Vec::new()));
    let clock = Rc::new(RefCell::new(0_usize));
    let mut moves: Vec<Moved> = Vec::new();
    let mut pending_webhooks: Vec<usize> = Vec::new();
    let mut reads = Vec::new();
    for (now, step) in steps.into_iter().enumerate() {
        *clock.borrow_mut() = now;
        match step {
            Step::Read(kind, customer, order) => {
                let (access, seen, clock) = (access.clone(), seen.clone(), clock.clone());
                reads.push(tokio::task::spawn_local(async move {
                    let orders = read(&access, kind, customer, order).await;
                    let ended = *clock.borrow();
                    seen.borrow_mut().push(Seen {
                        customer,
                        orders,
                        started: now,
                        ended,
                    });
                }));
            }
            Step::Move(order, owner) => {
                store.0.lock().unwrap().owners.insert(order, owner);
                pending_webhooks.push(moves.len());
                moves.push(Moved {
                    order,
                    owner,
                    at: now,
                    answered: None,
                });
            }
            Step::Deliver(position) => {
                if !pending_webhooks.is_empty() {
                    let index = pending_webhooks.remove(position % pending_webhooks.len());
                    let order = OrderId::new(moves[index].order).unwrap();
                    access.access.invalidate(Change::Order(STORE, order));
                    moves[index].answered = Some(now);
                }
            }
            Step::Answer(position, succeeds) => {
                let mut state = store.0.lock().unwrap();
                if !state.loads.is_empty() {
                    let index = position % state.loads.len();
                    let _ = state.loads.remove(index).send(succeeds);
                }
            }
            Step::Wait(millis) => tokio::time::advance(Duration::from_millis(millis)).await,
        }
        settle().await;
    }
    // Every load answers at last, so every read ends.
    *clock.borrow_mut() = usize::MAX;
    for _ in 0..100 {
        let loads: Vec<_> = std::mem::take(&mut store.0.lock().unwrap().loads);
        if loads.is_empty() && reads.iter().all(|read| read.is_finished()) {
            break;
        }
        for load in loads {
            let _ = load.send(true);
        }
        settle().await;
    }
    for read in reads {
        assert!(read.is_finished(), "a read was left waiting");
    }
    let seen = seen.take();
    (seen, moves)
}

/// The order ids a read returned to the customer.
async fn read(tested: &Tested, kind: Kind, customer: u64, order: u64) -> Vec<u64> {
    let (access, store) = (&tested.access, &*tested.store);
    let customer = CustomerId::new(customer).unwrap();
    let id = OrderId::new(order).unwrap();
    match kind {
        Kind::Orders => match access.orders(store, customer).await {
            Ok(orders) => {
                let run = orders.value().json_run(0..usize::MAX);
                let text = format!("[{}]", String::from_utf8_lossy(run));
                let list: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
                list.iter()
                    .map(|order| order["id"].as_u64().unwrap())
                    .collect()
            }
            Err(_) => Vec::new(),
        },
        Kind::Order => match access.order(store, customer, id).await {
            Ok(_) => vec![order],
            Err(_) => Vec::new(),
        },
        Kind::Metafields => match access.metafields(store, customer, id).await {
            Ok(_) => vec![order],
            Err(_) => Vec::new(),
        },
    }
}

/// The owners an order may be shown to by a read: from the latest move whose webhook was
/// answered before the read started, every owner it had until the read ended; `None` when
/// no such webhook constrains the read.
fn allowed_owners(moves: &[Moved], order: u64, started: usize, ended: usize) -> Option<Vec<u64>> {
    let latest = moves
        .iter()
        .filter(|moved| moved.order == order && moved.answered.is_some_and(|at| at < started))
        .max_by_key(|moved| moved.at)?;
    Some(
        moves
            .iter()
            .filter(|moved| moved.order == order && moved.at >= latest.at && moved.at <= ended)
            .map(|moved| moved.owner)
            .collect(),
    )
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let customer = 1..=CUSTOMERS;
    let order = FIRST_ORDER..FIRST_ORDER + ORDERS;
    let kind = prop_oneof![
        Just(Kind::Orders),
        Just(Kind::Order),
        Just(Kind::Metafields)
    ];
    let step = prop_oneof![
        4 => (kind, customer.clone(), order.clone()).prop_map(|(k, c, o)| Step::Read(k, c, o)),
        2 => (order, 0..=CUSTOMERS).prop_map(|(o, c)| Step::Move(o, c)),
        2 => any::<usize>().prop_map(Step::Deliver),
        3 => (any::<usize>(), prop::bool::weighted(0.85)).prop_map(|(i, ok)| Step::Answer(i, ok)),
        1 => prop_oneof![Just(200_u64), Just(1_100), Just(6_000)].prop_map(Step::Wait),
    ];
    prop::collection::vec(step, 1..80)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_customer_reads_an_order_taken_from_them_once_the_webhook_is_answered(
        owners in prop::collection::vec(0..=CUSTOMERS, ORDERS as usize),
        steps in steps(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        let (seen, moves) = local.block_on(&runtime, run(owners, steps));

        for read in &seen {
            for order in &read.orders {
                if let Some(allowed) = allowed_owners(&moves, *order, read.started, read.ended) {
                    prop_assert!(
                        allowed.contains(&read.customer),
                        "customer {} read order {order} in steps {}..={}; its owners since the \
                         latest answered webhook were {allowed:?}",
                        read.customer, read.started, read.ended
                    );
                }
            }
        }
    }
}
