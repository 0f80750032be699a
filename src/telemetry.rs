//! Logging, request identity and request metrics: the subscriber (JSON in containers,
//! pretty on a terminal), the per-request root span (route pattern, status, latency, cache
//! outcome and upstream calls; never the raw query or a header value), the `X-Request-Id`
//! every response carries, and the request counters. Tokens, secrets and emails are never
//! recorded.

use std::io::IsTerminal;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError, web};
use tokio::time::Instant;
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogFormat, LogSettings};
use crate::metrics::Metrics;
use crate::problem::{ensure_problem, needs_problem_body, problem_for_status};
use crate::request_cost;

/// The request id header, taken from the caller when sane and always returned.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served.
#[derive(Clone, Debug)]
pub struct RequestId(pub HeaderValue);

/// When the request reached the service.
#[derive(Clone, Copy, Debug)]
struct RequestStart(Instant);

/// Installs the global subscriber. Returns an error if one is already installed.
pub fn init(settings: &LogSettings) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&settings.filter)?;
    let json = match settings.format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let registry = tracing_subscriber::registry().with(filter);
    if json {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init()?;
    } else {
        registry.with(tracing_subscriber::fmt::layer()).try_init()?;
    }
    Ok(())
}

/// The root span of each request: method, route pattern, request id; the customer id and
/// the outcome (status, latency, cache outcome, upstream calls spent) are recorded later.
pub struct ServiceRootSpan;

impl RootSpanBuilder for ServiceRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = route_pattern(request);
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .and_then(|id| id.0.to_str().ok().map(str::to_owned))
            .unwrap_or_default();
        tracing::info_span!(
            "request",
            method = %request.method(),
            route = %route,
            request_id = %request_id,
            customer_id = tracing::field::Empty,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
            cache = tracing::field::Empty,
            upstream_calls = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(response) => response.status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        };
        let latency_ms = match outcome {
            Ok(response) => response
                .request()
                .extensions()
                .get::<RequestStart>()
                .map(|start| start.0.elapsed().as_secs_f64() * 1000.0),
            Err(_) => None,
        };
        span.record("status", status);
        if let Some(latency_ms) = latency_ms {
            span.record("latency_ms", (latency_ms * 1000.0).round() / 1000.0);
        }
        // This runs inside `request_identity`'s cost scope, which wraps the whole request.
        if let Some(cost) = request_cost::current() {
            span.record("cache", cost.cache_label());
            span.record("upstream_calls", cost.upstream_calls);
        }
        span.in_scope(|| tracing::info!("request finished"));
    }
}

/// Middleware, outermost: assigns the request id (the caller's when sane), returns it on
/// every response, renders any error response that is not yet a problem as one, runs the
/// request in its own cost tally, and counts it in the metrics.
pub async fn request_identity(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let route = route_pattern(&request);
    let metrics = request.app_data::<web::Data<Metrics>>().cloned();
    let started = Instant::now();
    let result = request_cost::scope(identify(request, next)).await;
    if let Some(metrics) = metrics {
        let status = match &result {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        metrics
            .http
            .observe(&route, status.as_u16(), started.elapsed());
    }
    result
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
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .filter(|value| is_sane_request_id(value.as_bytes()))
        .cloned()
        .unwrap_or_else(new_request_id);
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    request
        .extensions_mut()
        .insert(RequestStart(Instant::now()));
    match next.call(request).await {
        Ok(response) => {
            let mut response = ensure_problem(response);
            response
                .headers_mut()
                .insert(REQUEST_ID_HEADER.clone(), request_id);
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
        response
            .headers_mut()
            .insert(REQUEST_ID_HEADER.clone(), self.request_id.clone());
        response
    }
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
