//! The quota scenario: a storefront day in fast-forward against the sandbox. Thousands of
//! customers, picked by a Zipf law, run sessions (order list, then orders and their
//! metafields, with repeats and reloads); a few place orders; metafield values change. The
//! Management API requests the service makes are set beside the floor (one order-list fetch
//! per active customer per freshness window plus one metafields fetch per distinct viewed
//! order) and the naive figure (one per request). With `webhooks`, the service's hooks are
//! registered on the store first, as `order-metafields webhooks register` does, so each change
//! reaches the service as a signed delivery; deliveries are not Management API calls.
//!
//! Time is compressed: a day of 86,400 s runs in `DayPlan::day`, and the cache lifetimes are
//! compressed by the same factor, so every ratio between them is the real one.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
/// Where the service takes BigCommerce's webhooks.
const WEBHOOK_PATH: &str = "/webhooks/bigcommerce";
use order_metafields_sandbox::{
    self as sandbox, RequestKind, SandboxConfig, SandboxStore, SeedSpec,
};
use order_metafields_service::hook_registration;
use order_metafields_service::management::ManagementClient;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use secrecy::SecretString;
use tokio::task::JoinSet;
use tokio::time::Instant;
use url::Url;

use crate::stack;
use crate::table::Table;

/// What the day looks like.
pub struct DayPlan {
    pub day: Duration,
    pub customers: u32,
    pub sessions: usize,
    pub orders_ttl: Duration,
    pub metafields_ttl: Duration,
    pub changes: usize,
    /// Register the service's webhooks on the store before the day starts.
    pub webhooks: bool,
}

const SIMULATED_DAY: f64 = 86_400.0;
const ORDERS_PER_CUSTOMER: u32 = 8;
/// The Zipf exponent of customer popularity (1 is the classic law).
const ZIPF_EXPONENT: f64 = 1.0;
/// Share of sessions that start by placing an order, then look at it.
const PLACE_ORDER_SHARE: f64 = 0.03;
/// The service's default refresh interval for unknown order ids, compressed like the rest.
const REFRESH_INTERVAL: f64 = 10.0;
/// `WEBHOOK_SECRET`, which the registered hooks send as a header; the store also signs every
/// delivery with the client secret, which is what the service checks first.
const WEBHOOK_SECRET: &str = "bench-quota-webhook-shared-secret";
/// How long to wait after the day for the last deliveries to finish.
const DELIVERY_QUIET_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Page {
    List,
    Order,
    Metafields,
}

/// Which order a step looks at: a seeded one, or the one the session just placed.
#[derive(Clone, Copy)]
enum Target {
    Seeded(u64),
    Placed,
}

#[derive(Clone, Copy)]
enum Action {
    View(Page, Option<Target>),
    PlaceOrder,
}

/// One step of a session, at a simulated second of the day.
struct Step {
    at: f64,
    action: Action,
}

struct Session {
    customer: u64,
    steps: Vec<Step>,
}

struct Change {
    at: f64,
    metafield: u64,
    order: u64,
}

/// A page view as it happened.
struct View {
    customer: u64,
    page: Page,
    order: Option<u64>,
    /// Real time since the start of the day.
    sent: Duration,
    status: u16,
    /// For metafields: whether the body differed from the store's values when it was sent.
    stale: bool,
}

