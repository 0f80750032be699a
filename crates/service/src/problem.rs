//! `ApiError` and its rendering as `application/problem+json` (RFC 9457). This is the only
//! place that chooses HTTP statuses and problem types; module errors become `ApiError`
//! through `From`, and their full cause is logged here, once, never sent to the caller.

use std::time::Duration;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::access::AccessError;
use crate::management::error::ManagementError;
use crate::readiness::NotReady;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";
/// The realm named in `WWW-Authenticate`.
pub const REALM: &str = "order-metafields";

/// Every error the HTTP API can answer with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid Current Customer JWT; `token_sent` says whether a bearer token was there.
    #[error("unauthorized")]
    Unauthorized { token_sent: bool },
    /// A webhook delivery that is not authentic.
    #[error("webhook unauthorized")]
    WebhookUnauthorized,
    /// No such resource for this caller (including another customer's order).
    #[error("not found")]
    NotFound,
    /// A path or query parameter is invalid; `detail` says which, safely.
    #[error("bad request: {detail}")]
    BadRequest { detail: String },
    #[error("method not allowed")]
    MethodNotAllowed { allow: &'static str },
    #[error("payload too large")]
    PayloadTooLarge,
    /// The request body did not arrive within `HTTP_BODY_TIMEOUT`.
    #[error("request timeout")]
    RequestTimeout,
    /// This caller is over its own request rate.
    #[error("too many requests")]
    TooManyRequests { retry_after: Duration },
    /// The store's API quota is spent beyond the retry budget.
    #[error("upstream rate limited")]
    UpstreamRateLimited { retry_after: Duration },
    /// BigCommerce failed, refused us, or sent something unreadable.
    #[error("upstream error")]
    UpstreamError,
    #[error("upstream timeout")]
    UpstreamTimeout,
    /// Not ready to serve (readiness probe only); `detail` names the part.
    #[error("not ready: {detail}")]
    NotReady {
        detail: String,
        retry_after: Duration,
    },
    #[error("internal error")]
    Internal,
}

/// A problem body.
#[derive(Debug, Serialize)]
pub struct Problem<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub title: &'a str,
    pub status: u16,
    pub detail: &'a str,
}

/// The stable type URI prefix of every problem this service defines.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:order-metafields:problem:";

