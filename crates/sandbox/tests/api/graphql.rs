//! The GraphQL Storefront API of each channel's site and its tokens, as the guide
//! "Authenticating requests to the GraphQL Storefront API" and storefront_tokens.v3.yml describe
//! them: private tokens made through the Management API (shape, scope, validation, revocation),
//! the `login` mutation's customer access token identifying its shopper on every channel of its
//! store, and every refusal a server that verifies customer access tokens meets: expired,
//! logged out, another store's, unknown; private tokens missing, expired, revoked, for another
//! channel or store, used from a browser, or without the `Customer` scope.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use order_metafields_sandbox::{
    self as sandbox, CUSTOMER_ACCESS_TOKEN_HEADER, HEADLESS_CHANNEL_ID, RunningSandbox,
    STOREFRONT_CHANNEL_ID, SandboxConfig,
};
use reqwest::header::{CONTENT_TYPE, ORIGIN};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

use crate::fake_app::{FIRST, SECOND, SECOND_TOKEN};
use crate::reference::{assert_valid, build, load_components};

const NO_TOKEN_SCOPE: &str = "orders-only-token";
const ALICE: &str = "alice@example.com";
const LOGIN: &str = "mutation Login($email: String!, $pass: String!) {\n  login(email: $email, password: $pass) {\n    result\n    customer { entityId email }\n    customerAccessToken { value expiresAt }\n  }\n}";
const WHO: &str = "query { customer { entityId } }";

struct Stack {
    running: RunningSandbox,
    config: SandboxConfig,
    client: reqwest::Client,
}

impl Stack {
    async fn start() -> Self {
        let config = SandboxConfig {
            quota: 10_000,
            ..SandboxConfig::demo_defaults()
        };
        let running = sandbox::start(config.clone()).await.unwrap();
        running
            .store()
            .add_api_account(NO_TOKEN_SCOPE, "another-app", &["store_v2_orders"]);
        Self {
            running,
            config,
            client: reqwest::Client::new(),
        }
    }

    fn password(&self) -> String {
        self.running.store().customers()[0].password.clone()
    }

    fn alice_id(&self) -> u64 {
        let customers = self.running.store().customers();
        customers
            .iter()
            .find(|customer| customer.email == ALICE)
            .unwrap()
            .id
    }

