//! The pages a person opens in a browser: the index at `/` and the API reference at
//! `/docs`, which must work with no internet access.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

/// Every `src="…"` and `href="…"` value of an HTML page.
fn references(page: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        let mut rest = page;
        while let Some(start) = rest.find(attribute) {
            let value = &rest[start + attribute.len()..];
            let end = value.find('"').unwrap();
            found.push(value[..end].to_owned());
            rest = &value[end..];
        }
    }
    found
}

#[tokio::test]
async fn the_reference_page_refers_to_nothing_outside_the_service() {
    let app = spawn_app().await;

    let response = app.get("/docs", None).await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let page = response.text().await.unwrap();
    let references = references(&page);
    assert_eq!(
        references,
        vec!["/docs/redoc.standalone.js", "/openapi.yaml"],
        "the page loads the script and names the document, both from this service"
    );
    assert!(
        page.contains(r#"<redoc spec-url="/openapi.yaml">"#),
        "{page}"
    );
    for external in ["http:", "https:", "//"] {
        assert!(
            !page.replace("<!DOCTYPE", "").contains(external),
            "the page names {external}: {page}"
        );
    }
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(!policy.contains("http"), "no host is allowed: {policy}");
}

#[tokio::test]
async fn the_reference_script_is_served_from_the_binary() {
    let app = spawn_app().await;
    let vendored: &[u8] = include_bytes!("../../assets/redoc/redoc.standalone.js");

    let response = app.get("/docs/redoc.standalone.js", None).await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.bytes().await.unwrap(), vendored);
    assert_eq!(app.upstream_calls("").await, 0);
}

#[tokio::test]
async fn the_root_answers_a_small_index_instead_of_a_404() {
    let app = spawn_app().await;

    let response = app.get("/", None).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "service": "order-metafields",
            "version": env!("CARGO_PKG_VERSION"),
            "links": {
                "docs": "/docs",
                "openapi": "/openapi.yaml",
                "orders": "/v1/orders",
                "client": "/client/v1/order-metafields.js",
                "health": "/healthz",
                "readiness": "/readyz"
            }
        })
    );
    for link in ["/docs", "/openapi.yaml", "/healthz"] {
        assert_eq!(app.get(link, None).await.status(), 200, "{link}");
    }
}
