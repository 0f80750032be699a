//! The app lifecycle callbacks BigCommerce calls (app mode only): `auth` and `load` answer
//! HTML for the control panel's iframe, `uninstall` and `remove_user` answer JSON. What each
//! does is `lifecycle`'s; here, reading the query and choosing the answer. A page never
//! echoes a code, a token or a secret.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;

use crate::database::DatabaseError;
use crate::domain::StoreHash;
use crate::lifecycle::{CallbackError, InstallError, InstallRequest, Lifecycle};
use crate::management::login::LoginError;
use crate::merchant::{MerchantPages, Opened};
use crate::problem::ApiError;
use crate::request_context;
use crate::routes::merchant::{self, PageFacts};

/// The stylesheet of the app's pages.
pub const APP_CSS: &str = include_str!("../../assets/app/app.css");

/// Where the control panel may frame the app's pages (`Content-Security-Policy:
/// frame-ancestors`).
#[derive(Clone, Debug)]
pub struct FrameAncestors(pub String);

/// A page that says one thing (an error, a store that is not installed).
#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    heading: &'a str,
    message: &'a str,
    details: Vec<String>,
    /// `danger`, `warning` or `success`.
    tone: &'a str,
}

/// `GET /bigcommerce/auth?code&scope&context&account_uuid`: the merchant's browser brings the
/// install code; the answer is the app's page (or a page saying why it did not install).
pub async fn install_app(
    request: HttpRequest,
    lifecycle: web::Data<Lifecycle>,
    frames: web::Data<FrameAncestors>,
    pages: web::Data<MerchantPages>,
    facts: web::Data<PageFacts>,
) -> HttpResponse {
    let query = Query::parse(request.query_string());
    let (Some(code), Some(scope), Some(context)) =
        (query.get("code"), query.get("scope"), query.get("context"))
    else {
        return message(
            &frames,
            StatusCode::BAD_REQUEST,
            "The app was not installed",
            "This address is BigCommerce's install callback: it needs the code, scope and context that BigCommerce's control panel sends. Install the app from the control panel.",
            Vec::new(),
        );
    };
    let outcome = lifecycle
        .install(InstallRequest {
            code: SecretString::from(code.to_owned()),
            scope,
            context,
            account_uuid: query.get("account_uuid"),
        })
        .await;
    match outcome {
        Ok(installed) => {
            request_context::note_store(installed.store.clone());
            merchant_page(
                &frames,
                &pages,
                &facts,
                &installed.store,
                installed.user_id,
                Some(installed.webhooks_registered),
            )
            .await
        }
        Err(error) => install_failed(&frames, &error),
    }
}

/// `GET /bigcommerce/load?signed_payload_jwt=…`: a user opens the app.
pub async fn load_app(
    request: HttpRequest,
    lifecycle: web::Data<Lifecycle>,
    frames: web::Data<FrameAncestors>,
    pages: web::Data<MerchantPages>,
    facts: web::Data<PageFacts>,
) -> HttpResponse {
    let query = Query::parse(request.query_string());
    let Some(token) = query.get("signed_payload_jwt") else {
        return refused_page(&frames);
    };
    match lifecycle.load(token).await {
        Ok(loaded) if loaded.installed => {
            request_context::note_store(loaded.store.clone());
            merchant_page(&frames, &pages, &facts, &loaded.store, loaded.user_id, None).await
        }
        Ok(loaded) => message(
            &frames,
            StatusCode::NOT_FOUND,
            "The app is not installed on this store",
            &format!(
                "order-metafields is not installed on store {}. Install it from the store's control panel (Apps), then open it again.",
                loaded.store
            ),
            Vec::new(),
        ),
        Err(CallbackError::Refused(reason)) => {
            tracing::info!(reason = %reason, "refused a load callback");
            refused_page(&frames)
        }
        Err(CallbackError::Replayed) => {
            tracing::warn!("refused a load callback whose payload was used before");
            refused_page(&frames)
        }
        // Only an uninstall checks the store's token.
        Err(CallbackError::StillInstalled | CallbackError::Unconfirmed) => refused_page(&frames),
        Err(CallbackError::Database(error)) => database_page(&frames, &error),
    }
}

/// `GET /bigcommerce/uninstall?signed_payload_jwt=…`: BigCommerce says the store uninstalled
/// the app; everything of the store is forgotten at once.
pub async fn uninstall_app(
    request: HttpRequest,
    lifecycle: web::Data<Lifecycle>,
) -> Result<HttpResponse, ApiError> {
    let query = Query::parse(request.query_string());
    let token = query
        .get("signed_payload_jwt")
        .ok_or(ApiError::CallbackUnauthorized)?;
    let (store, installed) = lifecycle.uninstall(token).await.map_err(callback_error)?;
    request_context::note_store(store.clone());
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "status": if installed { "uninstalled" } else { "not installed" },
        "store": store.as_str(),
    })))
}

/// `GET /bigcommerce/remove_user?signed_payload_jwt=…`: a user lost access to the app.
pub async fn remove_app_user(
    request: HttpRequest,
    lifecycle: web::Data<Lifecycle>,
) -> Result<HttpResponse, ApiError> {
    let query = Query::parse(request.query_string());
    let token = query
        .get("signed_payload_jwt")
        .ok_or(ApiError::CallbackUnauthorized)?;
    let (store, removed) = lifecycle.remove_user(token).await.map_err(callback_error)?;
    request_context::note_store(store.clone());
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "status": if removed { "removed" } else { "not known" },
        "store": store.as_str(),
    })))
}

/// `GET /bigcommerce/app.css`.
pub async fn get_app_stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(APP_CSS)
}

