//! Each store's field definitions, one row per `(namespace, key)` holding the definition as
//! the JSON object of the export format; replaced whole in one transaction, so a reader
//! never sees half of a change.

use sqlx::Row;

use super::{Database, DatabaseError, query_error};
use crate::fields::{FieldDefinition, FieldDefinitions};

impl Database {
    /// The store's definitions (none saved: empty). A row that no longer reads as a valid
    /// definition is an error, never silently dropped.
    pub async fn field_definitions(
        &self,
        store_hash: &str,
    ) -> Result<FieldDefinitions, DatabaseError> {
        let rows = sqlx::query(
            "SELECT definition FROM field_definitions WHERE store_hash = $1 \
             ORDER BY namespace, metafield_key",
        )
        .bind(store_hash)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("find_field_definitions"))?;
        let mut definitions = Vec::with_capacity(rows.len());
        for row in rows {
            let json: String = row
                .try_get("definition")
                .map_err(query_error("read_field_definitions"))?;
            let definition: FieldDefinition =
                serde_json::from_str(&json).map_err(|error| DatabaseError::Query {
                    operation: "read_field_definitions",
                    message: format!("a stored definition is not valid JSON: {error}"),
                })?;
            definitions.push(definition);
        }
        FieldDefinitions::new(definitions).map_err(|problems| DatabaseError::Query {
            operation: "read_field_definitions",
            message: format!("{} stored definitions are invalid", problems.len()),
        })
    }

    /// Replaces the store's definitions with `definitions`, at once.
    pub async fn replace_field_definitions(
        &self,
        store_hash: &str,
        definitions: &FieldDefinitions,
        now: i64,
    ) -> Result<(), DatabaseError> {
        let operation = "replace_field_definitions";
        let mut transaction = self.pool.begin().await.map_err(query_error(operation))?;
        sqlx::query("DELETE FROM field_definitions WHERE store_hash = $1")
            .bind(store_hash)
            .execute(&mut *transaction)
            .await
            .map_err(query_error(operation))?;
        for definition in definitions.iter() {
            let json = serde_json::to_string(definition).map_err(|error| DatabaseError::Query {
                operation,
                message: error.to_string(),
            })?;
            sqlx::query(
                "INSERT INTO field_definitions (store_hash, namespace, metafield_key, definition, \
                 updated_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(store_hash)
            .bind(&definition.namespace)
            .bind(&definition.key)
            .bind(json)
            .bind(now)
            .execute(&mut *transaction)
            .await
            .map_err(query_error(operation))?;
        }
        transaction.commit().await.map_err(query_error(operation))
    }
}
