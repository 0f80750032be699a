//! Reads the bearer token of a request's single `Authorization` header (RFC 6750 section
//! 2.1), without allocating: the token is a slice of the header. Nothing else of the request
//! is looked at, so a token in a query string or a cookie is never read.

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;

use crate::auth::{AuthError, MAX_TOKEN_BYTES};

/// The bearer token of the request's single `Authorization` header.
///
/// Works on the header's bytes: a compact JWS is base64url and dots, so checking the token
/// against that alphabet also proves the header is visible ASCII, in one pass over it.
pub fn bearer_token(request: &HttpRequest) -> Result<&str, AuthError> {
    let mut values = request.headers().get_all(AUTHORIZATION);
    let value = values.next().ok_or(AuthError::Missing)?;
    if values.next().is_some() {
        return Err(AuthError::MalformedHeader);
    }
    if value.len() > MAX_TOKEN_BYTES + 64 {
        return Err(AuthError::TooLarge);
    }
    let value = trim_blanks(value.as_bytes());
    let (scheme, token) = match value.iter().position(|&byte| is_blank(byte)) {
        Some(end) => (&value[..end], trim_blanks(&value[end..])),
        None => (value, &[][..]),
    };
    // RFC 7235: the scheme is case-insensitive. Another scheme means no bearer token was
    // sent, as long as the header is well-formed (visible ASCII, spaces and tabs).
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        let visible = value
            .iter()
            .all(|&byte| byte.is_ascii_graphic() || is_blank(byte));
        return Err(if visible {
            AuthError::Missing
        } else {
            AuthError::MalformedHeader
        });
    }
    if token.is_empty() || !all_jws_bytes(token) {
        return Err(AuthError::MalformedHeader);
    }
    // Only ASCII is left, which is always UTF-8.
    std::str::from_utf8(token).map_err(|_| AuthError::MalformedHeader)
}

fn is_blank(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

fn trim_blanks(mut bytes: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = bytes
        && is_blank(*first)
    {
        bytes = rest;
    }
    while let [rest @ .., last] = bytes
        && is_blank(*last)
    {
        bytes = rest;
    }
    bytes
}

/// Whether every byte is of the compact JWS alphabet: base64url (RFC 4648 section 5) and
/// the dots between parts. Written without an early exit or a branch per byte, so that the
/// compiler checks many bytes per instruction (a token is read on every request).
pub(crate) fn all_jws_bytes(bytes: &[u8]) -> bool {
    let mut outside = 0_u8;
    for &byte in bytes {
        let letter = (byte | 0x20).wrapping_sub(b'a') < 26;
        let digit = byte.wrapping_sub(b'0') < 10;
        let punctuation = (byte == b'-') | (byte == b'_') | (byte == b'.');
        outside |= u8::from(!(letter | digit | punctuation));
    }
    outside == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_jws_alphabet_is_base64url_and_dots() {
        for byte in 0..=u8::MAX {
            let expected = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.');
            assert_eq!(all_jws_bytes(&[byte]), expected, "byte {byte:#04x}");
            assert_eq!(
                all_jws_bytes(&[b"abc.DEF-_09".as_slice(), &[byte]].concat()),
                expected,
                "byte {byte:#04x} after valid ones"
            );
        }
        assert!(all_jws_bytes(b""));
    }

    #[test]
    fn bearer_token_reads_one_case_insensitive_bearer_header() {
        let cases: Vec<(Vec<&str>, Result<&str, AuthError>, &str)> = vec![
            (vec!["Bearer abc.def.ghi"], Ok("abc.def.ghi"), "canonical"),
            (vec!["bearer abc.def.ghi"], Ok("abc.def.ghi"), "lower case"),
            (
                vec!["BEARER   abc.def.ghi  "],
                Ok("abc.def.ghi"),
                "extra spaces",
            ),
            (vec![], Err(AuthError::Missing), "no header"),
            (
                vec!["Basic dXNlcjpwYXNz"],
                Err(AuthError::Missing),
                "other scheme",
            ),
            (vec!["Bearer"], Err(AuthError::MalformedHeader), "no token"),
            (
                vec!["Bearer a b"],
                Err(AuthError::MalformedHeader),
                "two tokens",
            ),
            (
                vec!["Bearer a", "Bearer b"],
                Err(AuthError::MalformedHeader),
                "two headers",
            ),
            (
                vec!["\tBearer\t abc.def-_0\t "],
                Ok("abc.def-_0"),
                "tabs around",
            ),
            (
                vec!["Bearer abc.d+f/g=="],
                Err(AuthError::MalformedHeader),
                "standard base64, not base64url",
            ),
        ];
        for (headers, expected, description) in cases {
            let mut request = TestRequest::default();
            for header in headers {
                request = request.append_header((AUTHORIZATION, header));
            }
            let request = request.to_http_request();

            assert_eq!(bearer_token(&request), expected, "case: {description}");
        }
        // Bytes past ASCII (obs-text) are the only non-visible ones a header value can hold.
        for (header, description) in [
            (&b"Bearer abc.d\xe9f"[..], "non-ASCII in the token"),
            (&b"Basic dXNl\xe9cjpw"[..], "non-ASCII after another scheme"),
            (&b"B\xe9arer abc"[..], "non-ASCII in the scheme"),
        ] {
            let request = TestRequest::default()
                .append_header((
                    AUTHORIZATION,
                    actix_web::http::header::HeaderValue::from_bytes(header).unwrap(),
                ))
                .to_http_request();

            assert_eq!(
                bearer_token(&request),
                Err(AuthError::MalformedHeader),
                "case: {description}"
            );
        }
    }
}
