//! `GET /docs`: the API reference, rendered in the browser from `/openapi.yaml` by Redoc,
//! whose script is vendored (`crates/service/assets/redoc/`, pinned and hashed there) and
//! served from the binary at `/docs/redoc.standalone.js`. The page names no other host, and
//! its `Content-Security-Policy` lets it load nothing from one: it works with no internet
//! access, and a stray external reference in a Redoc update could not leak a visit.

use actix_web::HttpResponse;
use actix_web::http::header::{self, CacheControl, CacheDirective, HeaderValue};

/// Redoc's standalone bundle, byte for byte as vendored.
pub const REDOC_SCRIPT: &[u8] = include_bytes!("../../assets/redoc/redoc.standalone.js");

/// The page: Redoc reads the `spec-url` of its `<redoc>` element. No inline script, so
/// the policy below can forbid every script but this service's own.
pub const DOCS_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>order-metafields API reference</title>
</head>
<body>
<noscript>The reference needs JavaScript; the document itself is at <a href="/openapi.yaml">/openapi.yaml</a>.</noscript>
<redoc spec-url="/openapi.yaml"></redoc>
<script src="/docs/redoc.standalone.js"></script>
</body>
</html>
"#;

/// Same-origin only: the script and the document from this service, Redoc's inline styles
/// and its search worker (made from a `blob:`), images inline or local.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// How long browsers may reuse the page and the script without asking again.
const MAX_AGE_SECONDS: u32 = 60 * 60;

/// `GET /docs`.
pub async fn get_docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .insert_header(public_cache())
        .body(DOCS_PAGE)
}

/// `GET /docs/redoc.standalone.js`.
pub async fn get_docs_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(public_cache())
        .body(REDOC_SCRIPT)
}

fn public_cache() -> CacheControl {
    CacheControl(vec![
        CacheDirective::Public,
        CacheDirective::MaxAge(MAX_AGE_SECONDS),
    ])
}
