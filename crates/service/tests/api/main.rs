#![allow(clippy::unwrap_used)]

mod helpers;
mod raw_http;

mod api_reference;
mod app_install;
mod app_stores;
mod auth;
mod client_module;
mod configuration;
mod cors;
mod customer_access_tokens;
mod customer_tokens;
mod database;
mod documentation;
mod field_definitions;
mod health;
mod login_client;
mod merchant_page;
mod metafields;
mod metrics;
mod openapi_conformance;
mod openapi_document;
mod orders;
mod parameters;
mod readiness;
mod replicas;
mod server_limits;
mod sessions;
mod shopper_writes;
mod sites;
mod stale_and_pacing;
mod test_database;
mod upstream_connections;
mod upstream_failures;
mod webhook_registration;
mod webhooks;
