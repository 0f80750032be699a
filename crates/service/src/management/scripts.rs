//! The store's scripts (`/v3/content/scripts`, scripts.v3.yml) that this app installs: the
//! merchant page's one-click storefront switch lists, creates and deletes the one script
//! that shows order metafields on the order pages. BigCommerce answers an app only with the
//! scripts it created itself; the Content scope (`store_v2_content`) is needed.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use crate::management::ManagementClient;
use crate::management::error::{ManagementError, Operation};

/// A script of this app on the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    pub uuid: String,
    pub name: String,
}

/// What a new script holds.
pub struct ScriptSpec<'a> {
    pub name: &'a str,
    pub description: &'a str,
    /// The `script_tag` HTML.
    pub html: &'a str,
}

#[derive(Deserialize)]
struct WireScriptPage {
    #[serde(default)]
    data: Vec<WireScript>,
}

#[derive(Deserialize)]
struct WireScriptResponse {
    data: WireScript,
}

#[derive(Deserialize)]
struct WireScript {
    uuid: String,
    #[serde(default)]
    name: String,
}

/// An app has at most 10 scripts on a store (scripts.v3.yml): one page of 50 holds them.
const SCRIPTS_LIMIT: u32 = 50;

impl ManagementClient {
    /// This app's scripts on the store (one request).
    pub async fn list_scripts(&self) -> Result<Vec<Script>, ManagementError> {
        let operation = Operation::ListScripts;
        let deadline = Instant::now() + self.api.retry.budget;
        let mut url = self.url("v3/content/scripts");
        url.query_pairs_mut()
            .append_pair("limit", &SCRIPTS_LIMIT.to_string());
        let answer = self.get(url, operation, deadline).await?;
        if answer.body.is_empty() {
            return Ok(Vec::new());
        }
        let wire: WireScriptPage = super::decode(&answer.body.bytes, operation)?;
        Ok(wire.data.into_iter().map(Script::from).collect())
    }

    /// Creates an enabled `script_tag` script at the end of every storefront page of the
    /// default channel, essential (it sets no cookie and shows the shopper's own order),
    /// removed by BigCommerce when the app is uninstalled.
    pub async fn create_script(&self, spec: &ScriptSpec<'_>) -> Result<Script, ManagementError> {
        let operation = Operation::CreateScript;
        let deadline = Instant::now() + self.api.retry.budget;
        let body = json!({
            "name": spec.name,
            "description": spec.description,
            "html": spec.html,
            "auto_uninstall": true,
            "load_method": "default",
            "location": "footer",
            "visibility": "storefront",
            "kind": "script_tag",
            "consent_category": "essential",
            "enabled": true,
            "channel_id": 1,
        });
        let answer = self
            .send(
                Method::POST,
                self.url("v3/content/scripts"),
                Some(&body),
                operation,
                deadline,
            )
            .await?;
        let wire: WireScriptResponse = super::decode(&answer.body.bytes, operation)?;
        Ok(Script::from(wire.data))
    }

    /// Deletes a script of this app.
    pub async fn delete_script(&self, uuid: &str) -> Result<(), ManagementError> {
        let operation = Operation::DeleteScript;
        let deadline = Instant::now() + self.api.retry.budget;
        let mut url = self.url("v3/content/scripts");
        url.path_segments_mut()
            .map_err(|()| ManagementError::InvalidResponse {
                operation,
                reason: "the API base URL cannot take a path".to_owned(),
            })?
            .push(uuid);
        self.send(Method::DELETE, url, None, operation, deadline)
            .await
            .map(|_| ())
    }
}

impl From<WireScript> for Script {
    fn from(wire: WireScript) -> Self {
        Self {
            uuid: wire.uuid,
            name: wire.name,
        }
    }
}
