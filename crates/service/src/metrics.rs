//! The service's Prometheus metrics: one registry per application (never a process-global
//! recorder, so applications built side by side, as the tests do, count only their own
//! traffic), the handles each part records into, and the text rendering for `/metrics`.
//! Label values come from fixed sets (route patterns, operations, reasons): never a
//! customer id, an order id or a token. It knows nothing of HTTP servers.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// The media type of [`Metrics::render`]'s output: the Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Every series of one application, and the registry that renders them.
pub struct Metrics {
    registry: Registry,
    pub http: HttpMetrics,
    pub upstream: UpstreamMetrics,
    pub cache: CacheMetrics,
    pub auth: AuthMetrics,
    pub replicas: ReplicaMetrics,
    pub writes: WriteMetrics,
    pub mirror: MirrorMetrics,
}

/// `SYNC_MODE=mirror`: rows this replica wrote into and deleted from the stores' mirrors,
/// orders its initial syncs have left, catch-ups done and failures, by fixed words.
#[derive(Clone, Default)]
pub struct MirrorMetrics {
    written: Family<KindLabels, Counter>,
    deleted: Family<KindLabels, Counter>,
    orders_left: Gauge,
    catch_ups: Counter,
    failures: Family<ReasonLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

impl MirrorMetrics {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "rows_written",
            "Orders and metafields this replica wrote into the stores' mirrors, by kind",
            self.written.clone(),
        );
        registry.register(
            "rows_deleted",
            "Orders and metafields this replica deleted from the stores' mirrors (gone from BigCommerce, or no longer visible), by kind",
            self.deleted.clone(),
        );
        registry.register(
            "initial_sync_orders_left",
            "Orders the initial syncs this replica runs have still to read (by the stores' counts when they began)",
            self.orders_left.clone(),
        );
        registry.register(
            "catch_ups",
            "Catch-ups (what changed since the high-water marks) this replica finished",
            self.catch_ups.clone(),
        );
        registry.register(
            "failures",
            "Sync steps that failed and will be tried again, by cause (upstream, database)",
            self.failures.clone(),
        );
    }

    /// Counts `count` rows of `kind` (`orders`, `metafields`) written.
    pub fn written(&self, kind: &'static str, count: usize) {
        self.written
            .get_or_create(&KindLabels { kind })
            .inc_by(u64::try_from(count).unwrap_or(u64::MAX));
    }

    /// Counts `count` rows of `kind` deleted.
    pub fn deleted(&self, kind: &'static str, count: usize) {
        self.deleted
            .get_or_create(&KindLabels { kind })
            .inc_by(u64::try_from(count).unwrap_or(u64::MAX));
    }

    /// Moves the orders left by `change`.
    pub fn orders_left(&self, change: i64) {
        self.orders_left.inc_by(change);
    }

    /// Counts one catch-up finished.
    pub fn caught_up(&self) {
        self.catch_ups.inc();
    }

    /// Counts one failed step, by cause (a fixed word).
    pub fn failed(&self, cause: &'static str) {
        self.failures
            .get_or_create(&ReasonLabels { reason: cause })
            .inc();
    }
}

/// Shoppers' writes of order metafields, by outcome.
#[derive(Clone)]
pub struct WriteMetrics {
    writes: Family<OutcomeLabels, Counter>,
}

/// What this replica told the others and heard from them (PostgreSQL only).
#[derive(Clone)]
pub struct ReplicaMetrics {
    sent: Counter,
    received: Counter,
    failures: Family<ReasonLabels, Counter>,
    resynchronisations: Counter,
    stores_dropped: Counter,
}

/// Requests this service answered.
#[derive(Clone)]
pub struct HttpMetrics {
    requests: Family<RouteStatusLabels, Counter>,
    duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
}

/// Calls to the Management API and what the store said about its quota.
#[derive(Clone)]
pub struct UpstreamMetrics {
    requests: Family<OperationStatusLabels, Counter>,
    duration: Family<OperationLabels, Histogram, fn() -> Histogram>,
    rate_limited: Family<OperationLabels, Counter>,
    paced: Family<OperationLabels, Counter>,
    // Families without labels, so that a value appears only once the store reported one
    // (a plain gauge would read 0 requests left before the first answer).
    requests_left: Family<NoLabels, Gauge>,
    quota: Family<NoLabels, Gauge>,
    /// 1 when the latest request that showed anything about reaching BigCommerce got an
    /// answer (refusals included), 0 when it got none, a timeout or a `5xx`.
    up: Family<NoLabels, Gauge>,
}

