//! `GET /metrics`: every series of this application in the Prometheus text format, with the
//! cache size gauges brought up to date first.

use actix_web::{HttpResponse, web};

use crate::access::Access;
use crate::metrics::{CONTENT_TYPE, Metrics};

/// `GET /metrics`.
pub async fn get_metrics(metrics: web::Data<Metrics>, access: web::Data<Access>) -> HttpResponse {
    access.cache().report_usage().await;
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(metrics.render())
}
