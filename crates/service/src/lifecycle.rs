//! The app's lifecycle (BigCommerce's "Single-Click App OAuth Flow" and "Callback
//! Handlers"), as decisions and their effects, without HTTP: an install exchanges its code,
//! checks the granted scopes, seals and saves the token, registers the store's webhooks and
//! starts serving the store; a load verifies its single-use payload and records the user; an
//! uninstall forgets the store everywhere at once (database, registry, caches); a removed
//! user is forgotten. At start-up the installed stores are read back from the database.
//! Installs and uninstalls are announced to the other replicas (`replicas`), which read the
//! store again from the database or stop serving it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use secrecy::SecretString;

use crate::access::Access;
use crate::auth::AuthError;
use crate::auth::signed_payload::{PayloadVerifier, VerifiedPayload};
use crate::cache::changes::Change;
use crate::config::{AppSettings, AuthSettings, VisibilitySettings};
use crate::database::{Database, DatabaseError, StoreRecord, UserRecord};
use crate::domain::{StoreHash, VisibilityPolicy};
use crate::fields::FieldDefinitions;
use crate::hook_registration;
use crate::management::login::{AppCredentials, AuthorizationCode, LoginClient, LoginError};
use crate::replicas::Replicas;
use crate::sealing::TokenSealer;
use crate::stores::{Origin, Store, StoreRegistry};
use crate::webhooks::store_webhook_secret;

/// Installs, loads, uninstalls: everything the app callbacks change.
pub struct Lifecycle {
    database: Database,
    sealer: TokenSealer,
    stores: Arc<StoreRegistry>,
    access: Access,
    login: LoginClient,
    app: AppSettings,
    client_id: String,
    client_secret: SecretString,
    /// The key the stores' `X-Webhook-Secret` values are derived from.
    webhook_key: SecretString,
    payloads: PayloadVerifier,
    /// The namespace allow-list of a store with no saved settings.
    default_namespaces: BTreeSet<String>,
    /// The other replicas, told of installs and uninstalls.
    replicas: Replicas,
}

/// The parameters of the auth callback, as the merchant's browser brought them.
pub struct InstallRequest<'a> {
    pub code: SecretString,
    pub scope: &'a str,
    pub context: &'a str,
    pub account_uuid: Option<&'a str>,
}

/// A store just installed.
#[derive(Debug)]
pub struct Installed {
    pub store: StoreHash,
    /// The control-panel user who installed it (the merchant page's session is theirs).
    pub user_id: i64,
    /// Whether the store's webhooks are registered; without them, cached answers only
    /// change when they expire.
    pub webhooks_registered: bool,
}

/// A store opened in its control panel by one of its users.
#[derive(Debug)]
pub struct Loaded {
    pub store: StoreHash,
    /// Whether the app is installed on it (a load for another store gets a page saying so).
    pub installed: bool,
    pub user_is_owner: bool,
    /// The control-panel user who opened it.
    pub user_id: i64,
}