/// The merchant page of a store just installed or loaded, with a new session cookie for
/// its user.
async fn merchant_page(
    frames: &FrameAncestors,
    pages: &MerchantPages,
    facts: &PageFacts,
    store: &StoreHash,
    user_id: i64,
    webhooks: Option<bool>,
) -> HttpResponse {
    let Some(served) = pages.served(store) else {
        return message(
            frames,
            StatusCode::NOT_FOUND,
            "The app is not installed on this store",
            "Install it from the store's control panel (Apps), then open it again.",
            Vec::new(),
        );
    };
    let (session, cookie) = pages.start_session(store, user_id);
    let opened = Opened {
        csrf: pages.csrf_token(&session),
        session,
        store: served,
    };
    let mut response = merchant::render(
        frames,
        facts,
        pages,
        &opened,
        StatusCode::OK,
        merchant::PageParts {
            webhooks,
            just_installed: webhooks.is_some(),
            ..merchant::PageParts::default()
        },
    )
    .await;
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

fn callback_error(error: CallbackError) -> ApiError {
    match error {
        CallbackError::Refused(reason) => {
            tracing::info!(reason = %reason, "refused an app callback");
            ApiError::CallbackUnauthorized
        }
        CallbackError::Replayed | CallbackError::StillInstalled => ApiError::CallbackUnauthorized,
        // The payload was claimed; BigCommerce does not retry, but an operator can
        // (`order-metafields stores forget`) once it is known the store left.
        CallbackError::Unconfirmed => ApiError::UpstreamError,
        CallbackError::Database(error) => database_error(&error),
    }
}

fn database_error(error: &DatabaseError) -> ApiError {
    tracing::error!(error = %error, "an app callback could not reach the database");
    ApiError::DatabaseUnavailable
}

fn install_failed(frames: &FrameAncestors, error: &InstallError) -> HttpResponse {
    tracing::warn!(error = %error, "the app was not installed");
    let (status, message, details) = match error {
        InstallError::BadRequest(_) => (
            StatusCode::BAD_REQUEST,
            "The install request did not come from BigCommerce's control panel. Install the app from the control panel.".to_owned(),
            Vec::new(),
        ),
        InstallError::ScopeMismatch {
            missing,
            unexpected,
        } => (
            StatusCode::FORBIDDEN,
            "The permissions granted are not the ones this app needs. The app's developer must make APP_SCOPES and the Developer Portal's scopes the same; then install again.".to_owned(),
            missing
                .iter()
                .map(|scope| format!("needed but not granted: {scope}"))
                .chain(unexpected.iter().map(|scope| format!("granted but not expected: {scope}")))
                .collect(),
        ),
        InstallError::Login(LoginError::Refused(_)) => (
            StatusCode::BAD_REQUEST,
            "BigCommerce refused the install code (it may have been used already or expired). Start the install again from the control panel.".to_owned(),
            Vec::new(),
        ),
        InstallError::Login(LoginError::Timeout) => (
            StatusCode::GATEWAY_TIMEOUT,
            "BigCommerce's login service did not answer in time. Start the install again in a moment.".to_owned(),
            Vec::new(),
        ),
        InstallError::Login(LoginError::Unavailable(_) | LoginError::Malformed(_))
        | InstallError::WrongStore => (
            StatusCode::BAD_GATEWAY,
            "BigCommerce's login service failed. Start the install again in a moment.".to_owned(),
            Vec::new(),
        ),
        InstallError::Database(error) => return database_page(frames, error),
        InstallError::Sealing => {
            return unavailable_page(
                frames,
                "The app could not save the installation. Start the install again in a moment.",
            );
        }
    };
    self::message(
        frames,
        status,
        "The app was not installed",
        &message,
        details,
    )
}

fn refused_page(frames: &FrameAncestors) -> HttpResponse {
    message(
        frames,
        StatusCode::UNAUTHORIZED,
        "This link has expired",
        "The app could not confirm this request came from your store's control panel (each link opens the app once). Open the app again from the control panel.",
        Vec::new(),
    )
}

fn database_page(frames: &FrameAncestors, error: &DatabaseError) -> HttpResponse {
    tracing::error!(error = %error, "an app page could not reach the database");
    unavailable_page(
        frames,
        "The app cannot reach its database right now. Open it again in a moment.",
    )
}

/// A `503` page, with `Retry-After`.
fn unavailable_page(frames: &FrameAncestors, text: &str) -> HttpResponse {
    let mut response = message(
        frames,
        StatusCode::SERVICE_UNAVAILABLE,
        "The app is unavailable",
        text,
        Vec::new(),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

pub(crate) fn message(
    frames: &FrameAncestors,
    status: StatusCode,
    heading: &str,
    message: &str,
    details: Vec<String>,
) -> HttpResponse {
    let tone = if status.is_success() {
        "success"
    } else if status == StatusCode::NOT_FOUND {
        "warning"
    } else {
        "danger"
    };
    page(
        frames,
        status,
        MessagePage {
            heading,
            message,
            details,
            tone,
        },
    )
}

/// An HTML page, never cached, framed only by the control panel, loading nothing but its
/// own stylesheet.
pub(crate) fn page(
    frames: &FrameAncestors,
    status: StatusCode,
    template: impl Template,
) -> HttpResponse {
    let body = match template.render() {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(error = %error, "rendering an app page failed");
            return actix_web::ResponseError::error_response(&ApiError::Internal);
        }
    };
    let policy = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors {}",
        frames.0
    );
    let mut response = HttpResponse::build(status);
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        response.insert_header((header::CONTENT_SECURITY_POLICY, policy));
    }
    response.body(body)
}

/// A query string's parameters; a repeated one counts as missing.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(query: &str) -> Self {
        Self(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        let mut values = self
            .0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str());
        match (values.next(), values.next()) {
            (Some(value), None) if !value.is_empty() => Some(value),
            _ => None,
        }
    }
}
