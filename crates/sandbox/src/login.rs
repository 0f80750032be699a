//! The login service's `POST /oauth2/token` (login.bigcommerce.com): exchanges an install code
//! for a new access token of the code's store, as the auth guide describes it. It takes the JSON
//! body the guide shows and the form body BigCommerce's own libraries send, checks the app's
//! credentials, the grant type, the registered `redirect_uri`, the code (single-use,
//! short-lived, bound to one store and the app), `context` and `scope`, and answers the guide's
//! body, or BigCommerce's error bodies.

use std::sync::Arc;
use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, web};
use aws_lc_rs::constant_time::verify_slices_are_equal;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::{App, Callback};
use crate::codes::{Grant, random_string};
use crate::store::ControlPanelUser;
use crate::stores::Stores;

/// The largest token request body read; the guide's example is under 400 bytes.
const MAX_BODY: usize = 16 * 1024;
/// The length of an access token: BigCommerce's are 31 lowercase letters and digits.
const TOKEN_LENGTH: usize = 31;

/// What the login service needs.
pub(crate) struct LoginState {
    pub app: Arc<App>,
    pub stores: Stores,
}

/// Registers `POST /oauth2/token`.
pub(crate) fn routes(config: &mut web::ServiceConfig) {
    config.service(
        web::resource("/oauth2/token")
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .route(web::post().to(token)),
    );
}

/// The token request's parameters (auth guide, "Request body properties"), each optional until
/// checked.
#[derive(Default, Deserialize)]
struct TokenRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    scope: Option<String>,
    grant_type: Option<String>,
    redirect_uri: Option<String>,
    context: Option<String>,
}

/// Why a token request is refused. The answers are those BigCommerce gives (as collected in
/// matthewvolk/bigrequest#114 and the wording of its OAuth provider, songkick/oauth2-provider):
/// mostly `400`, `403` for a `context` that is not the code's store.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// Not a JSON object or form of strings, or a parameter sent twice.
    Malformed,
    Missing(&'static str),
    UnknownClient,
    WrongSecret,
    GrantType,
    RedirectUri,
    /// Unknown, used, expired, or made for another app.
    Code,
    Context,
    Scope,
}

impl Refusal {
    fn answer(&self) -> HttpResponse {
        let (status, body) = match self {
            Refusal::Malformed => (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_request", "error_description": "The request body is not a JSON object or form of strings, or repeats a parameter"}),
            ),
            Refusal::Missing(name) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_request", "error_description": format!("Missing required parameter {name}")}),
            ),
            Refusal::UnknownClient => (
                StatusCode::BAD_REQUEST,
                json!({"error": "Invalid client id."}),
            ),
            Refusal::WrongSecret => (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_client", "error_description": "Parameter client_secret does not match"}),
            ),
            Refusal::GrantType => (
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type", "error_description": "The grant type is not recognized"}),
            ),
            Refusal::RedirectUri => (
                StatusCode::BAD_REQUEST,
                json!({"error": "redirect_uri_mismatch", "error_description": "Parameter redirect_uri does not match registered URI"}),
            ),
            Refusal::Code => (StatusCode::BAD_REQUEST, json!({"error": "Invalid code."})),
            Refusal::Context => (
                StatusCode::FORBIDDEN,
                json!({"error": "Only store owners may install or update apps. Please contact the store owner for assistance"}),
            ),
            Refusal::Scope => (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_scope", "error_description": "The request scope was never granted by the user"}),
            ),
        };
        json_answer(status, body.to_string())
    }
}

/// The guide's "Example response: Create an access_token", field for field.
#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    scope: String,
    user: LoginUser<'a>,
    owner: LoginUser<'a>,
    context: String,
    account_uuid: String,
}

#[derive(Serialize)]
struct LoginUser<'a> {
    id: u64,
    username: &'a str,
    email: &'a str,
}

impl<'a> LoginUser<'a> {
    /// BigCommerce's usernames are the users' emails.
    fn of(user: &'a ControlPanelUser) -> Self {
        Self {
            id: user.id,
            username: &user.email,
            email: &user.email,
        }
    }
}

