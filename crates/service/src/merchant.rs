//! The merchant page's decisions, without HTTP: who may open a store's page (a session of
//! that store and user, the store still installed, the user not removed), saving and
//! deleting field definitions (validated; never showing a key the storefront must not see;
//! stored, swapped into the served store, and recorded as a [`Change::FieldDefinitions`] so
//! every cached answer rendered with the old ones is dropped), and the preview "as
//! customer N" through the very `Access` calls the storefront's requests make.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::access::{Access, AccessError};
use crate::cache::changes::Change;
use crate::database::{Database, DatabaseError};
use crate::domain::{CustomerId, OrderId, PermissionSet, StoreHash, StoreKey};
use crate::fields::{FieldDefinition, FieldDefinitions, FieldError};
use crate::management::error::ManagementError;
use crate::management::scripts::ScriptSpec;
use crate::merchant_session::{Session, SessionError, SessionKeys};
use crate::stores::{Store, StoreRegistry};

/// The merchant page's state: the database, the stores served, the read model and the
/// session keys.
pub struct MerchantPages {
    database: Database,
    stores: Arc<StoreRegistry>,
    access: Access,
    sessions: SessionKeys,
    /// One save at a time in this replica: a save reads, changes and writes the whole set.
    saving: tokio::sync::Mutex<()>,
    /// Whether each store's storefront script is installed, as last seen.
    scripts: moka::future::Cache<StoreKey, bool>,
    /// Each store's discovered keys, for [`DISCOVERY_TTL`]; one load at a time per store.
    discoveries: moka::future::Cache<StoreKey, Arc<Discovery>>,
}

/// How long the keys found on a store's recent orders are kept: at most
/// `DISCOVERY_MAX_PAGES` Management API requests per store in this time.
pub const DISCOVERY_TTL: Duration = Duration::from_secs(600);
/// How long whether a store's script is installed is trusted without asking again.
pub const SCRIPT_STATE_TTL: Duration = Duration::from_secs(60);
/// The name of the storefront script this app installs (it finds its own by it).
pub const SCRIPT_NAME: &str = "order-metafields";
/// The OAuth scope the Scripts API needs (Content: modify).
pub const CONTENT_SCOPE: &str = "store_v2_content";

