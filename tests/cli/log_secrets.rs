//! The real binary, run as a child process with an explicit environment in a fresh working
//! directory: at trace level it logs one line per request (route pattern, status, latency,
//! cache outcome and upstream calls spent) and
//! never a secret, a token or the shopper's email; a bad configuration stops it with one
//! line naming the variable; and only the working directory's `.env` is read, under the
//! real environment.

use std::fs;

use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::fixtures::{
    CLIENT_ID, STORE_HASH, claims_for, metafield_page, v2_order, v3_metafield,
};
use crate::harness::process::{ScratchDirectory, Service, free_port, run_to_exit};

/// Distinctive values, so that finding one in the output cannot be a coincidence.
const CLIENT_SECRET: &str = "cs-7Hq2LcF9eUaN4sJd-client-secret";
const ACCESS_TOKEN: &str = "at-Zq8XvN3kPw6RbT1y-access-token";
const SHOPPER_EMAIL: &str = "distinct.shopper.58173@example.com";

/// Environment variables as `(name, value)` pairs.
type Environment<'a> = &'a [(&'a str, &'a str)];

/// A request to make, and what its log line must show.
struct LoggedRequest {
    description: &'static str,
    uri: &'static str,
    token: Option<String>,
    route: &'static str,
    status: u16,
    /// The cache outcome: `hit`, `miss`, `stale` or `none`.
    cache: &'static str,
    /// Management API requests this request sent.
    upstream_calls: u64,
}

#[tokio::test]
async fn the_trace_log_has_a_line_per_request_and_no_secret_token_or_email() {
    let management = MockServer::start().await;
    mount_store(&management).await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let base = management.uri();
    let mut environment = required_environment();
    environment.extend([
        ("LISTEN_ADDR", listen.as_str()),
        ("LOG_LEVEL", "trace"),
        ("LOG_FORMAT", "json"),
        ("BC_API_BASE_URL", base.as_str()),
        ("UPSTREAM_MAX_RETRIES", "1"),
        ("JWT_ALGORITHMS", "HS256"),
    ]);
    let mut service = Service::start(&environment);
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    service.wait_until_healthy(&client, &address).await;
    let requests = logged_requests();

    for (index, request) in requests.iter().enumerate() {
        let mut builder = client
            .get(format!("{address}{}", request.uri))
            .header("x-request-id", format!("log-check-{index}"));
        if let Some(token) = &request.token {
            builder = builder.bearer_auth(token);
        }
        let response = builder
            .send()
            .await
            .expect("the request reaches the binary");
        assert_eq!(
            response.status().as_u16(),
            request.status,
            "case: {}",
            request.description
        );
    }
    let output = service.stop();

    let lines: Vec<Value> = output
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    assert!(
        lines.iter().any(|line| line["level"] == "TRACE"),
        "LOG_LEVEL=trace took effect"
    );
    for (index, request) in requests.iter().enumerate() {
        let request_id = format!("log-check-{index}");
        let finished: Vec<&Value> = lines
            .iter()
            .filter(|line| field(line, "request_id") == Some(&json!(request_id)))
            .filter(|line| field(line, "status").is_some())
            .filter(|line| line["message"] == "request finished")
            .collect();
        assert_eq!(
            finished.len(),
            1,
            "case: {}: one finished line",
            request.description
        );
        assert_eq!(
            field(finished[0], "route"),
            Some(&json!(request.route)),
            "case: {}",
            request.description
        );
        assert_eq!(
            field(finished[0], "status"),
            Some(&json!(request.status)),
            "case: {}",
            request.description
        );
        assert_eq!(
            field(finished[0], "cache"),
            Some(&json!(request.cache)),
            "case: {}",
            request.description
        );
        assert_eq!(
            field(finished[0], "upstream_calls"),
            Some(&json!(request.upstream_calls)),
            "case: {}",
            request.description
        );
        assert!(
            field(finished[0], "latency_ms").is_some_and(Value::is_number),
            "case: {}: latency",
            request.description
        );
    }
    let everything = format!("{}\n{}", output.stdout, output.stderr);
    for (secret, what) in secrets(&requests) {
        assert!(!everything.contains(&secret), "the log contains {what}");
    }
}

