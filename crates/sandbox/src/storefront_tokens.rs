//! The GraphQL Storefront API's tokens (storefront_tokens.v3.yml and the guide "Authenticating
//! requests to the GraphQL Storefront API"): private tokens, created through
//! `POST /v3/storefront/api-token-private` (the gate has checked `store_storefront_api`) or from
//! Rust, revoked through `DELETE /v3/storefront/api-token`; and customer access tokens, which
//! `graphql`'s `login` issues. Both are kept in `StoreState` until they expire; how many is
//! bounded, as anyone with a private token can log in again and again.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use jsonwebtoken::{EncodingKey, Header};
use rand::RngExt;
use serde::Serialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::api::{StoreRequest, input_error, json_response};
use crate::codes::random_string;
use crate::data::{CustomerAccessToken, PrivateToken, StoreState};
use crate::metafield_input::InputError;
use crate::wire;

/// The private token access scopes (the guide's "Scope identifiers").
pub(crate) const ACCESS_SCOPES: [&str; 3] = ["Unauthenticated", "Customer", "B2B"];
/// The access scope of customer identity, orders, login and logout.
pub(crate) const CUSTOMER_SCOPE: &str = "Customer";
/// How long a customer access token lasts. BigCommerce documents no number; a day is the
/// sandbox's choice (`SandboxStore::expire_customer_access_token` ends one sooner).
pub(crate) const CUSTOMER_ACCESS_TOKEN_LIFETIME: time::Duration = time::Duration::days(1);
/// At most this many tokens of each kind are kept; issuing one more forgets the expired ones,
/// then the one that expires first.
const MOST_KEPT: usize = 10_000;

/// The claims of a private token, the shape of BigCommerce's Storefront API JWTs (`cid`, `eat`,
/// `iat`, `iss`, `sub`, `sub_type`, `token_type`), plus a `jti` that makes each one unique.
#[derive(Serialize)]
struct PrivateTokenClaims<'a> {
    cid: &'a [u64],
    eat: i64,
    iat: i64,
    iss: &'static str,
    sid: &'a str,
    sub: &'a str,
    sub_type: u8,
    token_type: u8,
    jti: String,
}

/// Makes and keeps a private token of `store_id`'s store; `None` only if signing failed.
pub(crate) fn issue_private_token(
    state: &mut StoreState,
    store_id: &str,
    token: PrivateToken,
) -> Option<String> {
    let now = OffsetDateTime::now_utc();
    let claims = PrivateTokenClaims {
        cid: &token.channel_ids,
        eat: token.expires_at.unix_timestamp(),
        iat: now.unix_timestamp(),
        iss: "BC",
        sid: store_id,
        sub: &token.client_id,
        sub_type: 2,
        token_type: 3,
        jti: random_string(24),
    };
    // Nobody checks the signature (the sandbox looks tokens up), so a throwaway key will do.
    let key: [u8; 32] = rand::rng().random();
    let value = jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&key),
    )
    .ok()?;
    make_room(&mut state.private_tokens, now, |token| token.expires_at);
    state.private_tokens.insert(value.clone(), token);
    Some(value)
}

/// Makes and keeps a customer access token in BigCommerce's shape: 64 hex digits, `_`, and the
/// Unix time it expires at.
pub(crate) fn issue_customer_access_token(
    state: &mut StoreState,
    customer_id: u64,
    channel_id: u64,
) -> (String, OffsetDateTime) {
    let now = OffsetDateTime::now_utc();
    let expires_at = (now + CUSTOMER_ACCESS_TOKEN_LIFETIME)
        .replace_nanosecond(0)
        .unwrap_or(now);
    let bytes: [u8; 32] = rand::rng().random();
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    let value = format!("{hex}_{}", expires_at.unix_timestamp());
    make_room(&mut state.customer_access_tokens, now, |token| {
        token.expires_at
    });
    state.customer_access_tokens.insert(
        value.clone(),
        CustomerAccessToken {
            customer_id,
            channel_id,
            expires_at,
        },
    );
    (value, expires_at)
}

