//! What the control panel does with the app, for the merchant's browser and for Rust callers
//! alike. Install makes a code for the store and the auth callback URL carrying it (the browser
//! loads it); Open makes the load callback URL with a fresh `signed_payload_jwt`; Uninstall and
//! Remove user change the store first, as BigCommerce does whatever the app answers, then tell
//! the app through its callback, server to server. `control_panel` and `lib.rs` use it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use jsonwebtoken::Algorithm;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use url::Url;

use crate::app::{App, Callback};
use crate::signed_payload::{PayloadOwner, PayloadUser, SignedPayloadClaims, sign_payload};
use crate::store::{ControlPanelUser, SandboxStore};

/// How long the sandbox waits for the app's answer to a callback, connection included.
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of an answer's body kept; the rest is not read.
const MAX_ANSWER: usize = 1024 * 1024;

/// The app's answer to one of its callbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppAnswer {
    /// Its HTTP status.
    pub status: u16,
    /// Its `Content-Type`, if it sent one.
    pub content_type: Option<String>,
    /// Its body as text (at most 1 MiB of it).
    pub body: String,
}

/// Why the sandbox did not do what was asked of the app.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppActionError {
    /// `RunningSandbox::set_app_url` was not called yet.
    #[error("the sandbox knows no app url yet; set it with RunningSandbox::set_app_url")]
    NoAppUrl,
    /// No store has this hash.
    #[error("the sandbox has no store {0}")]
    UnknownStore(String),
    /// The store has no such control panel user.
    #[error("store {store} has no control panel user {user}")]
    UnknownUser {
        /// The store's hash.
        store: String,
        /// The user id asked for.
        user: u64,
    },
    /// The app is not installed on the store.
    #[error("the app is not installed on store {0}")]
    NotInstalled(String),
    /// The user may not load the app (the owner removed them).
    #[error("user {user} may not load the app on store {store}")]
    NoAppAccess {
        /// The store's hash.
        store: String,
        /// The user.
        user: u64,
    },
    /// The owner always has the app; only other users can be removed.
    #[error("the owner of store {0} cannot be removed from the app")]
    OwnerCannotBeRemoved(String),
    /// The app did not answer its callback (refused, timed out, broke off).
    #[error("the app's {callback} callback did not answer: {reason}")]
    AppUnreachable {
        /// `auth`, `uninstall` or `remove_user`.
        callback: &'static str,
        /// Why, without the URL (it carries a code or a signed payload).
        reason: String,
    },
    /// The payload could not be signed.
    #[error("{0}")]
    Signing(String),
}

/// The app's lifecycle, shared by every store's control panel and `RunningSandbox`.
pub(crate) struct Lifecycle {
    pub app: Arc<App>,
    client: reqwest::Client,
}

impl Lifecycle {
    pub(crate) fn new(app: Arc<App>) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(CALLBACK_TIMEOUT)
            .connect_timeout(CALLBACK_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "order-metafields-sandbox/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .context("building the sandbox's app callback http client")?;
        Ok(Self { app, client })
    }

    /// Install, as the store owner: makes a code and returns the auth callback URL the control
    /// panel loads in its iframe, `{app}/bigcommerce/auth?account_uuid=…&code=…&context=…&scope=…`
    /// (the parameters in the order of the auth guide's example request).
    pub(crate) fn install_url(&self, store: &SandboxStore) -> Result<Url, AppActionError> {
        let mut url = self
            .app
            .callback_url(Callback::Auth)
            .ok_or(AppActionError::NoAppUrl)?;
        let owner = owner_of(store)?;
        let code = self.app.issue_code(store.hash(), owner.id, Instant::now());
        url.query_pairs_mut()
            .append_pair("account_uuid", &self.app.account_uuid.to_string())
            .append_pair("code", &code)
            .append_pair("context", &format!("stores/{}", store.hash()))
            .append_pair("scope", &self.app.scope_list());
        Ok(url)
    }

    /// Install as the merchant's browser does it: a code, then `GET` of the auth callback.
    pub(crate) async fn install(&self, store: &SandboxStore) -> Result<AppAnswer, AppActionError> {
        let url = self.install_url(store)?;
        let request = self.client.get(url).header(
            ACCEPT,
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        );
        answer_of(request, "auth").await
    }

    /// The claims BigCommerce would sign now about `user_id` of `store`.
    pub(crate) fn signed_payload(
        &self,
        store: &SandboxStore,
        user_id: u64,
    ) -> Result<SignedPayloadClaims, AppActionError> {
        let user = user_of(store, user_id)?;
        let owner = owner_of(store)?;
        SignedPayloadClaims::issued_now(
            &self.app.client_id,
            store.hash(),
            PayloadUser {
                id: user.id,
                email: user.email,
                locale: user.locale,
            },
            PayloadOwner {
                id: owner.id,
                email: owner.email,
            },
        )
        .map_err(|error| AppActionError::Signing(format!("{error:#}")))
    }

