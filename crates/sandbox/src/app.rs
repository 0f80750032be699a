//! The one app the sandbox knows, as its Developer Portal profile has it: client id and secret,
//! the Developer Portal account, the scopes it asks for, its callback URLs (settable after start,
//! since the app usually starts after the sandbox) and the authorization codes the login service
//! made for it. `login` and `lifecycle` use it; it does no HTTP.

use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use url::Url;
use uuid::Uuid;

use crate::codes::{Codes, Grant};

/// The app's callbacks, each at `{app url}/bigcommerce/{name}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Callback {
    /// The OAuth redirect: the merchant's browser brings the code here.
    Auth,
    /// The control panel opens the app here.
    Load,
    /// BigCommerce tells the app it was uninstalled.
    Uninstall,
    /// BigCommerce tells the app a user lost access.
    RemoveUser,
}

impl Callback {
    fn name(self) -> &'static str {
        match self {
            Callback::Auth => "auth",
            Callback::Load => "load",
            Callback::Uninstall => "uninstall",
            Callback::RemoveUser => "remove_user",
        }
    }
}

/// The app's profile and its outstanding codes.
pub(crate) struct App {
    pub client_id: String,
    pub client_secret: String,
    /// The Developer Portal account that registered the app (`account_uuid`).
    pub account_uuid: Uuid,
    /// The OAuth scopes the app asks for, in the order the auth callback lists them.
    pub scopes: Vec<String>,
    url: RwLock<Option<Url>>,
    codes: Mutex<Codes>,
}

impl App {
    pub(crate) fn new(
        client_id: String,
        client_secret: String,
        account_uuid: Uuid,
        scopes: Vec<String>,
        url: Option<Url>,
        code_lifetime: Duration,
    ) -> Self {
        Self {
            client_id,
            client_secret,
            account_uuid,
            scopes,
            url: RwLock::new(url),
            codes: Mutex::new(Codes::new(code_lifetime)),
        }
    }

    /// Where the app's callbacks live, once the sandbox knows.
    pub(crate) fn url(&self) -> Option<Url> {
        self.url
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_url(&self, url: Option<Url>) {
        *self.url.write().unwrap_or_else(PoisonError::into_inner) = url;
    }

    /// `{app url}/bigcommerce/{callback}`; none while the sandbox knows no app URL.
    pub(crate) fn callback_url(&self, callback: Callback) -> Option<Url> {
        let base = self.url()?;
        let url = format!(
            "{}/bigcommerce/{}",
            base.as_str().trim_end_matches('/'),
            callback.name()
        );
        Url::parse(&url).ok()
    }

    /// The scopes as BigCommerce sends them: space-separated.
    pub(crate) fn scope_list(&self) -> String {
        self.scopes.join(" ")
    }

    /// Makes a code for `user_id` to install the app on `store_hash` with the app's scopes.
    pub(crate) fn issue_code(&self, store_hash: &str, user_id: u64, now: Instant) -> String {
        let grant = Grant {
            store_hash: store_hash.to_owned(),
            client_id: self.client_id.clone(),
            scopes: self.scopes.clone(),
            user_id,
        };
        self.with_codes(|codes| codes.issue(grant, now))
    }

    /// Runs `action` with the codes locked.
    pub(crate) fn with_codes<T>(&self, action: impl FnOnce(&mut Codes) -> T) -> T {
        action(&mut self.codes.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn app(url: Option<&str>) -> App {
        App::new(
            "client".to_owned(),
            "secret".to_owned(),
            Uuid::nil(),
            vec![
                "store_v2_orders_read_only".to_owned(),
                "store_v2_default".to_owned(),
            ],
            url.map(|url| Url::parse(url).unwrap()),
            Duration::from_secs(300),
        )
    }

    #[test]
    fn callbacks_live_under_bigcommerce_whatever_the_trailing_slash() {
        for base in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "https://app.example.com/prefix/",
        ] {
            let app = app(Some(base));
            let root = base.trim_end_matches('/');

            assert_eq!(
                app.callback_url(Callback::Auth).unwrap().as_str(),
                format!("{root}/bigcommerce/auth")
            );
            assert_eq!(
                app.callback_url(Callback::RemoveUser).unwrap().as_str(),
                format!("{root}/bigcommerce/remove_user")
            );
        }
    }

    #[test]
    fn without_an_app_url_there_are_no_callbacks_until_one_is_set() {
        let app = app(None);
        assert!(app.callback_url(Callback::Load).is_none());

        app.set_url(Some(Url::parse("http://127.0.0.1:9/").unwrap()));

        assert_eq!(
            app.callback_url(Callback::Load).unwrap().as_str(),
            "http://127.0.0.1:9/bigcommerce/load"
        );
    }

    #[test]
    fn a_code_grants_the_app_s_scopes_to_the_user_on_the_store() {
        let app = app(None);
        let now = Instant::now();

        let code = app.issue_code("abc", 7, now);

        let grant = app
            .with_codes(|codes| codes.grant(&code, now).cloned())
            .unwrap();
        assert_eq!(grant.store_hash, "abc");
        assert_eq!(grant.client_id, "client");
        assert_eq!(grant.user_id, 7);
        assert_eq!(
            app.scope_list(),
            "store_v2_orders_read_only store_v2_default"
        );
        assert_eq!(grant.scopes, app.scopes);
    }
}
