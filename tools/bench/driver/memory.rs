//! Memory: fills a service built in this process with every order and order metafields of
//! the sandbox's customers (the sandbox runs in another process, so its data is not counted),
//! then reports resident memory and what the caches hold. With low bounds it shows that the
//! weighted size stays within them however much is asked for.

use std::ops::Range;
use std::time::{Duration, Instant};

use anyhow::bail;
use futures_util::StreamExt;
use futures_util::stream;
use order_metafields_service::cache::CacheUsage;
use url::Url;

use crate::stack;
use crate::table::Table;

/// What to fill, from where, within which bounds.
pub struct Fill {
    pub sandbox: Url,
    pub customers: Range<u64>,
    pub max_orders: Option<u64>,
    pub metafields_max_bytes: Option<u64>,
    pub concurrency: usize,
    /// Ask for the order lists only, to tell their memory from the metafields'.
    pub lists_only: bool,
}

/// Fills the caches and prints the table.
pub async fn run(fill: Fill) -> anyhow::Result<()> {
    let max_orders = fill.max_orders.map(|bound| bound.to_string());
    let max_bytes = fill.metafields_max_bytes.map(|bound| bound.to_string());
    let mut overrides = vec![
        // Nothing expires during the fill: what is measured is what the bounds keep.
        ("ORDERS_CACHE_TTL", "1h"),
        ("METAFIELDS_CACHE_TTL", "1h"),
    ];
    if let Some(bound) = &max_orders {
        overrides.push(("CACHE_MAX_ORDERS", bound.as_str()));
    }
    if let Some(bound) = &max_bytes {
        overrides.push(("METAFIELDS_CACHE_MAX_BYTES", bound.as_str()));
    }
    let service = stack::start_service(&fill.sandbox, &overrides).await?;
    let settings_orders = fill.max_orders.unwrap_or(200_000);
    let settings_bytes = fill.metafields_max_bytes.unwrap_or(64 * 1024 * 1024);
    let tokens: Vec<(u64, String)> = fill
        .customers
        .clone()
        .map(|customer| stack::token(customer).map(|token| (customer, token)))
        .collect::<anyhow::Result<_>>()?;
    let client = stack::client();
    // Settle the allocator after start-up and token minting before the first reading.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (idle_rss, _) = stack::resident_kib();

    let started = Instant::now();
    let mut peak = service.access.cache().usage();
    let mut requests = 0_u64;
    let mut orders_seen = 0_u64;
    let mut metafield_bytes = 0_u64;
    let mut results = stream::iter(tokens.iter())
        .map(|(customer, token)| {
            fill_customer(&client, &service.base, *customer, token, fill.lists_only)
        })
        .buffer_unordered(fill.concurrency);
    let mut done = 0_usize;
    while let Some(result) = results.next().await {
        let filled = result?;
        requests += filled.requests;
        orders_seen += filled.orders;
        metafield_bytes += filled.metafield_bytes;
        done += 1;
        if done.is_multiple_of(250) {
            peak = max_usage(peak, service.access.cache().usage());
        }
    }
    drop(results);
    let elapsed = started.elapsed();
    let usage = service.access.cache().usage();
    peak = max_usage(peak, usage);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (rss, hwm) = stack::resident_kib();

    println!(
        "Memory: {} customers, {orders_seen} orders and {} metafield lists ({} KiB of bodies) asked for through the service in {:.1} s ({requests} requests)",
        tokens.len(),
        requests - tokens.len() as u64,
        metafield_bytes / 1024,
        elapsed.as_secs_f64(),
    );
    println!();
    let mut table =
        Table::new(&["", "bound", "held after the fill", "largest seen"]).text_columns(2);
    table.row(vec![
        "customers (order lists)".to_owned(),
        "-".to_owned(),
        usage.customers.to_string(),
        peak.customers.to_string(),
    ]);
    table.row(vec![
        "order-list weight (orders + 1 per list)".to_owned(),
        format!("CACHE_MAX_ORDERS={settings_orders}"),
        usage.orders.to_string(),
        peak.orders.to_string(),
    ]);
    table.row(vec![
        "orders with metafields cached".to_owned(),
        "-".to_owned(),
        usage.orders_with_metafields.to_string(),
        peak.orders_with_metafields.to_string(),
    ]);
    table.row(vec![
        "metafields weight (body bytes + 64 per entry)".to_owned(),
        format!("METAFIELDS_CACHE_MAX_BYTES={settings_bytes}"),
        usage.metafield_bytes.to_string(),
        peak.metafield_bytes.to_string(),
    ]);
    table.row(vec![
        "RSS idle → after the fill (MiB)".to_owned(),
        "-".to_owned(),
        format!("{:.1} → {:.1}", mib(idle_rss), mib(rss)),
        format!("{:.1} (VmHWM)", mib(hwm)),
    ]);
    // Per order only when nothing was evicted: evicted entries leave freed memory that the
    // allocator keeps, which would be charged to the orders still held.
    if fill.max_orders.is_none() && fill.metafields_max_bytes.is_none() {
        let held = usage.orders.saturating_sub(usage.customers).max(1);
        table.row(vec![
            "RSS growth per cached order (bytes)".to_owned(),
            "-".to_owned(),
            format!(
                "{:.0}",
                (rss.saturating_sub(idle_rss) * 1024) as f64 / held as f64
            ),
            "-".to_owned(),
        ]);
    }
    table.print();
    let within = usage.orders <= settings_orders
        && peak.orders <= settings_orders
        && usage.metafield_bytes <= settings_bytes
        && peak.metafield_bytes <= settings_bytes;
    println!();
    println!(
        "Bounds held at every reading (after moka's pending maintenance): {}",
        if within { "yes" } else { "NO" }
    );
    Ok(())
}

struct Filled {
    requests: u64,
    orders: u64,
    metafield_bytes: u64,
}

/// Asks for the customer's order list, then every order's metafields.
async fn fill_customer(
    client: &reqwest::Client,
    base: &str,
    customer: u64,
    token: &str,
    lists_only: bool,
) -> anyhow::Result<Filled> {
    let list = stack::get(client, base, "/v1/orders?limit=250", token).await?;
    if list.status != 200 {
        bail!(
            "GET /v1/orders for customer {customer} answered {}",
            list.status
        );
    }
    let orders = stack::order_ids(&list.body)?;
    let mut filled = Filled {
        requests: 1,
        orders: orders.len() as u64,
        metafield_bytes: 0,
    };
    for order in orders.into_iter().filter(|_| !lists_only) {
        let path = format!("/v1/orders/{order}/metafields");
        let answer = stack::get(client, base, &path, token).await?;
        if answer.status != 200 {
            bail!(
                "GET {path} for customer {customer} answered {}",
                answer.status
            );
        }
        filled.requests += 1;
        filled.metafield_bytes += answer.body.len() as u64;
    }
    Ok(filled)
}

fn max_usage(a: CacheUsage, b: CacheUsage) -> CacheUsage {
    CacheUsage {
        customers: a.customers.max(b.customers),
        orders: a.orders.max(b.orders),
        orders_with_metafields: a.orders_with_metafields.max(b.orders_with_metafields),
        metafield_bytes: a.metafield_bytes.max(b.metafield_bytes),
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