    /// Open, as `user_id`: the load callback URL with a fresh payload, for the control panel's
    /// iframe. The app must be installed and the user allowed to load it.
    pub(crate) fn load_url(
        &self,
        store: &SandboxStore,
        user_id: u64,
    ) -> Result<Url, AppActionError> {
        let url = self
            .app
            .callback_url(Callback::Load)
            .ok_or(AppActionError::NoAppUrl)?;
        installed(store)?;
        let user = user_of(store, user_id)?;
        if !user.has_app_access {
            return Err(AppActionError::NoAppAccess {
                store: store.hash().to_owned(),
                user: user_id,
            });
        }
        let claims = self.signed_payload(store, user_id)?;
        self.with_payload(url, &claims)
    }

    /// Uninstall, as the store owner: the app's tokens stop working and its hooks are deleted,
    /// then `GET {app}/bigcommerce/uninstall?signed_payload_jwt=…` tells the app.
    pub(crate) async fn uninstall(
        &self,
        store: &SandboxStore,
    ) -> Result<AppAnswer, AppActionError> {
        let url = self
            .app
            .callback_url(Callback::Uninstall)
            .ok_or(AppActionError::NoAppUrl)?;
        let owner = owner_of(store)?;
        let claims = self.signed_payload(store, owner.id)?;
        let url = self.with_payload(url, &claims)?;
        if !store.uninstall_app() {
            return Err(AppActionError::NotInstalled(store.hash().to_owned()));
        }
        tracing::info!(store = store.hash(), "sandbox uninstalled the app");
        self.notify(url, "uninstall").await
    }

    /// Remove user: `user_id` may no longer load the app, then
    /// `GET {app}/bigcommerce/remove_user?signed_payload_jwt=…` (with that user) tells the app.
    pub(crate) async fn remove_user(
        &self,
        store: &SandboxStore,
        user_id: u64,
    ) -> Result<AppAnswer, AppActionError> {
        let url = self
            .app
            .callback_url(Callback::RemoveUser)
            .ok_or(AppActionError::NoAppUrl)?;
        installed(store)?;
        let user = user_of(store, user_id)?;
        if user.is_owner {
            return Err(AppActionError::OwnerCannotBeRemoved(
                store.hash().to_owned(),
            ));
        }
        if !user.has_app_access {
            return Err(AppActionError::NoAppAccess {
                store: store.hash().to_owned(),
                user: user_id,
            });
        }
        let claims = self.signed_payload(store, user_id)?;
        let url = self.with_payload(url, &claims)?;
        store.set_app_access(user_id, false);
        tracing::info!(
            store = store.hash(),
            user = user_id,
            "sandbox removed a user from the app"
        );
        self.notify(url, "remove_user").await
    }

    /// Lets `user_id` load the app again. BigCommerce sends the app nothing for it; the user's
    /// next load introduces them.
    pub(crate) fn grant_access(
        &self,
        store: &SandboxStore,
        user_id: u64,
    ) -> Result<(), AppActionError> {
        let user = user_of(store, user_id)?;
        if !user.is_owner {
            store.set_app_access(user_id, true);
        }
        Ok(())
    }

    fn with_payload(
        &self,
        mut url: Url,
        claims: &SignedPayloadClaims,
    ) -> Result<Url, AppActionError> {
        let token = sign_payload(claims, self.app.client_secret.as_bytes(), Algorithm::HS256)
            .map_err(|error| AppActionError::Signing(format!("{error:#}")))?;
        url.query_pairs_mut()
            .append_pair("signed_payload_jwt", &token);
        Ok(url)
    }

    /// A server-to-server callback, as the callbacks guide's examples send it.
    async fn notify(&self, url: Url, callback: &'static str) -> Result<AppAnswer, AppActionError> {
        let request = self.client.get(url).header(ACCEPT, "application/json");
        let answer = answer_of(request, callback).await;
        match &answer {
            Ok(answer) => tracing::info!(
                callback,
                status = answer.status,
                "the app answered a callback"
            ),
            Err(error) => tracing::warn!(%error, "the app did not answer a callback"),
        }
        answer
    }
}

fn installed(store: &SandboxStore) -> Result<(), AppActionError> {
    match store.app_scopes() {
        Some(_) => Ok(()),
        None => Err(AppActionError::NotInstalled(store.hash().to_owned())),
    }
}

fn user_of(store: &SandboxStore, user_id: u64) -> Result<ControlPanelUser, AppActionError> {
    store
        .user(user_id)
        .ok_or_else(|| AppActionError::UnknownUser {
            store: store.hash().to_owned(),
            user: user_id,
        })
}

/// Every seeded store has an owner; a store without one cannot do what needs one.
fn owner_of(store: &SandboxStore) -> Result<ControlPanelUser, AppActionError> {
    store.owner().ok_or_else(|| AppActionError::UnknownUser {
        store: store.hash().to_owned(),
        user: 0,
    })
}

/// Sends `request` and reads its answer, at most `MAX_ANSWER` of its body.
async fn answer_of(
    request: reqwest::RequestBuilder,
    callback: &'static str,
) -> Result<AppAnswer, AppActionError> {
    // The URL carries a code or a signed payload: errors are reported without it.
    let unreachable = |error: reqwest::Error| AppActionError::AppUnreachable {
        callback,
        reason: error.without_url().to_string(),
    };
    let mut response = request.send().await.map_err(unreachable)?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        let room = MAX_ANSWER - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == MAX_ANSWER {
            break;
        }
    }
    Ok(AppAnswer {
        status,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
