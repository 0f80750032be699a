//! What every Management API handler shares: the routes' state, the store and API account a
//! request was let in for, the request parsing (path ids, query pairs) and BigCommerce's answers
//! (JSON bodies, the v2 and v3 error families, `404`, `400` and `422`). It knows no route: the
//! handlers in `management`, `order_writes`, `metafields` and `hooks` build on it, and only
//! `management` knows them all.

use std::future::{Ready, ready};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use serde_json::{Value, json};

use crate::listing::QueryError;
use crate::metafield_input::InputError;
use crate::store::SandboxStore;
use crate::stores::Stores;
use crate::wire;

/// What the Management API routes share: every store, and what the gate needs.
pub(crate) struct ManagementState {
    pub stores: Stores,
    /// `http://HOST:PORT/`, for the links inside v2 orders.
    pub api_base: String,
    pub latency: Duration,
}

/// The store a Management API request is for and the API account its token belongs to. The
/// gate puts it in the request's extensions once the store, the token, the scopes and the
/// quota let the request in; handlers take it as an argument.
#[derive(Clone)]
pub(crate) struct StoreRequest {
    pub store: SandboxStore,
    /// The client id of the API account behind the token; it owns what it creates.
    pub client_id: Arc<str>,
    /// The OAuth scopes of that token, for handlers whose rules depend on a scope the route as a
    /// whole does not need.
    pub scopes: Arc<[String]>,
    /// `{api base}/stores/{hash}/v2`, for the links inside v2 orders.
    pub v2_base: Arc<str>,
}

impl FromRequest for StoreRequest {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<StoreRequest>()
                .cloned()
                .ok_or_else(|| {
                    actix_web::error::ErrorInternalServerError(
                        "a management api handler ran without the gate",
                    )
                }),
        )
    }
}

/// Which error body family a path answers with: v2 arrays or v3 objects.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiVersion {
    V2,
    V3,
}

impl ApiVersion {
    /// The family of the path after `/stores/{hash}/`: v2 paths answer v2 errors.
    pub(crate) fn of(tail: &str) -> Self {
        if tail.starts_with("v2/") || tail == "v2" {
            ApiVersion::V2
        } else {
            ApiVersion::V3
        }
    }

    /// An error answer of this family.
    pub(crate) fn error(self, status: StatusCode, message: &str) -> HttpResponse {
        let body = match self {
            ApiVersion::V2 => wire::v2_error(status.as_u16(), message),
            ApiVersion::V3 => wire::v3_error(status.as_u16(), message, json!({})),
        };
        json_response(status, &body)
    }
}

/// A JSON answer of `body`.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> HttpResponse {
    json_text(status, body.to_string())
}

/// A JSON answer of an already rendered body.
pub(crate) fn json_text(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "application/json"))
        .body(body)
}

/// The query string as decoded name/value pairs, in order.
pub(crate) fn query_pairs(request: &HttpRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(request.query_string().as_bytes())
        .into_owned()
        .collect()
}

/// The pairs of `query_pairs` as the `listing` parsers take them.
pub(crate) fn borrowed(pairs: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    pairs
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
}

/// BigCommerce's answer to a query parameter it refuses.
pub(crate) fn query_error(version: ApiVersion, error: &QueryError) -> HttpResponse {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    version.error(status, &error.message)
}

/// A numeric id from the path; `None` when it is missing or not a number.
pub(crate) fn id_param(request: &HttpRequest, name: &str) -> Option<u64> {
    request.match_info().get(name)?.parse().ok()
}

/// The v2 `404` body: a v2 error array.
pub(crate) fn v2_not_found() -> HttpResponse {
    ApiVersion::V2.error(
        StatusCode::NOT_FOUND,
        "The requested resource was not found.",
    )
}

/// The v3 `404` body (orders.v3.yml, `NotFound`) with `title`.
pub(crate) fn v3_not_found(title: &str) -> HttpResponse {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({
            "status": 404,
            "title": title,
            "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
            "errors": [],
        }),
    )
}

/// BigCommerce's `400` for a body that is not a JSON object, or `422` naming the invalid fields.
pub(crate) fn input_error(error: InputError) -> HttpResponse {
    match error {
        InputError::Syntax => json_response(
            StatusCode::BAD_REQUEST,
            &json!({
                "status": 400,
                "title": "Input is invalid",
                "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
                "detail": "Syntax error",
            }),
        ),
        InputError::Invalid(errors) => json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            &wire::v3_error(
                422,
                "JSON data is missing or invalid",
                Value::Object(errors),
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_family_follows_the_api_version_in_the_path() {
        assert!(ApiVersion::of("v2/orders") == ApiVersion::V2);
        assert!(ApiVersion::of("v2") == ApiVersion::V2);
        assert!(ApiVersion::of("v3/orders/metafields") == ApiVersion::V3);
        assert!(ApiVersion::of("v2orders") == ApiVersion::V3);
    }
}
