#![allow(clippy::unwrap_used)]

// The harness: BigCommerce's reference schemas from the fixtures. Test files share code only
// through it, never by importing one another.
mod reference;

mod account;
mod fidelity;
mod hooks;
mod store;
mod stores;
mod webhooks;
