"""Migrating a PostgreSQL database to service.store.schema, one replica at a time, and the
locks and channel the replicas share."""

from __future__ import annotations

import asyncpg

from service.store import schema
from service.store.base import StoreError

# Session-level advisory lock keys (arbitrary constants, unique to this program).
MIGRATION_LOCK = 0x6367_6D69_6772  # "cgmigr": held while one replica migrates
LOG_LOCK = 0x6367_6C6F_67  # "cglog": held by every write transaction until it commits
NOTIFY_CHANNEL = "commerce_gateway_log"


class SchemaTooNewError(StoreError):
    """The database was migrated by a newer program than this one."""


async def migrate(conn: asyncpg.Connection) -> int:
    """Brings the database to schema.LATEST under MIGRATION_LOCK; returns the version.

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
        if message := schema.too_new(current):
            raise SchemaTooNewError(message)
        for versions, statements in schema.plan(current, "postgres"):
            async with conn.transaction():
                for statement in statements:
                    await conn.execute(statement)
                await conn.executemany(
                    "INSERT INTO schema_version (version) VALUES ($1)", [(v,) for v in versions]
                )
        return schema.LATEST
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
