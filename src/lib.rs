//! The `order-metafields` binary's commands beyond `serve`: the demo (the service against the
//! sandbox store, behind the default `demo` feature) and development tokens. The service
//! itself is the `order-metafields-service` crate; the sandbox is `order-metafields-sandbox`.

#[cfg(feature = "demo")]
pub mod demo;
pub mod token;