/// Runs the day and prints its table.
pub async fn run(plan: DayPlan) -> anyhow::Result<()> {
    let config = SandboxConfig {
        seed: SeedSpec {
            extra_customers: plan.customers,
            extra_orders_per_customer: ORDERS_PER_CUSTOMER,
            ..SeedSpec::default()
        },
        ..stack::sandbox_config()
    };
    let sandbox = sandbox::start(config).await?;
    let store = sandbox.store();
    let scale = plan.day.as_secs_f64() / SIMULATED_DAY;
    let compressed = |duration: Duration| {
        format!(
            "{}us",
            (duration.as_secs_f64() * scale * 1e6).round().max(1.0)
        )
    };
    let orders_ttl = compressed(plan.orders_ttl);
    let metafields_ttl = compressed(plan.metafields_ttl);
    let refresh = compressed(Duration::from_secs_f64(REFRESH_INTERVAL));
    let mut overrides = vec![
        ("ORDERS_CACHE_TTL", orders_ttl.as_str()),
        ("METAFIELDS_CACHE_TTL", metafields_ttl.as_str()),
        ("ORDERS_REFRESH_INTERVAL", refresh.as_str()),
        // The day is compressed but the per-customer limit is not: the busiest customer's
        // thousands of views a minute would meet it, and its 429s are not the cache's doing.
        // The limiter still runs on every request, with a limit this day never reaches.
        ("CUSTOMER_RATE_LIMIT", "1000000000"),
        ("CUSTOMER_RATE_BURST", "1000000000"),
    ];
    if plan.webhooks {
        overrides.push(("WEBHOOK_SECRET", WEBHOOK_SECRET));
    }
    let service = stack::start_service(&sandbox.api_base_url(), &overrides).await?;
    if plan.webhooks {
        register_hooks(&sandbox.api_base_url(), &service.base).await?;
    }

    let (sessions, changes) = schedule(&store, &plan);
    let tokens = tokens(&sessions)?;
    let client = stack::client();
    store.reset_request_counts();
    let start = Instant::now() + Duration::from_millis(200);
    let mut tasks = JoinSet::new();
    for session in sessions {
        let token = Arc::clone(&tokens[&session.customer]);
        let context = (client.clone(), service.base.clone(), store.clone());
        tasks.spawn(run_session(session, token, context, start, scale));
    }
    let changes_made = changes.len();
    let change_times = apply_changes(&store, changes, start, scale).await;
    let mut views = Vec::new();
    while let Some(result) = tasks.join_next().await {
        views.extend(result.context("a session task failed")??);
    }
    let upstream = Upstream::read(&store);
    let deliveries = if plan.webhooks {
        Some(Deliveries::read(&store).await)
    } else {
        None
    };
    report(
        &plan,
        &views,
        &upstream,
        deliveries.as_ref(),
        &change_times,
        changes_made,
        Duration::from_secs_f64(plan.orders_ttl.as_secs_f64() * scale),
    );
    sandbox.stop().await;
    Ok(())
}

/// Registers the service's hooks on the store through its `/v3/hooks`, as
/// `order-metafields webhooks register` does, delivering to the service's webhook route.
async fn register_hooks(api_base: &Url, service_base: &str) -> anyhow::Result<()> {
    let settings = stack::settings(api_base, &[])?;
    let client = ManagementClient::new(
        settings.single_store().expect("single-store settings"),
        &settings.upstream,
    )
    .context("building the client that registers the hooks")?;
    let destination = format!("{service_base}{WEBHOOK_PATH}");
    hook_registration::register(&client, &destination, &SecretString::from(WEBHOOK_SECRET))
        .await
        .context("registering the service's hooks on the sandbox")?;
    Ok(())
}

/// Sessions and metafield changes for the day, from a fixed seed.
fn schedule(store: &SandboxStore, plan: &DayPlan) -> (Vec<Session>, Vec<Change>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x0da7);
    let mut customers: Vec<u64> = store
        .customers()
        .into_iter()
        .filter(|customer| customer.order_count == ORDERS_PER_CUSTOMER as usize)
        .map(|customer| customer.id)
        .collect();
    // Popularity follows rank, not id: shuffle which customer holds which rank.
    for index in (1..customers.len()).rev() {
        customers.swap(index, rng.random_range(0..=index));
    }
    let zipf = Zipf::new(customers.len(), ZIPF_EXPONENT);
    let orders: HashMap<u64, Vec<u64>> = customers
        .iter()
        .map(|&customer| {
            let mut orders = store.orders_of(customer);
            orders.reverse();
            (customer, orders)
        })
        .collect();
    let sessions = (0..plan.sessions)
        .map(|_| {
            let customer = customers[zipf.sample(&mut rng)];
            let start = rng.random_range(0.0..SIMULATED_DAY - 3_600.0);
            session(&mut rng, customer, &orders[&customer], start)
        })
        .collect();
    let mut changes = Vec::new();
    for _ in 0..plan.changes {
        let customer = customers[zipf.sample(&mut rng)];
        let with_metafields: Vec<(u64, u64)> = orders[&customer]
            .iter()
            .flat_map(|&order| {
                store
                    .metafields_of(order)
                    .into_iter()
                    .map(move |metafield| (order, metafield.id))
            })
            .collect();
        if with_metafields.is_empty() {
            continue;
        }
        let (order, metafield) = with_metafields[rng.random_range(0..with_metafields.len())];
        changes.push(Change {
            at: rng.random_range(0.0..SIMULATED_DAY - 3_600.0),
            metafield,
            order,
        });
    }
    changes.sort_by(|a, b| a.at.total_cmp(&b.at));
    (sessions, changes)
}