/// Headless credentials: a customer access token (accepted, refused, and from a browser),
/// the private token the service makes for the store, and a cookie session's token.
#[tokio::test]
async fn the_trace_log_holds_no_customer_access_token_private_token_or_session_cookie() {
    const PRIVATE_TOKEN: &str = "pt-Vb5nQ2wLc8RzK4xm-private-token";
    let accepted = format!(
        "cat-Jf4kW9pQm2Xr7aLs-accepted_{}",
        crate::harness::fixtures::now() + 3600
    );
    let refused = format!(
        "cat-Hd3nB8vTq6Ye1uZo-refused_{}",
        crate::harness::fixtures::now() + 3600
    );
    let management = MockServer::start().await;
    mount_store(&management).await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/stores/{STORE_HASH}/v3/storefront/api-token-private"
        )))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"token": PRIVATE_TOKEN}})),
        )
        .mount(&management)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/graphql/{STORE_HASH}/1")))
        .and(wiremock::matchers::header(
            "x-bc-customer-access-token",
            accepted.as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"customer": {"entityId": 7}}})),
        )
        .mount(&management)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/graphql/{STORE_HASH}/1")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"customer": null}})))
        .with_priority(10)
        .mount(&management)
        .await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let base = management.uri();
    let graphql = format!("{base}/graphql/{{store_hash}}/{{channel_id}}");
    let mut environment = required_environment();
    environment.extend([
        ("LISTEN_ADDR", listen.as_str()),
        ("LOG_LEVEL", "trace"),
        ("LOG_FORMAT", "json"),
        ("BC_API_BASE_URL", base.as_str()),
        ("BC_GRAPHQL_URL", graphql.as_str()),
        ("CORS_ALLOWED_ORIGINS", "https://www.store.example.com"),
    ]);
    let mut service = Service::start(&environment);
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    service.wait_until_healthy(&client, &address).await;
    let session_token = token(7, Algorithm::HS256, CLIENT_SECRET);

    let with_access_token = |token: &str| {
        client
            .get(format!("{address}/v1/orders"))
            .header("x-bc-customer-access-token", token)
            .header("x-bc-store-hash", STORE_HASH)
    };
    let statuses = [
        with_access_token(&accepted)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        with_access_token(&refused)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        with_access_token(&accepted)
            .header("origin", "https://www.store.example.com")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        client
            .post(format!("{address}/v1/session"))
            .bearer_auth(&session_token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        client
            .get(format!("{address}/v1/orders"))
            .header("cookie", format!("__Host-om_session={session_token}"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
    ];
    let output = service.stop();

    assert_eq!(statuses, [200, 401, 400, 204, 200]);
    let everything = format!("{}\n{}", output.stdout, output.stderr);
    let signature = session_token
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_owned();
    for (secret, what) in [
        (accepted.as_str(), "the accepted customer access token"),
        (refused.as_str(), "the refused customer access token"),
        (PRIVATE_TOKEN, "the private token"),
        (session_token.as_str(), "the session cookie's token"),
        (signature.as_str(), "the session token's signature"),
        (ACCESS_TOKEN, "the access token"),
        (CLIENT_SECRET, "the client secret"),
        (SHOPPER_EMAIL, "the shopper's email"),
    ] {
        assert!(!everything.contains(secret), "the log contains {what}");
    }
}

/// App mode's distinctive secrets: the install code, the store's access token the login
/// service grants, the encryption key, the owner's email.
const INSTALL_CODE: &str = "code-Hk4vQ9pLw2-install";
const GRANTED_TOKEN: &str = "granted-Yt6Rm1Zc8Bn3-store-token";
const ENCRYPTION_KEY: &str = "ZGlzdGluY3RpdmUtZW5jcnlwdGlvbi1rZXktMzJieXQ=";
const OWNER_EMAIL: &str = "distinct.owner.90417@example.com";

#[tokio::test]
async fn in_app_mode_the_trace_log_of_install_load_webhook_and_uninstall_holds_no_secret() {
    let bigcommerce = MockServer::start().await;
    mount_app_store(&bigcommerce).await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let base = bigcommerce.uri();
    let environment: Vec<(&str, &str)> = vec![
        ("BC_CLIENT_ID", CLIENT_ID),
        ("BC_CLIENT_SECRET", CLIENT_SECRET),
        ("APP_URL", "https://app.example.com"),
        ("TOKEN_ENCRYPTION_KEY", ENCRYPTION_KEY),
        ("BC_API_BASE_URL", base.as_str()),
        ("BC_LOGIN_BASE_URL", base.as_str()),
        ("APP_SCOPES", "store_v2_orders_read_only"),
        ("DATABASE_URL", "sqlite://app.db"),
        ("LISTEN_ADDR", listen.as_str()),
        ("LOG_LEVEL", "trace"),
        ("LOG_FORMAT", "json"),
    ];
    let mut service = Service::start(&environment);
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    service.wait_until_healthy(&client, &address).await;
    let payload = |user: i64| {
        crate::harness::fixtures::sign(
            &json!({
                "aud": CLIENT_ID, "iss": "bc", "iat": crate::harness::fixtures::now(),
                "nbf": crate::harness::fixtures::now(), "exp": crate::harness::fixtures::now() + 3600,
                "jti": format!("jti-{user}"), "sub": format!("stores/{STORE_HASH}"),
                "user": {"id": user, "email": OWNER_EMAIL, "locale": "en-US"},
                "owner": {"id": 1, "email": OWNER_EMAIL}, "url": "/", "channel_id": null
            }),
            Algorithm::HS256,
            CLIENT_SECRET,
        )
    };
    let (load, uninstall) = (payload(1), payload(2));
    let customer = token(7, Algorithm::HS256, CLIENT_SECRET);
    let get = |url: String| client.get(url).send();

    let installed = get(format!(
        "{address}/bigcommerce/auth?code={INSTALL_CODE}&scope=store_v2_orders_read_only&context=stores/{STORE_HASH}"
    ))
    .await
    .unwrap();
    let loaded = get(format!(
        "{address}/bigcommerce/load?signed_payload_jwt={load}"
    ))
    .await
    .unwrap();
    let replayed = get(format!(
        "{address}/bigcommerce/load?signed_payload_jwt={load}"
    ))
    .await
    .unwrap();
    let orders = client
        .get(format!("{address}/v1/orders"))
        .bearer_auth(&customer)
        .send()
        .await
        .unwrap();
    let hook_secret = bigcommerce
        .received_requests()
        .await
        .unwrap()
        .iter()
        .find(|request| request.method.as_str() == "POST" && request.url.path().ends_with("/hooks"))
        .map(|request| {
            let hook: Value = serde_json::from_slice(&request.body).unwrap();
            hook["headers"]["x-webhook-secret"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .unwrap();
    let delivered = client
        .post(format!("{address}/webhooks/bigcommerce"))
        .header("x-webhook-secret", &hook_secret)
        .body(
            json!({"scope": "store/order/updated", "data": {"type": "order", "id": 100},
                   "hash": "h1", "producer": format!("stores/{STORE_HASH}")})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    // BigCommerce revokes the store's token when the app is uninstalled; the callback
    // checks it.
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE_HASH}/v2/orders")))
        .and(wiremock::matchers::query_param("limit", "1"))
        .respond_with(ResponseTemplate::new(401))
        .with_priority(1)
        .mount(&bigcommerce)
        .await;
    let uninstalled = get(format!(
        "{address}/bigcommerce/uninstall?signed_payload_jwt={uninstall}"
    ))
    .await
    .unwrap();
    let output = service.stop();

    assert_eq!(installed.status(), 200);
    assert_eq!(loaded.status(), 200);
    assert_eq!(replayed.status(), 401);
    assert_eq!(orders.status(), 200);
    assert_eq!(delivered.status(), 200);
    assert_eq!(uninstalled.status(), 200);
    let everything = format!("{}\n{}", output.stdout, output.stderr);
    assert!(
        everything.contains("app installed"),
        "the log says what happened"
    );
    let secrets = [
        (CLIENT_SECRET, "the client secret"),
        (INSTALL_CODE, "the install code"),
        (GRANTED_TOKEN, "the store's access token"),
        (ENCRYPTION_KEY, "the token encryption key"),
        (OWNER_EMAIL, "a merchant's email"),
        (SHOPPER_EMAIL, "the shopper's email"),
        (hook_secret.as_str(), "the store's webhook secret"),
        (load.as_str(), "the load payload"),
        (uninstall.as_str(), "the uninstall payload"),
        (customer.as_str(), "the customer token"),
    ];
    for (secret, what) in secrets {
        assert!(!everything.contains(secret), "the log contains {what}");
    }
    for token in [&load, &uninstall, &customer] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            !everything.contains(signature),
            "the log contains a signature"
        );
    }
    let database = fs::read(service.directory.join("app.db")).unwrap_or_default();
    assert!(
        !database
            .windows(GRANTED_TOKEN.len())
            .any(|window| window == GRANTED_TOKEN.as_bytes()),
        "the database file holds the access token in the clear"
    );
}

/// The login service granting `INSTALL_CODE` and the store's Management API.
async fn mount_app_store(bigcommerce: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": GRANTED_TOKEN, "scope": "store_v2_orders_read_only",
            "user": {"id": 1, "username": OWNER_EMAIL, "email": OWNER_EMAIL},
            "owner": {"id": 1, "username": OWNER_EMAIL, "email": OWNER_EMAIL},
            "context": format!("stores/{STORE_HASH}"),
            "account_uuid": "12345678-90ab-cdef-1234-567890abcdef"
        })))
        .mount(bigcommerce)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE_HASH}/v3/hooks")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [], "meta": {}})))
        .mount(bigcommerce)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/stores/{STORE_HASH}/v3/hooks")))
        .respond_with(|request: &wiremock::Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            ResponseTemplate::new(200).set_body_json(json!({"data": {
                "id": 1, "client_id": CLIENT_ID, "store_hash": STORE_HASH, "created_at": 1,
                "updated_at": 1, "scope": body["scope"], "destination": body["destination"],
                "is_active": true, "headers": body["headers"]
            }}))
        })
        .mount(bigcommerce)
        .await;
    mount_store(bigcommerce).await;
}

