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
use crate::fields::FieldError;
use crate::management::error::ManagementError;
use crate::readiness::NotReady;
use crate::shopper_writes::WriteError;

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
    /// An app callback whose `signed_payload_jwt` was refused (forged, expired, replayed).
    #[error("app callback unauthorized")]
    CallbackUnauthorized,
    /// The database cannot be reached; what does not need it is still served.
    #[error("database unavailable")]
    DatabaseUnavailable,
    /// A write authenticated by the session cookie without an allowed `Origin` and
    /// `X-Requested-With`: it may come from another site's page (cross-site request forgery).
    #[error("cookie write from an unproven page")]
    CookieWriteRefused,
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
    /// A field the customer sees but may not edit.
    #[error("forbidden")]
    NotEditable,
    /// The order's status does not allow editing the field now.
    #[error("order status outside the editing window")]
    OutsideEditingWindow,
    /// The value breaks the field's definition: every rule it breaks.
    #[error("unprocessable value")]
    InvalidValue { errors: Vec<FieldError> },
    /// `If-Match` does not name the field's current ETag.
    #[error("precondition failed")]
    PreconditionFailed,
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

/// A kind of problem: its type name (after [`PROBLEM_TYPE_PREFIX`]), title and status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Kind {
    name: &'static str,
    title: &'static str,
    status: StatusCode,
}

impl Kind {
    const fn new(name: &'static str, title: &'static str, status: StatusCode) -> Self {
        Self {
            name,
            title,
            status,
        }
    }