async fn token(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<LoginState>,
) -> HttpResponse {
    let parsed = match parse(&request, &body) {
        Ok(parsed) => parsed,
        Err(refusal) => return refused(&refusal),
    };
    let grant = match check(&parsed, &state.app, Instant::now()) {
        Ok(grant) => grant,
        Err(refusal) => return refused(&refusal),
    };
    let store = state.stores.get(&grant.store_hash);
    let users = store.map(|store| (store.user(grant.user_id), store.owner()));
    let (Some(store), Some((Some(user), Some(owner)))) = (store, users) else {
        // A code is only ever made for a store and a user that exist.
        return refused(&Refusal::Code);
    };
    let access_token = random_string(TOKEN_LENGTH);
    store.install_app(
        access_token.clone(),
        Arc::from(grant.client_id.as_str()),
        grant.scopes.clone(),
    );
    tracing::info!(
        store = store.hash(),
        user = user.id,
        "sandbox login service installed the app and issued an access token"
    );
    let response = TokenResponse {
        access_token: &access_token,
        scope: grant.scopes.join(" "),
        user: LoginUser::of(&user),
        owner: LoginUser::of(&owner),
        context: format!("stores/{}", store.hash()),
        account_uuid: state.app.account_uuid.to_string(),
    };
    // Rendered from the struct, not a map, to keep the guide's field order.
    json_answer(
        StatusCode::OK,
        serde_json::to_string(&response).unwrap_or_default(),
    )
}

fn refused(refusal: &Refusal) -> HttpResponse {
    // The reason only: never a code, a secret or a token.
    tracing::info!(reason = ?refusal, "sandbox login service refused a token request");
    refusal.answer()
}

/// The request's parameters from a JSON or form body.
fn parse(request: &HttpRequest, body: &[u8]) -> Result<TokenRequest, Refusal> {
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match media_type.as_str() {
        "application/json" => serde_json::from_slice(body).map_err(|_| Refusal::Malformed),
        "application/x-www-form-urlencoded" => parse_form(body),
        _ => Err(Refusal::Malformed),
    }
}

fn parse_form(body: &[u8]) -> Result<TokenRequest, Refusal> {
    let mut parsed = TokenRequest::default();
    for (name, value) in url::form_urlencoded::parse(body) {
        let field = match name.as_ref() {
            "client_id" => &mut parsed.client_id,
            "client_secret" => &mut parsed.client_secret,
            "code" => &mut parsed.code,
            "scope" => &mut parsed.scope,
            "grant_type" => &mut parsed.grant_type,
            "redirect_uri" => &mut parsed.redirect_uri,
            "context" => &mut parsed.context,
            _ => continue,
        };
        // RFC 6749, section 3.2: parameters "MUST NOT be included more than once".
        if field.replace(value.into_owned()).is_some() {
            return Err(Refusal::Malformed);
        }
    }
    Ok(parsed)
}

/// Checks the request against the app and its codes at `now`; on success the code is used up
/// and its grant returned.
fn check(request: &TokenRequest, app: &App, now: Instant) -> Result<Grant, Refusal> {
    let client_id = request
        .client_id
        .as_deref()
        .ok_or(Refusal::Missing("client_id"))?;
    if client_id != app.client_id {
        return Err(Refusal::UnknownClient);
    }
    let secret = request
        .client_secret
        .as_deref()
        .ok_or(Refusal::Missing("client_secret"))?;
    if verify_slices_are_equal(secret.as_bytes(), app.client_secret.as_bytes()).is_err() {
        return Err(Refusal::WrongSecret);
    }
    let grant_type = request
        .grant_type
        .as_deref()
        .ok_or(Refusal::Missing("grant_type"))?;
    if grant_type != "authorization_code" {
        return Err(Refusal::GrantType);
    }
    let redirect_uri = request
        .redirect_uri
        .as_deref()
        .ok_or(Refusal::Missing("redirect_uri"))?;
    let registered = app.callback_url(Callback::Auth);
    if registered.as_ref().map(url::Url::as_str) != Some(redirect_uri) {
        return Err(Refusal::RedirectUri);
    }
    let code = request.code.as_deref().ok_or(Refusal::Missing("code"))?;
    let context = request
        .context
        .as_deref()
        .ok_or(Refusal::Missing("context"))?;
    app.with_codes(|codes| {
        let grant = codes
            .grant(code, now)
            .filter(|grant| grant.client_id == app.client_id)
            .ok_or(Refusal::Code)?;
        if context != format!("stores/{}", grant.store_hash) {
            return Err(Refusal::Context);
        }
        // The guide sends `scope` too; when present it must be what the merchant granted.
        if let Some(scope) = &request.scope
            && !same_scopes(scope, &grant.scopes)
        {
            return Err(Refusal::Scope);
        }
        codes.redeem(code).ok_or(Refusal::Code)
    })
}

/// Whether the space-separated `listed` names exactly `granted`, in any order.
fn same_scopes(listed: &str, granted: &[String]) -> bool {
    let mut listed: Vec<&str> = listed.split_whitespace().collect();
    let mut granted: Vec<&str> = granted.iter().map(String::as_str).collect();
    listed.sort_unstable();
    granted.sort_unstable();
    listed == granted
}

