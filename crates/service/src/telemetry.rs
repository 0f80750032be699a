//! Logging, request identity and request metrics: the subscriber (JSON in containers,
//! pretty on a terminal), the per-request root span (route pattern, status, latency, cache
//! outcome and upstream calls; never the raw query or a header value), the `X-Request-Id`
//! every response carries, and the request counters. Tokens, secrets and emails are never
//! recorded.

use std::io::IsTerminal;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue, X_CONTENT_TYPE_OPTIONS};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError, web};
use tokio::time::Instant;
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogFormat, LogSettings};
use crate::json_log::JsonLines;
use crate::metrics::Metrics;
use crate::problem::{ensure_problem, needs_problem_body, problem_for_status};
use crate::request_context::{self, RequestContext};

/// The request id header, taken from the caller when sane and always returned.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// `X-Content-Type-Options: nosniff`, on every response: a browser must not read a JSON
/// answer or a problem as anything but what its `Content-Type` says.
static NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");

/// Keeps the JSON log writer running; dropping it writes out the lines still queued
/// (tracing-appender gives that at most about a second, enough for any sane log sink).
/// Hold it until the process is about to exit.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard(#[allow(dead_code)] Option<WorkerGuard>);

/// The most log lines waiting to be written; past it, logging waits for the writer (no line
/// is dropped while the service runs), as writing straight to stdout would.
const LOG_LINES_QUEUED_MAX: usize = 64 * 1024;

/// Installs the global subscriber. Returns an error if one is already installed.
///
/// JSON lines are written by a background thread, which writes everything queued since its
/// last write in one go: under load, one write(2) carries dozens of lines instead of each
/// request paying for its own. The pretty format (a terminal) writes directly.
pub fn init(settings: &LogSettings) -> anyhow::Result<LogGuard> {
    let filter = EnvFilter::try_new(&settings.filter)?;
    let json = match settings.format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let registry = tracing_subscriber::registry().with(filter);
    if !json {
        registry.with(tracing_subscriber::fmt::layer()).try_init()?;
        return Ok(LogGuard(None));
    }
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(LOG_LINES_QUEUED_MAX)
        .thread_name("log-writer")
        .finish(std::io::BufWriter::new(std::io::stdout()));
    registry.with(JsonLines::new(writer)).try_init()?;
    Ok(LogGuard(Some(guard)))
}

/// The root span of each request: method, route pattern and request id, which every line
/// logged while serving it carries. The outcome (status, latency, customer id, cache outcome,
/// upstream calls spent) goes on the one `request finished` line rather than being recorded
/// on the span: a JSON span is rendered again for every field recorded on it.
pub struct ServiceRootSpan;

impl RootSpanBuilder for ServiceRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let method = request.method().as_str();
        // This runs inside `request_identity`'s context scope, which wraps the whole request.
        request_context::with(|context| {
            tracing::info_span!(
                "request",
                method,
                route = context.route(),
                request_id = context.request_id().to_str().unwrap_or_default(),
            )
        })
        .unwrap_or_else(|| tracing::info_span!("request", method, route = "unmatched"))
    }

    /// The request is finished: its context is read once, for its log line and its metrics.
    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let (status, answered) = match outcome {
            Ok(response) => (response.status(), true),
            Err(error) => (error.as_response_error().status_code(), false),
        };
        request_context::with(|context| {
            let elapsed = context.elapsed();
            let latency_ms = answered.then(|| (elapsed.as_secs_f64() * 1e6).round() / 1000.0);
            let customer_id = context.customer().map(|customer| customer.get());
            span.in_scope(|| {
                tracing::info!(
                    status = status.as_u16(),
                    latency_ms,
                    store = context.store(),
                    customer_id,
                    cache = context.cache_label(),
                    upstream_calls = context.upstream_calls(),
                    "request finished"
                );
            });
            if let Some(metrics) = context.metrics() {
                metrics
                    .http
                    .observe(context.route(), status.as_u16(), elapsed);
            }
        });
    }
}

/// Middleware, outermost: assigns the request id (the caller's when sane), returns it on
/// every response with `X-Content-Type-Options: nosniff`, renders any error response that
/// is not yet a problem as one, and runs the request in its own [`RequestContext`] (read by
/// the log line and the metrics).
pub async fn request_identity(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .filter(|value| is_sane_request_id(value.as_bytes()))
        .cloned()
        .unwrap_or_else(new_request_id);
    let context = RequestContext::new(
        request_id.clone(),
        route_pattern(&request),
        started,
        request.app_data::<web::Data<Metrics>>().cloned(),
    );
    request_context::scope(context, identify(request, request_id, next)).await
}

/// The route pattern the request matches (`/v1/orders/{order_id}`), or `unmatched`: never
/// the raw path, so that logs and metric labels carry no id.
fn route_pattern(request: &ServiceRequest) -> String {
    request
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned())
}

async fn identify(
    request: ServiceRequest,
    request_id: HeaderValue,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    match next.call(request).await {
        Ok(response) => {
            let mut response = ensure_problem(response);
            stamp(response.headers_mut(), request_id);
            Ok(response)
        }
        // An error a middleware returned instead of a response (a CORS rejection, say) is
        // rendered by the server later; wrap it so it is rendered as a problem with the id.
        Err(error) => Err(IdentifiedError {
            inner: error,
            request_id,
        }
        .into()),
    }
}

/// An error that left the middleware stack unrendered, with the request's id.
#[derive(Debug)]
struct IdentifiedError {
    inner: Error,
    request_id: HeaderValue,
}

impl std::fmt::Display for IdentifiedError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(formatter)
    }
}

impl ResponseError for IdentifiedError {
    fn status_code(&self) -> StatusCode {
        self.inner.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let response = self.inner.error_response();
        let mut response = if needs_problem_body(response.status(), response.headers()) {
            problem_for_status(response.status(), response.headers())
        } else {
            response
        };
        stamp(response.headers_mut(), self.request_id.clone());
        response
    }
}

/// The headers every response carries: its request id and `nosniff`.
fn stamp(headers: &mut actix_web::http::header::HeaderMap, request_id: HeaderValue) {
    headers.insert(REQUEST_ID_HEADER.clone(), request_id);
    headers.insert(X_CONTENT_TYPE_OPTIONS, NOSNIFF.clone());
}

/// 1 to 64 characters of letters, digits, `.`, `_` and `-`: safe in a header and a log.
pub fn is_sane_request_id(value: &[u8]) -> bool {
    (1..=64).contains(&value.len())
        && value
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

fn new_request_id() -> HeaderValue {
    // A UUID's text form is always a valid header value.
    HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
        .unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_request_ids_are_kept() {
        let cases: [(&[u8], bool); 7] = [
            (b"abc-123_X.y", true),
            (b"0f8fad5b-d9cb-469f-a165-70867728950e", true),
            (b"", false),
            (b"has space", false),
            (b"quote\"", false),
            (b"newline\n", false),
            (&[b'a'; 65], false),
        ];
        for (value, expected) in cases {
            assert_eq!(is_sane_request_id(value), expected, "case: {value:?}");
        }
    }
}