/// One visit: the order list, then one to three orders with their metafields, sometimes
/// reloading the metafields or going back to the list in between.
fn session(rng: &mut Xoshiro256PlusPlus, customer: u64, orders: &[u64], start: f64) -> Session {
    let mut steps = Vec::new();
    let mut at = start;
    let view = |at: f64, page: Page, target: Option<Target>| Step {
        at,
        action: Action::View(page, target),
    };
    if rng.random_bool(PLACE_ORDER_SHARE) {
        steps.push(Step {
            at,
            action: Action::PlaceOrder,
        });
        at += 5.0;
        steps.push(view(at, Page::List, None));
        at += gap(rng);
        steps.push(view(at, Page::Order, Some(Target::Placed)));
        steps.push(view(at + 0.5, Page::Metafields, Some(Target::Placed)));
        return Session { customer, steps };
    }
    steps.push(view(at, Page::List, None));
    let looked_at = 1 + usize::from(rng.random_bool(0.5)) + usize::from(rng.random_bool(0.25));
    for _ in 0..looked_at {
        at += gap(rng);
        // Recent orders are looked at most: the newest half the time, else any.
        let order = if rng.random_bool(0.5) {
            orders[0]
        } else {
            orders[rng.random_range(0..orders.len())]
        };
        steps.push(view(at, Page::Order, Some(Target::Seeded(order))));
        steps.push(view(
            at + 0.5,
            Page::Metafields,
            Some(Target::Seeded(order)),
        ));
        if rng.random_bool(0.25) {
            at += gap(rng);
            steps.push(view(at, Page::Metafields, Some(Target::Seeded(order))));
        }
        if rng.random_bool(0.5) {
            at += gap(rng);
            steps.push(view(at, Page::List, None));
        }
    }
    Session { customer, steps }
}

/// Seconds between two page views: exponential, mean 20 s, within 2 s to 3 min.
fn gap(rng: &mut Xoshiro256PlusPlus) -> f64 {
    let uniform: f64 = rng.random_range(f64::EPSILON..1.0);
    (-20.0 * uniform.ln()).clamp(2.0, 180.0)
}

fn tokens(sessions: &[Session]) -> anyhow::Result<HashMap<u64, Arc<str>>> {
    let mut tokens = HashMap::new();
    for session in sessions {
        if let std::collections::hash_map::Entry::Vacant(entry) = tokens.entry(session.customer) {
            entry.insert(Arc::from(stack::token(session.customer)?));
        }
    }
    Ok(tokens)
}

async fn run_session(
    session: Session,
    token: Arc<str>,
    (client, base, store): (reqwest::Client, String, SandboxStore),
    start: Instant,
    scale: f64,
) -> anyhow::Result<Vec<View>> {
    let mut views = Vec::new();
    let mut placed = None;
    for step in session.steps {
        tokio::time::sleep_until(start + Duration::from_secs_f64(step.at * scale)).await;
        let (page, target) = match step.action {
            Action::PlaceOrder => {
                placed = Some(store.add_order(session.customer));
                continue;
            }
            Action::View(page, target) => (page, target),
        };
        let order = match target {
            Some(Target::Seeded(order)) => Some(order),
            Some(Target::Placed) => placed,
            None => None,
        };
        let path = match (page, order) {
            (Page::List, _) | (_, None) => "/v1/orders".to_owned(),
            (Page::Order, Some(order)) => format!("/v1/orders/{order}"),
            (Page::Metafields, Some(order)) => format!("/v1/orders/{order}/metafields"),
        };
        let expected = match (page, order) {
            (Page::Metafields, Some(order)) => Some(visible_values(&store, order)),
            _ => None,
        };
        let sent = start.elapsed();
        let answer = stack::get(&client, &base, &path, &token).await?;
        // Stale means neither the values when the request was sent nor those now.
        let stale = expected.is_some_and(|expected| {
            let served = served_values(&answer.body);
            served != expected && order.is_some_and(|order| served != visible_values(&store, order))
        });
        views.push(View {
            customer: session.customer,
            page,
            order,
            sent,
            status: answer.status,
            stale,
        });
    }
    Ok(views)
}

