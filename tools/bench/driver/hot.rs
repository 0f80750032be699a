//! Hot-path preparation: fills a running service's caches for the benchmark's customers and
//! writes the fixture the wrk script rotates through, one `token order_id` line per customer.
//! The order chosen is the customer's newest with storefront-visible metafields, if any.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;

use anyhow::{Context, bail};
use url::Url;

use crate::stack;

/// Warms list and metafields caches for `customers` and writes the fixture.
pub async fn warm(service: &Url, customers: Range<u64>, fixture: &Path) -> anyhow::Result<()> {
    let base = service.as_str().trim_end_matches('/');
    let client = stack::client();
    let mut lines = String::new();
    let (mut with_metafields, mut customers_warmed) = (0, 0);
    for customer in customers {
        let token = stack::token(customer)?;
        let list = stack::get(&client, base, "/v1/orders", &token).await?;
        if list.status != 200 {
            bail!(
                "GET /v1/orders for customer {customer} answered {}",
                list.status
            );
        }
        let orders = stack::order_ids(&list.body)?;
        let Some(&newest) = orders.first() else {
            bail!("customer {customer} has no orders; seed the sandbox with some");
        };
        let mut chosen = newest;
        for &order in &orders {
            let path = format!("/v1/orders/{order}/metafields");
            let answer = stack::get(&client, base, &path, &token).await?;
            if answer.status != 200 {
                bail!(
                    "GET {path} for customer {customer} answered {}",
                    answer.status
                );
            }
            if !answer.body.starts_with(br#"{"data":[]"#) {
                chosen = order;
                with_metafields += 1;
                break;
            }
        }
        // Both routes are asked once more so the fixture only names warm entries.
        let path = format!("/v1/orders/{chosen}/metafields");
        stack::get(&client, base, &path, &token).await?;
        writeln!(lines, "{token} {chosen}")?;
        customers_warmed += 1;
    }
    std::fs::write(fixture, lines)
        .with_context(|| format!("writing the fixture {}", fixture.display()))?;
    eprintln!(
        "warmed {customers_warmed} customers ({with_metafields} with visible metafields on the chosen order)"
    );
    Ok(())
}

/// Sends exactly `requests` requests, rotating through the fixture, `concurrency` at a time;
/// for instruction counts per request under callgrind, where a timed load would not do.
pub async fn fire(
    service: &Url,
    fixture: &Path,
    path: &str,
    requests: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    use futures_util::StreamExt;

    let base = service.as_str().trim_end_matches('/');
    let text = std::fs::read_to_string(fixture)
        .with_context(|| format!("reading the fixture {}", fixture.display()))?;
    let lines: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(token, order)| (token.to_owned(), path.replace("{order}", order)))
        .collect();
    if lines.is_empty() {
        bail!("the fixture {} is empty", fixture.display());
    }
    let client = stack::client();
    let mut answers = futures_util::stream::iter(0..requests)
        .map(|index| {
            let (token, path) = &lines[index % lines.len()];
            stack::get(&client, base, path, token)
        })
        .buffer_unordered(concurrency);
    let mut failed = 0;
    while let Some(answer) = answers.next().await {
        if answer?.status != 200 {
            failed += 1;
        }
    }
    eprintln!("sent {requests} requests, {failed} not 200");
    Ok(())
}