/// Lookups, single-flight waits, evictions and sizes of the caches. It is also the
/// caches' [`Collector`]: at each scrape it lets every tracked cache finish its pending
/// maintenance (so expired entries are gone and counted) before any cache series is
/// rendered, and reads their sizes then, so no caller has to report them before a scrape.
#[derive(Clone, Debug)]
pub struct CacheMetrics {
    lookups: Family<CacheOutcomeLabels, Counter>,
    waiters: Family<CacheLabels, Counter>,
    evictions: Family<CacheCauseLabels, Counter>,
    /// The caches whose sizes are read at each scrape.
    tracked: Arc<Mutex<Vec<TrackedCache>>>,
}

/// A cache whose size is read at each scrape, by its name; gone once the cache is dropped.
type TrackedCache = (&'static str, Weak<dyn CacheSize>);

/// A cache whose size the metrics read at scrape time.
pub trait CacheSize: Send + Sync {
    /// Entries and total weight held now, after pending maintenance.
    fn size(&self) -> (u64, u64);
}

/// Refused customer tokens.
#[derive(Clone)]
pub struct AuthMetrics {
    failures: Family<ReasonLabels, Counter>,
}

/// How a cache lookup was answered, from cheapest to most telling; a request that makes
/// several lookups is described by the last of these it met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CacheOutcome {
    /// Served from the cache.
    Hit,
    /// Loaded from the Management API, by this caller or by a concurrent one it waited for.
    Miss,
    /// Served from the last good value because loading failed.
    Stale,
}

/// Why an entry left a cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvictionCause {
    /// Its lifetime ended.
    Expired,
    /// The cache was full.
    Size,
    /// A webhook (or a reload) dropped it.
    Invalidated,
}

/// The class of a refused customer token; the precise reason only goes to a debug log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailureReason {
    /// No bearer token.
    Missing,
    /// Not a single well-formed bearer JWT (or too large).
    Malformed,
    Expired,
    /// Signed with another secret.
    Signature,
    /// A claim is missing or wrong (issuer, audience, store, customer, times).
    Claims,
    /// Signed with an algorithm `JWT_ALGORITHMS` does not accept.
    Algorithm,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatusLabels {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationStatusLabels {
    operation: &'static str,
    /// The HTTP status, or `timeout` / `error` when no answer came.
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheOutcomeLabels {
    cache: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheCauseLabels {
    cache: &'static str,
    cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

type NoLabels = [(&'static str, &'static str); 0];

impl Metrics {
    /// A fresh registry with every series of the service registered under the
    /// `order_metafields_` prefix.
    pub fn new() -> Self {
        let mut root = Registry::with_prefix("order_metafields");
        let http = HttpMetrics::new();
        let upstream = UpstreamMetrics::new();
        let cache = CacheMetrics::new();
        let auth = AuthMetrics::new();
        let replicas = ReplicaMetrics::new();
        replicas.register(root.sub_registry_with_prefix("replicas"));
        let writes = WriteMetrics::new();
        let mirror = MirrorMetrics::default();
        mirror.register(root.sub_registry_with_prefix("mirror"));
        http.register(root.sub_registry_with_prefix("http"));
        upstream.register(root.sub_registry_with_prefix("upstream"));
        root.sub_registry_with_prefix("cache")
            .register_collector(Box::new(cache.clone()));
        auth.register(root.sub_registry_with_prefix("auth"));
        writes.register(root.sub_registry_with_prefix("shopper"));
        Self {
            registry: root,
            http,
            upstream,
            cache,
            auth,
            replicas,
            writes,
            mirror,
        }
    }

    /// Every series in the Prometheus text format 0.0.4 ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail; a failure would only mean a partial page.
        if prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry).is_err()
        {
            tracing::error!("rendering the metrics failed");
        }
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpMetrics {
    fn new() -> Self {
        Self {
            requests: Family::default(),
            // 0.5 ms to about 16 s: a cache hit is well under a millisecond, a cold load
            // of many pages takes seconds.
            duration: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0005, 2.0, 16))
            }),
        }
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "requests",
            "HTTP requests answered, by route pattern and status",
            self.requests.clone(),
        );
        registry.register_with_unit(
            "request_duration",
            "Time to answer an HTTP request (to the response head), by route pattern",
            Unit::Seconds,
            self.duration.clone(),
        );
    }

    /// Counts one answered request. `route` must be a route pattern (or `unmatched`),
    /// never a raw path, so that the number of series stays bounded.
    pub fn observe(&self, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RouteStatusLabels {
                route: route.to_owned(),
                status,
            })
            .inc();
        self.duration
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }
}