    /// `POST /v3/storefront/api-token-private` on `hash` with `token`.
    async fn create_private_token(
        &self,
        hash: &str,
        token: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let response = self
            .client
            .request(
                Method::POST,
                format!(
                    "{}stores/{hash}/v3/storefront/api-token-private",
                    self.running.api_base_url()
                ),
            )
            .header("X-Auth-Token", token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A private token of the first store for both channels, with `scopes`.
    async fn private_token(&self, scopes: &[&str]) -> String {
        let (status, body) = self
            .create_private_token(
                FIRST,
                &self.config.access_token,
                json!({"channel_ids": [STOREFRONT_CHANNEL_ID, HEADLESS_CHANNEL_ID], "expires_at": in_an_hour(), "scopes": scopes}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"]["token"].as_str().unwrap().to_owned()
    }

    /// `POST /graphql` of `hash`'s site for `channel_id`.
    async fn graphql(
        &self,
        hash: &str,
        channel_id: u64,
        headers: &[(&str, &str)],
        body: Value,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .post(self.running.graphql_url_of(hash, channel_id).unwrap())
            .json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "application/json",
            "{hash} {channel_id}"
        );
        (status, response.json().await.unwrap())
    }

    async fn who(
        &self,
        hash: &str,
        channel_id: u64,
        bearer: &str,
        cat: &str,
    ) -> (StatusCode, Value) {
        let authorization = format!("Bearer {bearer}");
        self.graphql(
            hash,
            channel_id,
            &[
                ("Authorization", authorization.as_str()),
                (CUSTOMER_ACCESS_TOKEN_HEADER, cat),
            ],
            json!({"query": WHO}),
        )
        .await
    }

    async fn login(
        &self,
        hash: &str,
        bearer: &str,
        email: &str,
        password: &str,
    ) -> (StatusCode, Value) {
        let authorization = format!("Bearer {bearer}");
        self.graphql(
            hash,
            HEADLESS_CHANNEL_ID,
            &[("Authorization", authorization.as_str())],
            json!({"query": LOGIN, "variables": {"email": email, "pass": password}}),
        )
        .await
    }
}

fn in_an_hour() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(now.as_secs()).unwrap() + 3_600
}

fn invalid_customer_token() -> (StatusCode, Value) {
    (
        StatusCode::OK,
        json!({"errors": [{"message": "Invalid customer access token.",
                           "extensions": {"code": "INVALID_CUSTOMER_ACCESS_TOKEN"}}]}),
    )
}

fn unauthorized() -> (StatusCode, Value) {
    (
        StatusCode::UNAUTHORIZED,
        json!({"errors": [{"message": "Unauthorized: the token is missing, expired, revoked or not valid for this channel.",
                           "extensions": {"code": "UNAUTHENTICATED"}}]}),
    )
}

#[tokio::test]
async fn a_private_token_from_the_api_logs_alice_in_and_her_token_names_her_on_every_channel() {
    let stack = Stack::start().await;
    let alice = stack.alice_id();
    let schemas = load_components("storefront_tokens.v3");
    let token_full = build(
        &schemas,
        json!({"allOf": [{"$ref": "#/components/schemas/Token_Full"}],
               "required": ["data", "meta"],
               "properties": {"data": {"required": ["token"], "properties": {"token": true},
                                      "additionalProperties": false}},
               "unevaluatedProperties": false}),
    );
    let expires_at = in_an_hour();

    let (status, created) = stack
        .create_private_token(
            FIRST,
            &stack.config.access_token,
            json!({"channel_ids": [STOREFRONT_CHANNEL_ID, HEADLESS_CHANNEL_ID], "expires_at": expires_at, "scopes": ["Customer", "Unauthenticated"]}),
        )
        .await;
    let private_token = created["data"]["token"].as_str().unwrap().to_owned();
    let (login_status, login) = stack
        .login(FIRST, &private_token, ALICE, &stack.password())
        .await;
    let cat = login["data"]["login"]["customerAccessToken"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let headless = stack
        .who(FIRST, HEADLESS_CHANNEL_ID, &private_token, &cat)
        .await;
    let stencil = stack
        .who(FIRST, STOREFRONT_CHANNEL_ID, &private_token, &cat)
        .await;
    let (_, anonymous) = stack
        .graphql(
            FIRST,
            STOREFRONT_CHANNEL_ID,
            &[("Authorization", &format!("Bearer {private_token}"))],
            json!({"query": WHO}),
        )
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_valid(&token_full, &created, "private token");
    assert_eq!(created["meta"], json!({}));
    let claims = private_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    assert_eq!(
        claims["cid"],
        json!([STOREFRONT_CHANNEL_ID, HEADLESS_CHANNEL_ID])
    );
    assert_eq!(claims["eat"], json!(expires_at));
    let kept = stack.running.store().private_tokens();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].scopes, ["Customer", "Unauthenticated"]);
    assert_eq!(kept[0].expires_at, expires_at);
    assert_eq!(kept[0].client_id, stack.config.client_id);

    assert_eq!(login_status, StatusCode::OK);
    let mut shown = login.clone();
    let expires = shown["data"]["login"]["customerAccessToken"]["expiresAt"].take();
    shown["data"]["login"]["customerAccessToken"]["value"] = json!("");
    assert_eq!(
        shown,
        json!({"data": {"login": {"result": "success",
                                  "customer": {"entityId": alice, "email": ALICE},
                                  "customerAccessToken": {"value": "", "expiresAt": null}}}})
    );
    let (hex, seconds) = cat.split_once('_').unwrap();
    assert_eq!(hex.len(), 64);
    let expires = time::OffsetDateTime::parse(
        expires.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(seconds, expires.unix_timestamp().to_string());
    let issued = stack.running.store().customer_access_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(
        (issued[0].customer_id, issued[0].channel_id),
        (alice, HEADLESS_CHANNEL_ID)
    );

    let alice_answer = (
        StatusCode::OK,
        json!({"data": {"customer": {"entityId": alice}}}),
    );
    assert_eq!(headless, alice_answer);
    assert_eq!(stencil, alice_answer);
    assert_eq!(anonymous, json!({"data": {"customer": null}}));
    assert_eq!(stack.running.store().graphql_requests(), 4);
    stack.running.stop().await;
}

#[tokio::test]
async fn customer_access_tokens_expired_logged_out_unknown_or_of_another_store_are_refused() {
    let stack = Stack::start().await;
    let password = stack.password();
    let private_token = stack.private_token(&["Customer"]).await;
    let second_store = stack.running.store_of(SECOND).unwrap();
    let second_private = second_store
        .issue_private_token(
            &[HEADLESS_CHANNEL_ID],
            &["Customer"],
            Duration::from_secs(600),
        )
        .unwrap();
    let expiring = stack
        .running
        .graphql_login(FIRST, ALICE, &password)
        .await
        .unwrap();
    let logged_out = stack
        .running
        .graphql_login(FIRST, ALICE, &password)
        .await
        .unwrap();
    let other_device = stack
        .running
        .graphql_login(FIRST, ALICE, &password)
        .await
        .unwrap();
    let bob = stack.running.store().customers()[1].clone();
    let bobs = stack
        .running
        .graphql_login(FIRST, &bob.email, &password)
        .await
        .unwrap();

    let (_, before) = stack
        .who(FIRST, HEADLESS_CHANNEL_ID, &private_token, &expiring.value)
        .await;
    assert!(
        stack
            .running
            .store()
            .expire_customer_access_token(&expiring.value)
    );
    let expired = stack
        .who(FIRST, HEADLESS_CHANNEL_ID, &private_token, &expiring.value)
        .await;
    let logout = stack
        .graphql(
            FIRST,
            HEADLESS_CHANNEL_ID,
            &[
                ("Authorization", &format!("Bearer {private_token}")),
                (CUSTOMER_ACCESS_TOKEN_HEADER, &logged_out.value),
            ],
            json!({"query": "mutation Logout { logout { result } }"}),
        )
        .await;
    let after_logout = stack
        .who(
            FIRST,
            HEADLESS_CHANNEL_ID,
            &private_token,
            &logged_out.value,
        )
        .await;
    let same_shopper_elsewhere = stack
        .who(
            FIRST,
            STOREFRONT_CHANNEL_ID,
            &private_token,
            &other_device.value,
        )
        .await;
    let other_shopper = stack
        .who(FIRST, HEADLESS_CHANNEL_ID, &private_token, &bobs.value)
        .await;
    let other_store = stack
        .who(SECOND, HEADLESS_CHANNEL_ID, &second_private, &bobs.value)
        .await;
    let unknown = stack
        .who(FIRST, HEADLESS_CHANNEL_ID, &private_token, "0123_456")
        .await;

    assert_eq!(
        before,
        json!({"data": {"customer": {"entityId": stack.alice_id()}}})
    );
    assert_eq!(expired, invalid_customer_token());
    assert_eq!(
        logout,
        (
            StatusCode::OK,
            json!({"data": {"logout": {"result": "success"}}})
        )
    );
    assert_eq!(after_logout, invalid_customer_token());
    assert_eq!(
        same_shopper_elsewhere,
        invalid_customer_token(),
        "logout ends every device"
    );
    assert_eq!(
        other_shopper,
        (
            StatusCode::OK,
            json!({"data": {"customer": {"entityId": bob.id}}})
        )
    );
    assert_eq!(other_store, invalid_customer_token());
    assert_eq!(unknown, invalid_customer_token());
    stack.running.stop().await;
}

#[tokio::test]
async fn private_tokens_missing_expired_revoked_misplaced_from_a_browser_or_without_the_scope_are_refused()
 {
    let stack = Stack::start().await;
    let cat = stack
        .running
        .store()
        .log_in_customer(ALICE, &stack.password(), HEADLESS_CHANNEL_ID)
        .unwrap()
        .value;
    let second_private = stack
        .running
        .store_of(SECOND)
        .unwrap()
        .issue_private_token(
            &[STOREFRONT_CHANNEL_ID, HEADLESS_CHANNEL_ID],
            &["Customer"],
            Duration::from_secs(600),
        )
        .unwrap();
    let stencil_only = stack
        .running
        .store()
        .issue_private_token(
            &[STOREFRONT_CHANNEL_ID],
            &["Customer"],
            Duration::from_secs(600),
        )
        .unwrap();
    let anonymous_only = stack.private_token(&["Unauthenticated"]).await;
    let revoked = stack.private_token(&["Customer"]).await;
    let url = format!(
        "{}stores/{FIRST}/v3/storefront/api-token",
        stack.running.api_base_url()
    );
    let revoke = |token: Option<&str>| {
        let mut request = stack
            .client
            .delete(&url)
            .header("X-Auth-Token", &stack.config.access_token);
        if let Some(token) = token {
            request = request.header("Sf-Api-Token", token);
        }
        request.send()
    };
    let revoked_status = revoke(Some(&revoked)).await.unwrap().status();
    let missing_header = revoke(None).await.unwrap();
    let missing_header = (
        missing_header.status(),
        missing_header.json::<Value>().await.unwrap(),
    );
    let valid = stack.private_token(&["Customer"]).await;

    let none = stack
        .graphql(FIRST, HEADLESS_CHANNEL_ID, &[], json!({"query": WHO}))
        .await;
    let garbage = stack
        .who(FIRST, HEADLESS_CHANNEL_ID, "not-a-token", &cat)
        .await;
    let other_store = stack
        .who(FIRST, HEADLESS_CHANNEL_ID, &second_private, &cat)
        .await;
    let other_channel = stack
        .who(FIRST, HEADLESS_CHANNEL_ID, &stencil_only, &cat)
        .await;
    let after_revoke = stack.who(FIRST, HEADLESS_CHANNEL_ID, &revoked, &cat).await;
    let browser = stack
        .graphql(
            FIRST,
            HEADLESS_CHANNEL_ID,
            &[
                ("Authorization", &format!("Bearer {valid}")),
                (ORIGIN.as_str(), "https://shop.example.com"),
            ],
            json!({"query": WHO}),
        )
        .await;
    let no_scope = stack
        .who(FIRST, HEADLESS_CHANNEL_ID, &anonymous_only, &cat)
        .await;
    let before_expiry = stack.who(FIRST, HEADLESS_CHANNEL_ID, &valid, &cat).await;
    let lowercase_scheme = stack
        .graphql(
            FIRST,
            HEADLESS_CHANNEL_ID,
            &[
                ("Authorization", &format!("bearer {valid}")),
                (CUSTOMER_ACCESS_TOKEN_HEADER, &cat),
            ],
            json!({"query": WHO}),
        )
        .await;
    assert_eq!(stack.running.store().expire_private_tokens(), 3);
    let expired = stack.who(FIRST, HEADLESS_CHANNEL_ID, &valid, &cat).await;

    assert_eq!(revoked_status, StatusCode::OK);
    assert_eq!(
        missing_header,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"status": 422, "title": "Invalid JWT Token provided or missing JWT token header",
                   "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
                   "errors": {}})
        )
    );
    for (what, answer) in [
        ("none", none),
        ("garbage", garbage),
        ("other store", other_store),
        ("other channel", other_channel),
        ("revoked", after_revoke),
        ("expired", expired),
    ] {
        assert_eq!(answer, unauthorized(), "{what}");
    }
    assert_eq!(
        browser,
        (
            StatusCode::FORBIDDEN,
            json!({"errors": [{"message": "Private tokens are for server-to-server requests; this one came from a browser.",
                               "extensions": {"code": "FORBIDDEN"}}]})
        )
    );
    assert_eq!(
        no_scope,
        (
            StatusCode::OK,
            json!({"data": null, "errors": [{
                "message": "The provided token does not include the scopes required to resolve this field.",
                "path": ["customer"],
                "extensions": {"code": "INSUFFICIENT_ACCESS_SCOPE", "requiredScopes": ["Customer"]}}]})
        )
    );
    assert_eq!(
        lowercase_scheme, before_expiry,
        "the scheme is case-insensitive"
    );
    assert_eq!(before_expiry.0, StatusCode::OK);
    assert_eq!(
        before_expiry.1["data"]["customer"]["entityId"],
        stack.alice_id()
    );
    stack.running.stop().await;
}