async fn apply_changes(
    store: &SandboxStore,
    changes: Vec<Change>,
    start: Instant,
    scale: f64,
) -> HashMap<u64, Vec<Duration>> {
    let mut times: HashMap<u64, Vec<Duration>> = HashMap::new();
    for (number, change) in changes.into_iter().enumerate() {
        tokio::time::sleep_until(start + Duration::from_secs_f64(change.at * scale)).await;
        let value = format!("https://track.example.com/{}?update={number}", change.order);
        store.set_metafield_value(change.metafield, value);
        times.entry(change.order).or_default().push(start.elapsed());
    }
    times
}

fn visible_values(store: &SandboxStore, order: u64) -> Vec<String> {
    let mut values: Vec<String> = store
        .metafields_of(order)
        .into_iter()
        .filter(|metafield| metafield.permission_set.ends_with("_sf_access"))
        .map(|metafield| metafield.value)
        .collect();
    values.sort();
    values
}

fn served_values(body: &[u8]) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let mut values: Vec<String> = value["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|metafield| metafield["value"].as_str().map(str::to_owned))
        .collect();
    values.sort();
    values
}

/// Management API requests the day cost, by kind.
struct Upstream {
    total: u64,
    order_lists: u64,
    metafields: u64,
}

impl Upstream {
    fn read(store: &SandboxStore) -> Self {
        Self {
            total: store.management_requests(),
            order_lists: store.management_requests_of(RequestKind::OrdersList),
            metafields: store.management_requests_of(RequestKind::OrderMetafields),
        }
    }
}

/// Webhook messages the store sent during the day, from its delivery log.
struct Deliveries {
    sent: usize,
    /// Of those, for metafield changes (the rest are for placed orders).
    metafield_changes: usize,
    /// Answered `2xx`: the service authenticated them and dropped what they name.
    acknowledged: usize,
}

impl Deliveries {
    /// Waits for the last deliveries to finish, then counts them.
    async fn read(store: &SandboxStore) -> Self {
        let records = store.wait_for_deliveries(0, DELIVERY_QUIET_TIMEOUT).await;
        Self {
            sent: records.len(),
            metafield_changes: records
                .iter()
                .filter(|record| record.scope.starts_with("store/order/metafield/"))
                .count(),
            acknowledged: records.iter().filter(|record| record.succeeded()).count(),
        }
    }
}

/// The floor: per customer, the fewest list fetches that keep every view within the
/// freshness window (a fetch at a view covers the views of the next window); plus one
/// metafields fetch per distinct order whose metafields were viewed.
struct Floor {
    order_lists: u64,
    metafields: u64,
    /// One metafields fetch per distinct (order, value version) viewed.
    metafields_with_changes: u64,
}

fn floor(views: &[View], window: Duration, change_times: &HashMap<u64, Vec<Duration>>) -> Floor {
    let mut by_customer: HashMap<u64, Vec<Duration>> = HashMap::new();
    for view in views {
        by_customer
            .entry(view.customer)
            .or_default()
            .push(view.sent);
    }
    let mut order_lists = 0;
    for times in by_customer.values_mut() {
        times.sort();
        let mut covered_until = None;
        for &time in times.iter() {
            if covered_until.is_none_or(|until| time >= until) {
                order_lists += 1;
                covered_until = Some(time + window);
            }
        }
    }
    let mut orders = HashSet::new();
    let mut versions = HashSet::new();
    for view in views.iter().filter(|view| view.page == Page::Metafields) {
        if let Some(order) = view.order {
            orders.insert(order);
            let version = change_times.get(&order).map_or(0, |times| {
                times.iter().filter(|&&at| at <= view.sent).count()
            });
            versions.insert((order, version));
        }
    }
    Floor {
        order_lists,
        metafields: orders.len() as u64,
        metafields_with_changes: versions.len() as u64,
    }
}

