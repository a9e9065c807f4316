"""The versioned schema of the SQL stores: ordered migrations and the schema_version table."""

from __future__ import annotations

import sqlite3

# Each migration is a list of statements; portable SQL (SQLite and PostgreSQL) where possible.
MIGRATIONS: list[list[str]] = [
    [
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
    ],
    [
        # The second dedup key: the signed content of a body-only-signed delivery (NULL when
        # the event has none), unique per platform for as long as the event is retained.
        "ALTER TABLE events ADD COLUMN content_key TEXT",
        "CREATE UNIQUE INDEX events_content_key ON events (platform, content_key)"
        " WHERE content_key IS NOT NULL",
        # Thaws levels frozen by a future-dated update stored before future_dated existed:
        # an update time beyond now + 5 min becomes unknown, so the next update wins.
        "UPDATE inventory_levels SET update_time_us = NULL"
        " WHERE update_time_us >"
        " CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER) + 300000000",
    ],
]


def schema_version(conn: sqlite3.Connection) -> int:
    """The applied schema version (0 for a new database)."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection) -> int:
    """Applies the missing migrations, each in its own transaction; returns the version."""
    current = schema_version(conn)
    if current > len(MIGRATIONS):
        raise sqlite3.DatabaseError(
            f"database schema version {current} is newer than this program supports"
        )
    for version, statements in enumerate(MIGRATIONS[current:], start=current + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)