#[tokio::test]
async fn private_token_creation_needs_its_scope_and_a_valid_body() {
    let stack = Stack::start().await;
    let token = stack.config.access_token.clone();
    let good = json!({"channel_id": 1, "expires_at": in_an_hour(), "scopes": ["Customer"]});

    let no_scope = stack
        .create_private_token(FIRST, NO_TOKEN_SCOPE, good.clone())
        .await;
    let second = stack.create_private_token(SECOND, SECOND_TOKEN, good).await;
    let invalid = stack
        .create_private_token(
            FIRST,
            &token,
            json!({"channel_id": 1, "channel_ids": [7], "expires_at": 1_000, "scopes": ["Admin"]}),
        )
        .await;
    let unknown_channel = stack
        .create_private_token(
            FIRST,
            &token,
            json!({"channel_ids": [1, 7], "expires_at": in_an_hour(), "scopes": ["Customer"]}),
        )
        .await;

    assert_eq!(
        no_scope,
        (
            StatusCode::FORBIDDEN,
            json!({"status": 403, "title": "You don't have a required scope to access the endpoint",
                   "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
                   "errors": {}})
        )
    );
    assert_eq!(second.0, StatusCode::OK);
    assert_eq!(
        stack
            .running
            .store_of(SECOND)
            .unwrap()
            .private_tokens()
            .len(),
        1
    );
    assert_eq!(invalid.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        invalid.1["errors"],
        json!({"expires_at": "expires_at must be a Unix time in seconds, in the future",
               "channel_ids": "give channel_id or channel_ids, not both",
               "scopes": "scopes must be among Unauthenticated, Customer and B2B"})
    );
    assert_eq!(
        unknown_channel.1["errors"],
        json!({"channel_ids": "every channel id must be a channel of the store"})
    );
    assert!(stack.running.store().private_tokens().is_empty());
    stack.running.stop().await;
}

