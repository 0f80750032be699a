-- Each store's field definitions (the merchant page, `fields import`, or single-store
-- mode's FIELD_DEFINITIONS_FILE): one row per (namespace, key), the definition as the JSON
-- object `fields export` writes. Not tied to `stores` by a foreign key: a single-store
-- deployment has definitions and no installed row; an uninstall deletes them.
CREATE TABLE field_definitions (
    store_hash     TEXT    NOT NULL,
    namespace      TEXT    NOT NULL,
    metafield_key  TEXT    NOT NULL,
    definition     TEXT    NOT NULL,  -- JSON: label, type, position, hidden, editing rules
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (store_hash, namespace, metafield_key)
);