impl UpstreamMetrics {
    /// Handles that record into no registry until one registers them: for a client used
    /// outside the server (the `webhooks` commands).
    pub fn new() -> Self {
        Self {
            requests: Family::default(),
            // 5 ms to about 10 s, the range of a Management API answer up to the timeout.
            duration: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.005, 2.0, 12))
            }),
            rate_limited: Family::default(),
            paced: Family::default(),
            requests_left: Family::default(),
            quota: Family::default(),
            up: Family::default(),
        }
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "requests",
            "Management API requests sent, by operation and HTTP status (timeout or error when none came back)",
            self.requests.clone(),
        );
        registry.register_with_unit(
            "request_duration",
            "Time until the Management API answered one request, by operation",
            Unit::Seconds,
            self.duration.clone(),
        );
        registry.register(
            "rate_limited",
            "429 answers received from the Management API, by operation",
            self.rate_limited.clone(),
        );
        registry.register(
            "paced",
            "Calls refused before sending because this service's share of the store's quota window was spent, by operation",
            self.paced.clone(),
        );
        registry.register(
            "rate_limit_requests_left",
            "The store's X-Rate-Limit-Requests-Left as last seen (shared by every app on the store)",
            self.requests_left.clone(),
        );
        registry.register(
            "rate_limit_quota",
            "The store's X-Rate-Limit-Requests-Quota as last seen (requests per window)",
            self.quota.clone(),
        );
        registry.register(
            "up",
            "1 when the Management API answered the latest request that showed whether it can be reached (a refusal is an answer), 0 when it did not answer, timed out or failed with a 5xx; absent before the first",
            self.up.clone(),
        );
    }

    /// Remembers whether the latest telling request reached BigCommerce.
    pub fn reached(&self, answered: bool) {
        self.up.get_or_create(&[]).set(i64::from(answered));
    }

    /// Counts one answered request; `status` is its HTTP status.
    pub fn answered(&self, operation: &'static str, status: u16, elapsed: Duration) {
        self.record(operation, status.to_string(), elapsed);
        if status == 429 {
            self.rate_limited
                .get_or_create(&OperationLabels { operation })
                .inc();
        }
    }

    /// Counts one request that got no answer, by timeout or by a transport error.
    pub fn unanswered(&self, operation: &'static str, timed_out: bool, elapsed: Duration) {
        let status = if timed_out { "timeout" } else { "error" };
        self.record(operation, status.to_owned(), elapsed);
    }

    /// Counts a call the quota pacer refused without sending it.
    pub fn paced(&self, operation: &'static str) {
        self.paced
            .get_or_create(&OperationLabels { operation })
            .inc();
    }

    /// Remembers the store's quota headers of the latest answer.
    pub fn quota_reported(&self, quota: Option<u32>, requests_left: u32) {
        self.requests_left
            .get_or_create(&[])
            .set(i64::from(requests_left));
        if let Some(quota) = quota {
            self.quota.get_or_create(&[]).set(i64::from(quota));
        }
    }

    fn record(&self, operation: &'static str, status: String, elapsed: Duration) {
        self.requests
            .get_or_create(&OperationStatusLabels { operation, status })
            .inc();
        self.duration
            .get_or_create(&OperationLabels { operation })
            .observe(elapsed.as_secs_f64());
    }
}

