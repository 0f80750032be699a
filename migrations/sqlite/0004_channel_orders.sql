-- Per store: show shoppers only the orders of the storefront (channel) they are on (the
-- merchant page's setting; 1 = on). Off by default, and for every store saved before.
ALTER TABLE store_settings ADD COLUMN channel_orders INTEGER NOT NULL DEFAULT 0;
