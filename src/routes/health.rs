//! Liveness: the process is up and serving; no dependency is checked.

use actix_web::HttpResponse;

/// `GET /healthz`.
pub async fn get_health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}
