//! Liveness and readiness. Liveness checks nothing: the process is up and serving.
//! Readiness asks `readiness` whether this replica can serve (its database answers) and
//! reports BigCommerce's state in the body, never in the status.

use actix_web::{HttpResponse, web};

use crate::problem::ApiError;
use crate::readiness::Readiness;

/// `GET /healthz`.
pub async fn get_health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: `200` with BigCommerce's state when this replica is ready, else a `503`
/// problem naming the part that is not.
pub async fn get_readiness(readiness: web::Data<Readiness>) -> Result<HttpResponse, ApiError> {
    let ready = readiness.check().await?;
    Ok(HttpResponse::Ok().json(ready))
}
