"""Test support: the first schema (version 1) of each engine as it was released, so tests can
build a database an older program left behind and upgrade it."""

from __future__ import annotations

# Version 1 of the SQLite engine, statement by statement.
SQLITE_V1: list[str] = [
    """CREATE TABLE events (
        sequence BIGINT PRIMARY KEY,
        platform INTEGER NOT NULL,
        source_event_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        shop TEXT NOT NULL,
        kind INTEGER NOT NULL,
        stored_at_us BIGINT NOT NULL,
        data BLOB NOT NULL,
        UNIQUE (platform, source_event_id)
    )""",
    "CREATE INDEX events_stored_at ON events (stored_at_us)",
    """CREATE TABLE alerts (
        sequence BIGINT PRIMARY KEY, shop TEXT NOT NULL, data BLOB NOT NULL)""",
    """CREATE TABLE completions (
        sequence BIGINT PRIMARY KEY, shop TEXT NOT NULL, data BLOB NOT NULL)""",
    """CREATE TABLE inventory_levels (
        shop TEXT NOT NULL,
        inventory_item_id TEXT NOT NULL,
        location_id TEXT NOT NULL,
        available TEXT NOT NULL,
        update_time_us BIGINT,
        product_id TEXT NOT NULL,
        variant_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        sequence BIGINT NOT NULL,
        PRIMARY KEY (shop, inventory_item_id, location_id)
    )""",
    """CREATE TABLE catalog (
        shop TEXT NOT NULL,
        inventory_item_id TEXT NOT NULL,
        product_id TEXT NOT NULL,
        variant_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        PRIMARY KEY (shop, inventory_item_id)
    )""",
    "CREATE INDEX catalog_product ON catalog (shop, product_id)",
    """CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        shop TEXT NOT NULL,
        state TEXT NOT NULL,
        order_id TEXT NOT NULL,
        complete_time_us BIGINT,
        completion_sequence BIGINT NOT NULL
    )""",
    """CREATE TABLE session_bindings (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        session_id TEXT NOT NULL,
        position BIGINT NOT NULL,
        PRIMARY KEY (kind, value)
    )""",
    "CREATE INDEX session_bindings_session ON session_bindings (session_id)",
    """CREATE TABLE orders (
        shop TEXT NOT NULL,
        order_id TEXT NOT NULL,
        version BIGINT NOT NULL,
        completed INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        PRIMARY KEY (shop, order_id)
    )""",
    "CREATE TABLE log_meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
    "INSERT INTO log_meta (name, value) VALUES ('compacted_through', 0)",
]

# Version 1 of the PostgreSQL engine: the same tables with PostgreSQL types, orders.completed
# as BOOLEAN and the events_shop index (the drift that version 3 removed).
POSTGRES_V1: list[str] = [
    statement.replace("BLOB", "BYTEA").replace("completed INTEGER", "completed BOOLEAN")
    for statement in SQLITE_V1
]
POSTGRES_V1.insert(2, "CREATE INDEX events_shop ON events (shop, sequence)")