#[test]
fn a_bad_configuration_stops_start_up_with_one_line_naming_the_variable_and_no_secret() {
    let cases: [(Environment, &[&str], &str, &str); 2] = [
        (
            &[],
            &["BC_STORE_HASH"],
            "APP_URL",
            "no store hash: an app, without its APP_URL",
        ),
        (
            &[("JWT_ALGORITHMS", "RS256")],
            &[],
            "JWT_ALGORITHMS",
            "an asymmetric algorithm with a client secret",
        ),
    ];
    for (extra, removed, variable, description) in cases {
        let environment: Vec<(&str, &str)> = required_environment()
            .into_iter()
            .filter(|(name, _)| !removed.contains(name))
            .chain(extra.iter().copied())
            .collect();
        let directory = ScratchDirectory::new();

        let (status, stdout, stderr) = run_to_exit(&directory, &environment);

        assert!(!status.success(), "case: {description}: exits non-zero");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "case: {description}: stderr {stderr:?}");
        assert!(
            lines[0].contains(variable),
            "case: {description}: {stderr:?}"
        );
        for secret in [CLIENT_SECRET, ACCESS_TOKEN] {
            assert!(
                !stdout.contains(secret) && !stderr.contains(secret),
                "case: {description}: a secret was printed"
            );
        }
    }
}

