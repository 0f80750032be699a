//! A store's control panel at `/manage`, server-rendered in the look of BigCommerce's: the
//! store's name, the app's card with Install, Open and Uninstall, and the store's users with
//! Remove user. Install and Open show the app in an iframe, as the control panel does; Uninstall
//! and Remove user show the app's answer to its callback. The page acts as the store owner
//! (the sandbox has no control-panel sign-in); `lifecycle` does the work.

use std::fmt::Write as _;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::html::escape;
use crate::lifecycle::{AppActionError, AppAnswer, Lifecycle};
use crate::panel_frame::{STYLESHEET, STYLESHEET_PATH, Section, frame};
use crate::store::{ControlPanelUser, SandboxStore};

/// The app's name on its card.
const APP_NAME: &str = "order-metafields";

/// What one store's control panel needs.
pub(crate) struct ControlPanelState {
    pub store: SandboxStore,
    pub lifecycle: Arc<Lifecycle>,
}

/// Registers the control panel's pages and actions.
pub(crate) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/manage", web::get().to(dashboard))
        .route(STYLESHEET_PATH, web::get().to(stylesheet))
        .route("/manage/app/install", web::post().to(install))
        .route("/manage/app/load", web::get().to(open))
        .route("/manage/app/uninstall", web::post().to(uninstall))
        .route(
            "/manage/users/{user_id}/remove",
            web::post().to(remove_user),
        )
        .route(
            "/manage/users/{user_id}/grant",
            web::post().to(grant_access),
        );
}

#[derive(Deserialize)]
struct OpenQuery {
    user_id: u64,
}

/// What a page shows above the app's card.
enum Notice {
    None,
    Info(String),
    Error(String),
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "no-cache"))
        .body(STYLESHEET)
}

async fn dashboard(state: web::Data<ControlPanelState>) -> HttpResponse {
    page(&state, StatusCode::OK, &Notice::None, None)
}

/// Install: a code, and the auth callback loaded in the iframe by the merchant's browser.
async fn install(state: web::Data<ControlPanelState>) -> HttpResponse {
    match state.lifecycle.install_url(&state.store) {
        Ok(url) => page(
            &state,
            StatusCode::OK,
            &Notice::Info(format!("Installing {APP_NAME}: the app's page is below.")),
            Some(url.as_str()),
        ),
        Err(error) => refused(&state, &error),
    }
}

/// Open, as the user `?user_id=`: the load callback in the iframe.
async fn open(state: web::Data<ControlPanelState>, query: web::Query<OpenQuery>) -> HttpResponse {
    match state.lifecycle.load_url(&state.store, query.user_id) {
        Ok(url) => page(&state, StatusCode::OK, &Notice::None, Some(url.as_str())),
        Err(error) => refused(&state, &error),
    }
}

async fn uninstall(state: web::Data<ControlPanelState>) -> HttpResponse {
    let result = state.lifecycle.uninstall(&state.store).await;
    answered(
        &state,
        &format!("Uninstalled {APP_NAME}"),
        "uninstall",
        result,
    )
}

async fn remove_user(request: HttpRequest, state: web::Data<ControlPanelState>) -> HttpResponse {
    let Some(user_id) = user_id(&request) else {
        return refused(&state, &unknown_user(&state, 0));
    };
    let result = state.lifecycle.remove_user(&state.store, user_id).await;
    answered(
        &state,
        &format!("Removed user {user_id} from {APP_NAME}"),
        "remove_user",
        result,
    )
}

async fn grant_access(request: HttpRequest, state: web::Data<ControlPanelState>) -> HttpResponse {
    let Some(user_id) = user_id(&request) else {
        return refused(&state, &unknown_user(&state, 0));
    };
    match state.lifecycle.grant_access(&state.store, user_id) {
        Ok(()) => HttpResponse::SeeOther()
            .insert_header((LOCATION, "/manage"))
            .finish(),
        Err(error) => refused(&state, &error),
    }
}

fn user_id(request: &HttpRequest) -> Option<u64> {
    request.match_info().get("user_id")?.parse().ok()
}

fn unknown_user(state: &ControlPanelState, user: u64) -> AppActionError {
    AppActionError::UnknownUser {
        store: state.store.hash().to_owned(),
        user,
    }
}

/// The page after Uninstall or Remove user: the store changed whatever the app answered, so an
/// app that did not answer is news, not a failure of the action.
fn answered(
    state: &ControlPanelState,
    done: &str,
    callback: &str,
    result: Result<AppAnswer, AppActionError>,
) -> HttpResponse {
    match result {
        Ok(answer) => page(
            state,
            StatusCode::OK,
            &Notice::Info(format!(
                "{done}. The app's {callback} callback answered <strong data-app-status=\"{}\">{}</strong>.",
                answer.status,
                status_text(answer.status)
            )),
            None,
        ),
        Err(AppActionError::AppUnreachable { reason, .. }) => page(
            state,
            StatusCode::OK,
            &Notice::Error(format!(
                "{done}. The app's {callback} callback did not answer \
                 (<span data-app-status=\"none\">{}</span>).",
                escape(&reason)
            )),
            None,
        ),
        Err(error) => refused(state, &error),
    }
}

/// `200 OK`, `404 Not Found`, or the bare number for a status without a reason phrase.
fn status_text(status: u16) -> String {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|status| status.canonical_reason())
        .map_or_else(|| status.to_string(), |reason| format!("{status} {reason}"))
}

