//! `GET /metrics`: every series of this application in the Prometheus text format (the
//! cache sizes are read by the registry's collector during the rendering).

use actix_web::{HttpResponse, web};

use crate::metrics::{CONTENT_TYPE, Metrics};

/// `GET /metrics`.
pub async fn get_metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(metrics.render())
}
