#![allow(clippy::unwrap_used)]

// The harness: BigCommerce's reference schemas from the fixtures (`reference`) and the app's
// side of the install flow (`fake_app`). Test files share code only through it, never by
// importing one another.
mod fake_app;
mod reference;

mod account;
mod app_fidelity;
mod channels;
mod control_panel;
mod fidelity;
mod graphql;
mod hooks;
mod login;
mod metafield_writes;
mod order_changes;
mod orders_page;
mod scripts;
mod store;
mod stores;
mod webhooks;
