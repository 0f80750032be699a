//! How a Management API call can fail, classified by what the caller should do about it.
//! The HTTP layer maps each variant to a status in `problem.rs`; nothing here knows HTTP
//! statuses of this service, and no upstream body or header value is kept in an error.

use std::time::Duration;

/// A failed Management API operation.
#[derive(Debug, thiserror::Error)]
pub enum ManagementError {
    /// The store's API quota stays spent past the retry budget; try again after the hint.
    #[error("the store's api quota is spent for {operation}; retry after {retry_after:?}")]
    RateLimited {
        operation: Operation,
        retry_after: Duration,
    },
    /// BigCommerce kept failing (5xx or a broken connection) through every retry.
    #[error("bigcommerce failed {operation} ({cause})")]
    Unavailable { operation: Operation, cause: String },
    /// An upstream request took longer than the configured timeout.
    #[error("bigcommerce did not answer {operation} in time")]
    Timeout { operation: Operation },
    /// The resource does not exist upstream.
    #[error("bigcommerce has no resource for {operation}")]
    NotFound { operation: Operation },
    /// BigCommerce refused the request itself (401/403: the access token or its scopes
    /// are wrong; other 4xx: a request this client should not have made).
    #[error("bigcommerce refused {operation} with status {status}")]
    Rejected { operation: Operation, status: u16 },
    /// The answer could not be used: a `2xx` whose body is unreadable, of the wrong shape,
    /// or too large, or a redirect.
    #[error("bigcommerce sent an unreadable answer to {operation} ({reason})")]
    InvalidResponse {
        operation: Operation,
        reason: String,
    },
}

impl ManagementError {
    /// Whether BigCommerce failed, in a way that may pass by itself: its quota is spent, it
    /// is down or cut off, it is too slow, or it answered with something this client cannot
    /// use (a `2xx` with malformed JSON, HTML, the wrong shape, a bad field value or an
    /// oversized body, or a redirect, which the Management API never sends). Then a cached
    /// answer may stand in for a fresh one (stale-if-error).
    ///
    /// A refused access token (`401`, `403`), a `404` and any other `4xx` are not
    /// failures: they are BigCommerce's answer (the token or store is wrong, the resource
    /// is gone, the request was wrong), and a stale answer must not hide them.
    pub fn is_upstream_failure(&self) -> bool {
        matches!(
            self,
            ManagementError::RateLimited { .. }
                | ManagementError::Unavailable { .. }
                | ManagementError::Timeout { .. }
                | ManagementError::InvalidResponse { .. }
        )
    }
}

/// The upstream operation an error belongs to, for logs and metrics (never a secret).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    CustomerOrders,
    OrderMetafields,
    ListHooks,
    CreateHook,
    UpdateHook,
    DeleteHook,
    /// The cheap call readiness makes to see that the access token is accepted.
    ReadinessProbe,
    /// The merchant page's look-up of a metafield key's permission sets.
    KeyPermissions,
    /// Whether the store's access token still opens it (an uninstall callback's check).
    CheckToken,
    /// The merchant page's discovery of the keys on recent orders.
    DiscoverMetafields,
    ListScripts,
    CreateScript,
    DeleteScript,
    /// `POST /v3/storefront/api-token-private`.
    CreatePrivateToken,
    /// `customer { entityId }` on the GraphQL Storefront API.
    VerifyCustomerAccessToken,
    /// `GET /v3/sites`.
    ListSites,
    /// A shopper's write: the current metafield of one key of an order.
    MetafieldByKey,
    /// A shopper's write creating the metafield.
    CreateMetafield,
    /// A shopper's write updating the metafield.
    UpdateMetafield,
    /// The mirror reading the store's orders (`SYNC_MODE=mirror`).
    SyncOrders,
    /// The mirror reading the store's order metafields.
    SyncMetafields,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::CustomerOrders => "list customer orders",
            Operation::OrderMetafields => "list order metafields",
            Operation::ListHooks => "list webhooks",
            Operation::CreateHook => "create a webhook",
            Operation::UpdateHook => "update a webhook",
            Operation::DeleteHook => "delete a webhook",
            Operation::ReadinessProbe => "check the access token",
            Operation::KeyPermissions => "look up a metafield key's permission sets",
            Operation::CheckToken => "check the store's access token",
            Operation::DiscoverMetafields => "list recent orders' metafields",
            Operation::ListScripts => "list scripts",
            Operation::CreateScript => "create a script",
            Operation::DeleteScript => "delete a script",
            Operation::CreatePrivateToken => "create a private storefront token",
            Operation::VerifyCustomerAccessToken => "check a customer access token",
            Operation::ListSites => "list sites",
            Operation::MetafieldByKey => "read an order metafield by key",
            Operation::CreateMetafield => "create an order metafield",
            Operation::UpdateMetafield => "update an order metafield",
            Operation::SyncOrders => "mirror the store's orders",
            Operation::SyncMetafields => "mirror the store's order metafields",
        }
    }

    /// The operation's name as a metric label value.
    pub fn label(self) -> &'static str {
        match self {
            Operation::CustomerOrders => "list_customer_orders",
            Operation::OrderMetafields => "list_order_metafields",
            Operation::ListHooks => "list_hooks",
            Operation::CreateHook => "create_hook",
            Operation::UpdateHook => "update_hook",
            Operation::DeleteHook => "delete_hook",
            Operation::ReadinessProbe => "readiness_probe",
            Operation::KeyPermissions => "key_permissions",
            Operation::CheckToken => "check_token",
            Operation::DiscoverMetafields => "discover_metafields",
            Operation::ListScripts => "list_scripts",
            Operation::CreateScript => "create_script",
            Operation::DeleteScript => "delete_script",
            Operation::CreatePrivateToken => "create_private_token",
            Operation::VerifyCustomerAccessToken => "verify_customer_access_token",
            Operation::ListSites => "list_sites",
            Operation::MetafieldByKey => "metafield_by_key",
            Operation::CreateMetafield => "create_metafield",
            Operation::UpdateMetafield => "update_metafield",
            Operation::SyncOrders => "sync_orders",
            Operation::SyncMetafields => "sync_metafields",
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}