#[tokio::test]
async fn a_wrong_password_issues_no_token_and_bad_requests_get_graphql_errors() {
    let stack = Stack::start().await;
    let private_token = stack.private_token(&["Customer"]).await;
    let authorization = format!("Bearer {private_token}");

    let wrong = stack
        .login(FIRST, &private_token, ALICE, "not-the-password")
        .await;
    let not_json = stack
        .client
        .post(
            stack
                .running
                .graphql_url_of(FIRST, HEADLESS_CHANNEL_ID)
                .unwrap(),
        )
        .header("Authorization", &authorization)
        .body("query { customer { entityId } }")
        .send()
        .await
        .unwrap();
    let not_json = (not_json.status(), not_json.json::<Value>().await.unwrap());
    let unknown_field = stack
        .graphql(
            FIRST,
            HEADLESS_CHANNEL_ID,
            &[("Authorization", &authorization)],
            json!({"query": "{ customer { orders { entityId } } }"}),
        )
        .await;

    assert_eq!(
        wrong,
        (
            StatusCode::OK,
            json!({"data": {"login": null}, "errors": [{"message": "Invalid credentials",
                   "locations": [{"line": 2, "column": 3}], "path": ["login"]}]})
        )
    );
    assert!(stack.running.store().customer_access_tokens().is_empty());
    assert_eq!(
        not_json,
        (
            StatusCode::BAD_REQUEST,
            json!({"errors": [{"message": "The body must be a JSON object with a query.",
                               "extensions": {"code": "BAD_REQUEST"}}]})
        )
    );
    assert_eq!(
        unknown_field,
        (
            StatusCode::OK,
            json!({"errors": [{"message": "Cannot query field \"orders\" on type \"Customer\".",
                               "locations": [{"line": 1, "column": 14}]}]})
        )
    );
    stack.running.stop().await;
}

#[tokio::test]
async fn set_order_metafield_changes_one_field_by_namespace_and_key() {
    let stack = Stack::start().await;
    let store = stack.running.store();
    let alice = stack.alice_id();
    let order = store
        .orders_of(alice)
        .into_iter()
        .find(|order| store.metafield(*order, "gift", "message").is_some())
        .unwrap();

    let changed = store.set_order_metafield(order, "gift", "message", "Happy anniversary!");
    let missing = store.set_order_metafield(order, "gift", "no-such-key", "x");

    assert!(changed);
    assert!(!missing);
    assert_eq!(
        store.metafield(order, "gift", "message").unwrap().value,
        "Happy anniversary!"
    );
    stack.running.stop().await;
}