/// A JSON answer that no cache keeps (RFC 6749, section 5.1).
fn json_answer(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"))
        .body(body)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use url::Url;
    use uuid::Uuid;

    use super::*;

    const APP_URL: &str = "https://app.example.com";

    fn app() -> App {
        App::new(
            "client".to_owned(),
            "secret".to_owned(),
            Uuid::nil(),
            vec![
                "store_v2_orders_read_only".to_owned(),
                "store_v2_default".to_owned(),
            ],
            Some(Url::parse(APP_URL).unwrap()),
            Duration::from_secs(300),
        )
    }

    fn good_request(code: &str) -> TokenRequest {
        TokenRequest {
            client_id: Some("client".to_owned()),
            client_secret: Some("secret".to_owned()),
            code: Some(code.to_owned()),
            scope: Some("store_v2_default store_v2_orders_read_only".to_owned()),
            grant_type: Some("authorization_code".to_owned()),
            redirect_uri: Some(format!("{APP_URL}/bigcommerce/auth")),
            context: Some("stores/abc".to_owned()),
        }
    }

    #[test]
    fn a_good_request_redeems_its_code_once_whatever_the_scope_order() {
        let app = app();
        let now = Instant::now();
        let code = app.issue_code("abc", 7, now);

        let grant = check(&good_request(&code), &app, now).unwrap();

        assert_eq!((grant.store_hash.as_str(), grant.user_id), ("abc", 7));
        assert_eq!(check(&good_request(&code), &app, now), Err(Refusal::Code));
    }

    #[test]
    fn each_wrong_parameter_is_refused_and_leaves_the_code_usable() {
        let app = app();
        let now = Instant::now();
        let code = app.issue_code("abc", 7, now);
        type Breakage = fn(&mut TokenRequest);
        let cases: [(Breakage, Refusal); 12] = [
            (|r| r.client_id = None, Refusal::Missing("client_id")),
            (
                |r| r.client_id = Some("other".into()),
                Refusal::UnknownClient,
            ),
            (
                |r| r.client_secret = None,
                Refusal::Missing("client_secret"),
            ),
            (
                |r| r.client_secret = Some("secreT".into()),
                Refusal::WrongSecret,
            ),
            (
                |r| r.grant_type = Some("client_credentials".into()),
                Refusal::GrantType,
            ),
            (|r| r.redirect_uri = None, Refusal::Missing("redirect_uri")),
            (
                |r| r.redirect_uri = Some(format!("{APP_URL}/bigcommerce/auth/")),
                Refusal::RedirectUri,
            ),
            (|r| r.code = Some("qr6h3thvbvag2ffq".into()), Refusal::Code),
            (|r| r.context = None, Refusal::Missing("context")),
            (
                |r| r.context = Some("stores/other".into()),
                Refusal::Context,
            ),
            (|r| r.context = Some("abc".into()), Refusal::Context),
            (|r| r.scope = Some("store_v2_orders".into()), Refusal::Scope),
        ];

        for (break_it, expected) in cases {
            let mut request = good_request(&code);
            break_it(&mut request);
            assert_eq!(check(&request, &app, now), Err(expected));
        }
        let mut without_scope = good_request(&code);
        without_scope.scope = None;
        assert!(check(&without_scope, &app, now).is_ok());
    }

    #[test]
    fn an_expired_code_is_an_invalid_code() {
        let app = app();
        let now = Instant::now();
        let code = app.issue_code("abc", 7, now);

        let later = now + Duration::from_secs(300);

        assert_eq!(check(&good_request(&code), &app, later), Err(Refusal::Code));
    }

    #[test]
    fn a_form_body_fills_the_same_parameters_and_may_not_repeat_one() {
        let parsed =
            parse_form(b"client_id=c&code=x&context=stores%2Fabc&scope=a+b&extra=1").unwrap();
        assert_eq!(parsed.client_id.as_deref(), Some("c"));
        assert_eq!(parsed.context.as_deref(), Some("stores/abc"));
        assert_eq!(parsed.scope.as_deref(), Some("a b"));

        assert!(parse_form(b"code=x&code=y").is_err());
    }

    #[test]
    fn scopes_compare_as_sets_of_words() {
        let granted = vec!["a".to_owned(), "b".to_owned()];

        assert!(same_scopes("b a", &granted));
        assert!(same_scopes(" a  b ", &granted));
        assert!(!same_scopes("a", &granted));
        assert!(!same_scopes("a b c", &granted));
    }
}