fn refused(state: &ControlPanelState, error: &AppActionError) -> HttpResponse {
    let status = match error {
        AppActionError::UnknownStore(_) | AppActionError::UnknownUser { .. } => {
            StatusCode::NOT_FOUND
        }
        AppActionError::AppUnreachable { .. } => StatusCode::BAD_GATEWAY,
        AppActionError::Signing(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::CONFLICT,
    };
    page(
        state,
        status,
        &Notice::Error(escape(&error.to_string())),
        None,
    )
}

/// The control panel's Apps page: navigation, the notice, the app's card (with `frame` in an
/// iframe when there is one) and the users.
fn page(
    state: &ControlPanelState,
    status: StatusCode,
    notice: &Notice,
    app_frame: Option<&str>,
) -> HttpResponse {
    let store = &state.store;
    let installed = store.app_scopes();
    let users = store.users();
    let mut body = String::new();
    match notice {
        Notice::None => {}
        Notice::Info(html) => {
            let _ = writeln!(body, "<p class=\"cp-notice\" role=\"status\">{html}</p>");
        }
        Notice::Error(html) => {
            let _ = writeln!(
                body,
                "<p class=\"cp-notice cp-notice--error\" role=\"alert\">{html}</p>"
            );
        }
    }
    app_card(&mut body, state, installed.as_deref(), app_frame);
    users_panel(&mut body, &users, installed.is_some());
    frame(
        store.name(),
        store.hash(),
        Section::Apps,
        status,
        "Apps",
        &body,
    )
}

fn app_card(
    body: &mut String,
    state: &ControlPanelState,
    installed: Option<&[String]>,
    frame: Option<&str>,
) {
    let app = &state.lifecycle.app;
    let (badge, badge_class) = match installed {
        Some(_) => ("Installed", "cp-badge--on"),
        None => ("Not installed", "cp-badge--off"),
    };
    let _ = write!(
        body,
        "<section class=\"cp-panel\" id=\"app\" data-installed=\"{}\">\n<div class=\"cp-app\">\
         <div class=\"cp-app-icon\" aria-hidden=\"true\">OM</div>\n<div class=\"cp-app-body\">\n\
         <h2>{APP_NAME} <span class=\"cp-badge {badge_class}\">{badge}</span></h2>\n\
         <p>Shows signed-in shoppers their orders and the order metafields you expose.</p>\n\
         <p>Client ID <code>{}</code>; asks for <code>{}</code>.</p>\n",
        installed.is_some(),
        escape(&app.client_id),
        escape(&app.scope_list()),
    );
    match app.url() {
        Some(url) => {
            let _ = writeln!(body, "<p>App URL <code>{}</code></p>", escape(url.as_str()));
        }
        None => body.push_str(
            "<p role=\"alert\">The sandbox knows no app URL yet, so the app cannot be installed.</p>\n",
        ),
    }
    body.push_str("<div class=\"cp-actions\">\n");
    match installed {
        None => body.push_str(
            "<form method=\"post\" action=\"/manage/app/install\">\
             <button class=\"cp-button\" id=\"install\">Install</button></form>\n",
        ),
        Some(_) => {
            if let Some(owner) = state.store.owner() {
                let _ = writeln!(
                    body,
                    "<a class=\"cp-button\" id=\"open\" href=\"/manage/app/load?user_id={}\">Open</a>",
                    owner.id
                );
            }
            body.push_str(
                "<form method=\"post\" action=\"/manage/app/uninstall\">\
                 <button class=\"cp-button cp-button--danger\" id=\"uninstall\">Uninstall</button></form>\n",
            );
        }
    }
    body.push_str("</div>\n</div>\n</div>\n");
    if let Some(frame) = frame {
        let _ = writeln!(
            body,
            "<iframe class=\"cp-frame\" id=\"app-frame\" name=\"app\" title=\"{APP_NAME}\" src=\"{}\"></iframe>",
            escape(frame)
        );
    }
    body.push_str("</section>\n");
}

fn users_panel(body: &mut String, users: &[ControlPanelUser], installed: bool) {
    body.push_str(
        "<section class=\"cp-panel\" id=\"users\">\n<h2>Users</h2>\n<table class=\"cp-table\">\n\
         <thead><tr><th>Name</th><th>Email</th><th>Role</th><th>App access</th><th>Actions</th></tr></thead>\n<tbody>\n",
    );
    for user in users {
        let role = if user.is_owner { "Store owner" } else { "User" };
        let access = if user.has_app_access { "Yes" } else { "No" };
        let mut actions = String::new();
        if installed && user.has_app_access {
            let _ = write!(
                actions,
                "<a class=\"cp-button cp-button--secondary cp-button--small\" href=\"/manage/app/load?user_id={}\">Open as this user</a> ",
                user.id
            );
        }
        if installed && user.has_app_access && !user.is_owner {
            let _ = write!(
                actions,
                "<form method=\"post\" action=\"/manage/users/{}/remove\">\
                 <button class=\"cp-button cp-button--danger cp-button--small\">Remove user</button></form>",
                user.id
            );
        }
        if !user.has_app_access {
            let _ = write!(
                actions,
                "<form method=\"post\" action=\"/manage/users/{}/grant\">\
                 <button class=\"cp-button cp-button--secondary cp-button--small\">Give access</button></form>",
                user.id
            );
        }
        let _ = writeln!(
            body,
            "<tr data-user-id=\"{}\"><td>{}</td><td>{}</td><td>{role}</td><td>{access}</td><td>{actions}</td></tr>",
            user.id,
            escape(&user.name),
            escape(&user.email),
        );
    }
    body.push_str("</tbody>\n</table>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_with_their_reason_phrase() {
        assert_eq!(status_text(200), "200 OK");
        assert_eq!(status_text(503), "503 Service Unavailable");
        assert_eq!(status_text(599), "599");
    }
}