impl ReplicaMetrics {
    /// Handles that record into no registry until one registers them.
    pub fn new() -> Self {
        Self {
            sent: Counter::default(),
            received: Counter::default(),
            failures: Family::default(),
            resynchronisations: Counter::default(),
            stores_dropped: Counter::default(),
        }
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "notices_sent",
            "Changes and store registry events this replica announced to the others (PostgreSQL NOTIFY)",
            self.sent.clone(),
        );
        registry.register(
            "notices_received",
            "Changes and store registry events other replicas announced and this one applied",
            self.received.clone(),
        );
        registry.register(
            "failures",
            "Announcements not sent or not understood, by stage (notify, listen, outbox_full, unreadable)",
            self.failures.clone(),
        );
        registry.register(
            "resynchronisations",
            "Times this replica listened again after losing its listening connection, and so dropped everything it had cached",
            self.resynchronisations.clone(),
        );
        registry.register(
            "stores_dropped",
            "Stores whose cached values were dropped because announcements may have been missed",
            self.stores_dropped.clone(),
        );
    }

    /// Counts one announcement sent.
    pub fn sent(&self) {
        self.sent.inc();
    }

    /// Counts one announcement of another replica applied.
    pub fn received(&self) {
        self.received.inc();
    }

    /// Counts one failure at `stage` (a fixed word).
    pub fn failed(&self, stage: &'static str) {
        self.failures
            .get_or_create(&ReasonLabels { reason: stage })
            .inc();
    }

    /// Counts one resynchronisation, which dropped the caches of `stores` stores.
    pub fn resynchronised(&self, stores: usize) {
        self.resynchronisations.inc();
        self.stores_dropped
            .inc_by(u64::try_from(stores).unwrap_or(u64::MAX));
    }
}

impl Default for ReplicaMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Default for UpstreamMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl CacheMetrics {
    /// Handles that record into no registry until one registers them.
    pub fn new() -> Self {
        Self {
            lookups: Family::default(),
            waiters: Family::default(),
            evictions: Family::default(),
            tracked: Arc::default(),
        }
    }

    /// Reads `cache`'s size at each scrape, for as long as it lives, and starts its
    /// series at zero so that a dashboard sees them before any traffic.
    pub fn track(&self, cache: &'static str, size: Weak<dyn CacheSize>) {
        for outcome in [CacheOutcome::Hit, CacheOutcome::Miss, CacheOutcome::Stale] {
            self.lookups.get_or_create_owned(&CacheOutcomeLabels {
                cache,
                outcome: outcome.as_str(),
            });
        }
        for cause in [
            EvictionCause::Expired,
            EvictionCause::Size,
            EvictionCause::Invalidated,
        ] {
            self.evictions.get_or_create_owned(&CacheCauseLabels {
                cache,
                cause: cause.as_str(),
            });
        }
        self.waiters.get_or_create_owned(&CacheLabels { cache });
        self.tracked_caches().push((cache, size));
    }

    /// Counts one lookup in `cache`.
    pub fn lookup(&self, cache: &'static str, outcome: CacheOutcome) {
        self.lookups
            .get_or_create(&CacheOutcomeLabels {
                cache,
                outcome: outcome.as_str(),
            })
            .inc();
    }

    /// Counts a lookup in `cache` that was answered by another caller's load.
    pub fn waited(&self, cache: &'static str) {
        self.waiters.get_or_create(&CacheLabels { cache }).inc();
    }

    /// Counts an entry leaving `cache`.
    pub fn evicted(&self, cache: &'static str, cause: EvictionCause) {
        self.evictions
            .get_or_create(&CacheCauseLabels {
                cache,
                cause: cause.as_str(),
            })
            .inc();
    }