    const BAD_REQUEST: Kind = Kind::new("bad-request", "Bad Request", StatusCode::BAD_REQUEST);
    const UNAUTHORIZED: Kind = Kind::new("unauthorized", "Unauthorized", StatusCode::UNAUTHORIZED);
    const FORBIDDEN: Kind = Kind::new("forbidden", "Forbidden", StatusCode::FORBIDDEN);
    const NOT_FOUND: Kind = Kind::new("not-found", "Not Found", StatusCode::NOT_FOUND);
    const METHOD_NOT_ALLOWED: Kind = Kind::new(
        "method-not-allowed",
        "Method Not Allowed",
        StatusCode::METHOD_NOT_ALLOWED,
    );
    const PAYLOAD_TOO_LARGE: Kind = Kind::new(
        "payload-too-large",
        "Payload Too Large",
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    const REQUEST_TIMEOUT: Kind = Kind::new(
        "request-timeout",
        "Request Timeout",
        StatusCode::REQUEST_TIMEOUT,
    );
    const TOO_MANY_REQUESTS: Kind = Kind::new(
        "too-many-requests",
        "Too Many Requests",
        StatusCode::TOO_MANY_REQUESTS,
    );
    const NOT_EDITABLE: Kind = Kind::new("not-editable", "Forbidden", StatusCode::FORBIDDEN);
    const CONFLICT: Kind = Kind::new("not-editable-now", "Conflict", StatusCode::CONFLICT);
    const UNPROCESSABLE: Kind = Kind::new(
        "invalid-value",
        "Unprocessable Content",
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    const PRECONDITION_FAILED: Kind = Kind::new(
        "precondition-failed",
        "Precondition Failed",
        StatusCode::PRECONDITION_FAILED,
    );
    const INTERNAL: Kind = Kind::new(
        "internal",
        "Internal Server Error",
        StatusCode::INTERNAL_SERVER_ERROR,
    );
    const UPSTREAM_ERROR: Kind =
        Kind::new("upstream-error", "Bad Gateway", StatusCode::BAD_GATEWAY);
    const UPSTREAM_RATE_LIMITED: Kind = Kind::new(
        "upstream-rate-limited",
        "Service Unavailable",
        StatusCode::SERVICE_UNAVAILABLE,
    );
    const DATABASE_UNAVAILABLE: Kind = Kind::new(
        "database-unavailable",
        "Service Unavailable",
        StatusCode::SERVICE_UNAVAILABLE,
    );
    const NOT_READY: Kind = Kind::new(
        "not-ready",
        "Service Unavailable",
        StatusCode::SERVICE_UNAVAILABLE,
    );
    const UPSTREAM_TIMEOUT: Kind = Kind::new(
        "upstream-timeout",
        "Gateway Timeout",
        StatusCode::GATEWAY_TIMEOUT,
    );

    /// The kinds the framework itself answers with a bare status (a path no route
    /// matches, a method a resource lacks, a body too large or unreadable), looked up by
    /// that status. Any `5xx` of its own is [`Kind::INTERNAL`], keeping its status.
    const BARE: [Kind; 4] = [
        Kind::BAD_REQUEST,
        Kind::NOT_FOUND,
        Kind::METHOD_NOT_ALLOWED,
        Kind::PAYLOAD_TOO_LARGE,
    ];
}

impl ApiError {
    /// The problem kind of this error: the one table of error kinds.
    fn kind(&self) -> Kind {
        match self {
            ApiError::BadRequest { .. } => Kind::BAD_REQUEST,
            ApiError::Unauthorized { .. }
            | ApiError::WebhookUnauthorized
            | ApiError::CallbackUnauthorized => Kind::UNAUTHORIZED,
            ApiError::DatabaseUnavailable => Kind::DATABASE_UNAVAILABLE,
            ApiError::CookieWriteRefused => Kind::FORBIDDEN,
            ApiError::NotFound => Kind::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => Kind::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => Kind::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => Kind::REQUEST_TIMEOUT,
            ApiError::TooManyRequests { .. } => Kind::TOO_MANY_REQUESTS,
            ApiError::Internal => Kind::INTERNAL,
            ApiError::UpstreamError => Kind::UPSTREAM_ERROR,
            ApiError::UpstreamRateLimited { .. } => Kind::UPSTREAM_RATE_LIMITED,
            ApiError::NotReady { .. } => Kind::NOT_READY,
            ApiError::UpstreamTimeout => Kind::UPSTREAM_TIMEOUT,
            ApiError::NotEditable => Kind::NOT_EDITABLE,
            ApiError::OutsideEditingWindow => Kind::CONFLICT,
            ApiError::InvalidValue { .. } => Kind::UNPROCESSABLE,
            ApiError::PreconditionFailed => Kind::PRECONDITION_FAILED,
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
            ApiError::CallbackUnauthorized => {
                "The signed_payload_jwt is not a valid, unexpired payload for this app (or was used before)."
            }
            ApiError::DatabaseUnavailable => {
                "The service's database cannot be reached; try again later."
            }
            ApiError::CookieWriteRefused => {
                "A request that changes something with the session cookie needs an allowed Origin and the X-Requested-With header."
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
            ApiError::NotEditable => "This field cannot be changed by the shopper.",
            ApiError::OutsideEditingWindow => {
                "This field can no longer be changed: the order's status does not allow it."
            }
            ApiError::InvalidValue { .. } => {
                "The value does not fit this field; see errors for each rule it breaks."
            }
            ApiError::PreconditionFailed => {
                "The field changed since it was read (If-Match does not match); read it again."
            }
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.kind().status
    }

    fn error_response(&self) -> HttpResponse {
        let kind = self.kind();
        let uri = format!("{PROBLEM_TYPE_PREFIX}{}", kind.name);
        if let ApiError::InvalidValue { errors } = self {
            #[derive(Serialize)]
            struct WithErrors<'a> {
                #[serde(flatten)]
                problem: Problem<'a>,
                errors: &'a [FieldError],
            }
            return HttpResponse::build(kind.status)
                .content_type(PROBLEM_JSON)
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(WithErrors {
                    problem: Problem {
                        kind: &uri,
                        title: kind.title,
                        status: kind.status.as_u16(),
                        detail: self.detail(),
                    },
                    errors,
                });
        }
        let mut response = problem_response(kind.status, &uri, kind.title, self.detail());
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
            ApiError::CallbackUnauthorized => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Signed-Payload realm=\"order-metafields-app\""),
                );
            }
            ApiError::DatabaseUnavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
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
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    // A problem already, or one of the app's pages for the control panel's iframe (a
    // person reads those; actix's own bare errors are never HTML).
    let rendered = content_type
        .is_some_and(|value| value.starts_with(PROBLEM_JSON) || value.starts_with("text/html"));
    (status.is_client_error() || status.is_server_error()) && !rendered
}

/// A problem response standing in for a bare error response of `status`, keeping the
/// original headers (`Allow`, `WWW-Authenticate`...) but not its body.
pub fn problem_for_status(status: StatusCode, headers: &header::HeaderMap) -> HttpResponse {
    let kind = if status.is_server_error() {
        Some(Kind::INTERNAL)
    } else {
        Kind::BARE.into_iter().find(|kind| kind.status == status)
    };
    let (uri, title) = match kind {
        Some(kind) => (format!("{PROBLEM_TYPE_PREFIX}{}", kind.name), kind.title),
        None => (
            "about:blank".to_owned(),
            status.canonical_reason().unwrap_or("Error"),
        ),
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

impl From<WriteError> for ApiError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::NotFound => ApiError::NotFound,
            WriteError::NotEditable => ApiError::NotEditable,
            WriteError::OutsideWindow => ApiError::OutsideEditingWindow,
            WriteError::Invalid(errors) => ApiError::InvalidValue { errors },
            WriteError::PreconditionFailed => ApiError::PreconditionFailed,
            WriteError::TooMany(retry_after) => ApiError::TooManyRequests { retry_after },
            // The order or the metafield went away between the checks and the write.
            WriteError::Upstream(error) if matches!(*error, ManagementError::NotFound { .. }) => {
                ApiError::NotFound
            }
            WriteError::Upstream(error) => ApiError::from(error.as_ref()),
            WriteError::Database => ApiError::DatabaseUnavailable,
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
            let kind = error.kind();

            assert_eq!(kind.status.as_u16(), status, "case: {error:?}");
            assert_eq!(
                format!("{PROBLEM_TYPE_PREFIX}{}", kind.name),
                uri,
                "case: {error:?}"
            );
        }
    }

    #[test]
    fn a_bare_status_becomes_the_problem_of_its_kind_with_the_same_body_as_before() {
        let cases = [
            (
                400,
                "urn:order-metafields:problem:bad-request",
                "Bad Request",
            ),
            (404, "urn:order-metafields:problem:not-found", "Not Found"),
            (
                405,
                "urn:order-metafields:problem:method-not-allowed",
                "Method Not Allowed",
            ),
            (
                413,
                "urn:order-metafields:problem:payload-too-large",
                "Payload Too Large",
            ),
            (
                500,
                "urn:order-metafields:problem:internal",
                "Internal Server Error",
            ),
            (
                503,
                "urn:order-metafields:problem:internal",
                "Internal Server Error",
            ),
            (408, "about:blank", "Request Timeout"),
            (431, "about:blank", "Request Header Fields Too Large"),
        ];
        for (status, uri, title) in cases {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT);
            let detail = if status.is_server_error() {
                "Something went wrong on our side; try again later."
            } else {
                title
            };

            let response = problem_for_status(status, &header::HeaderMap::new());
            let body = actix_web::body::to_bytes(response.into_body());
            let body = futures_util::FutureExt::now_or_never(body)
                .and_then(Result::ok)
                .unwrap_or_default();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();

            assert_eq!(
                body,
                serde_json::json!({"type": uri, "title": title, "status": status.as_u16(), "detail": detail}),
                "case: {status}"
            );
        }
    }
}
