//! Tests of the `order-metafields` binary as a process (command line, logs, shutdown) and of
//! the demo: the service against the sandbox store.
#![allow(clippy::unwrap_used)]

// The service's test harness: its constants, token signing and upstream fixtures.
#[path = "../../crates/service/tests/api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

mod cli;
mod configuration;
#[cfg(feature = "demo")]
mod end_to_end;
mod log_secrets;
mod process;
mod shutdown;
