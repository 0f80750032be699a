//! `/metrics` after known traffic: a strict reading of the Prometheus text format 0.0.4
//! accepts the page, and the key series hold exactly what that traffic implies. Each test
//! reads its own application's registry, so tests running side by side cannot disturb
//! each other's counts.

use std::collections::BTreeMap;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    CLIENT_SECRET, STORE_HASH, TestApp, claims_for, metafield_page, now, sign, spawn_app,
    spawn_app_with, token_for, v2_order, v3_metafield,
};

const CUSTOMER: u64 = 7;

/// A series' name, its labels, and the value it must have.
type Expectation<'a> = (&'a str, &'a [(&'a str, &'a str)], f64);
/// Label names and values, sorted.
type Labels = Vec<(String, String)>;
/// A sample as read: name, sorted labels, value.
type ParsedSample = (String, Labels, f64);

#[tokio::test]
async fn metrics_show_requests_cache_upstream_quota_and_auth_failures_after_known_traffic() {
    let app = spawn_app().await;
    mount_store_with_quota_headers(&app).await;
    let token = token_for(CUSTOMER);
    let mut expired = claims_for(CUSTOMER);
    expired["iat"] = json!(now() - 1000);
    expired["exp"] = json!(now() - 120);
    let mut other_audience = claims_for(CUSTOMER);
    other_audience["aud"] = json!("another-app");
    let refused = [
        None,
        Some("not-a-jwt".to_owned()),
        Some(sign(&expired, Algorithm::HS256, CLIENT_SECRET)),
        Some(sign(
            &claims_for(CUSTOMER),
            Algorithm::HS256,
            "another-secret",
        )),
        Some(sign(&claims_for(CUSTOMER), Algorithm::HS512, CLIENT_SECRET)),
        Some(sign(&other_audience, Algorithm::HS256, CLIENT_SECRET)),
    ];

    let statuses = vec![
        app.get_orders(&token, "").await.status().as_u16(),
        app.get_orders(&token, "").await.status().as_u16(),
        app.get_metafields(&token, "100").await.status().as_u16(),
        app.get_metafields(&token, "100").await.status().as_u16(),
        app.get_order(&token, "999").await.status().as_u16(),
        app.get("/healthz", None).await.status().as_u16(),
    ];
    for token in &refused {
        let status = app.get("/v1/orders", token.as_deref()).await.status();
        assert_eq!(status, 401);
    }
    let scrape = scrape(&app, &app.address).await;

    assert_eq!(statuses, vec![200, 200, 200, 200, 404, 200]);
    let expected: &[Expectation] = &[
        (
            "order_metafields_http_requests_total",
            &[("route", "/v1/orders"), ("status", "200")],
            2.0,
        ),
        (
            "order_metafields_http_requests_total",
            &[("route", "/v1/orders"), ("status", "401")],
            6.0,
        ),
        (
            "order_metafields_http_requests_total",
            &[
                ("route", "/v1/orders/{order_id}/metafields"),
                ("status", "200"),
            ],
            2.0,
        ),
        (
            "order_metafields_http_requests_total",
            &[("route", "/v1/orders/{order_id}"), ("status", "404")],
            1.0,
        ),
        (
            "order_metafields_http_requests_total",
            &[("route", "/healthz"), ("status", "200")],
            1.0,
        ),
        (
            "order_metafields_http_request_duration_seconds_count",
            &[("route", "/v1/orders")],
            8.0,
        ),
        (
            "order_metafields_cache_lookups_total",
            &[("cache", "customer-orders"), ("outcome", "miss")],
            1.0,
        ),
        (
            "order_metafields_cache_lookups_total",
            &[("cache", "customer-orders"), ("outcome", "hit")],
            4.0,
        ),
        (
            "order_metafields_cache_lookups_total",
            &[("cache", "order-metafields"), ("outcome", "miss")],
            1.0,
        ),
        (
            "order_metafields_cache_lookups_total",
            &[("cache", "order-metafields"), ("outcome", "hit")],
            1.0,
        ),
        (
            "order_metafields_cache_lookups_total",
            &[("cache", "order-metafields"), ("outcome", "stale")],
            0.0,
        ),
        (
            "order_metafields_cache_single_flight_waiters_total",
            &[("cache", "customer-orders")],
            0.0,
        ),
        (
            "order_metafields_cache_evictions_total",
            &[("cache", "customer-orders"), ("cause", "size")],
            0.0,
        ),
        (
            "order_metafields_cache_entries",
            &[("cache", "customer-orders")],
            1.0,
        ),
        (
            "order_metafields_cache_entries",
            &[("cache", "order-metafields")],
            1.0,
        ),
        (
            "order_metafields_cache_weighted_size",
            &[("cache", "customer-orders")],
            3.0,
        ),
        (
            "order_metafields_upstream_requests_total",
            &[("operation", "list_customer_orders"), ("status", "200")],
            1.0,
        ),
        (
            "order_metafields_upstream_requests_total",
            &[("operation", "list_order_metafields"), ("status", "429")],
            1.0,
        ),
        (
            "order_metafields_upstream_requests_total",
            &[("operation", "list_order_metafields"), ("status", "200")],
            1.0,
        ),
        (
            "order_metafields_upstream_request_duration_seconds_count",
            &[("operation", "list_order_metafields")],
            2.0,
        ),
        (
            "order_metafields_upstream_rate_limited_total",
            &[("operation", "list_order_metafields")],
            1.0,
        ),
        (
            "order_metafields_upstream_rate_limit_requests_left",
            &[],
            139.0,
        ),
        ("order_metafields_upstream_rate_limit_quota", &[], 150.0),
        (
            "order_metafields_auth_failures_total",
            &[("reason", "missing")],
            1.0,
        ),
        (
            "order_metafields_auth_failures_total",
            &[("reason", "malformed")],
            1.0,
        ),
        (
            "order_metafields_auth_failures_total",
            &[("reason", "expired")],
            1.0,
        ),
        (
            "order_metafields_auth_failures_total",
            &[("reason", "signature")],
            1.0,
        ),
        (
            "order_metafields_auth_failures_total",
            &[("reason", "algorithm")],
            1.0,
        ),
        (
            "order_metafields_auth_failures_total",
            &[("reason", "claims")],
            1.0,
        ),
    ];
    for (name, labels, value) in expected {
        assert_eq!(
            scrape.value(name, labels),
            Some(*value),
            "series {name}{labels:?}"
        );
    }
    assert_eq!(
        scrape.value(
            "order_metafields_http_requests_total",
            &[("route", "/metrics"), ("status", "200")]
        ),
        None,
        "a scrape is counted once it is answered, not in itself"
    );
}

