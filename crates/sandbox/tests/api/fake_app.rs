//! The app's side of the install flow as the tests play it: a sandbox whose app URL is a
//! wiremock server answering the four callbacks, the code exchange at `POST /oauth2/token` the
//! way the auth guide shows it, and strict decoding of `signed_payload_jwt`. What `login`,
//! `control_panel` and `app_fidelity` share.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use order_metafields_sandbox::{self as sandbox, RunningSandbox, SandboxConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The first store's hash.
pub(crate) const FIRST: &str = "sandbox1";
/// The second store's hash and its own API account token.
pub(crate) const SECOND: &str = "sandbox2";
pub(crate) const SECOND_TOKEN: &str = "sandbox2-demo-access-token";
/// The user both stores share, and each store's owner.
pub(crate) const SAM: u64 = 9_876_543;
pub(crate) const MORGAN: u64 = 7_654_321;
pub(crate) const RIVKA: u64 = 7_654_322;

/// A sandbox and the app it installs.
pub(crate) struct AppStack {
    pub running: RunningSandbox,
    pub config: SandboxConfig,
    /// The app: `GET /bigcommerce/auth|load` answer `200` HTML, `uninstall|remove_user` `200`
    /// JSON, until a test mounts other answers.
    pub app: MockServer,
    pub client: reqwest::Client,
}

impl AppStack {
    pub(crate) async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts the app, then a sandbox configured by `adjust` with the app's URL.
    pub(crate) async fn start_with(adjust: impl FnOnce(&mut SandboxConfig)) -> Self {
        let app = MockServer::start().await;
        mount_answers(&app, 200).await;
        let mut config = SandboxConfig {
            app_url: Some(Url::parse(&app.uri()).unwrap()),
            quota: 10_000,
            ..SandboxConfig::demo_defaults()
        };
        adjust(&mut config);
        let running = sandbox::start(config.clone()).await.unwrap();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            running,
            config,
            app,
            client,
        }
    }

    pub(crate) fn token_url(&self) -> String {
        format!("{}oauth2/token", self.running.login_base_url())
    }

    /// `{app}/bigcommerce/auth`, the `redirect_uri` the login service registered.
    pub(crate) fn redirect_uri(&self) -> String {
        format!("{}/bigcommerce/auth", self.app.uri())
    }

    /// The token request the auth guide shows for the auth callback `callback`.
    pub(crate) fn token_request(&self, callback: &Url) -> Value {
        let parameter = |name: &str| query_value(callback, name).unwrap();
        json!({
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "code": parameter("code"),
            "context": parameter("context"),
            "scope": parameter("scope"),
            "grant_type": "authorization_code",
            "redirect_uri": self.redirect_uri(),
        })
    }

    /// `POST /oauth2/token` with a JSON body; the status, headers and body as JSON.
    pub(crate) async fn post_token(
        &self,
        body: &Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let response = self
            .client
            .post(self.token_url())
            .header("Accept", "application/json")
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        (
            status,
            headers,
            response.json().await.unwrap_or(Value::Null),
        )
    }

    /// Installs the app on `store_hash` as the app would: a code, then its exchange; returns
    /// the new access token.
    pub(crate) async fn install(&self, store_hash: &str) -> String {
        let callback = self.running.install_callback_url(store_hash).unwrap();
        let (status, _, body) = self.post_token(&self.token_request(&callback)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// `GET {api}/stores/{hash}/{tail}` with `token`.
    pub(crate) async fn api_get(&self, hash: &str, token: &str, tail: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!(
                "{}stores/{hash}/{tail}",
                self.running.api_base_url()
            ))
            .header("X-Auth-Token", token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The claims of `signed_payload_jwt`, verified as strictly as an app should: HS256, the
    /// client secret, `aud` the client id, `iss` `bc`, every time claim present and current.
    pub(crate) fn verified_payload(&self, token: &str) -> Value {
        assert_eq!(decode_header(token).unwrap().alg, Algorithm::HS256);
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[&self.config.client_id]);
        validation.set_issuer(&["bc"]);
        validation.validate_nbf = true;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "aud", "iss", "sub", "jti"]);
        decode::<Value>(
            token,
            &DecodingKey::from_secret(self.config.client_secret.as_bytes()),
            &validation,
        )
        .unwrap()
        .claims
    }

    /// The requests the app received at `/bigcommerce/{callback}`.
    pub(crate) async fn received(&self, callback: &str) -> Vec<wiremock::Request> {
        let wanted = format!("/bigcommerce/{callback}");
        self.app
            .received_requests()
            .await
            .unwrap()
            .into_iter()
            .filter(|request| request.url.path() == wanted)
            .collect()
    }
}

/// Mounts answers to the four callbacks with `status`.
pub(crate) async fn mount_answers(app: &MockServer, status: u16) {
    for callback in ["auth", "load"] {
        Mock::given(method("GET"))
            .and(path(format!("/bigcommerce/{callback}")))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_raw(format!("<p>{callback} answered</p>"), "text/html"),
            )
            .mount(app)
            .await;
    }
    for callback in ["uninstall", "remove_user"] {
        Mock::given(method("GET"))
            .and(path(format!("/bigcommerce/{callback}")))
            .respond_with(
                ResponseTemplate::new(status).set_body_json(json!({"callback": callback})),
            )
            .mount(app)
            .await;
    }
}

/// The decoded value of query parameter `name` of `url`.
pub(crate) fn query_value(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The names of `url`'s query parameters, in order.
pub(crate) fn query_names(url: &Url) -> Vec<String> {
    url.query_pairs().map(|(key, _)| key.into_owned()).collect()
}

/// The `src` of the page's one iframe, unescaped.
pub(crate) fn iframe_src(html: &str) -> Url {
    let start = html.find("<iframe").expect("the page has an iframe");
    let rest = &html[start..];
    let src = rest.find("src=\"").expect("the iframe has a src") + 5;
    let end = rest[src..].find('"').unwrap();
    Url::parse(&rest[src..src + end].replace("&amp;", "&")).unwrap()
}
