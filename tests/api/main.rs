#![allow(clippy::unwrap_used)]

mod helpers;

mod auth;
mod cli;
mod end_to_end;
mod health;
mod metafields;
mod openapi_document;
mod orders;
mod sandbox_fidelity;
mod sandbox_hooks;
mod sandbox_store;
mod sandbox_webhooks;
mod upstream_failures;
