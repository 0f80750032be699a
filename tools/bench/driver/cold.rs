//! The cold path: the first view of each request type against a sandbox whose Management
//! API answers after a fixed delay, and how many upstream requests each view needs. Every
//! sample uses a customer the service has not seen, so only the named state is cached.

use std::time::Duration;

use anyhow::bail;
use order_metafields_sandbox::{
    self as sandbox, RequestKind, SandboxConfig, SandboxStore, SeedSpec,
};

use crate::stack::{self, Answer};
use crate::table::{Table, ms};

/// What is cached for the customer before the measured request.
#[derive(Clone, Copy, PartialEq)]
enum Before {
    Nothing,
    List,
    ListAndMetafields,
    /// The list, then an order placed after it was cached (past the refresh interval).
    ListThenNewOrder,
}

struct Scenario {
    route: &'static str,
    before: Before,
    label: &'static str,
}

const SCENARIOS: [Scenario; 7] = [
    Scenario {
        route: "/v1/orders",
        before: Before::Nothing,
        label: "nothing cached",
    },
    Scenario {
        route: "/v1/orders/{id}",
        before: Before::Nothing,
        label: "nothing cached",
    },
    Scenario {
        route: "/v1/orders/{id}",
        before: Before::List,
        label: "order list cached",
    },
    Scenario {
        route: "/v1/orders/{id}",
        before: Before::ListThenNewOrder,
        label: "order placed after the list was cached",
    },
    Scenario {
        route: "/v1/orders/{id}/metafields",
        before: Before::Nothing,
        label: "nothing cached",
    },
    Scenario {
        route: "/v1/orders/{id}/metafields",
        before: Before::List,
        label: "order list cached",
    },
    Scenario {
        route: "/v1/orders/{id}/metafields",
        before: Before::ListAndMetafields,
        label: "both cached (hot path)",
    },
];

/// The refresh interval for this run: short, so the "order placed later" case needs no long wait.
const REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// Prints the cold-path table.
pub async fn run(latency: Duration, samples: usize) -> anyhow::Result<()> {
    let orders_per_customer = 20;
    let customers_needed = u32::try_from(SCENARIOS.len() * samples)?;
    let config = SandboxConfig {
        latency,
        seed: SeedSpec {
            extra_customers: customers_needed,
            extra_orders_per_customer: orders_per_customer,
            ..SeedSpec::default()
        },
        ..stack::sandbox_config()
    };
    let sandbox = sandbox::start(config).await?;
    let store = sandbox.store();
    let service = stack::start_service(
        &sandbox.api_base_url(),
        &[("ORDERS_REFRESH_INTERVAL", "1s")],
    )
    .await?;
    let client = stack::client();
    let mut next_customer = store
        .customers()
        .iter()
        .map(|customer| customer.id)
        .max()
        .unwrap_or(0)
        + 1
        - u64::from(customers_needed);

    let mut table = Table::new(&[
        "request",
        "cached before",
        "upstream requests",
        "of which order-list pages",
        "of which metafields",
        "p50 ms",
        "max ms",
    ])
    .text_columns(2);
    for scenario in &SCENARIOS {
        let customers: Vec<u64> = (next_customer..next_customer + samples as u64).collect();
        next_customer += samples as u64;
        let measured = measure(&store, &service, &client, scenario, &customers).await?;
        table.row(measured.cells(scenario, samples));
    }
    let large = large_customer(&store, &service, &client).await?;
    table.row(large);
    println!(
        "Cold path: upstream latency {} per Management API request, {samples} customers per row, {orders_per_customer} orders each",
        humantime::format_duration(latency)
    );
    println!();
    table.print();
    sandbox.stop().await;
    Ok(())
}

struct Measured {
    latencies: Vec<Duration>,
    upstream: u64,
    list_pages: u64,
    metafields: u64,
}

