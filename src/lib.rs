//! The `order-metafields` binary's commands beyond `serve`: the demo (the service against the
//! sandbox store, behind the default `demo` feature), development tokens and the address a
//! health check or a printed URL uses. The service itself is the `order-metafields-service`
//! crate; the sandbox is `order-metafields-sandbox`.

pub mod address;
#[cfg(feature = "demo")]
pub mod demo;
pub mod fields;
pub mod stores;
pub mod token;
