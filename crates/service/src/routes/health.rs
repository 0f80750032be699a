//! Liveness and readiness. Liveness checks nothing: the process is up and serving.
//! Readiness asks `readiness` whether the Management API answers the access token.

use actix_web::{HttpResponse, web};

use crate::problem::ApiError;
use crate::readiness::Readiness;

/// `GET /healthz`.
pub async fn get_health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: `200` when ready, else a `503` problem naming the part that is not.
pub async fn get_readiness(readiness: web::Data<Readiness>) -> Result<HttpResponse, ApiError> {
    readiness.check().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"})))
}
