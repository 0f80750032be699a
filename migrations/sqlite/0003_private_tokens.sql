-- Each installed store's private tokens (one per channel) for the GraphQL Storefront API (Customer scope),
-- made by the service through POST /v3/storefront/api-token-private to check headless
-- storefronts' customer access tokens. Sealed like the access token (TOKEN_ENCRYPTION_KEY;
-- the associated data is the store hash with "/private-token", so the two never swap).
CREATE TABLE private_tokens (
    store_hash    TEXT    NOT NULL REFERENCES stores (store_hash) ON DELETE CASCADE,
    channel_id    INTEGER NOT NULL,  -- the channel the token is for (its GraphQL endpoint)
    token         BLOB   NOT NULL,
    token_key_id  TEXT    NOT NULL,
    expires_at    INTEGER NOT NULL,  -- Unix seconds, as sent to BigCommerce
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (store_hash, channel_id)
);
