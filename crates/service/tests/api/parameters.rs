//! Malformed path and query parameters: each is a `400` problem whose detail names the
//! parameter, and costs the store nothing.

use serde_json::json;

use crate::helpers::{assert_problem, spawn_app, token_for};

#[tokio::test]
async fn malformed_parameters_are_400_problems_naming_the_parameter() {
    let app = spawn_app().await;
    let token = token_for(7);
    let cases = [
        ("/v1/orders?page=0", "page must be a whole number from 1."),
        (
            "/v1/orders?page=%2B1",
            "page must be a whole number from 1.",
        ),
        ("/v1/orders?page=1.5", "page must be a whole number from 1."),
        (
            "/v1/orders?limit=0",
            "limit must be a whole number from 1 to 250.",
        ),
        (
            "/v1/orders?limit=251",
            "limit must be a whole number from 1 to 250.",
        ),
        ("/v1/orders?page=1&page=2", "page is given more than once."),
        (
            "/v1/orders?limit=5&limit=5",
            "limit is given more than once.",
        ),
        (
            "/v1/orders/abc",
            "order_id must be a positive whole number.",
        ),
        ("/v1/orders/0", "order_id must be a positive whole number."),
        (
            "/v1/orders/-3/metafields",
            "order_id must be a positive whole number.",
        ),
        (
            "/v1/orders/99999999999999999999999/metafields",
            "order_id must be a positive whole number.",
        ),
    ];

    for (route, detail) in cases {
        let response = app.get(route, Some(&token)).await;

        let body = assert_problem(response, 400, "bad-request").await;
        assert_eq!(
            body,
            json!({
                "type": "urn:order-metafields:problem:bad-request",
                "title": "Bad Request",
                "status": 400,
                "detail": detail
            }),
            "case: {route}"
        );
    }
    assert_eq!(app.upstream_calls("").await, 0);
}