#[tokio::test]
async fn concurrent_misses_for_one_customer_are_counted_as_single_flight_waiters() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE_HASH}/v2/orders")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([v2_order(100, CUSTOMER, 1)]))
                .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&app.management)
        .await;
    let token = token_for(CUSTOMER);

    let responses =
        futures_util::future::join_all((0..4).map(|_| app.get_orders(&token, ""))).await;
    let scrape = scrape(&app, &app.address).await;

    assert!(responses.iter().all(|response| response.status() == 200));
    assert_eq!(
        scrape.value(
            "order_metafields_cache_single_flight_waiters_total",
            &[("cache", "customer-orders")]
        ),
        Some(3.0)
    );
    assert_eq!(
        scrape.value(
            "order_metafields_upstream_requests_total",
            &[("operation", "list_customer_orders"), ("status", "200")]
        ),
        Some(1.0)
    );
}

#[tokio::test]
async fn expired_and_invalidated_entries_are_counted_as_evictions() {
    let app = spawn_app_with(&[
        ("ORDERS_CACHE_TTL", "200ms"),
        ("WEBHOOK_SECRET", "webhook-secret-for-metrics-test"),
    ])
    .await;
    app.mount_orders(CUSTOMER, vec![v2_order(100, CUSTOMER, 1)], ..)
        .await;
    app.mount_metafields(100, Vec::new(), ..).await;
    let token = token_for(CUSTOMER);

    assert_eq!(app.get_metafields(&token, "100").await.status(), 200);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let webhook = app
        .client
        .post(format!("{}/webhooks/bigcommerce", app.address))
        .header("x-webhook-secret", "webhook-secret-for-metrics-test")
        .json(&json!({
            "scope": "store/order/metafield/updated", "store_id": "1", "hash": "metrics-1",
            "created_at": now(), "producer": format!("stores/{STORE_HASH}"),
            "data": {"metafield_id": 4, "resource_id": "100", "namespace": "Shipping"}
        }))
        .send()
        .await
        .unwrap();
    let scrape = scrape(&app, &app.address).await;

    assert_eq!(webhook.status(), 200);
    assert_eq!(
        scrape.value(
            "order_metafields_cache_evictions_total",
            &[("cache", "customer-orders"), ("cause", "expired")]
        ),
        Some(1.0)
    );
    assert_eq!(
        scrape.value(
            "order_metafields_cache_evictions_total",
            &[("cache", "order-metafields"), ("cause", "invalidated")]
        ),
        Some(1.0)
    );
    assert_eq!(
        scrape.value(
            "order_metafields_cache_entries",
            &[("cache", "customer-orders")]
        ),
        Some(0.0)
    );
}