#[test]
fn a_dotenv_file_above_the_working_directory_is_not_read() {
    let parent = ScratchDirectory::new();
    fs::write(parent.join(".env"), format!("BC_STORE_HASH={STORE_HASH}\n")).unwrap();
    let directory = parent.join("working");
    fs::create_dir(&directory).unwrap();
    let environment: Vec<(&str, &str)> = required_environment()
        .into_iter()
        .filter(|(name, _)| *name != "BC_STORE_HASH")
        .collect();

    let (status, _, stderr) = run_to_exit(&directory, &environment);

    assert!(!status.success());
    assert!(stderr.contains("BC_STORE_HASH"), "stderr: {stderr:?}");
}

#[test]
fn a_dotenv_file_in_the_working_directory_is_read_and_the_environment_wins_over_it() {
    let cases: [(&str, Environment, &str); 2] = [
        ("JWT_ALGORITHMS=RS256\n", &[], "the file is read"),
        (
            "BC_STORE_HASH=not-a-store-hash\n",
            &[("JWT_ALGORITHMS", "RS256")],
            "the environment wins",
        ),
    ];
    for (dotenv, extra, description) in cases {
        let directory = ScratchDirectory::new();
        fs::write(directory.join(".env"), dotenv).unwrap();
        let environment: Vec<(&str, &str)> = required_environment()
            .into_iter()
            .chain(extra.iter().copied())
            .collect();

        let (status, _, stderr) = run_to_exit(&directory, &environment);

        // Either way start-up fails on JWT_ALGORITHMS: a store hash from the file would
        // have failed earlier, on BC_STORE_HASH.
        assert!(!status.success(), "case: {description}");
        assert!(
            stderr.contains("JWT_ALGORITHMS") && !stderr.contains("BC_STORE_HASH"),
            "case: {description}: stderr {stderr:?}"
        );
    }
}

