//! `POST /graphql`, the GraphQL Storefront API, on each channel's site: the store's Stencil
//! storefront (channel 1) and its headless site (channel 2). Server to server with a private
//! token, as the guide "Authenticating requests to the GraphQL Storefront API" says:
//!
//! - `Authorization: Bearer {private token}`: a token of this store, not expired or revoked,
//!   valid for this site's channel; otherwise `401` with a GraphQL error `UNAUTHENTICATED`;
//! - private tokens are refused from browsers ("The API rejects private token-authenticated
//!   requests that originate from web browsers"): a request with an `Origin` header is `403`;
//! - `X-Bc-Customer-Access-Token`, when sent, must be a token this store's `login` issued, not
//!   expired and not logged out; otherwise the answer is `200` with the error code Catalyst's
//!   client knows, `INVALID_CUSTOMER_ACCESS_TOKEN`, and no `data`. A store's customer access
//!   token works on every channel of that store, never on another store's.
//!
//! The document itself is `graphql_exec`'s. Every request is counted
//! (`SandboxStore::graphql_requests`); no token is ever logged.

use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, ORIGIN};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::api::json_response;
use crate::graphql_exec::{self, Caller, MAX_QUERY_LENGTH, Request};
use crate::store::SandboxStore;

/// The header that carries a shopper's customer access token.
pub const CUSTOMER_ACCESS_TOKEN_HEADER: &str = "X-Bc-Customer-Access-Token";

/// One channel's site of one store, for its `/graphql`.
pub(crate) struct GraphqlSite {
    pub store: SandboxStore,
    pub channel_id: u64,
}

/// Registers `POST /graphql`.
pub(crate) fn routes(config: &mut web::ServiceConfig) {
    config.route("/graphql", web::post().to(graphql));
}

fn refusal(status: StatusCode, message: &str, code: &str) -> HttpResponse {
    json_response(
        status,
        &json!({"errors": [{"message": message, "extensions": {"code": code}}]}),
    )
}

async fn graphql(
    request: HttpRequest,
    site: web::Data<GraphqlSite>,
    body: web::Bytes,
) -> HttpResponse {
    site.store.count_graphql_request();
    let bearer = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        // The scheme is case-insensitive (RFC 9110, 11.1).
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Bearer"))
        .map(|(_, token)| token.trim());
    let customer_token = request
        .headers()
        .get(CUSTOMER_ACCESS_TOKEN_HEADER)
        .map(|value| value.to_str().unwrap_or_default().to_owned());
    let now = OffsetDateTime::now_utc();
    let scopes = bearer.and_then(|bearer| {
        site.store.with_state(|state| {
            state
                .private_tokens
                .get(bearer)
                .filter(|token| {
                    token.expires_at > now && token.channel_ids.contains(&site.channel_id)
                })
                .map(|token| token.scopes.clone())
        })
    });
    let Some(scopes) = scopes else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "Unauthorized: the token is missing, expired, revoked or not valid for this channel.",
            "UNAUTHENTICATED",
        );
    };
    if request.headers().contains_key(ORIGIN) {
        return refusal(
            StatusCode::FORBIDDEN,
            "Private tokens are for server-to-server requests; this one came from a browser.",
            "FORBIDDEN",
        );
    }
    let parsed: Option<Map<String, Value>> = match serde_json::from_slice(&body) {
        Ok(Value::Object(object)) => Some(object),
        _ => None,
    };
    let Some(parsed) = parsed else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "The body must be a JSON object with a query.",
            "BAD_REQUEST",
        );
    };
    let Some(query) = parsed.get("query").and_then(Value::as_str) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "The body must be a JSON object with a query.",
            "BAD_REQUEST",
        );
    };
    if query.len() > MAX_QUERY_LENGTH {
        return refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The query is too large.",
            "BAD_REQUEST",
        );
    }
    let no_variables = Map::new();
    let variables = match parsed.get("variables") {
        Some(Value::Object(variables)) => variables,
        _ => &no_variables,
    };
    let operation_name = parsed.get("operationName").and_then(Value::as_str);
    let answer = site.store.with_state(|state| {
        let customer_id = match &customer_token {
            None => None,
            Some(token) => match state
                .customer_access_tokens
                .get(token.as_str())
                .filter(|token| token.expires_at > now)
            {
                Some(token) => Some(token.customer_id),
                None => return None,
            },
        };
        let caller = Caller {
            channel_id: site.channel_id,
            scopes: &scopes,
            customer_id,
        };
        Some(graphql_exec::run(
            state,
            &caller,
            &Request {
                query,
                operation_name,
                variables,
            },
        ))
    });
    match answer {
        Some(answer) => json_response(StatusCode::OK, &answer),
        None => refusal(
            StatusCode::OK,
            "Invalid customer access token.",
            "INVALID_CUSTOMER_ACCESS_TOKEN",
        ),
    }
}
