//! `order-metafields stores list|show|forget`: what an operator of the app needs to see and
//! do with installed stores, straight from the database. Never prints an access token or an
//! email. A running service serves from memory the stores it loaded: `forget` is for a store
//! that can no longer uninstall itself. Replicas on PostgreSQL stop serving it within a
//! second (they are told, as of an uninstall); on SQLite the running service stops at its
//! next start (or at once, after BigCommerce's own uninstall callback).

use std::fmt::Write as _;

use anyhow::{Context, bail};
use order_metafields_service::config::{Mode, Settings};
use order_metafields_service::database::{Database, Engine, StoreRecord};
use order_metafields_service::domain::StoreHash;
use order_metafields_service::sealing::TokenSealer;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// One line per installed store: hash, install date, scopes, users.
pub async fn list(settings: &Settings) -> anyhow::Result<String> {
    let database = connect(settings).await?;
    let stores = database.stores().await?;
    if stores.is_empty() {
        return Ok("no stores installed\n".to_owned());
    }
    let mut text = String::new();
    for store in &stores {
        let users = database.users(&store.store_hash).await?.len();
        let _ = writeln!(
            text,
            "{}  installed {}  scope {}  users {users}",
            store.store_hash,
            date(store.installed_at),
            store.scope
        );
    }
    Ok(text)
}

/// Everything known of one store, the token's state but never the token.
pub async fn show(settings: &Settings, hash: &str) -> anyhow::Result<String> {
    let store = parse(hash)?;
    let database = connect(settings).await?;
    let Some(record) = database.store(store.as_str()).await? else {
        bail!("store {store} is not installed");
    };
    let users = database.users(store.as_str()).await?;
    let settings_record = database.settings(store.as_str()).await?.unwrap_or_default();
    let mut text = String::new();
    let _ = writeln!(text, "store          {}", record.store_hash);
    let _ = writeln!(text, "installed      {}", date(record.installed_at));
    let _ = writeln!(text, "updated        {}", date(record.updated_at));
    let _ = writeln!(text, "scope          {}", record.scope);
    let _ = writeln!(text, "owner          user {}", record.owner_id);
    if let Some(account) = &record.account_uuid {
        let _ = writeln!(text, "account        {account}");
    }
    let _ = writeln!(text, "access token   {}", token_state(settings, &record));
    let namespaces: Vec<&str> = settings_record
        .metafield_namespaces
        .iter()
        .map(String::as_str)
        .collect();
    let _ = writeln!(
        text,
        "namespaces     {}",
        if namespaces.is_empty() {
            "(storefront-marked metafields only)".to_owned()
        } else {
            namespaces.join(", ")
        }
    );
    let _ = writeln!(text, "users          {}", users.len());
    for user in users {
        let _ = writeln!(
            text,
            "  user {:<10} first seen {}  last seen {}",
            user.user_id,
            date(user.first_seen_at),
            date(user.last_seen_at)
        );
    }
    Ok(text)
}

/// Forgets a store: its token, users and settings.
pub async fn forget(settings: &Settings, hash: &str) -> anyhow::Result<String> {
    let store = parse(hash)?;
    let database = connect(settings).await?;
    if database.forget_store(store.as_str()).await? {
        if database.engine() == Engine::Postgres {
            order_metafields_service::replicas::announce_forgotten(&database, &store).await?;
            return Ok(format!(
                "forgot store {store}: its access token, users and settings are deleted; running replicas stop serving it now\n"
            ));
        }
        Ok(format!(
            "forgot store {store}: its access token, users and settings are deleted; a running service stops serving it when restarted\n"
        ))
    } else {
        bail!("store {store} is not installed")
    }
}

async fn connect(settings: &Settings) -> anyhow::Result<Database> {
    if let Mode::SingleStore(_) = settings.mode {
        bail!(
            "BC_STORE_HASH is set: `stores` manages the stores of an app (unset BC_STORE_HASH, and set DATABASE_URL to the app's database)"
        );
    }
    Ok(Database::connect(&settings.database_url).await?)
}

fn parse(hash: &str) -> anyhow::Result<StoreHash> {
    StoreHash::parse(hash)
        .with_context(|| "expected a store hash: letters and digits, e.g. abc123".to_owned())
}

/// Whether the configured keys open the stored token (it is never shown).
fn token_state(settings: &Settings, record: &StoreRecord) -> String {
    let Mode::App(app) = &settings.mode else {
        return "sealed".to_owned();
    };
    let sealer = TokenSealer::new(&app.token_key, app.previous_token_key.as_ref());
    match sealer.open(
        &record.store_hash,
        &record.sealed_access_token,
        &record.token_key_id,
    ) {
        Ok(_) if record.token_key_id == sealer.current_key_id() => {
            format!(
                "sealed with key {} (TOKEN_ENCRYPTION_KEY)",
                record.token_key_id
            )
        }
        Ok(_) => format!(
            "sealed with key {} (TOKEN_ENCRYPTION_KEY_PREVIOUS; resealed at the next start)",
            record.token_key_id
        ),
        Err(error) => format!(
            "sealed with key {}: cannot be opened: {error}",
            record.token_key_id
        ),
    }
}

fn date(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|date| date.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}
