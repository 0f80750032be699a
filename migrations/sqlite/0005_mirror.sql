-- SYNC_MODE=mirror: each store's orders and storefront-visible order metafields, kept in step
-- with BigCommerce by changes rather than page views. No foreign key to `stores`: single-store
-- mode mirrors its store too, and forgetting a store deletes its rows explicitly.

-- Where each store's sync stands: the initial sync's position (resumed after a restart),
-- whether each part is complete, and the high-water marks of the incremental sync.
CREATE TABLE mirror_state (
    store_hash            TEXT   NOT NULL PRIMARY KEY,
    policy                TEXT   NOT NULL,  -- the visibility policy the metafields were chosen by
    started_at            BIGINT NOT NULL,  -- Unix seconds: when the initial sync began
    orders_total          BIGINT NOT NULL,  -- the store's order count when it began (for the ETA)
    orders_synced         BIGINT NOT NULL,
    orders_next_id        BIGINT NOT NULL,  -- initial sync: orders below this id are mirrored
    orders_complete       BIGINT NOT NULL,  -- 1: every order is mirrored, reads use them
    orders_since          BIGINT NOT NULL,  -- catch-up: orders modified at or after this time
    metafields_after      TEXT,             -- initial sync: the batch collection's cursor
    metafields_complete   BIGINT NOT NULL,
    metafields_since      BIGINT NOT NULL,
    completed_at          BIGINT,
    caught_up_at          BIGINT,           -- the latest catch-up that finished
    reconciled_at         BIGINT,           -- the latest full comparison (deletions) that finished
    reconcile_step        BIGINT NOT NULL,  -- the comparison under way: 0 none, 1 orders, 2 metafields
    reconcile_next_id     BIGINT NOT NULL,  -- orders: BigCommerce's ids from this one are next
    reconcile_after       TEXT,             -- metafields: the batch collection's cursor
    reconcile_last_id     BIGINT NOT NULL   -- metafields: mirrored ids up to this one are compared
);

-- One row per order: its owner (indexed: every list read), and the order as served.
CREATE TABLE mirror_orders (
    store_hash     TEXT   NOT NULL,
    order_id       BIGINT NOT NULL,
    customer_id    BIGINT NOT NULL,
    date_modified  BIGINT NOT NULL,
    body           TEXT   NOT NULL,
    PRIMARY KEY (store_hash, order_id)
);
CREATE INDEX mirror_orders_by_customer ON mirror_orders (store_hash, customer_id, order_id);

-- Only metafields the store's visibility policy shows; the others are never stored.
CREATE TABLE mirror_metafields (
    store_hash      TEXT   NOT NULL,
    metafield_id    BIGINT NOT NULL,
    order_id        BIGINT NOT NULL,
    permission_set  TEXT   NOT NULL,
    body            TEXT   NOT NULL,
    PRIMARY KEY (store_hash, metafield_id)
);
CREATE INDEX mirror_metafields_by_order ON mirror_metafields (store_hash, order_id);

-- Orders a webhook named, waiting for the replica that syncs the store to read them again
-- (any replica may receive the webhook; the row outlives a restart).
-- `seq` grows with each webhook for the order, so one that arrives while the order is read
-- again keeps it waiting.
CREATE TABLE mirror_pending (
    store_hash  TEXT   NOT NULL,
    order_id    BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    PRIMARY KEY (store_hash, order_id)
);
