//! The mirror scenario (`SYNC_MODE=mirror`) beside on-demand reads, against the sandbox with
//! a fixed delay on every Management API answer:
//!
//! - **Page views**: many distinct shoppers each visit once (their order list, then the
//!   metafields of one of their orders), first with an on-demand service, then with a
//!   mirroring one once its initial sync is complete. Management API calls per 1,000 page
//!   views, the sync's own background calls meanwhile (catch-ups, told apart by the service's
//!   `order_metafields_upstream_requests_total{operation="sync_*"}`), first-visit latency,
//!   and a warm hit (the same page view again) for reference.
//! - **Initial sync**: how long it takes and how many calls it costs for stores of given
//!   sizes, and how large the SQLite database is after.
//!
//! Every wait is bounded; every service is stopped (its sync with it) before the next starts.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use order_metafields_sandbox::{
    self as sandbox, RequestKind, SandboxConfig, SandboxStore, SeedSpec,
};
use order_metafields_service::database::{Database, MirrorStateRecord};
use order_metafields_service::startup::Application;
use tokio::time::Instant;
use url::Url;

use crate::stack;
use crate::table::{Table, ms};

/// What the scenario runs.
pub struct MirrorPlan {
    /// Delay before every Management API answer.
    pub latency: Duration,
    /// Distinct shoppers, one first visit each, per mode.
    pub shoppers: u32,
    /// Page views in flight at once.
    pub concurrency: usize,
    /// Shoppers whose page view is repeated for the warm-hit figure.
    pub warm_samples: usize,
    /// `MIRROR_CATCH_UP_INTERVAL` while the mirror serves the page views.
    pub catch_up: Duration,
    /// Store sizes (orders) whose initial sync is timed.
    pub sync_orders: Vec<u32>,
    /// The sandbox's quota for the sync runs: requests per window.
    pub sync_quota: u32,
    pub sync_quota_window: Duration,
    /// Time the initial syncs only, without the page views.
    pub sync_only: bool,
}

/// Orders per generated shopper in the page-view store.
const ORDERS_EACH: u32 = 5;
/// Orders per generated shopper in the sync stores.
const SYNC_ORDERS_EACH: u32 = 10;
/// Longest one page view (two requests) may take before the scenario gives up.
const PAGE_VIEW_TIMEOUT: Duration = Duration::from_secs(60);
/// Catch-up intervals the mirror is left idle for, to count what catching up costs alone.
const IDLE_CATCH_UPS: u32 = 3;
/// How often the sync's state is read while waiting for it.
const POLL: Duration = Duration::from_millis(100);

/// Runs the scenario and prints its tables.
pub async fn run(plan: MirrorPlan) -> anyhow::Result<()> {
    if !plan.sync_only {
        page_views(&plan).await?;
        println!();
    }
    initial_syncs(&plan).await
}

/// A service in this process, stopped (its mirror's sync with it) by [`Running::stop`].
struct Running {
    base: String,
    database: Database,
    mirror: Option<std::sync::Arc<order_metafields_service::mirror::StoreMirror>>,
    handle: actix_web::dev::ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn start(api_base: &Url, overrides: &[(&str, &str)]) -> anyhow::Result<Self> {
        let application = Application::build(stack::settings(api_base, overrides)?).await?;
        let mirror = application
            .stores()
            .all()
            .iter()
            .find_map(|store| store.mirror().cloned());
        let base = format!("http://127.0.0.1:{}", application.port());
        let database = application.database().clone();
        let handle = application.server_handle();
        Ok(Self {
            base,
            database,
            mirror,
            handle,
            server: tokio::spawn(application.run_until_stopped()),
        })
    }

    async fn stop(self) {
        self.handle.stop(false).await;
        let _ = tokio::time::timeout(Duration::from_secs(10), self.server).await;
    }

    /// Waits until the initial sync is complete and reads use the mirror; the state then.
    async fn synced(&self, limit: Duration) -> anyhow::Result<MirrorStateRecord> {
        let hash = stack::sandbox_config().store_hash;
        let until = Instant::now() + limit;
        let mut last = None;
        while Instant::now() < until {
            last = self.database.mirror_state(&hash).await.ok().flatten();
            let complete = last
                .as_ref()
                .is_some_and(|state| state.orders_complete && state.metafields_complete);
            let reading = self
                .mirror
                .as_ref()
                .is_none_or(|mirror| mirror.ready() == (true, true));
            if complete && reading {
                return last.context("the state was just read");
            }
            tokio::time::sleep(POLL).await;
        }
        bail!(
            "the initial sync was not complete after {}: {last:?}",
            humantime::format_duration(limit)
        )
    }