impl Measured {
    fn cells(&self, scenario: &Scenario, samples: usize) -> Vec<String> {
        let mut latencies = self.latencies.clone();
        latencies.sort();
        let per_request = |count: u64| format!("{:.1}", count as f64 / samples as f64);
        vec![
            format!("GET {}", scenario.route),
            scenario.label.to_owned(),
            per_request(self.upstream),
            per_request(self.list_pages),
            per_request(self.metafields),
            ms(latencies[latencies.len() / 2]),
            ms(latencies[latencies.len() - 1]),
        ]
    }
}

async fn measure(
    store: &SandboxStore,
    service: &stack::Service,
    client: &reqwest::Client,
    scenario: &Scenario,
    customers: &[u64],
) -> anyhow::Result<Measured> {
    let mut targets = Vec::new();
    for &customer in customers {
        let token = stack::token(customer)?;
        let order = order_with_metafields(store, customer);
        match scenario.before {
            Before::Nothing => {}
            Before::List | Before::ListThenNewOrder => {
                expect_ok(stack::get(client, &service.base, "/v1/orders", &token).await?)?;
            }
            Before::ListAndMetafields => {
                let path = format!("/v1/orders/{order}/metafields");
                expect_ok(stack::get(client, &service.base, &path, &token).await?)?;
            }
        }
        targets.push((customer, token, order));
    }
    if scenario.before == Before::ListThenNewOrder {
        tokio::time::sleep(REFRESH_INTERVAL + Duration::from_millis(100)).await;
    }
    let mut measured = Measured {
        latencies: Vec::new(),
        upstream: 0,
        list_pages: 0,
        metafields: 0,
    };
    for (customer, token, order) in targets {
        let order = if scenario.before == Before::ListThenNewOrder {
            store.add_order(customer)
        } else {
            order
        };
        let path = scenario.route.replace("{id}", &order.to_string());
        let (total, pages, metafields) = counters(store);
        let answer = expect_ok(stack::get(client, &service.base, &path, &token).await?)?;
        let (total_after, pages_after, metafields_after) = counters(store);
        measured.latencies.push(answer.elapsed);
        measured.upstream += total_after - total;
        measured.list_pages += pages_after - pages;
        measured.metafields += metafields_after - metafields;
    }
    Ok(measured)
}

/// The seeded customer with 260 orders: two pages of the v2 order list.
async fn large_customer(
    store: &SandboxStore,
    service: &stack::Service,
    client: &reqwest::Client,
) -> anyhow::Result<Vec<String>> {
    let Some(customer) = store
        .customers()
        .into_iter()
        .max_by_key(|customer| customer.order_count)
    else {
        bail!("the sandbox has no customers");
    };
    let token = stack::token(customer.id)?;
    let (total, pages, metafields) = counters(store);
    let answer = expect_ok(stack::get(client, &service.base, "/v1/orders", &token).await?)?;
    let (total_after, pages_after, metafields_after) = counters(store);
    Ok(vec![
        format!("GET /v1/orders ({} orders)", customer.order_count),
        "nothing cached (1 customer)".to_owned(),
        format!("{}", total_after - total),
        format!("{}", pages_after - pages),
        format!("{}", metafields_after - metafields),
        ms(answer.elapsed),
        ms(answer.elapsed),
    ])
}

fn counters(store: &SandboxStore) -> (u64, u64, u64) {
    (
        store.management_requests(),
        store.management_requests_of(RequestKind::OrdersList),
        store.management_requests_of(RequestKind::OrderMetafields),
    )
}

/// The customer's newest order (highest id) with metafields, or their newest order.
fn order_with_metafields(store: &SandboxStore, customer: u64) -> u64 {
    let orders = store.orders_of(customer);
    orders
        .iter()
        .rev()
        .find(|&&order| !store.metafields_of(order).is_empty())
        .or(orders.last())
        .copied()
        .unwrap_or(0)
}

fn expect_ok(answer: Answer) -> anyhow::Result<Answer> {
    if answer.status != 200 {
        bail!(
            "the service answered {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
    }
    Ok(answer)
}
