//! Checks the sandbox's side of the app install flow against the examples of BigCommerce's app
//! guides (`tests/fixtures/app-guides`, copied byte for byte): the auth callback's parameters
//! and their encoding, the token request the guide shows being accepted, the token response's
//! fields, the server-to-server callbacks' requests and the `signed_payload_jwt` claims.
//! Negative cases prove the shape comparison can fail.

use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;

use crate::fake_app::{AppStack, SAM, SECOND, query_names, query_value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/app-guides");

fn fixture(name: &str) -> String {
    let path = format!("{FIXTURES}/{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("reading {path}: {error}"))
}

/// The request line's URL of an `.http` fixture.
fn request_url(http: &str) -> Url {
    let line = http.lines().next().unwrap();
    Url::parse(line.split_whitespace().nth(1).unwrap()).unwrap()
}

/// The value of header `name` in an `.http` fixture.
fn request_header<'a>(http: &'a str, name: &str) -> &'a str {
    http.lines()
        .skip(1)
        .take_while(|line| !line.is_empty())
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
        .unwrap_or_else(|| panic!("no {name} header"))
}

/// The JSON text of a `.jsonc` fixture: its `//` comments dropped (none sits in a string).
fn without_comments(jsonc: &str) -> String {
    jsonc
        .lines()
        .map(|line| line.split(" //").next().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The shape of a JSON value: its keys in order (from its text, since maps lose the order),
/// each with the shape of its value; numbers, strings, booleans and null by kind.
fn shape(text: &str) -> Value {
    fn of(value: &Value, text: &str) -> Value {
        match value {
            Value::Object(object) => {
                let mut keys: Vec<(&String, &Value)> = object.iter().collect();
                keys.sort_by_key(|(key, _)| text.find(&format!("\"{key}\"")).unwrap_or(usize::MAX));
                Value::Array(
                    keys.into_iter()
                        .map(|(key, value)| json!([key, of(value, text)]))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(|item| of(item, text)).collect()),
            Value::String(_) => json!("string"),
            Value::Number(number) if number.is_u64() => json!("integer"),
            Value::Number(_) => json!("number"),
            Value::Bool(_) => json!("boolean"),
            Value::Null => json!("null"),
        }
    }
    of(&serde_json::from_str(text).unwrap(), text)
}

#[test]
fn the_shape_comparison_fails_on_a_missing_field_another_type_or_another_order() {
    let reference = shape(r#"{"a": 1, "b": {"c": "x"}}"#);

    assert_eq!(shape(r#"{"a": 7, "b": {"c": "y"}}"#), reference);
    for broken in [
        r#"{"a": 1}"#,
        r#"{"a": "1", "b": {"c": "x"}}"#,
        r#"{"b": {"c": "x"}, "a": 1}"#,
        r#"{"a": 1, "b": {"c": "x", "d": null}}"#,
    ] {
        assert_ne!(shape(broken), reference, "{broken}");
    }
}

#[tokio::test]
async fn the_auth_callback_carries_the_guide_s_parameters_encoded_as_in_its_example() {
    let stack = AppStack::start_with(|config| {
        config.app_scopes = vec![
            "store_v2_orders".to_owned(),
            "store_channel_listings_read_only".to_owned(),
        ];
    })
    .await;
    let example = fixture("auth_callback.http");
    let example_url = request_url(&example);
    let decoded: Value = serde_json::from_str(&fixture("auth_callback_query.json")).unwrap();

    let url = stack.running.install_callback_url(SECOND).unwrap();

    assert_eq!(query_names(&url), query_names(&example_url));
    let mut names: Vec<String> = decoded.as_object().unwrap().keys().cloned().collect();
    names.sort();
    assert_eq!(names, query_names(&url));
    // Encoded as the example is: the slash of `context` and the space between scopes.
    let query = url.query().unwrap();
    assert!(query.contains("&context=stores%2Fsandbox2&"), "{query}");
    assert!(
        query.ends_with("&scope=store_v2_orders+store_channel_listings_read_only"),
        "{query}"
    );
    assert!(
        example_url
            .query()
            .unwrap()
            .contains("&context=stores%2Fg5cd38&")
    );
    let code = query_value(&url, "code").unwrap();
    let example_code = decoded["code"].as_str().unwrap();
    assert_eq!(code.len(), example_code.len());
    assert!(
        code.bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit())
    );
    assert!(
        query_value(&url, "account_uuid")
            .unwrap()
            .parse::<uuid::Uuid>()
            .is_ok()
    );
    stack.running.stop().await;
}

#[tokio::test]
async fn the_guide_s_token_request_is_answered_with_the_guide_s_response_fields() {
    let stack = AppStack::start().await;
    let example = fixture("token_request.http");
    let callback = stack.running.install_callback_url(SECOND).unwrap();
    // The example with its placeholders filled in and this install's values.
    let body = example.split_once("\n\n").unwrap().1;
    let mut request: Value = serde_json::from_str(
        &body
            .replace("{CLIENT_ID}", &format!("\"{}\"", stack.config.client_id))
            .replace(
                "{CLIENT_SECRET}",
                &format!("\"{}\"", stack.config.client_secret),
            ),
    )
    .unwrap();
    for name in ["code", "context", "scope"] {
        request[name] = json!(query_value(&callback, name).unwrap());
    }
    request["redirect_uri"] = json!(stack.redirect_uri());
    let method_and_path = example.lines().next().unwrap();

    let response = stack
        .client
        .post(stack.token_url())
        .header("Accept", request_header(&example, "Accept"))
        .header("Content-Type", request_header(&example, "Content-Type"))
        .body(request.to_string())
        .send()
        .await
        .unwrap();

    assert_eq!(
        method_and_path,
        "POST https://login.bigcommerce.com/oauth2/token"
    );
    assert!(stack.token_url().ends_with("/oauth2/token"));
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert_eq!(shape(&text), shape(&fixture("token_response.json")));
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["context"], "stores/sandbox2");
    assert_eq!(answer["user"]["username"], answer["user"]["email"]);
    stack.running.stop().await;
}

#[tokio::test]
async fn the_callbacks_are_requested_as_the_guide_s_examples_and_carry_its_claims() {
    let stack = AppStack::start().await;
    stack.install(SECOND).await;
    let example_text = without_comments(&fixture("signed_payload_claims.jsonc"));
    let example: Value = serde_json::from_str(&example_text).unwrap();

    let load = stack.running.load_url(SECOND, SAM).unwrap();
    stack.running.remove_user(SECOND, SAM).await.unwrap();
    stack.running.uninstall_app(SECOND).await.unwrap();

    let load_example = fixture("load_callback.http");
    assert_eq!(query_names(&load), query_names(&request_url(&load_example)));
    assert!(load.path().ends_with(request_url(&load_example).path()));
    for callback in ["uninstall", "remove_user"] {
        let example = fixture(&format!("{callback}_callback.http"));
        let example_url = request_url(&example);
        let received = stack.received(callback).await;
        assert_eq!(received.len(), 1, "{callback}");
        let request = &received[0];
        assert_eq!(
            request.method.as_str(),
            example.split_whitespace().next().unwrap()
        );
        assert!(
            request.url.path().ends_with(example_url.path()),
            "{callback}"
        );
        assert_eq!(query_names(&request.url), query_names(&example_url));
        assert_eq!(
            request.headers["accept"].to_str().unwrap(),
            request_header(&example, "Accept"),
            "{callback}"
        );
    }
    let token = query_value(&load, "signed_payload_jwt").unwrap();
    let claims = stack.verified_payload(&token);
    // The signed text itself, whose key order the shape compares.
    let signed_text = String::from_utf8(
        base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            token.split('.').nth(1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(shape(&signed_text), shape(&example_text));
    assert_eq!(claims["iss"], example["iss"]);
    assert_eq!(claims["url"], example["url"]);
    assert_eq!(claims["channel_id"], example["channel_id"]);
    // The guide's table: `nbf` "is always the same as `iat`", `exp` 24 hours after `nbf`; its
    // example has `nbf` five seconds before `iat`, and `exp` 24 hours after `iat`.
    let lifetime = example["exp"].as_u64().unwrap() - example["iat"].as_u64().unwrap();
    assert_eq!(lifetime, 86_400);
    assert_eq!(claims["nbf"], claims["iat"]);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["nbf"].as_u64().unwrap(),
        lifetime
    );
    assert!(claims["sub"].as_str().unwrap().starts_with("stores/"));
    assert!(example["sub"].as_str().unwrap().starts_with("stores/"));
    stack.running.stop().await;
}