    /// The service's Management API requests on behalf of the mirror's sync so far.
    async fn sync_requests(&self, client: &reqwest::Client) -> anyhow::Result<u64> {
        let text = tokio::time::timeout(Duration::from_secs(10), async {
            client
                .get(format!("{}/metrics", self.base))
                .send()
                .await?
                .error_for_status()?
                .text()
                .await
        })
        .await
        .context("GET /metrics timed out")??;
        Ok(text
            .lines()
            .filter(|line| line.starts_with("order_metafields_upstream_requests_total{"))
            .filter(|line| line.contains("operation=\"sync_"))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64)
    }
}

/// One shopper's page view: their token and the order whose metafields they open.
struct Visit {
    token: String,
    order: u64,
}

/// A mode's page views, measured.
struct Column {
    page_views: usize,
    failed: usize,
    first: Vec<Duration>,
    warm: Vec<Duration>,
    /// Management API requests while the page views ran, all of them.
    upstream: u64,
    /// Of which the mirror's sync made (catch-ups).
    sync: u64,
    window: Duration,
}

async fn page_views(plan: &MirrorPlan) -> anyhow::Result<()> {
    let mut config = SandboxConfig {
        latency: plan.latency,
        seed: SeedSpec {
            extra_customers: plan.shoppers,
            extra_orders_per_customer: ORDERS_EACH,
            ..SeedSpec::default()
        },
        ..stack::sandbox_config()
    };
    config.more_stores.clear();
    let sandbox = sandbox::start(config).await?;
    let store = sandbox.store();
    let visits = visits(&store, plan.shoppers)?;
    let client = stack::client();

    // On demand: every first visit asks the Management API.
    let service = Running::start(&sandbox.api_base_url(), &[]).await?;
    let on_demand = measure(&service, &client, &store, &visits, plan).await?;
    service.stop().await;

    // Mirror: the same shoppers, once the initial sync is complete.
    let directory = tempfile::tempdir().context("a temporary directory")?;
    let database = sqlite_url(&directory.path().join("mirror.db"));
    let catch_up = format!("{}ms", plan.catch_up.as_millis());
    store.reset_request_counts();
    let started = Instant::now();
    let service = Running::start(
        &sandbox.api_base_url(),
        &[
            ("SYNC_MODE", "mirror"),
            ("DATABASE_URL", &database),
            ("MIRROR_CATCH_UP_INTERVAL", &catch_up),
        ],
    )
    .await?;
    let state = service.synced(Duration::from_secs(300)).await?;
    let sync_time = started.elapsed();
    let sync_calls = store.management_requests();
    let mirror = measure(&service, &client, &store, &visits, plan).await?;
    // The catch-up's own cost with no page views at all: a few intervals, idle.
    let idle = plan.catch_up * IDLE_CATCH_UPS;
    let before = service.sync_requests(&client).await?;
    tokio::time::sleep(idle).await;
    let idle_calls = service.sync_requests(&client).await?.saturating_sub(before);
    service.stop().await;
    sandbox.stop().await;

    println!(
        "Mirror, page views: upstream latency {} per Management API request, {} distinct shoppers of {ORDERS_EACH} orders, one first visit each (GET /v1/orders, then GET /v1/orders/{{id}}/metafields of one of their orders), {} at a time; warm hit: the same page view again, {} shoppers",
        humantime::format_duration(plan.latency),
        visits.len(),
        plan.concurrency,
        plan.warm_samples.min(visits.len()),
    );
    println!(
        "Mirror's initial sync of this store ({} orders) before the page views: {:.1} s, {sync_calls} Management API calls; catch-up every {} during the page views and {} idle after them (production default 60s)",
        state.orders_synced,
        sync_time.as_secs_f64(),
        humantime::format_duration(plan.catch_up),
        humantime::format_duration(idle),
    );
    println!();
    let mut table = Table::new(&["", "on-demand", "mirror"]);
    let both = |cell: &dyn Fn(&Column) -> String| vec![cell(&on_demand), cell(&mirror)];
    let row = |table: &mut Table, label: &str, cells: Vec<String>| {
        let mut row = vec![label.to_owned()];
        row.extend(cells);
        table.row(row);
    };
    row(
        &mut table,
        "page views (first visits)",
        both(&|column| column.page_views.to_string()),
    );
    row(
        &mut table,
        "**Management API calls per 1,000 page views** (page views' own)",
        both(&|column| {
            format!(
                "**{:.0}**",
                column.upstream.saturating_sub(column.sync) as f64 * 1000.0
                    / column.page_views as f64
            )
        }),
    );
    row(
        &mut table,
        "Management API calls during the page views, all",
        both(&|column| column.upstream.to_string()),
    );
    row(
        &mut table,
        "of which the sync's background calls (catch-ups)",
        both(&|column| column.sync.to_string()),
    );
    row(
        &mut table,
        "the sync's background calls per minute, idle",
        vec![
            "-".to_owned(),
            format!("{:.0}", idle_calls as f64 * 60.0 / idle.as_secs_f64()),
        ],
    );
    row(
        &mut table,
        "page views' window, s",
        both(&|column| format!("{:.1}", column.window.as_secs_f64())),
    );
    row(
        &mut table,
        "first visit p50 ms (both requests)",
        both(&|column| ms(percentile(&column.first, 0.50))),
    );
    row(
        &mut table,
        "first visit p99 ms",
        both(&|column| ms(percentile(&column.first, 0.99))),
    );
    row(
        &mut table,
        "warm hit p50 ms (same page view again)",
        both(&|column| ms(percentile(&column.warm, 0.50))),
    );
    row(
        &mut table,
        "first visit p50 ÷ warm hit p50",
        both(&|column| {
            format!(
                "{:.1}",
                percentile(&column.first, 0.50).as_secs_f64()
                    / percentile(&column.warm, 0.50).as_secs_f64().max(1e-9)
            )
        }),
    );
    row(
        &mut table,
        "non-200 answers",
        both(&|column| column.failed.to_string()),
    );
    table.print();
    Ok(())
}

