//! `order-metafields webhooks register|list|remove`: keeps the store's hooks for this
//! service's scopes pointing at one destination, with the shared secret header. Registering
//! twice changes nothing the second time; every action is reported, secrets never.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use crate::management::ManagementClient;
use crate::management::error::ManagementError;
use crate::management::hooks::{Hook, HookSpec};

/// The scopes whose deliveries change what the service caches. `store/metafield/*` also
/// covers order metafields but fires for every resource type of the store, so the
/// order-specific `store/order/metafield/*` scopes are registered instead (deliveries of
/// either kind are accepted).
pub const SCOPES: [&str; 7] = [
    "store/order/created",
    "store/order/updated",
    "store/order/archived",
    "store/order/statusUpdated",
    "store/order/metafield/created",
    "store/order/metafield/updated",
    "store/order/metafield/deleted",
];

/// The scopes an app also registers: a channel created or changed may bring new site URLs,
/// which are the store's allowed CORS origins in app mode (`sites`).
pub const CHANNEL_SCOPES: [&str; 2] = ["store/channel/created", "store/channel/updated"];

/// The header carrying `WEBHOOK_SECRET` on every delivery.
pub const SECRET_HEADER: &str = "x-webhook-secret";

/// What was done to one hook.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    Created { id: u64, scope: String },
    Updated { id: u64, scope: String },
    Unchanged { id: u64, scope: String },
    Removed { id: u64, scope: String },
}

/// Creates the missing hooks for `destination` and repairs inactive or outdated ones.
pub async fn register(
    client: &ManagementClient,
    destination: &str,
    secret: &SecretString,
) -> Result<Vec<Action>, ManagementError> {
    register_scopes(client, destination, secret, &SCOPES).await
}

/// [`register`] for the given scopes.
pub async fn register_scopes(
    client: &ManagementClient,
    destination: &str,
    secret: &SecretString,
    scopes: &[&str],
) -> Result<Vec<Action>, ManagementError> {
    let existing = client.list_hooks().await?;
    let headers = BTreeMap::from([(SECRET_HEADER.to_owned(), secret.clone())]);
    let mut actions = Vec::new();
    for &scope in scopes {
        let spec = HookSpec {
            scope,
            destination,
            headers: &headers,
        };
        let current = existing
            .iter()
            .find(|hook| hook.scope == scope && hook.destination == destination);
        let action = match current {
            Some(hook) if hook.is_active && carries_secret(hook, secret) => Action::Unchanged {
                id: hook.id,
                scope: scope.to_owned(),
            },
            Some(hook) => {
                let updated = client.update_hook(hook.id, &spec).await?;
                Action::Updated {
                    id: updated.id,
                    scope: scope.to_owned(),
                }
            }
            None => {
                let created = client.create_hook(&spec).await?;
                Action::Created {
                    id: created.id,
                    scope: scope.to_owned(),
                }
            }
        };
        actions.push(action);
    }
    Ok(actions)
}

/// Deletes this service's hooks that deliver to `destination`.
pub async fn remove(
    client: &ManagementClient,
    destination: &str,
) -> Result<Vec<Action>, ManagementError> {
    let mut actions = Vec::new();
    for hook in client.list_hooks().await? {
        let ours =
            SCOPES.contains(&hook.scope.as_str()) || CHANNEL_SCOPES.contains(&hook.scope.as_str());
        if hook.destination == destination && ours {
            client.delete_hook(hook.id).await?;
            actions.push(Action::Removed {
                id: hook.id,
                scope: hook.scope,
            });
        }
    }
    Ok(actions)
}

/// One line per hook for `webhooks list`, header values masked.
pub fn describe(hook: &Hook) -> String {
    let headers: Vec<&str> = hook.headers.keys().map(String::as_str).collect();
    format!(
        "{id:>8}  {state:<8}  {scope:<32}  {destination}{headers}",
        id = hook.id,
        state = if hook.is_active { "active" } else { "inactive" },
        scope = hook.scope,
        destination = hook.destination,
        headers = if headers.is_empty() {
            String::new()
        } else {
            format!("  (headers: {})", headers.join(", "))
        },
    )
}

fn carries_secret(hook: &Hook, secret: &SecretString) -> bool {
    hook.headers
        .get(SECRET_HEADER)
        .is_some_and(|value| value.expose_secret() == secret.expose_secret())
}

impl fmt::Display for Action {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Created { id, scope } => write!(formatter, "created    hook {id} for {scope}"),
            Action::Updated { id, scope } => {
                write!(formatter, "reactivated hook {id} for {scope}")
            }
            Action::Unchanged { id, scope } => {
                write!(
                    formatter,
                    "kept       hook {id} for {scope} (already registered)"
                )
            }
            Action::Removed { id, scope } => write!(formatter, "removed    hook {id} for {scope}"),
        }
    }
}