fn report(
    plan: &DayPlan,
    views: &[View],
    upstream: &Upstream,
    deliveries: Option<&Deliveries>,
    change_times: &HashMap<u64, Vec<Duration>>,
    changes: usize,
    orders_window: Duration,
) {
    let floor = floor(views, orders_window, change_times);
    let page_views = views.len() as f64;
    let per_thousand = |calls: u64| format!("{:.0}", calls as f64 * 1000.0 / page_views);
    let active: HashSet<u64> = views.iter().map(|view| view.customer).collect();
    let failed = views.iter().filter(|view| view.status != 200).count();
    let metafield_views: Vec<&View> = views
        .iter()
        .filter(|view| view.page == Page::Metafields)
        .collect();
    let stale = metafield_views.iter().filter(|view| view.stale).count();
    let other = upstream.total - upstream.order_lists - upstream.metafields;
    let floor_total = floor.order_lists + floor.metafields;
    let floor_changes = floor.order_lists + floor.metafields_with_changes;

    println!(
        "Quota: one day in {} (TTL orders {}, metafields {}{}): {} page views, {} sessions, {} active customers of {}, {} metafield changes, {} non-200 answers",
        humantime::format_duration(plan.day),
        humantime::format_duration(plan.orders_ttl),
        humantime::format_duration(plan.metafields_ttl),
        if plan.webhooks { ", webhooks" } else { "" },
        views.len(),
        plan.sessions,
        active.len(),
        plan.customers,
        changes,
        failed,
    );
    println!();
    let mut table = Table::new(&[
        "Management API calls",
        "order lists",
        "metafields",
        "other",
        "total",
        "per 1,000 page views",
        "× floor",
    ]);
    let times_floor = |calls: u64| format!("{:.2}", calls as f64 / floor_total as f64);
    table.row(vec![
        "service (measured)".to_owned(),
        upstream.order_lists.to_string(),
        upstream.metafields.to_string(),
        other.to_string(),
        upstream.total.to_string(),
        per_thousand(upstream.total),
        times_floor(upstream.total),
    ]);
    table.row(vec![
        "floor".to_owned(),
        floor.order_lists.to_string(),
        floor.metafields.to_string(),
        "0".to_owned(),
        floor_total.to_string(),
        per_thousand(floor_total),
        times_floor(floor_total),
    ]);
    table.row(vec![
        "floor, changed metafields refetched".to_owned(),
        floor.order_lists.to_string(),
        floor.metafields_with_changes.to_string(),
        "0".to_owned(),
        floor_changes.to_string(),
        per_thousand(floor_changes),
        times_floor(floor_changes),
    ]);
    let naive = views.len() as u64;
    table.row(vec![
        "naive (one per request)".to_owned(),
        "-".to_owned(),
        "-".to_owned(),
        "-".to_owned(),
        naive.to_string(),
        per_thousand(naive),
        times_floor(naive),
    ]);
    table.print();
    println!();
    println!(
        "Metafields views that showed a value older than the store's: {stale} of {} ({:.2}%)",
        metafield_views.len(),
        stale as f64 * 100.0 / metafield_views.len().max(1) as f64
    );
    if let Some(deliveries) = deliveries {
        println!(
            "Webhook deliveries acknowledged by the service: {} of {} sent ({} for metafield changes, {} for placed orders); none is a Management API call",
            deliveries.acknowledged,
            deliveries.sent,
            deliveries.metafield_changes,
            deliveries.sent - deliveries.metafield_changes,
        );
    }
}

/// Samples ranks 0..n with probability proportional to 1 / (rank + 1)^exponent.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, exponent: f64) -> Self {
        let mut total = 0.0;
        let cumulative = (1..=n)
            .map(|rank| {
                total += 1.0 / (rank as f64).powf(exponent);
                total
            })
            .collect();
        Self { cumulative }
    }

    fn sample(&self, rng: &mut Xoshiro256PlusPlus) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let point = rng.random_range(0.0..total);
        self.cumulative
            .partition_point(|&cumulative| cumulative <= point)
            .min(self.cumulative.len() - 1)
    }
}