impl ApiError {
    /// The problem's type name (after [`PROBLEM_TYPE_PREFIX`]), title and status: the one
    /// table of error kinds.
    fn kind(&self) -> (&'static str, &'static str, StatusCode) {
        match self {
            ApiError::BadRequest { .. } => ("bad-request", "Bad Request", StatusCode::BAD_REQUEST),
            ApiError::Unauthorized { .. } | ApiError::WebhookUnauthorized => {
                ("unauthorized", "Unauthorized", StatusCode::UNAUTHORIZED)
            }
            ApiError::NotFound => ("not-found", "Not Found", StatusCode::NOT_FOUND),
            ApiError::MethodNotAllowed { .. } => (
                "method-not-allowed",
                "Method Not Allowed",
                StatusCode::METHOD_NOT_ALLOWED,
            ),
            ApiError::PayloadTooLarge => (
                "payload-too-large",
                "Payload Too Large",
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            ApiError::RequestTimeout => (
                "request-timeout",
                "Request Timeout",
                StatusCode::REQUEST_TIMEOUT,
            ),
            ApiError::TooManyRequests { .. } => (
                "too-many-requests",
                "Too Many Requests",
                StatusCode::TOO_MANY_REQUESTS,
            ),
            ApiError::Internal => (
                "internal",
                "Internal Server Error",
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            ApiError::UpstreamError => ("upstream-error", "Bad Gateway", StatusCode::BAD_GATEWAY),
            ApiError::UpstreamRateLimited { .. } => (
                "upstream-rate-limited",
                "Service Unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            ApiError::NotReady { .. } => (
                "not-ready",
                "Service Unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            ApiError::UpstreamTimeout => (
                "upstream-timeout",
                "Gateway Timeout",
                StatusCode::GATEWAY_TIMEOUT,
            ),
        }
    }

    /// A sentence safe to show to the caller.
    fn detail(&self) -> &str {
        match self {
            ApiError::Unauthorized { token_sent: false } => {
                "This endpoint needs the shopper's Current Customer JWT in an `Authorization: Bearer` header."
            }
            ApiError::Unauthorized { token_sent: true } => {
                "The bearer token is not a valid, unexpired Current Customer JWT for this app and store."
            }
            ApiError::WebhookUnauthorized => {
                "The delivery carries neither a valid webhook signature nor the shared webhook secret."
            }
            ApiError::NotFound => "There is no such resource for this customer.",
            ApiError::BadRequest { detail } | ApiError::NotReady { detail, .. } => detail,
            ApiError::MethodNotAllowed { .. } => "This method is not allowed on this resource.",
            ApiError::PayloadTooLarge => "The request body is too large.",
            ApiError::RequestTimeout => "The request body did not arrive in time.",
            ApiError::TooManyRequests { .. } => {
                "Too many requests for this customer; retry after the time in Retry-After."
            }
            ApiError::UpstreamRateLimited { .. } => {
                "The store's API quota is spent for now; retry after the time in Retry-After."
            }
            ApiError::UpstreamError => "The store's API answered with an error; try again later.",
            ApiError::UpstreamTimeout => "The store's API did not answer in time; try again later.",
            ApiError::Internal => "Something went wrong on our side; try again later.",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.kind().2
    }

    fn error_response(&self) -> HttpResponse {
        let (name, title, status) = self.kind();
        let uri = format!("{PROBLEM_TYPE_PREFIX}{name}");
        let mut response = problem_response(status, &uri, title, self.detail());
        let headers = response.headers_mut();
        match self {
            ApiError::Unauthorized { token_sent } => {
                // RFC 6750 section 3: no error code when the request carried no token.
                let challenge = if *token_sent {
                    format!(
                        "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"the token is invalid or expired\""
                    )
                } else {
                    format!("Bearer realm=\"{REALM}\"")
                };
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
            }
            ApiError::WebhookUnauthorized => {
                // RFC 9110 asks every 401 to name a scheme; these are the two a sender can use.
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Webhook-Signature realm=\"order-metafields-webhooks\", X-Webhook-Secret realm=\"order-metafields-webhooks\""),
                );
            }
            ApiError::TooManyRequests { retry_after }
            | ApiError::UpstreamRateLimited { retry_after }
            | ApiError::NotReady { retry_after, .. } => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after_seconds(*retry_after)),
                );
            }
            ApiError::MethodNotAllowed { allow } => {
                headers.insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            _ => {}
        }
        response
    }
}

/// Whole seconds for `Retry-After`, rounded up and at least one.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    wait.as_millis()
        .div_ceil(1000)
        .max(1)
        .try_into()
        .unwrap_or(u64::MAX)
}

/// A problem+json response; `Cache-Control: no-store` so no error is cached by a proxy.
pub fn problem_response(status: StatusCode, uri: &str, title: &str, detail: &str) -> HttpResponse {
    let body = Problem {
        kind: uri,
        title,
        status: status.as_u16(),
        detail,
    };
    HttpResponse::build(status)
        .content_type(PROBLEM_JSON)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// Turns any error response that is not already a problem (actix's own 404/405/400s,
/// CORS rejections) into one, keeping its status and headers other than the body's.
pub fn ensure_problem<B: MessageBody + 'static>(
    response: ServiceResponse<B>,
) -> ServiceResponse<EitherBody<B, BoxBody>> {
    if !needs_problem_body(response.status(), response.headers()) {
        return response.map_into_left_body();
    }
    let (request, old) = response.into_parts();
    let problem = problem_for_status(old.status(), old.headers());
    ServiceResponse::new(request, problem).map_into_right_body()
}

/// Whether an error response still lacks a problem body.
pub fn needs_problem_body(status: StatusCode, headers: &header::HeaderMap) -> bool {
    let is_problem = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with(PROBLEM_JSON));
    (status.is_client_error() || status.is_server_error()) && !is_problem
}

