//! The benchmark driver `tools/bench/run` calls: it warms an external service and writes the wrk
//! fixture for the hot path, and runs the cold-path, quota, memory and mirror scenarios with the
//! sandbox store and the service in process, printing each result as a Markdown table.
//!
//! Nothing here is part of the service; figures are printed, never asserted.

mod cold;
mod hot;
mod memory;
mod mirror;
mod quota;
mod stack;
mod table;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use url::Url;

/// Benchmark scenarios for order-metafields (see BENCHMARKS.md).
#[derive(Parser)]
#[command(name = "bench-driver")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Warm a running service's caches for customers FIRST.. and write the wrk fixture
    /// (one `token order_id` line per customer).
    Warm {
        /// The service's base URL, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        service: Url,
        #[arg(long, default_value_t = 6)]
        first: u64,
        #[arg(long, default_value_t = 200)]
        customers: u64,
        #[arg(long)]
        fixture: PathBuf,
    },
    /// Send exactly N requests from the fixture (for instruction counts under callgrind).
    Fire {
        #[arg(long)]
        service: Url,
        #[arg(long)]
        fixture: PathBuf,
        /// The path, with {order} replaced by each fixture line's order id.
        #[arg(long)]
        path: String,
        #[arg(long, default_value_t = 2_000)]
        requests: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// First-view latency and upstream round trips per request type, with upstream latency.
    Cold {
        #[arg(long, default_value = "150ms", value_parser = humantime::parse_duration)]
        latency: Duration,
        /// Customers (so cold caches) per request type.
        #[arg(long, default_value_t = 8)]
        samples: usize,
    },
    /// A storefront day in fast-forward: Management API calls per 1,000 page views.
    Quota {
        /// How long the simulated day lasts in real time.
        #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
        day: Duration,
        #[arg(long, default_value_t = 5_000)]
        customers: u32,
        #[arg(long, default_value_t = 6_000)]
        sessions: usize,
        /// Cache lifetimes as configured in production; they are compressed with the day.
        #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
        orders_ttl: Duration,
        #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
        metafields_ttl: Duration,
        /// Metafield values changed during the day.
        #[arg(long, default_value_t = 300)]
        changes: usize,
        /// Register the service's webhooks on the store before the day, so that every change
        /// reaches the service as a signed delivery.
        #[arg(long)]
        webhooks: bool,
    },
    /// Fill an in-process service from an external sandbox; report RSS and cache usage.
    Memory {
        /// The sandbox store's base URL (`order-metafields sandbox`).
        #[arg(long)]
        sandbox: Url,
        #[arg(long, default_value_t = 6)]
        first: u64,
        #[arg(long, default_value_t = 5_000)]
        customers: u64,
        /// CACHE_MAX_ORDERS; the service's default when absent.
        #[arg(long)]
        max_orders: Option<u64>,
        /// METAFIELDS_CACHE_MAX_BYTES; the service's default when absent.
        #[arg(long)]
        metafields_max_bytes: Option<u64>,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Ask for the order lists only, not the metafields.
        #[arg(long)]
        lists_only: bool,
    },
    /// `SYNC_MODE=mirror` beside on-demand: Management API calls per 1,000 first-visit page
    /// views, first-visit latency, and the initial sync's time, calls and database size.
    Mirror {
        #[arg(long, default_value = "100ms", value_parser = humantime::parse_duration)]
        latency: Duration,
        /// Distinct shoppers, one first visit each, per mode.
        #[arg(long, default_value_t = 1_000)]
        shoppers: u32,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Shoppers whose page view is repeated for the warm-hit figure.
        #[arg(long, default_value_t = 200)]
        warm_samples: usize,
        /// MIRROR_CATCH_UP_INTERVAL while the mirror serves the page views.
        #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
        catch_up: Duration,
        /// Store sizes (orders) whose initial sync is timed, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "10000")]
        sync_orders: Vec<u32>,
        /// The sandbox's Management API quota during the syncs: requests per window.
        #[arg(long, default_value_t = 100_000)]
        sync_quota: u32,
        #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
        sync_quota_window: Duration,
        /// Time the initial syncs only, without the page views.
        #[arg(long)]
        sync_only: bool,
    },
}

/// The service binary's allocator, so that the memory scenario, which runs the service in
/// this process, measures what `order-metafields serve` holds.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Warm {
                service,
                first,
                customers,
                fixture,
            } => hot::warm(&service, first..first + customers, &fixture).await,
            Command::Fire {
                service,
                fixture,
                path,
                requests,
                concurrency,
            } => hot::fire(&service, &fixture, &path, requests, concurrency).await,
            Command::Cold { latency, samples } => cold::run(latency, samples).await,
            Command::Quota {
                day,
                customers,
                sessions,
                orders_ttl,
                metafields_ttl,
                changes,
                webhooks,
            } => {
                quota::run(quota::DayPlan {
                    day,
                    customers,
                    sessions,
                    orders_ttl,
                    metafields_ttl,
                    changes,
                    webhooks,
                })
                .await
            }
            Command::Memory {
                sandbox,
                first,
                customers,
                max_orders,
                metafields_max_bytes,
                concurrency,
                lists_only,
            } => {
                memory::run(memory::Fill {
                    sandbox,
                    customers: first..first + customers,
                    max_orders,
                    metafields_max_bytes,
                    concurrency,
                    lists_only,
                })
                .await
            }
            Command::Mirror {
                latency,
                shoppers,
                concurrency,
                warm_samples,
                catch_up,
                sync_orders,
                sync_quota,
                sync_quota_window,
                sync_only,
            } => {
                mirror::run(mirror::MirrorPlan {
                    latency,
                    shoppers,
                    concurrency,
                    warm_samples,
                    catch_up,
                    sync_orders,
                    sync_quota,
                    sync_quota_window,
                    sync_only,
                })
                .await
            }
        }
    })
}
