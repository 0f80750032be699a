//! Each store's control panel and the app's lifecycle it drives, over HTTP and from Rust: the
//! page (store, app card, users), Install and Open loading the app's callbacks in an iframe,
//! Uninstall and Remove user telling the app server to server and showing its answer, and what
//! they change in the store (tokens, hooks, access).

use order_metafields_sandbox::{AppActionError, AppAnswer};
use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;
use uuid::Uuid;

use crate::fake_app::{
    AppStack, FIRST, MORGAN, RIVKA, SAM, SECOND, SECOND_TOKEN, iframe_src, mount_answers,
    query_names, query_value,
};

impl AppStack {
    /// `{control panel}/{tail}`, or the control panel itself for an empty `tail`.
    fn panel(&self, hash: &str, tail: &str) -> String {
        let root = self.running.control_panel_url(hash).unwrap();
        match tail {
            "" => root.to_string(),
            tail => format!("{root}/{tail}"),
        }
    }

    async fn panel_get(&self, hash: &str, tail: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(self.panel(hash, tail))
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    async fn panel_post(&self, hash: &str, tail: &str) -> (StatusCode, String) {
        let response = self
            .client
            .post(self.panel(hash, tail))
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }
}

/// The one `signed_payload_jwt` of the only request the app received at `callback`.
async fn received_payload(stack: &AppStack, callback: &str) -> (wiremock::Request, String) {
    let received = stack.received(callback).await;
    assert_eq!(received.len(), 1, "{callback}: {received:?}");
    let request = received.into_iter().next().unwrap();
    assert_eq!(query_names(&request.url), ["signed_payload_jwt"]);
    let token = query_value(&request.url, "signed_payload_jwt").unwrap();
    (request, token)
}

#[tokio::test]
async fn the_control_panel_shows_the_store_the_app_and_the_users() {
    let stack = AppStack::start().await;

    let (status, html) = stack.panel_get(SECOND, "").await;

    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<title>Apps - Sandbox Tea Shop - Control Panel</title>"),
        "{html}"
    );
    assert!(html.contains("<strong>Sandbox Tea Shop</strong><small>stores/sandbox2</small>"));
    assert!(html.contains("data-installed=\"false\""));
    assert!(html.contains("<span class=\"cp-badge cp-badge--off\">Not installed</span>"));
    assert!(html.contains("<form method=\"post\" action=\"/manage/app/install\">"));
    assert!(!html.contains("id=\"uninstall\""));
    assert!(html.contains("<code>store_v2_orders_read_only</code>"));
    for (id, name, email, role) in [
        (
            RIVKA,
            "Rivka Owner",
            "rivka@tea-shop.example.com",
            "Store owner",
        ),
        (SAM, "Sam Staff", "sam@staff.example.com", "User"),
        (9_876_544, "Kai Krüger", "kai@tea-shop.example.com", "User"),
    ] {
        assert!(
            html.contains(&format!(
                "<tr data-user-id=\"{id}\"><td>{name}</td><td>{email}</td><td>{role}</td><td>Yes</td><td></td></tr>"
            )),
            "{name}: {html}"
        );
    }
    let (status, css) = stack.panel_get(SECOND, "assets/control-panel.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(css.contains(".cp-nav"));
    stack.running.stop().await;
}

#[tokio::test]
async fn install_loads_the_auth_callback_in_an_iframe_with_a_code_for_this_store() {
    let stack = AppStack::start().await;

    let (status, html) = stack.panel_post(SECOND, "app/install").await;

    assert_eq!(status, StatusCode::OK);
    let src = iframe_src(&html);
    assert_eq!(src.path(), "/bigcommerce/auth");
    assert_eq!(src.origin(), Url::parse(&stack.app.uri()).unwrap().origin());
    assert_eq!(
        query_names(&src),
        ["account_uuid", "code", "context", "scope"]
    );
    assert_eq!(
        query_value(&src, "context").as_deref(),
        Some("stores/sandbox2")
    );
    assert_eq!(
        query_value(&src, "account_uuid"),
        Some(stack.config.account_uuid.to_string())
    );
    // The browser loads the iframe; the app exchanges the code it brings.
    let (exchange, _, body) = stack.post_token(&stack.token_request(&src)).await;
    assert_eq!(exchange, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["id"], RIVKA);
    let (_, after) = stack.panel_get(SECOND, "").await;
    assert!(after.contains("data-installed=\"true\""), "{after}");
    assert!(after.contains(
        "<a class=\"cp-button\" id=\"open\" href=\"/manage/app/load?user_id=7654322\">Open</a>"
    ));
    assert!(after.contains("id=\"uninstall\""));
    assert_eq!(stack.running.store().app_scopes(), None, "only sandbox2");
    stack.running.stop().await;
}

#[tokio::test]
async fn install_app_gets_the_auth_callback_as_the_merchant_s_browser_does() {
    let stack = AppStack::start().await;

    let answer = stack.running.install_app(FIRST).await.unwrap();

    assert_eq!(
        answer,
        AppAnswer {
            status: 200,
            content_type: Some("text/html".to_owned()),
            body: "<p>auth answered</p>".to_owned(),
        }
    );
    let received = stack.received("auth").await;
    assert_eq!(received.len(), 1);
    let url = &received[0].url;
    assert_eq!(
        query_names(url),
        ["account_uuid", "code", "context", "scope"]
    );
    assert!(
        received[0].headers["accept"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // The wiremock app does not exchange the code; an app does, once.
    let (status, _, _) = stack.post_token(&stack.token_request(url)).await;
    assert_eq!(status, StatusCode::OK);
    let (again, _, _) = stack.post_token(&stack.token_request(url)).await;
    assert_eq!(again, StatusCode::BAD_REQUEST);
    stack.running.stop().await;
}

#[tokio::test]
async fn open_loads_the_app_with_a_fresh_payload_for_the_user_who_opened_it() {
    let stack = AppStack::start().await;
    stack.install(SECOND).await;

    let (status, html) = stack
        .panel_get(SECOND, &format!("app/load?user_id={SAM}"))
        .await;
    let again = stack.running.load_url(SECOND, SAM).unwrap();

    assert_eq!(status, StatusCode::OK);
    let src = iframe_src(&html);
    assert_eq!(src.path(), "/bigcommerce/load");
    assert_eq!(query_names(&src), ["signed_payload_jwt"]);
    let claims = stack.verified_payload(&query_value(&src, "signed_payload_jwt").unwrap());
    let iat = claims["iat"].as_u64().unwrap();
    let jti = claims["jti"].as_str().unwrap().to_owned();
    assert_eq!(Uuid::parse_str(&jti).unwrap().get_version_num(), 4);
    assert_eq!(
        claims,
        json!({
            "aud": stack.config.client_id, "iss": "bc", "iat": iat, "nbf": iat,
            "exp": iat + 86_400, "jti": jti, "sub": "stores/sandbox2",
            "user": {"id": SAM, "email": "sam@staff.example.com", "locale": "en-GB"},
            "owner": {"id": RIVKA, "email": "rivka@tea-shop.example.com"},
            "url": "/", "channel_id": null
        })
    );
    let other = stack.verified_payload(&query_value(&again, "signed_payload_jwt").unwrap());
    assert_ne!(other["jti"], claims["jti"], "every payload has its own jti");
    stack.running.stop().await;
}

#[tokio::test]
async fn uninstall_revokes_the_token_deletes_the_hooks_then_tells_the_app() {
    let stack = AppStack::start().await;
    let token = stack.install(SECOND).await;
    let created = stack
        .client
        .post(format!("{}stores/{SECOND}/v3/hooks", stack.running.api_base_url()))
        .header("X-Auth-Token", &token)
        .json(&json!({"scope": "store/order/*", "destination": format!("{}/webhooks/bigcommerce", stack.app.uri())}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::OK);

    let (status, html) = stack.panel_post(SECOND, "app/uninstall").await;

    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(
            "Uninstalled order-metafields. The app's uninstall callback answered <strong data-app-status=\"200\">200 OK</strong>."
        ),
        "{html}"
    );
    assert!(html.contains("data-installed=\"false\""));
    let (request, payload) = received_payload(&stack, "uninstall").await;
    assert_eq!(request.headers["accept"], "application/json");
    let claims = stack.verified_payload(&payload);
    assert_eq!(claims["sub"], "stores/sandbox2");
    assert_eq!(claims["user"]["id"], RIVKA);
    assert_eq!(claims["owner"]["id"], RIVKA);
    let (revoked, body) = stack.api_get(SECOND, &token, "v2/orders/count").await;
    assert_eq!(revoked, StatusCode::UNAUTHORIZED, "{body}");
    let (_, hooks) = stack.api_get(SECOND, SECOND_TOKEN, "v3/hooks").await;
    assert_eq!(hooks["data"], json!([]));
    assert_eq!(stack.running.store_of(SECOND).unwrap().app_scopes(), None);
    stack.running.stop().await;
}

#[tokio::test]
async fn uninstall_app_returns_the_app_s_answer_even_an_error() {
    let stack = AppStack::start().await;
    stack.install(FIRST).await;
    stack.app.reset().await;
    mount_answers(&stack.app, 500).await;

    let answer = stack.running.uninstall_app(FIRST).await.unwrap();

    assert_eq!(answer.status, 500);
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        serde_json::from_str::<Value>(&answer.body).unwrap(),
        json!({"callback": "uninstall"})
    );
    assert_eq!(stack.running.store().app_scopes(), None);
    stack.running.stop().await;
}

#[tokio::test]
async fn an_app_that_does_not_answer_is_uninstalled_all_the_same() {
    let stack = AppStack::start().await;
    stack.install(FIRST).await;
    // Nothing listens on a port whose listener was dropped (wiremock's servers are pooled, and
    // a dropped one still answers).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    stack
        .running
        .set_app_url(Url::parse(&format!("http://127.0.0.1:{port}")).unwrap());

    let (status, html) = stack.panel_post(FIRST, "app/uninstall").await;

    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<span data-app-status=\"none\">"), "{html}");
    assert!(
        !html.contains("signed_payload_jwt"),
        "the page shows no payload: {html}"
    );
    assert_eq!(stack.running.store().app_scopes(), None);
    stack.running.stop().await;
}

