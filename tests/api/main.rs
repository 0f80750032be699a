#![allow(clippy::unwrap_used)]

mod helpers;

mod auth;
mod health;
mod metafields;
mod openapi_document;
mod orders;
mod upstream_failures;