fn make_room<T>(
    tokens: &mut std::collections::HashMap<String, T>,
    now: OffsetDateTime,
    expires_at: impl Fn(&T) -> OffsetDateTime,
) {
    tokens.retain(|_, token| expires_at(token) > now);
    if tokens.len() >= MOST_KEPT
        && let Some(first) = tokens
            .iter()
            .min_by_key(|(_, token)| expires_at(token))
            .map(|(value, _)| value.clone())
    {
        tokens.remove(&first);
    }
}

/// The request body of `POST /v3/storefront/api-token-private`, checked.
struct PrivateTokenRequest {
    channel_ids: Vec<u64>,
    expires_at: OffsetDateTime,
    scopes: Vec<&'static str>,
}

/// Checks a body against `TokenPostPrivate`: `expires_at` (a Unix time, required, in the
/// future), exactly one of `channel_id` and `channel_ids` (the reference: "one must be included
/// [...] including both will result in unexpected behaviors"; the sandbox refuses both), each a
/// channel of the store, and at least one known `scopes` entry.
fn parse(
    body: &[u8],
    channel_exists: impl Fn(u64) -> bool,
) -> Result<PrivateTokenRequest, InputError> {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        return Err(InputError::Syntax);
    };
    let mut errors = Map::new();
    let mut refuse = |field: &str, message: &str| {
        errors.insert(field.to_owned(), message.into());
    };
    let now = OffsetDateTime::now_utc();
    let expires_at = match object.get("expires_at").map(Value::as_i64) {
        None => {
            refuse("expires_at", "expires_at is required");
            None
        }
        Some(Some(seconds)) if seconds > now.unix_timestamp() => {
            OffsetDateTime::from_unix_timestamp(seconds).ok()
        }
        Some(_) => {
            refuse(
                "expires_at",
                "expires_at must be a Unix time in seconds, in the future",
            );
            None
        }
    };
    let channel_ids = match (object.get("channel_id"), object.get("channel_ids")) {
        (Some(_), Some(_)) => {
            refuse("channel_ids", "give channel_id or channel_ids, not both");
            None
        }
        (None, None) => {
            refuse("channel_ids", "channel_id or channel_ids is required");
            None
        }
        (Some(id), None) => Some(vec![id.as_u64()]),
        (None, Some(Value::Array(ids))) if !ids.is_empty() => {
            Some(ids.iter().map(Value::as_u64).collect())
        }
        (None, Some(_)) => Some(vec![None]),
    };
    let channel_ids: Option<Vec<u64>> = channel_ids.and_then(|ids| {
        let ids: Option<Vec<u64>> = ids.into_iter().collect();
        match ids {
            Some(ids) if ids.iter().all(|id| channel_exists(*id)) => Some(ids),
            _ => {
                refuse(
                    "channel_ids",
                    "every channel id must be a channel of the store",
                );
                None
            }
        }
    });
    let scopes = match object.get("scopes") {
        Some(Value::Array(scopes)) if !scopes.is_empty() => {
            let known: Option<Vec<&'static str>> = scopes
                .iter()
                .map(|scope| {
                    ACCESS_SCOPES
                        .iter()
                        .find(|known| scope.as_str() == Some(**known))
                        .copied()
                })
                .collect();
            if known.is_none() {
                refuse(
                    "scopes",
                    "scopes must be among Unauthenticated, Customer and B2B",
                );
            }
            known
        }
        _ => {
            refuse("scopes", "scopes is required: at least one access scope");
            None
        }
    };
    match (expires_at, channel_ids, scopes) {
        (Some(expires_at), Some(mut channel_ids), Some(mut scopes)) if errors.is_empty() => {
            channel_ids.dedup();
            scopes.sort_unstable();
            scopes.dedup();
            Ok(PrivateTokenRequest {
                channel_ids,
                expires_at,
                scopes,
            })
        }
        _ => Err(InputError::Invalid(errors)),
    }
}

