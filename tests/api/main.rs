#![allow(clippy::unwrap_used)]

mod helpers;

mod auth;
mod cors;
mod health;
mod log_secrets;
mod metafields;
mod openapi_conformance;
mod openapi_document;
mod orders;
mod upstream_connections;
mod upstream_failures;