#[tokio::test]
async fn with_a_metrics_address_metrics_are_served_there_and_not_on_the_main_address() {
    let app = spawn_app_with(&[("METRICS_ADDR", "127.0.0.1:0")]).await;
    let metrics_address = app
        .metrics_address
        .clone()
        .expect("a separate metrics address");

    let health = app.get("/healthz", None).await;
    let on_main = app.get("/metrics", None).await;
    let elsewhere = app
        .client
        .get(format!("{metrics_address}/healthz"))
        .send()
        .await
        .unwrap();
    let scrape = scrape(&app, &metrics_address).await;

    assert_eq!(health.status(), 200);
    crate::helpers::assert_problem(on_main, 404, "not-found").await;
    crate::helpers::assert_problem(elsewhere, 404, "not-found").await;
    assert_eq!(
        scrape.value(
            "order_metafields_http_requests_total",
            &[("route", "/healthz"), ("status", "200")]
        ),
        Some(1.0)
    );
    assert_eq!(
        scrape.value(
            "order_metafields_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        Some(2.0),
        "the main address's /metrics and the metrics address's /healthz"
    );
}

#[tokio::test]
async fn no_customer_id_order_id_or_token_appears_in_the_metrics() {
    let app = spawn_app().await;
    let customer = 987_654;
    app.mount_orders(customer, vec![v2_order(876_543, customer, 1)], ..)
        .await;
    app.mount_metafields(876_543, Vec::new(), ..).await;
    let token = token_for(customer);

    app.get_metafields(&token, "876543").await;
    app.get_order(&token, "765432").await;
    app.get("/v1/orders/5550001/nothing", Some(&token)).await;
    let text = app.get("/metrics", None).await.text().await.unwrap();

    for secret in ["987654", "876543", "765432", "5550001", token.as_str()] {
        assert!(!text.contains(secret), "the metrics contain {secret}");
    }
    for part in token.split('.') {
        assert!(
            !text.contains(part),
            "the metrics contain part of the token"
        );
    }
}

#[test]
fn the_strict_reader_refuses_pages_prometheus_would_refuse() {
    let valid = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n";
    let cases = [
        ("a_total 1", "no final newline"),
        ("a_total{x=1} 1\n", "unquoted label value"),
        ("a_total{x=\"1\"} one\n", "value not a number"),
        ("1a 1\n", "bad metric name"),
        ("a{__x=\"1\"} 1\n", "reserved label name"),
        ("# TYPE a counter\n# TYPE a gauge\na 1\n", "two TYPE lines"),
        ("a 1\n# TYPE a counter\n", "TYPE after samples"),
        ("a{x=\"1\"} 1\nb 1\na{x=\"2\"} 1\n", "family not contiguous"),
        ("a{x=\"1\"} 1\na{x=\"1\"} 2\n", "duplicate series"),
        (
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
            "buckets not cumulative",
        ),
        (
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
            "no +Inf bucket",
        ),
        (
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n",
            "count differs from +Inf",
        ),
        ("# TYPE c counter\nc -1\n", "negative counter"),
    ];

    assert!(Exposition::parse(valid).is_ok(), "the valid page");
    for (page, description) in cases {
        assert!(
            Exposition::parse(page).is_err(),
            "case: {description}: accepted {page:?}"
        );
    }
}

/// Customer 7 owns orders 100 and 101. The order list answers with the store's quota
/// headers; order 100's metafields answer `429` once (briefly), then with 139 left.
async fn mount_store_with_quota_headers(app: &TestApp) {
    let quota = |template: ResponseTemplate, left: &str, reset_ms: &str| {
        template
            .insert_header("X-Rate-Limit-Requests-Left", left)
            .insert_header("X-Rate-Limit-Requests-Quota", "150")
            .insert_header("X-Rate-Limit-Time-Reset-Ms", reset_ms)
    };
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE_HASH}/v2/orders")))
        .and(query_param("customer_id", CUSTOMER.to_string()))
        .respond_with(quota(
            ResponseTemplate::new(200).set_body_json(json!([
                v2_order(100, CUSTOMER, 1),
                v2_order(101, CUSTOMER, 2)
            ])),
            "140",
            "20000",
        ))
        .expect(1)
        .mount(&app.management)
        .await;
    let metafields = || path(format!("/stores/{STORE_HASH}/v3/orders/100/metafields"));
    Mock::given(method("GET"))
        .and(metafields())
        .respond_with(quota(ResponseTemplate::new(429), "0", "50"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&app.management)
        .await;
    let page = metafield_page(
        vec![v3_metafield(
            1,
            100,
            "read_and_sf_access",
            "Shipping",
            "tracking_url",
        )],
        1,
        1,
        1,
    );
    Mock::given(method("GET"))
        .and(metafields())
        .respond_with(quota(
            ResponseTemplate::new(200).set_body_json(page),
            "139",
            "29000",
        ))
        .mount(&app.management)
        .await;
}

/// Fetches `{address}/metrics`, checks the response and reads the page strictly.
async fn scrape(app: &TestApp, address: &str) -> Exposition {
    let response = app
        .client
        .get(format!("{address}/metrics"))
        .send()
        .await
        .expect("the metrics address answers");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    match Exposition::parse(&text) {
        Ok(exposition) => exposition,
        Err(error) => panic!("the metrics page is not valid Prometheus text: {error}\n{text}"),
    }
}

/// A page of the Prometheus text exposition format 0.0.4, read strictly: every line is a
/// comment, a `HELP`, a `TYPE` or a sample; names and label names are valid; label values
/// are quoted with only the three defined escapes; samples of one family are contiguous
/// and typed before they start; no series repeats; counters are not negative; and each
/// histogram has cumulative buckets ending in `+Inf`, equal to its `_count`.
struct Exposition {
    samples: BTreeMap<(String, Labels), f64>,
}

/// One family as read so far.
struct FamilyState {
    kind: String,
    has_samples: bool,
}

impl Exposition {
    fn parse(text: &str) -> Result<Self, String> {
        if !text.is_empty() && !text.ends_with('\n') {
            return Err("the page does not end with a newline".to_owned());
        }
        let mut families: BTreeMap<String, FamilyState> = BTreeMap::new();
        let mut helped: Vec<String> = Vec::new();
        let mut finished: Vec<String> = Vec::new();
        let mut current: Option<String> = None;
        let mut samples = BTreeMap::new();
        let mut ordered: Vec<ParsedSample> = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let at = |problem: String| format!("line {}: {problem}: {line:?}", number + 1);
            if line.trim().is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                let mut words = comment.trim_start().splitn(3, ' ');
                match (words.next(), words.next(), words.next()) {
                    (Some("HELP"), Some(name), _) => {
                        check_metric_name(name).map_err(at)?;
                        if helped.contains(&name.to_owned()) {
                            return Err(at("a second HELP".to_owned()));
                        }
                        helped.push(name.to_owned());
                    }
                    (Some("TYPE"), Some(name), Some(kind)) => {
                        check_metric_name(name).map_err(at)?;
                        if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind)
                        {
                            return Err(at(format!("unknown type {kind}")));
                        }
                        if families.contains_key(name) {
                            return Err(at("a second TYPE, or a TYPE after samples".to_owned()));
                        }
                        families.insert(
                            name.to_owned(),
                            FamilyState {
                                kind: kind.to_owned(),
                                has_samples: false,
                            },
                        );
                    }
                    _ => {}
                }
                continue;
            }
            let (name, labels, value) = parse_sample(line).map_err(at)?;
            let family = family_of(&families, &name);
            if current.as_deref() != Some(family.as_str()) {
                if finished.contains(&family) {
                    return Err(at(format!("family {family} is not contiguous")));
                }
                if let Some(previous) = current.replace(family.clone()) {
                    finished.push(previous);
                }
            }
            let state = families.entry(family.clone()).or_insert(FamilyState {
                kind: "untyped".to_owned(),
                has_samples: false,
            });
            state.has_samples = true;
            if state.kind == "counter" && (value < 0.0 || value.is_nan()) {
                return Err(at("a counter below zero".to_owned()));
            }
            let key = (name.clone(), labels.clone());
            if samples.insert(key, value).is_some() {
                return Err(at("a repeated series".to_owned()));
            }
            ordered.push((name, labels, value));
        }
        for (family, state) in &families {
            if state.kind == "histogram" && state.has_samples {
                check_histogram(family, &ordered)?;
            }
        }
        Ok(Self { samples })
    }

    /// The value of the series with exactly these labels.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut labels: Vec<(String, String)> = labels
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        labels.sort();
        self.samples.get(&(name.to_owned(), labels)).copied()
    }
}

