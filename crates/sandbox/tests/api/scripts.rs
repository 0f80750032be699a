//! The Scripts API (scripts.v3.yml) checked against BigCommerce's schemas made strict: an app's
//! scripts created, listed, read, updated and deleted, seen by no other app; the limits, the
//! checkout scope and invalid bodies; the storefront pages that carry a script by visibility,
//! location and channel; the channel script webhooks; and uninstalling, which deletes the app's
//! `auto_uninstall` scripts.

use std::time::Duration;

use jsonschema::Validator;
use order_metafields_sandbox::{HEADLESS_CHANNEL_ID, RunningSandbox};
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fake_app::{AppStack, FIRST};
use crate::reference::{assert_valid, build, load_components};

const OTHER_APP_TOKEN: &str = "other-app-token";
const NO_CHECKOUT_TOKEN: &str = "no-checkout-content-token";
const V3_ERRORS: &str =
    "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes";

/// The app's own scopes for these tests: scripts and orders.
fn app_scopes() -> Vec<String> {
    ["store_v2_orders_read_only", "store_v2_content"]
        .map(str::to_owned)
        .to_vec()
}

async fn start() -> AppStack {
    let stack = AppStack::start_with(|config| config.app_scopes = app_scopes()).await;
    let store = stack.running.store();
    store.add_api_account(OTHER_APP_TOKEN, "another-app", &["store_v2_content"]);
    store.add_api_account(
        NO_CHECKOUT_TOKEN,
        &stack.config.client_id,
        &["store_v2_content"],
    );
    stack
}

async fn call(
    stack: &AppStack,
    method: Method,
    tail: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = stack
        .client
        .request(
            method,
            format!(
                "{}stores/{FIRST}/v3/content/scripts{tail}",
                stack.running.api_base_url()
            ),
        )
        .header("X-Auth-Token", token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, body)
}

/// The store's own account, whose client id is the app's and which has every scope.
fn own(stack: &AppStack) -> String {
    stack.config.access_token.clone()
}

struct Reference {
    single: Validator,
    list: Validator,
    error: Validator,
}

fn reference() -> Reference {
    let schemas = load_components("scripts.v3");
    let mut required: Vec<String> = Vec::new();
    for part in schemas["script_Full"]["allOf"][0]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .chain(
            schemas["script_Base"]["properties"]
                .as_object()
                .unwrap()
                .keys(),
        )
    {
        // `html` or `src`, by the script's kind.
        if part != "html" && part != "src" {
            required.push(part.clone());
        }
    }
    let script = json!({
        "allOf": [{"$ref": "#/components/schemas/script_Full"}],
        "required": required,
        "oneOf": [{"required": ["html"]}, {"required": ["src"]}],
        "unevaluatedProperties": false
    });
    Reference {
        single: build(
            &schemas,
            json!({
                "allOf": [{"$ref": "#/components/schemas/script_Response"}],
                "required": ["data", "meta"],
                "properties": {"data": script.clone()},
                "unevaluatedProperties": false
            }),
        ),
        list: build(
            &schemas,
            json!({
                "type": "object",
                "required": ["data", "meta"],
                "properties": {
                    "data": {"type": "array", "items": script},
                    "meta": {"allOf": [{"$ref": "#/components/schemas/CollectionMeta"}],
                             "required": ["pagination"]}
                },
                "additionalProperties": false
            }),
        ),
        error: build(
            &schemas,
            json!({"allOf": [{"$ref": "#/components/schemas/ErrorResponse"}],
                   "required": ["status", "title", "type", "errors"]}),
        ),
    }
}