#[tokio::test]
async fn remove_user_tells_the_app_and_takes_only_that_store_s_access() {
    let stack = AppStack::start().await;
    stack.install(FIRST).await;
    stack.install(SECOND).await;

    let (status, html) = stack
        .panel_post(SECOND, &format!("users/{SAM}/remove"))
        .await;

    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(
            "Removed user {SAM} from order-metafields. The app's remove_user callback answered <strong data-app-status=\"200\">200 OK</strong>."
        )),
        "{html}"
    );
    let (_, payload) = received_payload(&stack, "remove_user").await;
    let claims = stack.verified_payload(&payload);
    assert_eq!(
        claims["user"],
        json!({"id": SAM, "email": "sam@staff.example.com", "locale": "en-GB"})
    );
    assert_eq!(claims["sub"], "stores/sandbox2");
    let second = stack.running.store_of(SECOND).unwrap();
    assert!(!second.user(SAM).unwrap().has_app_access);
    assert!(stack.running.store().user(SAM).unwrap().has_app_access);
    assert!(matches!(
        stack.running.load_url(SECOND, SAM),
        Err(AppActionError::NoAppAccess { user: SAM, .. })
    ));
    assert!(stack.running.load_url(FIRST, SAM).is_ok());
    assert!(html.contains("<form method=\"post\" action=\"/manage/users/9876543/grant\">"));

    let granted = stack
        .client
        .post(stack.panel(SECOND, &format!("users/{SAM}/grant")))
        .send()
        .await
        .unwrap();

    assert_eq!(granted.status(), StatusCode::SEE_OTHER);
    assert!(stack.running.load_url(SECOND, SAM).is_ok());
    stack.running.stop().await;
}