/// A problem response standing in for a bare error response of `status`, keeping the
/// original headers (`Allow`, `WWW-Authenticate`...) but not its body.
pub fn problem_for_status(status: StatusCode, headers: &header::HeaderMap) -> HttpResponse {
    let (name, title) = match status {
        StatusCode::BAD_REQUEST => ("bad-request", "Bad Request"),
        StatusCode::NOT_FOUND => ("not-found", "Not Found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "Method Not Allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload-too-large", "Payload Too Large"),
        status if status.is_server_error() => ("internal", "Internal Server Error"),
        _ => ("", status.canonical_reason().unwrap_or("Error")),
    };
    let uri = if name.is_empty() {
        "about:blank".to_owned()
    } else {
        format!("{PROBLEM_TYPE_PREFIX}{name}")
    };
    let detail = if status.is_server_error() {
        "Something went wrong on our side; try again later."
    } else {
        title
    };
    let mut problem = problem_response(status, &uri, title, detail);
    for (name, value) in headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().insert(name.clone(), value.clone());
        }
    }
    problem
}

impl From<AccessError> for ApiError {
    fn from(error: AccessError) -> Self {
        match error {
            AccessError::NotFound => ApiError::NotFound,
            AccessError::Upstream(error) => ApiError::from(error.as_ref()),
        }
    }
}

impl From<NotReady> for ApiError {
    fn from(not_ready: NotReady) -> Self {
        ApiError::NotReady {
            detail: not_ready.reason.to_string(),
            retry_after: not_ready.retry_after,
        }
    }
}

impl From<&ManagementError> for ApiError {
    fn from(error: &ManagementError) -> Self {
        match error {
            ManagementError::RateLimited { retry_after, .. } => {
                tracing::warn!(error = %error, "answering 503: the store's api quota is spent");
                ApiError::UpstreamRateLimited {
                    retry_after: *retry_after,
                }
            }
            ManagementError::Timeout { .. } => {
                tracing::warn!(error = %error, "answering 504");
                ApiError::UpstreamTimeout
            }
            // A missing order is decided by `access` from the customer's own order list (and
            // a missing order's metafields become `AccessError::NotFound` there). A 404 that
            // reaches this point is for the order list itself, which always exists (no orders
            // is a 204): the store hash or base URL is wrong, so it must not pass for "you
            // have no such order".
            ManagementError::NotFound { .. } => {
                tracing::error!(error = %error, "answering 502: check BC_STORE_HASH and BC_API_BASE_URL");
                ApiError::UpstreamError
            }
            ManagementError::Rejected {
                status: 401 | 403, ..
            } => {
                tracing::error!(error = %error, "answering 502: check BC_ACCESS_TOKEN, BC_STORE_HASH and the token's Orders scope");
                ApiError::UpstreamError
            }
            ManagementError::Unavailable { .. }
            | ManagementError::Rejected { .. }
            | ManagementError::InvalidResponse { .. } => {
                tracing::error!(error = %error, "answering 502");
                ApiError::UpstreamError
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::from_millis(0)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1000)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_seconds(Duration::from_secs(30)), 30);
    }

    #[test]
    fn each_error_kind_has_a_matching_status_and_type() {
        let cases = [
            (
                ApiError::NotFound,
                404,
                "urn:order-metafields:problem:not-found",
            ),
            (
                ApiError::Unauthorized { token_sent: true },
                401,
                "urn:order-metafields:problem:unauthorized",
            ),
            (
                ApiError::UpstreamError,
                502,
                "urn:order-metafields:problem:upstream-error",
            ),
            (
                ApiError::UpstreamTimeout,
                504,
                "urn:order-metafields:problem:upstream-timeout",
            ),
            (
                ApiError::UpstreamRateLimited {
                    retry_after: Duration::from_secs(3),
                },
                503,
                "urn:order-metafields:problem:upstream-rate-limited",
            ),
            (
                ApiError::NotReady {
                    detail: "the Management API could not be reached".to_owned(),
                    retry_after: Duration::from_secs(30),
                },
                503,
                "urn:order-metafields:problem:not-ready",
            ),
        ];
        for (error, status, uri) in cases {
            let (name, _, code) = error.kind();

            assert_eq!(code.as_u16(), status, "case: {error:?}");
            assert_eq!(
                format!("{PROBLEM_TYPE_PREFIX}{name}"),
                uri,
                "case: {error:?}"
            );
        }
    }
}