#[tokio::test]
async fn an_app_s_script_is_created_listed_read_updated_and_deleted_as_the_reference_shapes_it() {
    let reference = reference();
    let stack = start().await;
    let token = own(&stack);

    let (status, created) = call(
        &stack,
        Method::POST,
        "",
        &token,
        Some(
            json!({"name": "Order metafields", "description": "Shows order fields",
                    "src": "https://app.example.com/order-metafields.js", "auto_uninstall": true,
                    "load_method": "defer", "location": "footer", "visibility": "storefront",
                    "kind": "src", "consent_category": "essential"}),
        ),
    )
    .await;
    let uuid = created["data"]["uuid"].as_str().unwrap().to_owned();
    let (_, listed) = call(&stack, Method::GET, "", &token, None).await;
    let (_, fetched) = call(&stack, Method::GET, &format!("/{uuid}"), &token, None).await;
    let (updated_status, updated) = call(
        &stack,
        Method::PUT,
        &format!("/{uuid}"),
        &token,
        Some(json!({"kind": "script_tag", "load_method": "default",
                    "html": "<script type=\"module\" src=\"https://app.example.com/om.js\"></script>"})),
    )
    .await;
    let (deleted, nothing) = call(&stack, Method::DELETE, &format!("/{uuid}"), &token, None).await;
    let (gone, missing) = call(&stack, Method::GET, &format!("/{uuid}"), &token, None).await;

    assert_eq!(status, StatusCode::OK);
    assert_valid(&reference.single, &created, "created script");
    let mut shown = created["data"].clone();
    for field in ["uuid", "date_created", "date_modified"] {
        assert!(shown[field].is_string(), "{field}");
        shown[field] = json!("");
    }
    assert_eq!(
        shown,
        json!({"uuid": "", "name": "Order metafields", "description": "Shows order fields",
               "src": "https://app.example.com/order-metafields.js", "auto_uninstall": true,
               "load_method": "defer", "location": "footer", "visibility": "storefront",
               "kind": "src", "api_client_id": stack.config.client_id,
               "consent_category": "essential", "enabled": true, "channel_id": 1,
               "integrity_hashes": [], "date_created": "", "date_modified": ""})
    );
    assert_valid(&reference.list, &listed, "script list");
    assert_eq!(listed["data"], json!([created["data"]]));
    assert_eq!(listed["meta"]["pagination"]["total"], 1);
    assert_eq!(fetched, created);
    assert_eq!(updated_status, StatusCode::OK);
    assert_valid(&reference.single, &updated, "updated script");
    assert_eq!(updated["data"]["kind"], "script_tag");
    assert!(updated["data"].get("src").is_none());
    assert_eq!(updated["data"]["name"], "Order metafields");
    assert_eq!((deleted, nothing), (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(gone, StatusCode::NOT_FOUND);
    assert_eq!(
        missing,
        json!({"status": 404, "title": "Script not found", "type": V3_ERRORS, "errors": {}})
    );
    stack.running.stop().await;
}

#[tokio::test]
async fn an_app_sees_and_changes_only_its_own_scripts() {
    let stack = start().await;
    let (_, created) = call(
        &stack,
        Method::POST,
        "",
        &own(&stack),
        Some(json!({"name": "ours", "src": "https://app.example.com/a.js"})),
    )
    .await;
    let uuid = created["data"]["uuid"].as_str().unwrap();

    let (_, theirs) = call(&stack, Method::GET, "", OTHER_APP_TOKEN, None).await;
    for (method, body) in [
        (Method::GET, None),
        (Method::PUT, Some(json!({"name": "mine now"}))),
        (Method::DELETE, None),
    ] {
        let (status, _) = call(
            &stack,
            method.clone(),
            &format!("/{uuid}"),
            OTHER_APP_TOKEN,
            body,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
    }
    let (_, still) = call(&stack, Method::GET, &format!("/{uuid}"), &own(&stack), None).await;

    assert_eq!(theirs["data"], json!([]));
    assert_eq!(still["data"]["name"], "ours");
    stack.running.stop().await;
}

#[tokio::test]
async fn limits_the_checkout_scope_and_bad_bodies_are_refused() {
    let reference = reference();
    let stack = start().await;
    let token = own(&stack);
    let src = |index: usize| json!({"name": format!("s{index}"), "src": format!("https://app.example.com/{index}.js")});

    let checkout = call(
        &stack,
        Method::POST,
        "",
        NO_CHECKOUT_TOKEN,
        Some(json!({"name": "pixel", "src": "https://app.example.com/p.js", "visibility": "all_pages"})),
    )
    .await;
    let storefront = call(
        &stack,
        Method::POST,
        "",
        NO_CHECKOUT_TOKEN,
        Some(json!({"name": "pixel", "src": "https://app.example.com/p.js", "visibility": "order_confirmation"})),
    )
    .await;
    let invalid = call(
        &stack,
        Method::POST,
        "",
        &token,
        Some(json!({"name": "", "kind": "script_tag", "html": "<p>no script</p>", "visibility": "everywhere"})),
    )
    .await;
    let mixed = call(
        &stack,
        Method::POST,
        "",
        &token,
        Some(json!({"name": "both", "src": "https://app.example.com/b.js", "html": "<script></script>"})),
    )
    .await;
    let no_channel = call(
        &stack,
        Method::POST,
        "",
        &token,
        Some(json!({"name": "n", "src": "https://app.example.com/n.js", "channel_id": 7})),
    )
    .await;
    // The app already has one script (`storefront` above, under its client id).
    for index in 0..9 {
        let (status, _) = call(&stack, Method::POST, "", &token, Some(src(index))).await;
        assert_eq!(status, StatusCode::OK, "script {index}");
    }
    let eleventh = call(&stack, Method::POST, "", &token, Some(src(10))).await;
    let others = call(&stack, Method::POST, "", OTHER_APP_TOKEN, Some(src(11))).await;

    assert_eq!(
        checkout,
        (
            StatusCode::FORBIDDEN,
            json!({"status": 403, "title": "You don't have a required scope to access the endpoint",
                   "type": V3_ERRORS, "errors": {}})
        )
    );
    assert_eq!(storefront.0, StatusCode::OK);
    assert_eq!(invalid.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_valid(&reference.error, &invalid.1, "422 body");
    assert_eq!(
        invalid.1["errors"],
        json!({"name": "name must be a string of 1 to 255 characters",
               "visibility": "visibility must be one of storefront, all_pages, checkout, order_confirmation",
               "html": "html must contain exactly one script tag"})
    );
    assert_eq!(
        mixed.1["errors"],
        json!({"html": "html must not be given for a src script"})
    );
    assert_eq!(
        no_channel.1["errors"],
        json!({"channel_id": "channel_id must be a channel of the store"})
    );
    assert_eq!(
        eleventh,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"status": 422, "title": "Each app can have 10 scripts installed",
                   "type": V3_ERRORS, "errors": {}})
        )
    );
    assert_eq!(others.0, StatusCode::OK);
    stack.running.stop().await;
}

/// The HTML of `path` on the first store's storefront, signed in as Alice.
async fn storefront_page(running: &RunningSandbox, client: &reqwest::Client, path: &str) -> String {
    let signed_in = client
        .post(format!("{}login", running.storefront_url()))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("email=alice@example.com&password=sandbox-password")
        .send()
        .await
        .unwrap();
    let cookie = signed_in.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let response = client
        .get(format!("{}{path}", running.storefront_url()))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn storefront_pages_carry_the_enabled_scripts_that_cover_them_where_they_ask() {
    let stack = start().await;
    let token = own(&stack);
    let scripts = [
        json!({"name": "head", "src": "https://app.example.com/head.js", "location": "head", "load_method": "async"}),
        json!({"name": "module", "kind": "script_tag", "location": "footer", "visibility": "storefront",
               "html": "<script type=\"module\">window.orderMetafields = true;</script>"}),
        json!({"name": "thanks", "src": "https://app.example.com/thanks.js", "visibility": "order_confirmation"}),
        json!({"name": "everywhere", "src": "https://app.example.com/all.js", "visibility": "all_pages"}),
        json!({"name": "off", "src": "https://app.example.com/off.js", "enabled": false}),
        json!({"name": "headless", "src": "https://app.example.com/headless.js", "channel_id": HEADLESS_CHANNEL_ID}),
    ];
    for script in scripts {
        let (status, body) = call(&stack, Method::POST, "", &token, Some(script)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let order_page = storefront_page(
        &stack.running,
        &stack.client,
        "account.php?action=view_order&order_id=369",
    )
    .await;
    let confirmation = storefront_page(
        &stack.running,
        &stack.client,
        "checkout/order-confirmation/369",
    )
    .await;

    let (head, body) = order_page.split_once("</head>").unwrap();
    assert!(head.contains("<script src=\"https://app.example.com/head.js\" async></script>"));
    assert!(!head.contains("all.js"), "a footer script");
    let footer = body.rsplit_once("</footer>").unwrap().1;
    assert_eq!(
        footer,
        "\n<script type=\"module\">window.orderMetafields = true;</script>\n\
         <script src=\"https://app.example.com/all.js\"></script>\n</body></html>\n"
    );
    for absent in ["thanks.js", "off.js", "headless.js"] {
        assert!(!order_page.contains(absent), "{absent}");
    }
    assert!(confirmation.contains("Your order number is <strong>#369</strong>"));
    let confirmation_footer = confirmation.rsplit_once("</footer>").unwrap().1;
    assert_eq!(
        confirmation_footer,
        "\n<script src=\"https://app.example.com/thanks.js\"></script>\n\
         <script src=\"https://app.example.com/all.js\"></script>\n</body></html>\n"
    );
    stack.running.stop().await;
}

#[tokio::test]
async fn script_changes_reach_channel_script_hooks() {
    let stack = start().await;
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hooks)
        .await;
    let token = own(&stack);
    let registered = stack
        .client
        .post(format!(
            "{}stores/{FIRST}/v3/hooks",
            stack.running.api_base_url()
        ))
        .header("X-Auth-Token", &token)
        .json(&json!({"scope": "store/channel/1/script/*", "destination": hooks.uri()}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::OK);

    let (_, created) = call(
        &stack,
        Method::POST,
        "",
        &token,
        Some(json!({"name": "s", "src": "https://app.example.com/s.js"})),
    )
    .await;
    let uuid = created["data"]["uuid"].as_str().unwrap().to_owned();
    call(
        &stack,
        Method::PUT,
        &format!("/{uuid}"),
        &token,
        Some(json!({"enabled": false})),
    )
    .await;
    let records = stack
        .running
        .store()
        .wait_for_deliveries(2, Duration::from_secs(5))
        .await;

    let scopes: Vec<&str> = records.iter().map(|record| record.scope.as_str()).collect();
    assert_eq!(scopes.len(), 2, "{records:?}");
    assert!(scopes.contains(&"store/channel/1/script/created"));
    assert!(scopes.contains(&"store/channel/1/script/updated"));
    let bodies: Vec<Value> = hooks
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| serde_json::from_slice(&request.body).unwrap())
        .collect();
    assert!(
        bodies
            .iter()
            .all(|body| body["data"] == json!({"uuid": uuid}))
    );
    stack.running.stop().await;
}

#[tokio::test]
async fn uninstalling_deletes_the_app_s_auto_uninstall_scripts_and_nothing_else() {
    let stack = start().await;
    let install_token = stack.install(FIRST).await;
    let script = |name: &str, auto_uninstall: bool| {
        Some(
            json!({"name": name, "src": format!("https://app.example.com/{name}.js"),
                    "auto_uninstall": auto_uninstall}),
        )
    };
    for (name, auto) in [("cleaned", true), ("kept", false)] {
        let (status, _) = call(&stack, Method::POST, "", &install_token, script(name, auto)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
    }
    let (status, _) = call(
        &stack,
        Method::POST,
        "",
        OTHER_APP_TOKEN,
        script("theirs", true),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    stack.running.uninstall_app(FIRST).await.unwrap();
    let (_, ours) = call(&stack, Method::GET, "", &own(&stack), None).await;
    let (_, theirs) = call(&stack, Method::GET, "", OTHER_APP_TOKEN, None).await;
    let (revoked, _) = call(&stack, Method::GET, "", &install_token, None).await;

    let names = |list: &Value| -> Vec<String> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|script| script["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&ours), ["kept"]);
    assert_eq!(names(&theirs), ["theirs"]);
    assert_eq!(revoked, StatusCode::UNAUTHORIZED);
    stack.running.stop().await;
}
