//! The login service client of the install flow against a mock login service: the request
//! BigCommerce documents, and every way the exchange can fail.

use std::time::Duration;

use order_metafields_service::management::login::{
    AppCredentials, AuthorizationCode, LoginClient, LoginError,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REDIRECT: &str = "https://app.example.com/bigcommerce/auth";

fn grant_body() -> serde_json::Value {
    json!({
        "access_token": "store-token-123",
        "scope": "store_v2_orders_read_only",
        "user": {"id": 24654, "username": "merchant@example.com", "email": "merchant@example.com"},
        "owner": {"id": 12345, "username": "owner@example.com", "email": "owner@example.com"},
        "context": "stores/g5cd38",
        "account_uuid": "12345678-90ab-cdef-1234-567890abcdef"
    })
}

async fn exchange(server: &MockServer, timeout: Duration) -> Result<String, LoginError> {
    let client = LoginClient::new(&server.uri().parse().unwrap(), timeout).unwrap();
    let secret = SecretString::from("app-secret");
    let code = SecretString::from("qr6h3thvbvag2ffq");
    client
        .exchange(
            &AppCredentials {
                client_id: "app-client-id",
                client_secret: &secret,
                redirect_uri: REDIRECT,
            },
            &AuthorizationCode {
                code: &code,
                scope: "store_v2_orders_read_only",
                context: "stores/g5cd38",
            },
        )
        .await
        .map(|grant| {
            format!(
                "{} {} {} {} {} {:?}",
                grant.access_token.expose_secret(),
                grant.scope,
                grant.user.id,
                grant.owner.id,
                grant.context,
                grant.account_uuid
            )
        })
}

#[tokio::test]
async fn the_exchange_posts_the_documented_body_once_and_reads_the_grant() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(header("accept", "application/json"))
        .and(body_json(json!({
            "client_id": "app-client-id",
            "client_secret": "app-secret",
            "code": "qr6h3thvbvag2ffq",
            "context": "stores/g5cd38",
            "scope": "store_v2_orders_read_only",
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(grant_body()))
        .expect(1)
        .mount(&server)
        .await;

    let grant = exchange(&server, Duration::from_secs(5)).await.unwrap();

    assert_eq!(
        grant,
        "store-token-123 store_v2_orders_read_only 24654 12345 stores/g5cd38 Some(\"12345678-90ab-cdef-1234-567890abcdef\")"
    );
}

#[tokio::test]
async fn every_failure_of_the_exchange_is_classified_and_never_retried() {
    let cases: Vec<(&str, ResponseTemplate, LoginError)> = vec![
        (
            "a used code",
            ResponseTemplate::new(400),
            LoginError::Refused(400),
        ),
        (
            "a wrong secret",
            ResponseTemplate::new(401),
            LoginError::Refused(401),
        ),
        (
            "a server error",
            ResponseTemplate::new(500),
            LoginError::Unavailable("status 500".to_owned()),
        ),
        (
            "a redirect",
            ResponseTemplate::new(302).insert_header("location", "https://elsewhere.example/"),
            LoginError::Unavailable("status 302".to_owned()),
        ),
        (
            "html",
            ResponseTemplate::new(200).set_body_string("<html>hi</html>"),
            LoginError::Malformed("line 1, column 1".to_owned()),
        ),
        (
            "a grant without a token",
            ResponseTemplate::new(200).set_body_json(json!({"scope": "x"})),
            LoginError::Malformed("line 1, column 13".to_owned()),
        ),
        (
            "a huge body",
            ResponseTemplate::new(200).set_body_string("x".repeat(200_000)),
            LoginError::Malformed("the answer is too large".to_owned()),
        ),
        (
            "a slow answer",
            ResponseTemplate::new(200)
                .set_body_json(grant_body())
                .set_delay(Duration::from_secs(3)),
            LoginError::Timeout,
        ),
    ];
    for (case, answer, expected) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/oauth2/token"))
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;

        let outcome = exchange(&server, Duration::from_millis(500)).await;

        assert_eq!(outcome.unwrap_err(), expected, "{case}");
        server.verify().await;
    }
}

#[tokio::test]
async fn an_unreachable_login_service_is_unavailable() {
    // A port that was free a moment ago: nothing listens there (wiremock keeps its
    // servers in a pool, so a dropped mock server may still answer).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let uri = format!("http://127.0.0.1:{port}");
    let client = LoginClient::new(&uri.parse().unwrap(), Duration::from_secs(2)).unwrap();
    let secret = SecretString::from("app-secret");
    let code = SecretString::from("code");

    let outcome = client
        .exchange(
            &AppCredentials {
                client_id: "app-client-id",
                client_secret: &secret,
                redirect_uri: REDIRECT,
            },
            &AuthorizationCode {
                code: &code,
                scope: "s",
                context: "stores/abc",
            },
        )
        .await;

    assert_eq!(
        outcome.err(),
        Some(LoginError::Unavailable("connection failed".to_owned()))
    );
}
