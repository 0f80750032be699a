#![allow(clippy::unwrap_used)]

mod account;
mod fidelity;
mod hooks;
mod store;
mod webhooks;