    fn tracked_caches(&self) -> std::sync::MutexGuard<'_, Vec<TrackedCache>> {
        // A list of names and weak handles is valid after any panic.
        self.tracked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Collector for CacheMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        // Sizes first: reading them runs the caches' pending maintenance, which counts the
        // evictions it makes, so the counters below include them.
        let sizes: Vec<(&'static str, (u64, u64))> = {
            let mut tracked = self.tracked_caches();
            tracked.retain(|(_, size)| size.strong_count() > 0);
            tracked
                .iter()
                .filter_map(|(name, size)| Some((*name, size.upgrade()?.size())))
                .collect()
        };
        let families: [(&str, &str, &dyn EncodeMetric); 3] = [
            (
                "lookups",
                "Cache lookups by cache and outcome (hit, miss: loaded from the Management API, stale: served the last good value because loading failed)",
                &self.lookups,
            ),
            (
                "single_flight_waiters",
                "Lookups that waited for a load another caller started instead of calling the Management API themselves",
                &self.waiters,
            ),
            (
                "evictions",
                "Entries removed from a cache, by cause (expired, size, invalidated)",
                &self.evictions,
            ),
        ];
        for (name, help, family) in families {
            let metric = encoder.encode_descriptor(name, help, None, family.metric_type())?;
            family.encode(metric)?;
        }
        let gauges = [
            (
                "entries",
                "Entries held by a cache, as of the scrape",
                false,
            ),
            (
                "weighted_size",
                "Weighted size of a cache as of the scrape: orders for customer-orders, bytes for order-metafields",
                true,
            ),
        ];
        for (name, help, weighted) in gauges {
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for (cache, (entries, weight)) in &sizes {
                let value = if weighted { *weight } else { *entries };
                let value = i64::try_from(value).unwrap_or(i64::MAX);
                let labels = CacheLabels { cache };
                ConstGauge::new(value).encode(metric.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

impl Default for CacheMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl AuthMetrics {
    fn new() -> Self {
        let metrics = Self {
            failures: Family::default(),
        };
        for reason in [
            AuthFailureReason::Missing,
            AuthFailureReason::Malformed,
            AuthFailureReason::Expired,
            AuthFailureReason::Signature,
            AuthFailureReason::Claims,
            AuthFailureReason::Algorithm,
        ] {
            metrics.failures.get_or_create_owned(&ReasonLabels {
                reason: reason.as_str(),
            });
        }
        metrics
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "failures",
            "Requests refused for their customer token, by reason class",
            self.failures.clone(),
        );
    }

    /// Counts one refused token.
    pub fn failed(&self, reason: AuthFailureReason) {
        self.failures
            .get_or_create(&ReasonLabels {
                reason: reason.as_str(),
            })
            .inc();
    }
}

impl WriteMetrics {
    /// Handles with every outcome at zero.
    pub fn new() -> Self {
        let metrics = Self {
            writes: Family::default(),
        };
        for outcome in crate::shopper_writes::OUTCOMES {
            metrics
                .writes
                .get_or_create_owned(&OutcomeLabels { outcome });
        }
        metrics
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "writes",
            "Shoppers' writes of order metafields, by outcome",
            self.writes.clone(),
        );
    }

    /// Counts one write; `outcome` is one of `shopper_writes::OUTCOMES`.
    pub fn wrote(&self, outcome: &'static str) {
        self.writes.get_or_create(&OutcomeLabels { outcome }).inc();
    }
}

impl Default for WriteMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl CacheOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheOutcome::Hit => "hit",
            CacheOutcome::Miss => "miss",
            CacheOutcome::Stale => "stale",
        }
    }
}

impl EvictionCause {
    pub fn as_str(self) -> &'static str {
        match self {
            EvictionCause::Expired => "expired",
            EvictionCause::Size => "size",
            EvictionCause::Invalidated => "invalidated",
        }
    }
}

