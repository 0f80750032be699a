#![allow(clippy::unwrap_used)]

mod helpers;

mod auth;
mod cli;
mod client_module;
mod cors;
mod documentation;
mod end_to_end;
mod health;
mod log_secrets;
mod metafields;
mod metrics;
mod openapi_conformance;
mod openapi_document;
mod orders;
mod process;
mod readiness;
mod sandbox_account;
mod sandbox_fidelity;
mod sandbox_hooks;
mod sandbox_store;
mod sandbox_webhooks;
mod shutdown;
mod stale_and_pacing;
mod upstream_connections;
mod upstream_failures;
mod webhook_registration;
mod webhooks;