/// The first `count` generated shoppers, each with the newest of their orders that has
/// metafields (or their newest).
fn visits(store: &SandboxStore, count: u32) -> anyhow::Result<Vec<Visit>> {
    let visits = store
        .customers()
        .into_iter()
        .filter(|customer| customer.order_count == ORDERS_EACH as usize)
        .take(count as usize)
        .map(|customer| {
            let orders = store.orders_of(customer.id);
            let order = orders
                .iter()
                .rev()
                .find(|&&order| !store.metafields_of(order).is_empty())
                .or(orders.last())
                .copied()
                .unwrap_or(0);
            Ok(Visit {
                token: stack::token(customer.id)?,
                order,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if visits.is_empty() {
        bail!("the sandbox has no generated shoppers");
    }
    Ok(visits)
}

/// Every shopper's first visit, then warm hits; Management API requests over the first
/// visits, and the sync's share of them.
async fn measure(
    service: &Running,
    client: &reqwest::Client,
    store: &SandboxStore,
    visits: &[Visit],
    plan: &MirrorPlan,
) -> anyhow::Result<Column> {
    let sync_before = service.sync_requests(client).await?;
    store.reset_request_counts();
    let started = Instant::now();
    let first = view_all(service, client, visits, plan.concurrency).await?;
    let window = started.elapsed();
    let upstream = store.management_requests();
    let sync = service
        .sync_requests(client)
        .await?
        .saturating_sub(sync_before);
    let warm_visits = &visits[..plan.warm_samples.min(visits.len())];
    let warm = view_all(service, client, warm_visits, plan.concurrency).await?;
    Ok(Column {
        page_views: first.len(),
        failed: first.iter().chain(&warm).filter(|view| !view.1).count(),
        first: first.into_iter().map(|view| view.0).collect(),
        warm: warm.into_iter().map(|view| view.0).collect(),
        upstream,
        sync,
        window,
    })
}

/// One page view per visit, `concurrency` at a time: its time and whether both were 200.
async fn view_all(
    service: &Running,
    client: &reqwest::Client,
    visits: &[Visit],
    concurrency: usize,
) -> anyhow::Result<Vec<(Duration, bool)>> {
    futures_util::stream::iter(visits)
        .map(|visit| page_view(client, &service.base, visit))
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

async fn page_view(
    client: &reqwest::Client,
    base: &str,
    visit: &Visit,
) -> anyhow::Result<(Duration, bool)> {
    let started = Instant::now();
    let metafields = format!("/v1/orders/{}/metafields", visit.order);
    let (list, detail) = tokio::time::timeout(PAGE_VIEW_TIMEOUT, async {
        let list = stack::get(client, base, "/v1/orders", &visit.token).await?;
        let detail = stack::get(client, base, &metafields, &visit.token).await?;
        anyhow::Ok((list, detail))
    })
    .await
    .context("a page view timed out")??;
    Ok((
        started.elapsed(),
        list.status == 200 && detail.status == 200,
    ))
}

fn percentile(durations: &[Duration], share: f64) -> Duration {
    let mut sorted = durations.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * share).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.to_string_lossy())
}

/// Bytes of an SQLite database: the file and its write-ahead log.
fn sqlite_bytes(path: &Path) -> u64 {
    let size = |path: &Path| std::fs::metadata(path).map_or(0, |metadata| metadata.len());
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    size(path) + size(Path::new(&wal))
}

async fn initial_syncs(plan: &MirrorPlan) -> anyhow::Result<()> {
    let mut table = Table::new(&[
        "orders asked",
        "orders mirrored",
        "metafields mirrored",
        "sync time s",
        "Management API calls",
        "of which order pages",
        "of which metafield pages",
        "SQLite bytes (file + WAL)",
        "bytes per order",
    ]);
    for &orders in &plan.sync_orders {
        table.row(initial_sync(plan, orders).await?);
    }
    println!(
        "Mirror, initial sync: upstream latency {} per Management API request, sandbox quota {} per {}, {SYNC_ORDERS_EACH} orders per generated shopper, SQLite file",
        humantime::format_duration(plan.latency),
        plan.sync_quota,
        humantime::format_duration(plan.sync_quota_window),
    );
    println!();
    table.print();
    Ok(())
}

async fn initial_sync(plan: &MirrorPlan, orders: u32) -> anyhow::Result<Vec<String>> {
    let mut config = SandboxConfig {
        latency: plan.latency,
        quota: plan.sync_quota,
        quota_window: plan.sync_quota_window,
        seed: SeedSpec {
            extra_customers: orders.div_ceil(SYNC_ORDERS_EACH),
            extra_orders_per_customer: SYNC_ORDERS_EACH,
            ..SeedSpec::default()
        },
        ..stack::sandbox_config()
    };
    config.more_stores.clear();
    let sandbox = sandbox::start(config).await?;
    let store = sandbox.store();
    let directory = tempfile::tempdir().context("a temporary directory")?;
    let path = directory.path().join("mirror.db");
    let database = sqlite_url(&path);
    store.reset_request_counts();
    let started = Instant::now();
    let service = Running::start(
        &sandbox.api_base_url(),
        &[
            ("SYNC_MODE", "mirror"),
            ("DATABASE_URL", &database),
            // No catch-up while the initial sync is measured.
            ("MIRROR_CATCH_UP_INTERVAL", "1h"),
        ],
    )
    .await?;
    // Generous: a thousand orders a second is far slower than any run seen.
    let limit = Duration::from_secs(120 + u64::from(orders) / 100);
    let synced = service.synced(limit).await;
    let elapsed = started.elapsed();
    let calls = (
        store.management_requests(),
        store.management_requests_of(RequestKind::OrdersList),
        store.management_requests_of(RequestKind::BatchMetafields),
    );
    let hash = stack::sandbox_config().store_hash;
    let size = service.database.mirror_size(&hash).await;
    service.stop().await;
    sandbox.stop().await;
    let state = synced?;
    let size = size?;
    let bytes = sqlite_bytes(&path);
    Ok(vec![
        orders.to_string(),
        format!("{} (store's count {})", size.orders, state.orders_total),
        size.metafields.to_string(),
        format!("{:.1}", elapsed.as_secs_f64()),
        calls.0.to_string(),
        calls.1.to_string(),
        calls.2.to_string(),
        bytes.to_string(),
        format!("{:.0}", bytes as f64 / size.orders.max(1) as f64),
    ])
}
