//! `order-metafields fields export|import`: a store's field definitions as the JSON document
//! the merchant page's definitions are made of, for operators moving them between stores and
//! environments, and for single-store mode keeping them in version control. In app mode
//! `--store` names the store; in single-store mode it is BC_STORE_HASH. Single-store mode
//! without DATABASE_URL keeps definitions in memory: there `export` prints
//! FIELD_DEFINITIONS_FILE's definitions and `import` checks a file for it.

use anyhow::{Context, bail};
use order_metafields_service::config::{Mode, Settings};
use order_metafields_service::database::Database;
use order_metafields_service::domain::StoreHash;
use order_metafields_service::fields::FieldDefinitions;

/// Where the definitions of the chosen store live.
enum Source {
    Database(Database, StoreHash),
    /// Single-store mode's in-memory database: only FIELD_DEFINITIONS_FILE persists.
    File(Option<std::path::PathBuf>, StoreHash),
}

/// The store's definitions as the export document (pretty JSON, sorted by namespace, key).
pub async fn export(settings: &Settings, store: Option<&str>) -> anyhow::Result<String> {
    let definitions = match source(settings, store).await? {
        Source::Database(database, store) => database.field_definitions(store.as_str()).await?,
        Source::File(None, _) => FieldDefinitions::default(),
        Source::File(Some(path), _) => read(&path)?,
    };
    let mut text = serde_json::to_string_pretty(&definitions.export())?;
    text.push('\n');
    Ok(text)
}

/// Replaces the store's definitions with those of `file`, after validating all of them.
pub async fn import(
    settings: &Settings,
    store: Option<&str>,
    file: &std::path::Path,
) -> anyhow::Result<String> {
    let definitions = read(file)?;
    match source(settings, store).await? {
        Source::Database(database, store) => {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            database
                .replace_field_definitions(store.as_str(), &definitions, now)
                .await?;
            Ok(format!(
                "imported {} field definitions for store {store}; a running service uses them from its next start\n",
                definitions.len()
            ))
        }
        Source::File(_, store) => Ok(format!(
            "{} field definitions for store {store} are valid; single-store mode without DATABASE_URL keeps them in memory: set FIELD_DEFINITIONS_FILE={} to load them at start-up\n",
            definitions.len(),
            file.display()
        )),
    }
}

async fn source(settings: &Settings, store: Option<&str>) -> anyhow::Result<Source> {
    let store = match (&settings.mode, store) {
        (Mode::App(_), None) => {
            bail!("name the store: --store HASH (app mode keeps definitions per store)")
        }
        (Mode::App(_), Some(store)) => parse(store)?,
        (Mode::SingleStore(one), given) => {
            let own = parse(&one.store_hash)?;
            if given.is_some_and(|given| given != own.as_str()) {
                bail!("--store names another store than BC_STORE_HASH");
            }
            own
        }
    };
    if matches!(settings.mode, Mode::SingleStore(_))
        && settings.database_url.display() == "sqlite::memory:"
    {
        return Ok(Source::File(
            settings.visibility.field_definitions_file.clone(),
            store,
        ));
    }
    Ok(Source::Database(
        Database::connect(&settings.database_url).await?,
        store,
    ))
}

fn read(path: &std::path::Path) -> anyhow::Result<FieldDefinitions> {
    let json = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(FieldDefinitions::import(&json)?)
}

fn parse(hash: &str) -> anyhow::Result<StoreHash> {
    StoreHash::parse(hash)
        .with_context(|| "expected a store hash: letters and digits, e.g. abc123".to_owned())
}
