//! BigCommerce's login service: the one call of the app install flow,
//! `POST {BC_LOGIN_BASE_URL}/oauth2/token`, which exchanges the code the merchant's browser
//! brought for the store's access token (BigCommerce's "Single-Click App OAuth Flow",
//! "Requesting the access_token"). A code is good for one exchange, so a failed call is never
//! retried: the merchant starts the install again.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue, USER_AGENT};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::management::USER_AGENT_VALUE;

/// The largest answer read from the login service; BigCommerce's is a few hundred bytes.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A client for the login service, cheap to clone.
#[derive(Clone)]
pub struct LoginClient {
    http: reqwest::Client,
    token_url: Url,
    timeout: Duration,
}

/// What the app presents besides the callback's own parameters.
pub struct AppCredentials<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a SecretString,
    /// `{APP_URL}/bigcommerce/auth`, exactly as registered in the Developer Portal.
    pub redirect_uri: &'a str,
}

/// The auth callback's parameters, passed on to the exchange.
pub struct AuthorizationCode<'a> {
    pub code: &'a SecretString,
    pub scope: &'a str,
    pub context: &'a str,
}

/// The login service's answer: the store's access token and who installed the app.
#[derive(Deserialize)]
pub struct Grant {
    pub access_token: SecretString,
    pub scope: String,
    pub user: GrantUser,
    pub owner: GrantUser,
    pub context: String,
    #[serde(default)]
    pub account_uuid: Option<String>,
}

/// A control-panel user as the login service describes them.
#[derive(Clone, Deserialize)]
pub struct GrantUser {
    pub id: i64,
    #[serde(default)]
    pub email: String,
}

/// Why the exchange gave no token.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// The login service refused the code or the app's credentials (a 4xx): a used or
    /// expired code, a wrong client secret or redirect URI.
    #[error("the login service refused the code exchange (status {0})")]
    Refused(u16),
    /// The login service failed or could not be reached.
    #[error("the login service is unavailable ({0})")]
    Unavailable(String),
    /// No answer within the time allowed.
    #[error("the login service did not answer in time")]
    Timeout,
    /// An answer that is not the documented body.
    #[error("the login service's answer is not a grant: {0}")]
    Malformed(String),
}

#[derive(Serialize)]
struct ExchangeRequest<'a> {
    client_id: &'a str,
    client_secret: &'a str,
    code: &'a str,
    context: &'a str,
    scope: &'a str,
    grant_type: &'static str,
    redirect_uri: &'a str,
}

impl LoginClient {
    /// A client for the login service at `base` (e.g. `https://login.bigcommerce.com`).
    pub fn new(base: &Url, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let mut token_url = base.clone();
        token_url.set_path(&format!(
            "{}/oauth2/token",
            base.path().trim_end_matches('/')
        ));
        Ok(Self {
            http,
            token_url,
            timeout,
        })
    }

    /// Exchanges the code for the store's access token.
    pub async fn exchange(
        &self,
        app: &AppCredentials<'_>,
        code: &AuthorizationCode<'_>,
    ) -> Result<Grant, LoginError> {
        let request = ExchangeRequest {
            client_id: app.client_id,
            client_secret: app.client_secret.expose_secret(),
            code: code.code.expose_secret(),
            context: code.context,
            scope: code.scope,
            grant_type: "authorization_code",
            redirect_uri: app.redirect_uri,
        };
        let answer = self
            .http
            .post(self.token_url.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE))
            .json(&request)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(classify)?;
        let status = answer.status();
        if status.is_client_error() {
            return Err(LoginError::Refused(status.as_u16()));
        }
        if status != StatusCode::OK {
            return Err(LoginError::Unavailable(format!(
                "status {}",
                status.as_u16()
            )));
        }
        let body = read_limited(answer).await?;
        serde_json::from_slice(&body).map_err(|error| {
            // The message names the field that is wrong, never a value.
            LoginError::Malformed(format!("line {}, column {}", error.line(), error.column()))
        })
    }
}

async fn read_limited(mut answer: reqwest::Response) -> Result<Vec<u8>, LoginError> {
    let mut body = Vec::new();
    while let Some(chunk) = answer.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(LoginError::Malformed("the answer is too large".to_owned()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn classify(error: reqwest::Error) -> LoginError {
    if error.is_timeout() {
        LoginError::Timeout
    } else if error.is_connect() {
        LoginError::Unavailable("connection failed".to_owned())
    } else {
        LoginError::Unavailable("the connection broke".to_owned())
    }
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Grant")
            .field("scope", &self.scope)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}
