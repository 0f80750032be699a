-- Stores that installed the app, the control-panel users seen through `load`, the load
-- tokens already used, and each store's settings.

-- One row per installed store. The access token is sealed (AES-256-GCM with
-- TOKEN_ENCRYPTION_KEY, the store hash as associated data): never stored in the clear.
CREATE TABLE stores (
    store_hash    TEXT    NOT NULL PRIMARY KEY,
    access_token  BYTEA   NOT NULL,
    token_key_id  TEXT    NOT NULL,  -- which encryption key sealed it (for rotation)
    scope         TEXT    NOT NULL,  -- the OAuth scopes granted, space-separated
    owner_id      BIGINT  NOT NULL,
    owner_email   TEXT    NOT NULL,
    account_uuid  TEXT,
    installed_at  BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

-- Control-panel users who opened the app (the owner included: stores.owner_id says who).
CREATE TABLE store_users (
    store_hash     TEXT    NOT NULL REFERENCES stores (store_hash) ON DELETE CASCADE,
    user_id        BIGINT  NOT NULL,
    email          TEXT    NOT NULL,
    locale         TEXT,
    first_seen_at  BIGINT  NOT NULL,
    last_seen_at   BIGINT  NOT NULL,
    PRIMARY KEY (store_hash, user_id)
);

-- The `jti` of every load token used, until it expires: a load token is good for one use.
CREATE TABLE used_load_tokens (
    jti         TEXT    NOT NULL PRIMARY KEY,
    expires_at  BIGINT  NOT NULL
);
CREATE INDEX used_load_tokens_by_expiry ON used_load_tokens (expires_at);

-- Per-store settings that single-store mode reads from the environment. Not tied to
-- `stores` by a foreign key: a single-store deployment has settings and no installed row.
CREATE TABLE store_settings (
    store_hash            TEXT    NOT NULL PRIMARY KEY,
    metafield_namespaces  TEXT    NOT NULL,  -- JSON array of namespace names
    updated_at            BIGINT  NOT NULL
);
