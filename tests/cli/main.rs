//! Tests of the `order-metafields` binary as a process (command line, logs, shutdown) and of
//! the demo: the service against the sandbox store.
#![allow(clippy::unwrap_used)]

mod harness;

mod cli;
mod configuration;
#[cfg(feature = "demo")]
mod demo;
#[cfg(feature = "demo")]
mod end_to_end;
mod fields;
mod healthcheck;
mod log_secrets;
#[cfg(feature = "demo")]
mod metafield_changes;
mod shopper_write_log;
mod shutdown;
mod stores;
