#![allow(clippy::unwrap_used)]

mod helpers;

mod auth;
mod cli;
mod client_module;
mod end_to_end;
mod health;
mod metafields;
mod openapi_document;
mod orders;
mod sandbox_account;
mod sandbox_fidelity;
mod sandbox_store;
mod upstream_failures;
