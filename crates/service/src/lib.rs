//! order-metafields: shows a signed-in BigCommerce shopper their own orders and the order
//! metafields the merchant exposed, by verifying the shopper's Current Customer JWT and
//! reading the Management API through a cache.
//!
//! Start at [`startup::Application`] (how the pieces are wired) and [`routes`] (every path).

pub mod access;
pub mod auth;
pub mod cache;
pub mod config;
pub mod database;
pub mod domain;
pub mod fields;
pub mod hook_registration;
pub mod http_limits;
pub mod json_log;
pub mod lifecycle;
pub mod management;
pub mod merchant;
pub mod merchant_session;
pub mod metrics;
pub mod mirror;
pub mod origins;
pub mod problem;
pub mod readiness;
pub mod replicas;
pub mod request_context;
pub mod routes;
pub mod sealing;
pub mod shopper_writes;
pub mod sites;
pub mod startup;
pub mod stores;
pub mod telemetry;
pub mod throttle;
pub mod webhooks;
