//! A fresh, empty database for each test: an SQLite file in a temporary directory, or, when
//! `TEST_POSTGRES_URL` names a PostgreSQL server (`tools/postgres/start` starts one), a new
//! database created in it. So the same tests run against both engines:
//!
//! ```text
//! cargo test -p order-metafields-service --test api                       # SQLite
//! TEST_POSTGRES_URL=$(tools/postgres/start) cargo test -p order-metafields-service --test api
//! ```

use order_metafields_service::database::{DatabaseUrl, Engine};
use sqlx::Connection;

/// A database that lives as long as this value (the SQLite file's directory is deleted when
/// it is dropped; PostgreSQL databases stay in the throwaway server).
pub struct TestDatabase {
    pub url: DatabaseUrl,
    /// The URL as text, for settings built from pairs.
    pub url_text: String,
    _directory: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// The engine the tests run against: PostgreSQL when `TEST_POSTGRES_URL` is set.
    pub fn engine() -> Engine {
        if std::env::var_os("TEST_POSTGRES_URL").is_some() {
            Engine::Postgres
        } else {
            Engine::Sqlite
        }
    }

    /// A new, empty database of the engine the tests run against.
    pub async fn new() -> Self {
        match std::env::var("TEST_POSTGRES_URL") {
            Ok(server) => Self::postgres(&server).await,
            Err(_) => Self::sqlite(),
        }
    }

    /// A new SQLite file in its own temporary directory.
    pub fn sqlite() -> Self {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let url_text = format!("sqlite://{}/test.db", directory.path().display());
        Self {
            url: url_text.parse().expect("a valid sqlite url"),
            url_text,
            _directory: Some(directory),
        }
    }

    /// The SQLite file's path (`None` on PostgreSQL), to read it as someone with the disk
    /// would.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        self._directory
            .as_ref()
            .map(|directory| directory.path().join("test.db"))
    }

    async fn postgres(server: &str) -> Self {
        let name = format!("om_test_{}", uuid::Uuid::new_v4().simple());
        let mut connection = sqlx::PgConnection::connect(server)
            .await
            .expect("TEST_POSTGRES_URL names a reachable PostgreSQL server");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut connection)
            .await
            .expect("the test database is created");
        let base = server
            .rsplit_once('/')
            .map_or(server, |(base, _)| base)
            .to_owned();
        let url_text = format!("{base}/{name}");
        Self {
            url: url_text.parse().expect("a valid postgres url"),
            url_text,
            _directory: None,
        }
    }
}