/// Why an install did not happen. Nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("the install request is not from BigCommerce's control panel: {0}")]
    BadRequest(&'static str),
    #[error("the granted scopes differ from APP_SCOPES")]
    ScopeMismatch {
        missing: Vec<String>,
        unexpected: Vec<String>,
    },
    #[error(transparent)]
    Login(#[from] LoginError),
    #[error("the login service granted a token for another store")]
    WrongStore,
    #[error(transparent)]
    Database(#[from] DatabaseError),
    #[error("sealing the access token failed")]
    Sealing,
}

/// Why a callback with a `signed_payload_jwt` was refused.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// The payload failed verification (forged, expired, another app...).
    #[error("the signed payload was refused: {0}")]
    Refused(AuthError),
    /// A payload used before (each is good for one callback).
    #[error("the signed payload was used before")]
    Replayed,
    /// An uninstall payload for a store whose access token still works: BigCommerce
    /// revokes it when the app is uninstalled, so this is not a real uninstall (for
    /// example a load payload sent to `/uninstall`).
    #[error("the store's access token still works: the app was not uninstalled")]
    StillInstalled,
    /// BigCommerce did not answer whether the store's token still works (an outage, a
    /// timeout, a spent quota): the uninstall is neither believed nor refused.
    #[error("bigcommerce did not confirm the uninstall")]
    Unconfirmed,
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

impl Lifecycle {
    /// Reads the installed stores from `database` and serves each (resealing a token sealed
    /// with the previous key), then answers the callbacks.
    #[allow(clippy::too_many_arguments)]
    pub async fn start(
        database: Database,
        stores: Arc<StoreRegistry>,
        access: Access,
        app: &AppSettings,
        auth: &AuthSettings,
        visibility: &VisibilitySettings,
        login: LoginClient,
        replicas: Replicas,
    ) -> Result<Self, StartError> {
        let lifecycle = Self {
            sealer: TokenSealer::new(&app.token_key, app.previous_token_key.as_ref()),
            database,
            stores,
            access,
            login,
            app: app.clone(),
            client_id: auth.client_id.clone(),
            client_secret: auth.client_secret.clone(),
            webhook_key: auth
                .webhook_secret
                .clone()
                .unwrap_or_else(|| auth.client_secret.clone()),
            payloads: PayloadVerifier::new(auth),
            default_namespaces: visibility.extra_namespaces.clone(),
            replicas,
        };
        lifecycle
            .payloads
            .self_test(auth)
            .map_err(StartError::SelfTest)?;
        lifecycle.serve_installed().await?;
        Ok(lifecycle)
    }

    /// The payload verifier (also for tests of the callbacks).
    pub fn payloads(&self) -> &PayloadVerifier {
        &self.payloads
    }

    /// `GET /bigcommerce/auth`: exchanges the code and installs the store.
    pub async fn install(&self, request: InstallRequest<'_>) -> Result<Installed, InstallError> {
        let store = StoreHash::from_context(request.context)
            .ok_or(InstallError::BadRequest("context is not stores/{hash}"))?;
        self.check_scopes(request.scope)?;
        let redirect_uri = self.app.redirect_uri();
        let grant = self
            .login
            .exchange(
                &AppCredentials {
                    client_id: &self.client_id,
                    client_secret: &self.client_secret,
                    redirect_uri: &redirect_uri,
                },
                &AuthorizationCode {
                    code: &request.code,
                    scope: request.scope,
                    context: request.context,
                },
            )
            .await?;
        if StoreHash::from_context(&grant.context).as_ref() != Some(&store) {
            return Err(InstallError::WrongStore);
        }
        // The grant's own scope is what the token can do.
        self.check_scopes(&grant.scope)?;
        let (sealed, key_id) = self
            .sealer
            .seal(store.as_str(), &grant.access_token)
            .map_err(|_| InstallError::Sealing)?;
        let record = StoreRecord::installed_now(
            store.as_str().to_owned(),
            sealed,
            key_id,
            grant.scope.clone(),
            (grant.owner.id, grant.owner.email.clone()),
            grant
                .account_uuid
                .clone()
                .or_else(|| request.account_uuid.map(str::to_owned)),
        );
        self.database.save_store(&record).await?;
        let now = unix_now();
        self.database
            .record_user(
                store.as_str(),
                &UserRecord {
                    user_id: grant.user.id,
                    email: grant.user.email.clone(),
                    locale: None,
                    first_seen_at: now,
                    last_seen_at: now,
                },
            )
            .await?;
        // A store installed again finds the definitions and settings its merchant made
        // before (an uninstall deleted them; a reinstall without one keeps them).
        let (policy, fields, channel_orders) = self.stored(&store).await?;
        // A reinstall replaces the earlier installation; whatever it cached is dropped.
        if let Some(earlier) = self.stores.remove(store.as_str()) {
            self.access.invalidate(Change::Store(earlier.scope.key));
        }
        let served = self.stores.serve(
            store.clone(),
            &grant.access_token,
            policy,
            fields,
            Origin::Installed,
            channel_orders,
        );
        self.replicas.installed(store.clone());
        let webhooks_registered = self.register_webhooks(&served).await;
        tracing::info!(store = %store, webhooks_registered, "app installed");
        Ok(Installed {
            store,
            user_id: grant.user.id,
            webhooks_registered,
        })
    }

    /// `GET /bigcommerce/load`: a user opens the app. The payload is good once.
    pub async fn load(&self, token: &str) -> Result<Loaded, CallbackError> {
        let payload = self.verify_once(token).await?;
        let installed = self.stores.get(payload.store.as_str()).is_some();
        if installed {
            let now = unix_now();
            self.database
                .record_user(
                    payload.store.as_str(),
                    &UserRecord {
                        user_id: payload.user.id,
                        email: payload.user.email.clone(),
                        locale: payload.user.locale.clone(),
                        first_seen_at: now,
                        last_seen_at: now,
                    },
                )
                .await?;
        }
        Ok(Loaded {
            user_is_owner: payload.user_is_owner(),
            user_id: payload.user.id,
            store: payload.store,
            installed,
        })
    }

    /// `GET /bigcommerce/uninstall`: forgets the store at once: its token, users and
    /// settings, and everything cached for it. Returns whether it was installed.
    pub async fn uninstall(&self, token: &str) -> Result<(StoreHash, bool), CallbackError> {
        let payload = self.verify_once(token).await?;
        // BigCommerce's payloads do not say which callback they are for: a user's own load
        // payload is as well signed as an uninstall's. An uninstall is believed only once
        // the store's token no longer works, as it stops when the app is uninstalled.
        if let Some(served) = self.stores.get(payload.store.as_str()) {
            let management = served.management();
            match management.token_refused(management.deadline()).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(store = %payload.store, user_id = payload.user.id, "refused an uninstall callback: the store's access token still works, so the app was not uninstalled");
                    return Err(CallbackError::StillInstalled);
                }
                Err(error) => {
                    tracing::warn!(store = %payload.store, error = %error, "cannot tell whether the app was uninstalled: BigCommerce did not answer the token check; nothing forgotten");
                    return Err(CallbackError::Unconfirmed);
                }
            }
        }
        let forgotten = self.forget(&payload.store).await?;
        tracing::info!(store = %payload.store, forgotten, "app uninstalled");
        Ok((payload.store, forgotten))
    }

    /// `GET /bigcommerce/remove_user`: forgets the user. Returns whether they were known.
    pub async fn remove_user(&self, token: &str) -> Result<(StoreHash, bool), CallbackError> {
        let payload = self.verify_once(token).await?;
        let removed = self
            .database
            .remove_user(payload.store.as_str(), payload.user.id)
            .await?;
        tracing::info!(store = %payload.store, user_id = payload.user.id, removed, "app user removed");
        Ok((payload.store, removed))
    }

    /// The verified payload, claimed for this one callback: a payload already used for any
    /// callback (load, uninstall or remove_user) is `Replayed`.
    async fn verify_once(&self, token: &str) -> Result<VerifiedPayload, CallbackError> {
        let payload = self.verify(token)?;
        if !self
            .database
            .claim_load_token(&payload.jti, to_i64(payload.expires), unix_now())
            .await?
        {
            return Err(CallbackError::Replayed);
        }
        Ok(payload)
    }

    /// Forgets an installed store everywhere (also `order-metafields stores forget`):
    /// registry first, so no request is served for it from now on, then the caches and the
    /// database. Returns whether the database knew it.
    pub async fn forget(&self, store: &StoreHash) -> Result<bool, DatabaseError> {
        if let Some(served) = self.stores.remove(store.as_str()) {
            self.access.invalidate(Change::Store(served.scope.key));
        }
        let forgotten = self.database.forget_store(store.as_str()).await?;
        self.replicas.forgotten(store.clone());
        Ok(forgotten)
    }

    /// Another replica installed `store`: serves it as the database has it now (a new
    /// installation, so nothing cached for an earlier one answers), or stops serving it if
    /// the database does not have it (it was forgotten since).
    pub async fn serve_from_database(&self, store: &StoreHash) {
        match self.database.store(store.as_str()).await {
            Ok(Some(record)) => {
                if let Err(error) = self.serve_record(&record).await {
                    tracing::error!(store = %store, error = %error, "cannot serve a store another replica installed");
                }
            }
            Ok(None) => self.stop_serving(store),
            Err(error) => {
                tracing::error!(store = %store, error = %error, "cannot read a store another replica installed; it is served when this replica listens again")
            }
        }
    }

    /// Another replica forgot `store`: stops serving it and drops what was cached for it.
    pub fn stop_serving(&self, store: &StoreHash) {
        if let Some(served) = self.stores.remove(store.as_str()) {
            self.access
                .invalidate_announced(Change::Store(served.scope.key));
            tracing::info!(store = %store, "store forgotten by another replica: no longer served");
        }
    }

    /// Reads every installed store again (after installs and uninstalls may have been
    /// missed): serves each anew and stops serving those the database no longer has.
    pub async fn reload_stores(&self) {
        let records = match self.database.stores().await {
            Ok(records) => records,
            Err(error) => {
                tracing::error!(error = %error, "cannot read the installed stores again; serving those loaded before");
                return;
            }
        };
        for served in self.stores.all() {
            if served.origin == Origin::Installed
                && !records
                    .iter()
                    .any(|record| record.store_hash == served.hash.as_str())
            {
                self.stop_serving(&served.hash);
            }
        }
        for record in &records {
            if let Err(error) = self.serve_record(record).await {
                tracing::error!(store = %record.store_hash, error = %error, "cannot serve an installed store again");
            }
        }
        tracing::info!(stores = self.stores.len(), "installed stores read again");
    }

    /// Serves the store of `record` anew (replacing, and dropping the caches of, an earlier
    /// installation). A record whose token cannot be opened is left out with an error line.
    async fn serve_record(&self, record: &StoreRecord) -> Result<(), DatabaseError> {
        let Some((store, token)) = self.open(record) else {
            return Ok(());
        };
        let (policy, fields, channel_orders) = self.stored(&store).await?;
        if let Some(earlier) = self.stores.remove(store.as_str()) {
            self.access
                .invalidate_announced(Change::Store(earlier.scope.key));
        }
        self.stores.serve(
            store,
            &token,
            policy,
            fields,
            Origin::Installed,
            channel_orders,
        );
        Ok(())
    }

    /// The store and its opened access token, or `None` with an error line.
    fn open(&self, record: &StoreRecord) -> Option<(StoreHash, SecretString)> {
        let Some(store) = StoreHash::parse(&record.store_hash) else {
            tracing::error!("an installed store's hash is malformed in the database; left out");
            return None;
        };
        match self.sealer.open(
            store.as_str(),
            &record.sealed_access_token,
            &record.token_key_id,
        ) {
            Ok(token) => Some((store, token)),
            Err(error) => {
                tracing::error!(store = %store, error = %error, "cannot open the store's access token; the store is not served until it is installed again or the key is configured");
                None
            }
        }
    }

    fn verify(&self, token: &str) -> Result<VerifiedPayload, CallbackError> {
        self.payloads
            .verify(token, unix_now_u64())
            .map_err(CallbackError::Refused)
    }

    fn check_scopes(&self, granted: &str) -> Result<(), InstallError> {
        let granted: BTreeSet<String> = granted.split_whitespace().map(str::to_owned).collect();
        if granted == self.app.scopes {
            return Ok(());
        }
        Err(InstallError::ScopeMismatch {
            missing: self.app.scopes.difference(&granted).cloned().collect(),
            unexpected: granted.difference(&self.app.scopes).cloned().collect(),
        })
    }

    /// What the store is served with, as stored: its visibility policy, field definitions
    /// and channel-orders setting (the defaults for a store without settings).
    async fn stored(
        &self,
        store: &StoreHash,
    ) -> Result<(VisibilityPolicy, FieldDefinitions, bool), DatabaseError> {
        let (policy, channel_orders) = match self.database.settings(store.as_str()).await? {
            Some(settings) => (
                VisibilityPolicy::new(settings.metafield_namespaces),
                settings.channel_orders,
            ),
            None => (
                VisibilityPolicy::new(self.default_namespaces.clone()),
                false,
            ),
        };
        let fields = self.database.field_definitions(store.as_str()).await?;
        Ok((policy, fields, channel_orders))
    }

    /// Registers the store's webhooks to `{APP_URL}/webhooks/bigcommerce` with its own
    /// secret header. A failure is logged, not fatal: the store is served, and its cached
    /// answers expire on their own.
    async fn register_webhooks(&self, store: &Store) -> bool {
        let secret = store_webhook_secret(&self.webhook_key, &store.hash);
        let scopes = [
            hook_registration::SCOPES.as_slice(),
            hook_registration::CHANNEL_SCOPES.as_slice(),
        ]
        .concat();
        match hook_registration::register_scopes(
            store.management(),
            &self.app.webhook_destination(),
            &secret,
            &scopes,
        )
        .await
        {
            Ok(actions) => {
                tracing::info!(store = %store.hash, hooks = actions.len(), "webhooks registered");
                true
            }
            Err(error) => {
                tracing::warn!(store = %store.hash, error = %error, "registering the store's webhooks failed; its cached answers will only change when they expire");
                false
            }
        }
    }

    /// Serves every installed store, resealing with the current key what the previous key
    /// sealed. A store whose token cannot be opened (its key is not configured any more, or
    /// the row is damaged) is left out with an error line; the others are served.
    async fn serve_installed(&self) -> Result<(), StartError> {
        let records = self.database.stores().await?;
        let mut resealed = 0;
        for record in records {
            let Some((store, token)) = self.open(&record) else {
                continue;
            };
            if record.token_key_id != self.sealer.current_key_id() {
                resealed += usize::from(self.reseal(&store, &record, &token).await);
            }
            let (policy, fields, channel_orders) = self.stored(&store).await?;
            self.stores.serve(
                store,
                &token,
                policy,
                fields,
                Origin::Installed,
                channel_orders,
            );
        }
        if resealed > 0 {
            tracing::info!(
                stores = resealed,
                "sealed access tokens again with TOKEN_ENCRYPTION_KEY"
            );
        }
        tracing::info!(stores = self.stores.len(), "installed stores loaded");
        Ok(())
    }

    async fn reseal(&self, store: &StoreHash, record: &StoreRecord, token: &SecretString) -> bool {
        let Ok((sealed, key_id)) = self.sealer.seal(store.as_str(), token) else {
            return false;
        };
        self.database
            .reseal_store_token(store.as_str(), &record.token_key_id, &sealed, &key_id)
            .await
            .unwrap_or(false)
    }
}

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] DatabaseError),
    #[error("start-up check of app callback payload verification failed: {0}")]
    SelfTest(String),
}

fn unix_now_u64() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

fn unix_now() -> i64 {
    to_i64(unix_now_u64())
}

fn to_i64(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX)
}
