//! The storefront's JavaScript client (`client/order-metafields.js`), embedded at build time
//! and served at a stable URL with a strong `ETag`, so a theme can load it from the service.
//! It is public code: no customer data, no authentication, loadable from any origin.

use actix_web::http::header::{
    self, CacheControl, CacheDirective, ETag, EntityTag, HeaderValue, IfNoneMatch,
};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, HttpResponseBuilder};

/// The module's source, byte for byte as in the repository.
pub const CLIENT_MODULE: &str = include_str!("../../../../client/order-metafields.js");

/// The opaque part of the module's strong `ETag`: an FNV-1a hash of its bytes, computed at
/// compile time, so it changes exactly when the served bytes do.
pub const CLIENT_MODULE_ETAG: &str = match std::str::from_utf8(&ETAG_DIGITS) {
    Ok(digits) => digits,
    Err(_) => panic!("hex digits are ascii"),
};

/// How long browsers and CDNs may use the module without asking again. The URL names only
/// the API version, not the release, so `immutable` with a year would keep a fixed client
/// from shoppers for a year; a day, with a `304` answer afterwards, is cheap and lets a
/// release reach every storefront within a day.
const MAX_AGE_SECONDS: u32 = 24 * 60 * 60;

const ETAG_DIGITS: [u8; 16] = hex_digits(fnv1a(CLIENT_MODULE.as_bytes()));

/// `GET /client/v1/order-metafields.js`: the module, or `304` when `If-None-Match` names it.
pub async fn get_client_module(request: HttpRequest) -> HttpResponse {
    let etag = EntityTag::new_strong(CLIENT_MODULE_ETAG.to_owned());
    // RFC 9110 section 13.1.2: If-None-Match uses the weak comparison.
    let unchanged = match request.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|tag| tag.weak_eq(&etag)),
        None => false,
    };
    if unchanged {
        // A 304 carries the validators and caching headers the 200 would (section 15.4.5).
        return with_asset_headers(HttpResponse::NotModified(), etag).finish();
    }
    with_asset_headers(HttpResponse::Ok(), etag)
        .content_type("text/javascript; charset=utf-8")
        .body(CLIENT_MODULE)
}

fn with_asset_headers(mut response: HttpResponseBuilder, etag: EntityTag) -> HttpResponseBuilder {
    response
        .insert_header(ETag(etag))
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(MAX_AGE_SECONDS),
        ]))
        // A theme on any domain may load the module (module scripts are fetched with CORS);
        // it is public code, sent without credentials. For the origins allowed to call the
        // API, the CORS middleware replaces `*` with the origin itself.
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        .insert_header((
            header::CROSS_ORIGIN_RESOURCE_POLICY,
            HeaderValue::from_static("cross-origin"),
        ))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));
    response
}

/// 64-bit FNV-1a: not a security hash, only a cache validator for one known file.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut index = 0;
    while index < bytes.len() {
        hash ^= bytes[index] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        index += 1;
    }
    hash
}

const fn hex_digits(value: u64) -> [u8; 16] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0; 16];
    let mut index = 0;
    while index < 16 {
        digits[index] = DIGITS[((value >> (60 - 4 * index)) & 0xf) as usize];
        index += 1;
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        // From the FNV reference test suite (draft-eastlake-fnv, section 6).
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn etag_is_the_hex_hash_of_the_module() {
        assert_eq!(
            CLIENT_MODULE_ETAG,
            format!("{:016x}", fnv1a(CLIENT_MODULE.as_bytes()))
        );
    }
}
