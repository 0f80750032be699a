//! Cookie sessions: the shopper's Current Customer JWT kept by the browser in an `HttpOnly`
//! cookie that this service sets (`POST /v1/session`), so that no page script holds it
//! between requests. The cookie's value is the JWT itself, verified on every request like a
//! bearer token, so a session needs no server-side state and works on any replica; it lives
//! at most as long as the token (`Max-Age` is the token's remaining lifetime).
//!
//! A cookie is ambient: the browser sends it with any request to this host. So a request
//! that changes something (any method but `GET`, `HEAD` and `OPTIONS`) authenticated by the
//! cookie must also carry an allowed `Origin` and `X-Requested-With` (which no cross-site
//! form can send, and no cross-origin script can send without a CORS preflight).
//! `SameSite=Lax` already keeps the cookie off cross-site subrequests.

use actix_web::HttpRequest;
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName};

use crate::auth::bearer::all_jws_bytes;
use crate::auth::{AuthError, MAX_TOKEN_BYTES};
use crate::domain::StoreHash;
use crate::origins::AllowedOrigins;

/// The session cookie's name. `__Host-`: browsers accept it only with `Secure`, `Path=/`
/// and no `Domain`, so no other host of the site can set or shadow it.
pub const COOKIE_NAME: &str = "__Host-om_session";

/// The header a cookie-authenticated write must carry.
pub static X_REQUESTED_WITH: HeaderName = HeaderName::from_static("x-requested-with");

/// The `Set-Cookie` value that starts a session holding `token` for `max_age_seconds`.
pub fn set_cookie(token: &str, max_age_seconds: u64) -> String {
    format!(
        "{COOKIE_NAME}={token}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age={max_age_seconds}"
    )
}

/// The `Set-Cookie` value that ends a session.
pub fn clear_cookie() -> String {
    format!("{COOKIE_NAME}=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0")
}

/// The session cookie's token, if the request carries the cookie: `Ok(None)` without it, an
/// error for a malformed or repeated one.
pub fn session_token(request: &HttpRequest) -> Result<Option<&str>, AuthError> {
    let mut found = None;
    for value in request.headers().get_all(header::COOKIE) {
        for pair in value.as_bytes().split(|&byte| byte == b';') {
            let pair = pair.trim_ascii();
            let Some(token) = pair
                .strip_prefix(COOKIE_NAME.as_bytes())
                .and_then(|rest| rest.strip_prefix(b"="))
            else {
                continue;
            };
            if found.is_some() {
                return Err(AuthError::MalformedHeader);
            }
            found = Some(token);
        }
    }
    let Some(token) = found else {
        return Ok(None);
    };
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::TooLarge);
    }
    if token.is_empty() || !all_jws_bytes(token) {
        return Err(AuthError::MalformedHeader);
    }
    std::str::from_utf8(token)
        .map(Some)
        .map_err(|_| AuthError::MalformedHeader)
}

/// Whether the request's method changes nothing.
pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a cookie-authenticated write came from an allowed page: an allowed `Origin` (one
/// of `store`'s own, or a configured one, when the write is for a store's customer) and
/// `X-Requested-With`.
pub fn write_allowed(
    request: &HttpRequest,
    origins: &AllowedOrigins,
    store: Option<&StoreHash>,
) -> bool {
    let headers = request.headers();
    let mut origin = headers.get_all(header::ORIGIN);
    let allowed_origin = match (origin.next(), origin.next()) {
        (Some(origin), None) => match store {
            Some(store) => origin
                .to_str()
                .is_ok_and(|origin| origins.allows_for_store(store, origin)),
            None => origins.allows(origin.as_bytes()),
        },
        _ => false,
    };
    allowed_origin && headers.contains_key(&X_REQUESTED_WITH)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::type_complexity)]

    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others_once() {
        let cases: Vec<(Vec<&str>, Result<Option<&str>, AuthError>, &str)> = vec![
            (vec![], Ok(None), "no cookie header"),
            (vec!["theme=dark"], Ok(None), "other cookies only"),
            (
                vec!["theme=dark; __Host-om_session=a.b.c; lang=en"],
                Ok(Some("a.b.c")),
                "among others",
            ),
            (
                vec!["theme=dark", "__Host-om_session=a.b.c"],
                Ok(Some("a.b.c")),
                "in a second header",
            ),
            (
                vec!["__Host-om_session=a.b.c; __Host-om_session=d.e.f"],
                Err(AuthError::MalformedHeader),
                "twice",
            ),
            (
                vec!["__Host-om_session="],
                Err(AuthError::MalformedHeader),
                "empty",
            ),
            (
                vec!["__Host-om_session=a b"],
                Err(AuthError::MalformedHeader),
                "not a jws",
            ),
            (vec!["x__Host-om_session=a.b.c"], Ok(None), "a longer name"),
        ];
        for (headers, expected, description) in cases {
            let mut request = TestRequest::default();
            for value in headers {
                request = request.append_header((header::COOKIE, value));
            }
            let request = request.to_http_request();

            assert_eq!(session_token(&request), expected, "case: {description}");
        }
    }

    #[test]
    fn a_write_needs_an_allowed_origin_and_x_requested_with() {
        let origins = AllowedOrigins::new(vec!["https://www.shop.example".to_owned()]);
        let cases: Vec<(Vec<(&str, &str)>, bool, &str)> = vec![
            (
                vec![
                    ("origin", "https://www.shop.example"),
                    ("x-requested-with", "fetch"),
                ],
                true,
                "both",
            ),
            (
                vec![("origin", "https://www.shop.example")],
                false,
                "no x-requested-with",
            ),
            (vec![("x-requested-with", "fetch")], false, "no origin"),
            (
                vec![
                    ("origin", "https://evil.example"),
                    ("x-requested-with", "fetch"),
                ],
                false,
                "another origin",
            ),
            (
                vec![("origin", "null"), ("x-requested-with", "fetch")],
                false,
                "an opaque origin",
            ),
        ];
        for (headers, expected, description) in cases {
            let mut request = TestRequest::default();
            for header in headers {
                request = request.append_header(header);
            }
            let request = request.to_http_request();

            assert_eq!(
                write_allowed(&request, &origins, None),
                expected,
                "case: {description}"
            );
        }
    }
}
