//! Load tokens already used: a `signed_payload_jwt` opens the app once. Each `jti` is kept
//! until its token expires, so the table holds at most a day of loads.

use super::{Database, DatabaseError, query_error};

impl Database {
    /// Marks a load token's `jti` as used; `false` when it already was (a replay). Expired
    /// entries are swept on the way, so the table never outgrows the tokens still valid.
    pub async fn claim_load_token(
        &self,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, DatabaseError> {
        sqlx::query("DELETE FROM used_load_tokens WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(query_error("sweep_load_tokens"))?;
        // ON CONFLICT DO NOTHING makes two replicas racing with the same token agree: one
        // row is inserted, the other insert affects none.
        sqlx::query(
            "INSERT INTO used_load_tokens (jti, expires_at) VALUES ($1, $2) \
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map(|done| done.rows_affected() == 1)
        .map_err(query_error("claim_load_token"))
    }
}