/// The family a sample belongs to: a histogram's `_bucket`, `_sum` and `_count` samples
/// belong to the histogram.
fn family_of(families: &BTreeMap<String, FamilyState>, name: &str) -> String {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix)
            && families
                .get(base)
                .is_some_and(|family| family.kind == "histogram")
        {
            return base.to_owned();
        }
    }
    name.to_owned()
}

fn check_histogram(family: &str, samples: &[ParsedSample]) -> Result<(), String> {
    let bucket_name = format!("{family}_bucket");
    let count_name = format!("{family}_count");
    let mut series: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
    for (name, labels, value) in samples.iter().filter(|(name, ..)| *name == bucket_name) {
        let le = labels
            .iter()
            .find(|(key, _)| key == "le")
            .ok_or_else(|| format!("{name} without le"))?;
        let bound = parse_value(&le.1).map_err(|error| format!("{name}: le {error}"))?;
        let others: Vec<(String, String)> = labels
            .iter()
            .filter(|(key, _)| key != "le")
            .cloned()
            .collect();
        series.entry(others).or_default().push((bound, *value));
    }
    for (labels, buckets) in series {
        let mut previous = (f64::NEG_INFINITY, 0.0);
        for &(bound, count) in &buckets {
            if bound <= previous.0 || count < previous.1 {
                return Err(format!(
                    "{family}{labels:?}: buckets not ascending and cumulative"
                ));
            }
            previous = (bound, count);
        }
        if previous.0 != f64::INFINITY {
            return Err(format!("{family}{labels:?}: no +Inf bucket"));
        }
        let count = samples
            .iter()
            .find(|(name, sample_labels, _)| *name == count_name && *sample_labels == labels)
            .map(|(.., value)| *value);
        if count != Some(previous.1) {
            return Err(format!(
                "{family}{labels:?}: _count {count:?} is not the +Inf bucket"
            ));
        }
    }
    Ok(())
}

