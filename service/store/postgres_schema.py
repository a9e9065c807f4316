"""The versioned PostgreSQL schema and its migration, applied by one replica at a time."""

from __future__ import annotations

import asyncpg

from service.store.base import StoreError

# Session-level advisory lock keys (arbitrary constants, unique to this program).
MIGRATION_LOCK = 0x6367_6D69_6772  # "cgmigr": held while one replica migrates
LOG_LOCK = 0x6367_6C6F_67  # "cglog": held by every write transaction until it commits
NOTIFY_CHANNEL = "commerce_gateway_log"

# Each migration is a list of statements run in one transaction. The tables mirror the
# SQLite engine's (service.store.migrations) with PostgreSQL types.
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
            data BYTEA NOT NULL,
            UNIQUE (platform, source_event_id)
        )""",
        "CREATE INDEX events_stored_at ON events (stored_at_us)",
        "CREATE INDEX events_shop ON events (shop, sequence)",
        """CREATE TABLE alerts (
            sequence BIGINT PRIMARY KEY, shop TEXT NOT NULL, data BYTEA NOT NULL)""",
        """CREATE TABLE completions (
            sequence BIGINT PRIMARY KEY, shop TEXT NOT NULL, data BYTEA NOT NULL)""",
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
            completed BOOLEAN NOT NULL,
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
        " (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT + 300000000",
    ],
]


class SchemaTooNewError(StoreError):
    """The database was migrated by a newer program than this one."""


async def migrate(conn: asyncpg.Connection) -> int:
    """Applies the missing migrations under MIGRATION_LOCK; returns the schema version.

    Replicas starting together queue on the session-level advisory lock, so exactly one
    applies each migration and the others find the schema current when they get the lock.
    Each migration and its schema_version row commit in one transaction.
    """
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        current = int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))
        if current > len(MIGRATIONS):
            raise SchemaTooNewError(
                f"database schema version {current} is newer than this program supports"
            )
        for version, statements in enumerate(MIGRATIONS[current:], start=current + 1):
            async with conn.transaction():
                for statement in statements:
                    await conn.execute(statement)
                await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", version)
        return len(MIGRATIONS)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