impl AuthFailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailureReason::Missing => "missing",
            AuthFailureReason::Malformed => "malformed",
            AuthFailureReason::Expired => "expired",
            AuthFailureReason::Signature => "signature",
            AuthFailureReason::Claims => "claims",
            AuthFailureReason::Algorithm => "algorithm",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache of fixed size, for the collector.
    struct FixedSize(u64, u64);

    impl CacheSize for FixedSize {
        fn size(&self) -> (u64, u64) {
            (self.0, self.1)
        }
    }

    fn tracked(metrics: &Metrics, name: &'static str, size: &Arc<dyn CacheSize>) {
        metrics.cache.track(name, Arc::downgrade(size));
    }

    #[test]
    fn a_new_registry_renders_the_known_series_at_zero_and_nothing_unknown() {
        let metrics = Metrics::new();
        let orders: Arc<dyn CacheSize> = Arc::new(FixedSize(0, 0));
        let metafields: Arc<dyn CacheSize> = Arc::new(FixedSize(0, 0));
        tracked(&metrics, "customer-orders", &orders);
        tracked(&metrics, "order-metafields", &metafields);

        let text = metrics.render();

        assert!(text.contains(
            "order_metafields_cache_lookups_total{cache=\"order-metafields\",outcome=\"stale\"} 0\n"
        ));
        assert!(text.contains(
            "order_metafields_cache_evictions_total{cache=\"customer-orders\",cause=\"size\"} 0\n"
        ));
        assert!(text.contains("order_metafields_auth_failures_total{reason=\"algorithm\"} 0\n"));
        assert!(
            !text.contains("order_metafields_upstream_rate_limit_requests_left"),
            "no quota value before the store reported one"
        );
    }

    #[test]
    fn every_family_is_rendered_once_recorded() {
        let metrics = Metrics::new();

        metrics
            .http
            .observe("/healthz", 200, Duration::from_millis(2));
        metrics
            .upstream
            .answered("list_customer_orders", 429, Duration::from_millis(40));
        metrics
            .upstream
            .unanswered("list_customer_orders", true, Duration::from_secs(2));
        metrics.upstream.paced("list_customer_orders");
        metrics.upstream.quota_reported(Some(150), 120);
        let orders: Arc<dyn CacheSize> = Arc::new(FixedSize(1, 3));
        tracked(&metrics, "customer-orders", &orders);

        let text = metrics.render();
        for family in [
            "order_metafields_http_requests_total counter",
            "order_metafields_http_request_duration_seconds histogram",
            "order_metafields_upstream_requests_total counter",
            "order_metafields_upstream_request_duration_seconds histogram",
            "order_metafields_upstream_rate_limited_total counter",
            "order_metafields_upstream_paced_total counter",
            "order_metafields_upstream_rate_limit_requests_left gauge",
            "order_metafields_upstream_rate_limit_quota gauge",
            "order_metafields_cache_lookups_total counter",
            "order_metafields_cache_single_flight_waiters_total counter",
            "order_metafields_cache_evictions_total counter",
            "order_metafields_cache_entries gauge",
            "order_metafields_cache_weighted_size gauge",
            "order_metafields_auth_failures_total counter",
        ] {
            assert!(
                text.contains(&format!("# TYPE {family}\n")),
                "{family} in {text}"
            );
        }
        assert!(text.contains(
            "order_metafields_upstream_requests_total{operation=\"list_customer_orders\",status=\"timeout\"} 1\n"
        ));
        assert!(text.contains(
            "order_metafields_upstream_rate_limited_total{operation=\"list_customer_orders\"} 1\n"
        ));
        assert!(text.contains("order_metafields_cache_entries{cache=\"customer-orders\"} 1\n"));
        assert!(
            text.contains("order_metafields_cache_weighted_size{cache=\"customer-orders\"} 3\n")
        );
    }

    #[test]
    fn a_cache_that_is_gone_is_no_longer_read_at_a_scrape() {
        let metrics = Metrics::new();
        let orders: Arc<dyn CacheSize> = Arc::new(FixedSize(2, 5));
        tracked(&metrics, "customer-orders", &orders);
        let live = metrics.render();

        drop(orders);

        assert!(live.contains("order_metafields_cache_entries{cache=\"customer-orders\"} 2\n"));
        assert!(!metrics.render().contains("order_metafields_cache_entries{"));
    }

    #[test]
    fn the_quota_gauges_show_the_last_reported_values() {
        let metrics = Metrics::new();

        metrics.upstream.quota_reported(Some(150), 120);
        metrics.upstream.quota_reported(None, 97);

        let text = metrics.render();
        assert!(text.contains("order_metafields_upstream_rate_limit_requests_left 97\n"));
        assert!(text.contains("order_metafields_upstream_rate_limit_quota 150\n"));
    }

    #[test]
    fn applications_do_not_share_series() {
        let first = Metrics::new();
        let second = Metrics::new();

        first
            .http
            .observe("/healthz", 200, Duration::from_millis(1));

        assert!(first.render().contains(
            "order_metafields_http_requests_total{route=\"/healthz\",status=\"200\"} 1\n"
        ));
        assert!(!second.render().contains("route=\"/healthz\""));
    }
}