/// Customer 7 owns order 100 with one visible metafield; customer 8's orders fail with
/// `500`; customer 9's are rate limited far beyond the retry budget.
async fn mount_store(management: &MockServer) {
    let orders = format!("/stores/{STORE_HASH}/v2/orders");
    let page = |customer: u64, number: u64| {
        Mock::given(method("GET"))
            .and(path(orders.clone()))
            .and(query_param("customer_id", customer.to_string()))
            .and(query_param("page", number.to_string()))
    };
    page(7, 1)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([v2_order(100, 7, 1)])))
        .mount(management)
        .await;
    page(8, 1)
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream failure body"))
        .mount(management)
        .await;
    page(9, 1)
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-Rate-Limit-Time-Reset-Ms", "60000")
                .insert_header("X-Retry-After", "60"),
        )
        .mount(management)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/stores/{STORE_HASH}/v3/orders/100/metafields"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(metafield_page(
            vec![v3_metafield(
                1,
                100,
                "read_and_sf_access",
                "Shipping",
                "tracking_url",
            )],
            1,
            1,
            1,
        )))
        .mount(management)
        .await;
}

/// A token for the customer, carrying the distinctive email, signed as given.
fn token(customer_id: u64, algorithm: Algorithm, secret: &str) -> String {
    let mut claims = claims_for(customer_id);
    claims["customer"]["email"] = json!(SHOPPER_EMAIL);
    crate::harness::fixtures::sign(&claims, algorithm, secret)
}

fn logged_requests() -> Vec<LoggedRequest> {
    let valid = |customer| Some(token(customer, Algorithm::HS256, CLIENT_SECRET));
    let request = |description, uri, token, route, status, cache, upstream_calls| LoggedRequest {
        description,
        uri,
        token,
        route,
        status,
        cache,
        upstream_calls,
    };
    vec![
        request(
            "orders",
            "/v1/orders",
            valid(7),
            "/v1/orders",
            200,
            "miss",
            1,
        ),
        request(
            "one order, from the cached list",
            "/v1/orders/100",
            valid(7),
            "/v1/orders/{order_id}",
            200,
            "hit",
            0,
        ),
        request(
            "metafields: the list is cached, the metafields are not",
            "/v1/orders/100/metafields",
            valid(7),
            "/v1/orders/{order_id}/metafields",
            200,
            "miss",
            1,
        ),
        request(
            "a token that is not a jwt",
            "/v1/orders",
            Some("garbage-token-4kT9wQ2vX7".to_owned()),
            "/v1/orders",
            401,
            "none",
            0,
        ),
        request(
            "a token signed with another secret",
            "/v1/orders/100",
            Some(token(7, Algorithm::HS256, "another-secret-8sLm3Vb")),
            "/v1/orders/{order_id}",
            401,
            "none",
            0,
        ),
        request(
            "a valid token in an algorithm not accepted",
            "/v1/orders",
            Some(token(7, Algorithm::HS512, CLIENT_SECRET)),
            "/v1/orders",
            401,
            "none",
            0,
        ),
        request(
            "upstream 500, retried once",
            "/v1/orders",
            valid(8),
            "/v1/orders",
            502,
            "miss",
            2,
        ),
        request(
            "upstream 429 beyond the budget",
            "/v1/orders",
            valid(9),
            "/v1/orders",
            503,
            "miss",
            1,
        ),
    ]
}

/// Everything that must never reach the log: the configured secrets, the email, and each
/// token sent, whole and by part.
fn secrets(requests: &[LoggedRequest]) -> Vec<(String, String)> {
    let mut secrets = vec![
        (CLIENT_SECRET.to_owned(), "the client secret".to_owned()),
        (ACCESS_TOKEN.to_owned(), "the access token".to_owned()),
        (SHOPPER_EMAIL.to_owned(), "the shopper's email".to_owned()),
    ];
    for request in requests {
        let Some(token) = &request.token else {
            continue;
        };
        let what = format!("the token of case {}", request.description);
        secrets.push((token.clone(), what.clone()));
        let parts: Vec<&str> = token.split('.').collect();
        if let [_, claims, signature] = parts[..] {
            secrets.push((claims.to_owned(), format!("{what} (claims)")));
            secrets.push((signature.to_owned(), format!("{what} (signature)")));
        }
    }
    secrets
}

/// A field of a JSON log line, at the top level or among its span's fields.
fn field<'a>(line: &'a Value, name: &str) -> Option<&'a Value> {
    line.get(name).or_else(|| line["span"].get(name))
}

fn required_environment() -> Vec<(&'static str, &'static str)> {
    vec![
        ("BC_STORE_HASH", STORE_HASH),
        ("BC_ACCESS_TOKEN", ACCESS_TOKEN),
        ("BC_CLIENT_ID", CLIENT_ID),
        ("BC_CLIENT_SECRET", CLIENT_SECRET),
        ("LISTEN_ADDR", "127.0.0.1:0"),
    ]
}