/// Why the storefront script could not be read or switched.
#[derive(Debug, thiserror::Error)]
pub enum StorefrontScriptError {
    #[error("the store did not grant the Content scope (store_v2_content)")]
    NoContentScope,
    #[error(transparent)]
    Upstream(#[from] ManagementError),
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

/// How far back discovery looks (`date_modified:min`).
pub const DISCOVERY_DAYS: i64 = 30;

/// The order metafield keys found on a store's recently modified orders.
#[derive(Debug)]
pub struct Discovery {
    pub keys: Vec<DiscoveredKey>,
    /// `date_modified:min` of the read.
    pub since: String,
    /// Whether every page was read (else the bounded pages were not enough).
    pub complete: bool,
}

/// One key found by discovery.
#[derive(Debug)]
pub struct DiscoveredKey {
    pub namespace: String,
    pub key: String,
    /// Every permission set the key carries, by name.
    pub permission_sets: Vec<&'static str>,
    /// How many orders carry it.
    pub orders: usize,
    /// Whether shoppers may see it (every permission set it carries is visible).
    pub visible: bool,
}

/// A page opened by a valid session.
pub struct Opened {
    pub session: Session,
    pub store: Arc<Store>,
    /// The token every form of the page carries.
    pub csrf: String,
}

/// Why the page does not open.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A session of another store (or a path naming no store).
    #[error("the session is for another store")]
    OtherStore,
    /// The store is not served (uninstalled).
    #[error("the store is not installed")]
    NotInstalled,
    /// The user was removed from the store (`remove_user`).
    #[error("the user no longer has access to the app")]
    UserRemoved,
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

/// Why a definition was not saved. Nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("the definition is invalid")]
    Invalid(Vec<FieldError>),
    /// The key is not shown to shoppers (`app_only`, or `read`/`write` outside the
    /// namespace allow-list); only a hidden definition may name it.
    #[error("the definition would show a metafield shoppers must not see")]
    WouldExpose(FieldError),
    #[error("looking up the key's permission sets failed: {0}")]
    Upstream(#[from] ManagementError),
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

/// What the storefront would answer for one order of one customer.
pub struct Preview {
    pub customer: CustomerId,
    /// `None`: the customer has no orders.
    pub order: Option<OrderId>,
    /// The exact `GET /v1/orders/{id}/metafields` body; `None` when the order is not the
    /// customer's (the storefront answers `404`).
    pub body: Option<Bytes>,
}

impl MerchantPages {
    pub fn new(
        database: Database,
        stores: Arc<StoreRegistry>,
        access: Access,
        sessions: SessionKeys,
    ) -> Self {
        Self {
            database,
            stores,
            access,
            sessions,
            saving: tokio::sync::Mutex::new(()),
            scripts: moka::future::Cache::builder()
                .name("merchant-scripts")
                .max_capacity(10_000)
                .time_to_live(SCRIPT_STATE_TTL)
                .build(),
            discoveries: moka::future::Cache::builder()
                .name("merchant-discoveries")
                .max_capacity(10_000)
                .time_to_live(DISCOVERY_TTL)
                .build(),
        }
    }

    /// A new session for `user_id` of `store`: the session and its `Set-Cookie` value.
    pub fn start_session(&self, store: &StoreHash, user_id: i64) -> (Session, String) {
        let now = unix_now();
        let (session, value) = self.sessions.issue(store, user_id, now);
        let cookie = crate::merchant_session::set_cookie(&value, now, session.expires_at);
        (session, cookie)
    }

    /// The store, if it is served.
    pub fn served(&self, store: &StoreHash) -> Option<Arc<Store>> {
        self.stores.get(store.as_str())
    }

    /// The CSRF token of a session.
    pub fn csrf_token(&self, session: &Session) -> String {
        self.sessions.csrf_token(session)
    }

    /// Opens `store_hash`'s page with the session cookie `cookie`.
    pub async fn open(&self, cookie: Option<&str>, store_hash: &str) -> Result<Opened, PageError> {
        let value = cookie.ok_or(SessionError::Missing)?;
        let session = self.sessions.verify(value, unix_now())?;
        if session.store.as_str() != store_hash {
            return Err(PageError::OtherStore);
        }
        let store = self.stores.get(store_hash).ok_or(PageError::NotInstalled)?;
        if !self.database.has_user(store_hash, session.user_id).await? {
            return Err(PageError::UserRemoved);
        }
        let csrf = self.sessions.csrf_token(&session);
        Ok(Opened {
            session,
            store,
            csrf,
        })
    }

    /// Whether `token` is the session's CSRF token.
    pub fn csrf_matches(&self, session: &Session, token: Option<&str>) -> bool {
        token.is_some_and(|token| self.sessions.csrf_matches(session, token))
    }

    /// Adds or replaces the definition of its key. A definition that shows the key is
    /// checked against the permission sets the key carries on the store's orders (one
    /// Management API request); a hidden one needs no check.
    pub async fn save_definition(
        &self,
        store: &Store,
        definition: FieldDefinition,
        user_id: i64,
    ) -> Result<(), SaveError> {
        let _one_at_a_time = self.saving.lock().await;
        let updated = store
            .scope
            .fields
            .load()
            .with(definition.clone())
            .map_err(SaveError::Invalid)?;
        if !definition.hidden {
            let sets = store
                .management()
                .key_permission_sets(
                    &definition.namespace,
                    &definition.key,
                    store.management().deadline(),
                )
                .await?;
            if let Some(set) = sets
                .iter()
                .find(|set| !store.scope.policy.shows(&definition.namespace, **set))
            {
                return Err(SaveError::WouldExpose(FieldError {
                    field: format!("{}.{}.hidden", definition.namespace, definition.key),
                    message: format!(
                        "{}.{} is {} on this store's orders, which shoppers never see; a definition can only hide it",
                        definition.namespace,
                        definition.key,
                        permission_name(*set)
                    ),
                }));
            }
        }
        self.replace(store, updated).await?;
        tracing::info!(
            target: "audit",
            store = %store.hash,
            user_id,
            namespace = %definition.namespace,
            key = %definition.key,
            hidden = definition.hidden,
            "field definition saved"
        );
        Ok(())
    }

    /// Deletes the definition of `(namespace, key)`; returns whether there was one.
    pub async fn delete_definition(
        &self,
        store: &Store,
        namespace: &str,
        key: &str,
        user_id: i64,
    ) -> Result<bool, DatabaseError> {
        let _one_at_a_time = self.saving.lock().await;
        let current = store.scope.fields.load_full();
        if current.get(namespace, key).is_none() {
            return Ok(false);
        }
        self.replace(store, current.without(namespace, key)).await?;
        tracing::info!(target: "audit", store = %store.hash, user_id, namespace, key, "field definition deleted");
        Ok(true)
    }

    /// What the storefront answers customer `customer` for `order` (their newest order when
    /// `None`), through the same `Access` calls as `GET /v1/orders/{id}/metafields`.
    /// Audit-logged: the merchant saw a shopper's data.
    pub async fn preview(
        &self,
        store: &Store,
        customer: CustomerId,
        order: Option<OrderId>,
        user_id: i64,
    ) -> Result<Preview, AccessError> {
        let order = match order {
            Some(order) => Some(order),
            None => newest_order(&self.access.orders(&store.scope, customer).await?),
        };
        tracing::info!(
            target: "audit",
            store = %store.hash,
            user_id,
            customer = customer.get(),
            order = order.map(OrderId::get),
            "merchant previewed the storefront as a customer"
        );
        let Some(order) = order else {
            return Ok(Preview {
                customer,
                order: None,
                body: None,
            });
        };
        let body = match self.access.metafields(&store.scope, customer, order).await {
            Ok(metafields) => Some(metafields.value().body.clone()),
            Err(AccessError::NotFound) => None,
            Err(error) => return Err(error),
        };
        Ok(Preview {
            customer,
            order: Some(order),
            body,
        })
    }

    /// The order metafield keys on the store's orders modified in the last
    /// [`DISCOVERY_DAYS`] days (cached for [`DISCOVERY_TTL`]; concurrent page loads share
    /// one read).
    pub async fn discovery(&self, store: &Store) -> Result<Arc<Discovery>, Arc<ManagementError>> {
        self.discoveries
            .try_get_with(store.scope.key, async {
                let since = (time::OffsetDateTime::now_utc()
                    - time::Duration::days(DISCOVERY_DAYS))
                .date()
                .to_string();
                let (found, complete) = store
                    .management()
                    .recent_order_metafields(&since, store.management().deadline())
                    .await?;
                Ok(Arc::new(discovered(
                    &store.scope.policy,
                    found,
                    since,
                    complete,
                )))
            })
            .await
    }

    /// Whether the storefront script is installed on the store (one request, whose answer
    /// is kept for [`SCRIPT_STATE_TTL`]); `None` when the store did not grant the Content
    /// scope, which the Scripts API needs.
    pub async fn script_installed(
        &self,
        store: &Store,
    ) -> Result<Option<bool>, StorefrontScriptError> {
        if !self.has_content_scope(store).await? {
            return Ok(None);
        }
        if let Some(installed) = self.scripts.get(&store.scope.key).await {
            return Ok(Some(installed));
        }
        let installed = !self.own_scripts(store).await?.is_empty();
        self.scripts.insert(store.scope.key, installed).await;
        Ok(Some(installed))
    }

    /// Installs (`on`) or removes the storefront script: at most one of ours stays, and a
    /// switch to the state it is in changes nothing. Audit-logged.
    pub async fn switch_script(
        &self,
        store: &Store,
        on: bool,
        script_html: &str,
        user_id: i64,
    ) -> Result<(), StorefrontScriptError> {
        if !self.has_content_scope(store).await? {
            return Err(StorefrontScriptError::NoContentScope);
        }
        let ours = self.own_scripts(store).await?;
        if on && ours.is_empty() {
            store
                .management()
                .create_script(&ScriptSpec {
                    name: SCRIPT_NAME,
                    description: "Shows order metafields on the order pages (order-metafields app)",
                    html: script_html,
                })
                .await?;
        }
        let extra = if on { 1 } else { 0 };
        for script in ours.iter().skip(extra) {
            store.management().delete_script(&script.uuid).await?;
        }
        self.scripts.insert(store.scope.key, on).await;
        tracing::info!(target: "audit", store = %store.hash, user_id, on, "storefront script switched");
        Ok(())
    }

    async fn own_scripts(
        &self,
        store: &Store,
    ) -> Result<Vec<crate::management::scripts::Script>, ManagementError> {
        Ok(store
            .management()
            .list_scripts()
            .await?
            .into_iter()
            .filter(|script| script.name == SCRIPT_NAME)
            .collect())
    }

    async fn has_content_scope(&self, store: &Store) -> Result<bool, DatabaseError> {
        let scope = self
            .database
            .store(store.hash.as_str())
            .await?
            .map(|record| record.scope)
            .unwrap_or_default();
        Ok(scope
            .split_whitespace()
            .any(|granted| granted == CONTENT_SCOPE))
    }

    /// Stores the whole set, then serves it, then records the change: a request that
    /// starts after this returns is answered with the new definitions.
    /// Turns the store's channel-orders setting on or off: stored (keeping the store's other
    /// settings), switched in the served store, and recorded as a [`Change::Settings`] so
    /// that no order list cached under the old setting's eyes is served (and every replica
    /// reads the setting again).
    pub async fn set_channel_orders(
        &self,
        store: &Store,
        on: bool,
        user_id: i64,
    ) -> Result<(), DatabaseError> {
        let _one_at_a_time = self.saving.lock().await;
        let mut settings = match self.database.settings(store.hash.as_str()).await? {
            Some(settings) => settings,
            None => crate::database::SettingsRecord {
                metafield_namespaces: store.scope.policy.extra_namespaces().clone(),
                channel_orders: false,
            },
        };
        settings.channel_orders = on;
        self.database
            .save_settings(store.hash.as_str(), &settings, to_i64(unix_now()))
            .await?;
        store.set_channel_orders(on);
        self.access.invalidate(Change::Settings(store.scope.key));
        // A reload may have served the store anew meanwhile, with the setting read before
        // this save: the store served now gets it too (and its replicas hear of it).
        if let Some(current) = self.stores.get(store.hash.as_str())
            && current.scope.key != store.scope.key
        {
            current.set_channel_orders(on);
            self.access.invalidate(Change::Settings(current.scope.key));
        }
        tracing::info!(target: "audit", store = %store.hash, user_id, channel_orders = on, "store settings saved");
        Ok(())
    }

    async fn replace(&self, store: &Store, updated: FieldDefinitions) -> Result<(), DatabaseError> {
        self.database
            .replace_field_definitions(store.hash.as_str(), &updated, to_i64(unix_now()))
            .await?;
        let updated = Arc::new(updated);
        store.scope.fields.store(Arc::clone(&updated));
        self.access
            .invalidate(Change::FieldDefinitions(store.scope.key));
        // A reload may have served the store anew meanwhile, with the definitions read
        // before this save: the store served now gets them too (and its replicas hear of it).
        if let Some(current) = self.stores.get(store.hash.as_str())
            && current.scope.key != store.scope.key
        {
            current.scope.fields.store(updated);
            self.access
                .invalidate(Change::FieldDefinitions(current.scope.key));
        }
        Ok(())
    }
}

fn newest_order(
    orders: &crate::cache::layer::Cached<crate::cache::CustomerOrders>,
) -> Option<OrderId> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: u64,
    }
    let json = orders.value().json_run(0..1);
    let id: Id = serde_json::from_slice(json).ok()?;
    OrderId::new(id.id)
}

/// BigCommerce's name of a permission set.
pub fn permission_name(set: PermissionSet) -> &'static str {
    match set {
        PermissionSet::AppOnly => "app_only",
        PermissionSet::Read => "read",
        PermissionSet::Write => "write",
        PermissionSet::ReadAndStorefront => "read_and_sf_access",
        PermissionSet::WriteAndStorefront => "write_and_sf_access",
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

fn to_i64(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

/// Groups discovered metafields by key: their permission sets and how many orders carry it.
fn discovered(
    policy: &crate::domain::VisibilityPolicy,
    found: Vec<(crate::domain::Metafield, Option<u64>)>,
    since: String,
    complete: bool,
) -> Discovery {
    use std::collections::{BTreeMap, BTreeSet};
    let mut by_key: BTreeMap<(String, String), (Vec<PermissionSet>, BTreeSet<u64>)> =
        BTreeMap::new();
    for (metafield, order) in found {
        let entry = by_key
            .entry((metafield.namespace, metafield.key))
            .or_default();
        if !entry.0.contains(&metafield.permission_set) {
            entry.0.push(metafield.permission_set);
        }
        if let Some(order) = order {
            entry.1.insert(order);
        }
    }
    let keys = by_key
        .into_iter()
        .map(|((namespace, key), (sets, orders))| DiscoveredKey {
            visible: sets.iter().all(|set| policy.shows(&namespace, *set)),
            permission_sets: sets.into_iter().map(permission_name).collect(),
            orders: orders.len(),
            namespace,
            key,
        })
        .collect();
    Discovery {
        keys,
        since,
        complete,
    }
}