#[tokio::test]
async fn what_cannot_be_done_is_refused_with_a_page_that_says_why() {
    let stack = AppStack::start().await;
    let cases = [
        (
            "post",
            "app/uninstall",
            StatusCode::CONFLICT,
            "the app is not installed on store sandbox1",
        ),
        (
            "get",
            "app/load?user_id=7654321",
            StatusCode::CONFLICT,
            "the app is not installed on store sandbox1",
        ),
        (
            "post",
            "users/9876543/remove",
            StatusCode::CONFLICT,
            "the app is not installed on store sandbox1",
        ),
        (
            "post",
            "users/1234/grant",
            StatusCode::NOT_FOUND,
            "store sandbox1 has no control panel user 1234",
        ),
    ];

    for (verb, tail, expected, message) in cases {
        let (status, html) = match verb {
            "post" => stack.panel_post(FIRST, tail).await,
            _ => stack.panel_get(FIRST, tail).await,
        };
        assert_eq!(status, expected, "{tail}");
        assert!(
            html.contains(&format!(
                "<p class=\"cp-notice cp-notice--error\" role=\"alert\">{message}</p>"
            )),
            "{tail}: {html}"
        );
    }
    stack.install(FIRST).await;
    let (status, html) = stack
        .panel_post(FIRST, &format!("users/{MORGAN}/remove"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("the owner of store sandbox1 cannot be removed from the app"));
    assert!(stack.received("uninstall").await.is_empty());
    assert!(stack.received("remove_user").await.is_empty());
    stack.running.stop().await;
}

#[tokio::test]
async fn without_an_app_url_install_is_refused_and_the_card_says_why() {
    let stack = AppStack::start_with(|config| config.app_url = None).await;

    let (status, html) = stack.panel_post(FIRST, "app/install").await;

    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("The sandbox knows no app URL yet, so the app cannot be installed."));
    assert!(
        html.contains("the sandbox knows no app url yet; set it with RunningSandbox::set_app_url")
    );
    stack.running.stop().await;
}

#[tokio::test]
async fn signed_payload_is_what_the_sandbox_would_sign_installed_or_not() {
    let stack = AppStack::start().await;

    let claims = stack.running.signed_payload(FIRST, SAM).unwrap();
    let unknown = stack.running.signed_payload(FIRST, 1).unwrap_err();

    assert_eq!(claims.sub, "stores/sandbox1");
    assert_eq!((claims.user.id, claims.owner.id), (SAM, MORGAN));
    assert_eq!(claims.exp, claims.nbf + 86_400);
    assert_eq!(
        unknown.to_string(),
        "store sandbox1 has no control panel user 1"
    );
    stack.running.stop().await;
}