/// `POST /v3/storefront/api-token-private`: `{"data": {"token": …}, "meta": {}}`.
pub(super) async fn create_private_token(body: web::Bytes, state: StoreRequest) -> HttpResponse {
    let store_id = state.store.store_id().to_owned();
    let created = state.store.with_state(|store| {
        let channels: Vec<u64> = store.channels.iter().map(|channel| channel.id).collect();
        let request = parse(&body, |id| channels.contains(&id))?;
        let token = PrivateToken {
            channel_ids: request.channel_ids,
            scopes: request.scopes,
            expires_at: request.expires_at,
            client_id: Arc::clone(&state.client_id),
        };
        Ok(issue_private_token(store, &store_id, token))
    });
    match created {
        Ok(Some(token)) => json_response(
            StatusCode::OK,
            &json!({"data": {"token": token}, "meta": {}}),
        ),
        Ok(None) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &wire::v3_error(500, "The token could not be made", json!({})),
        ),
        Err(error) => input_error(error),
    }
}

/// `DELETE /v3/storefront/api-token` with the token in `Sf-Api-Token`: revokes a private token
/// of the store (200 with no body); 422 when the header is missing or names no such token.
pub(super) async fn revoke_token(request: HttpRequest, state: StoreRequest) -> HttpResponse {
    let revoked = request
        .headers()
        .get("Sf-Api-Token")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|token| {
            state
                .store
                .with_state(|store| store.private_tokens.remove(token).is_some())
        });
    if revoked {
        HttpResponse::Ok().finish()
    } else {
        json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            &wire::v3_error(
                422,
                "Invalid JWT Token provided or missing JWT token header",
                json!({}),
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn parse_json(body: Value) -> Result<PrivateTokenRequest, InputError> {
        parse(body.to_string().as_bytes(), |id| id == 1 || id == 2)
    }

    #[test]
    fn the_reference_examples_are_accepted() {
        let single =
            parse_json(json!({"channel_id": 1, "expires_at": 1885635176, "scopes": ["Unauthenticated", "Customer"]}))
                .unwrap();
        let multi = parse_json(
            json!({"channel_ids": [1, 2], "expires_at": 1885635176, "scopes": ["Customer", "Customer"]}),
        )
        .unwrap();

        assert_eq!(single.channel_ids, [1]);
        assert_eq!(single.scopes, ["Customer", "Unauthenticated"]);
        assert_eq!(single.expires_at.unix_timestamp(), 1885635176);
        assert_eq!(multi.channel_ids, [1, 2]);
        assert_eq!(multi.scopes, ["Customer"]);
    }

    #[test]
    fn bad_bodies_are_refused_by_field() {
        let cases = [
            (
                json!({"channel_id": 1, "scopes": ["Customer"]}),
                "expires_at",
            ),
            (
                json!({"channel_id": 1, "expires_at": 1000, "scopes": ["Customer"]}),
                "expires_at",
            ),
            (
                json!({"expires_at": 1885635176, "scopes": ["Customer"]}),
                "channel_ids",
            ),
            (
                json!({"channel_id": 1, "channel_ids": [1], "expires_at": 1885635176, "scopes": ["Customer"]}),
                "channel_ids",
            ),
            (
                json!({"channel_ids": [1, 7], "expires_at": 1885635176, "scopes": ["Customer"]}),
                "channel_ids",
            ),
            (json!({"channel_id": 1, "expires_at": 1885635176}), "scopes"),
            (
                json!({"channel_id": 1, "expires_at": 1885635176, "scopes": []}),
                "scopes",
            ),
            (
                json!({"channel_id": 1, "expires_at": 1885635176, "scopes": ["Admin"]}),
                "scopes",
            ),
        ];
        for (body, field) in cases {
            let Err(InputError::Invalid(errors)) = parse_json(body.clone()) else {
                panic!("{body}: expected a field error");
            };
            assert!(errors.contains_key(field), "{body}: {errors:?}");
        }
        assert!(matches!(parse(b"[]", |_| true), Err(InputError::Syntax)));
    }

    #[test]
    fn a_customer_access_token_has_bigcommerce_s_shape_and_expiry() {
        let mut state = crate::seed::build(&crate::seed::SeedSpec::default(), "client");

        let (token, expires_at) = issue_customer_access_token(&mut state, 1, 1);

        let (hex, seconds) = token.split_once('_').unwrap();
        assert_eq!(hex.len(), 64);
        assert!(hex.bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert_eq!(seconds, expires_at.unix_timestamp().to_string());
        assert_eq!(state.customer_access_tokens[&token].customer_id, 1);
    }
}