fn parse_sample(line: &str) -> Result<ParsedSample, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    check_metric_name(name)?;
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after_brace) = rest.strip_prefix('{') {
        let (parsed, remainder) = parse_labels(after_brace)?;
        labels = parsed;
        rest = remainder;
    }
    let rest = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let mut fields = rest.split(' ');
    let value = parse_value(fields.next().ok_or("no value")?)?;
    if let Some(timestamp) = fields.next() {
        timestamp
            .parse::<i64>()
            .map_err(|_| format!("bad timestamp {timestamp}"))?;
    }
    if fields.next().is_some() {
        return Err("trailing fields".to_owned());
    }
    labels.sort();
    Ok((name.to_owned(), labels, value))
}

/// Reads `name="value",...}` and answers the labels and what follows the brace.
fn parse_labels(mut text: &str) -> Result<(Labels, &str), String> {
    let mut labels: Vec<(String, String)> = Vec::new();
    loop {
        if let Some(rest) = text.strip_prefix('}') {
            return Ok((labels, rest));
        }
        let equals = text.find('=').ok_or("a label without =")?;
        let name = &text[..equals];
        let valid_name = name.chars().enumerate().all(|(index, character)| {
            character == '_'
                || character.is_ascii_alphabetic()
                || (index > 0 && character.is_ascii_digit())
        });
        if name.is_empty() || !valid_name || name.starts_with("__") {
            return Err(format!("bad label name {name:?}"));
        }
        if labels.iter().any(|(known, _)| known == name) {
            return Err(format!("label {name} given twice"));
        }
        let mut chars = text[equals + 1..].char_indices();
        if chars.next().map(|(_, character)| character) != Some('"') {
            return Err(format!("label {name}: value not quoted"));
        }
        let mut value = String::new();
        let end = loop {
            match chars.next() {
                None => return Err(format!("label {name}: unterminated value")),
                Some((index, '"')) => break index,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    _ => return Err(format!("label {name}: bad escape")),
                },
                Some((_, '\n')) => return Err(format!("label {name}: raw newline")),
                Some((_, character)) => value.push(character),
            }
        };
        labels.push((name.to_owned(), value));
        text = &text[equals + 1 + end + 1..];
        text = text.strip_prefix(',').unwrap_or(text);
    }
}

fn check_metric_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.chars().enumerate().all(|(index, character)| {
            character == '_'
                || character == ':'
                || character.is_ascii_alphabetic()
                || (index > 0 && character.is_ascii_digit())
        });
    if valid {
        Ok(())
    } else {
        Err(format!("bad metric name {name:?}"))
    }
}

/// A sample value as Go's `strconv.ParseFloat` reads it, with the spellings of infinity
/// and NaN the format allows.
fn parse_value(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ if text
            .chars()
            .all(|character| character.is_ascii_digit() || "+-.eE".contains(character)) =>
        {
            text.parse().map_err(|_| format!("bad value {text:?}"))
        }
        _ => Err(format!("bad value {text:?}")),
    }
}
