"""The one schema on PostgreSQL: a new database and one upgraded from version 1 are shaped as
declared, exactly like an SQLite database of the same version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg
import pytest

from service.store.base import StoreRules
from service.store.postgres import PostgresEventStore
from service.store.sqlite_sql import migrate
from tests.support.schema_shape import declared, of_postgres, of_sqlite
from tests.support.schema_v1 import POSTGRES_V1

pytestmark = pytest.mark.postgres


def ignore(_records: object) -> None:
    """A commit listener that drops what it is given."""


async def shape_after_open(url: str) -> object:
    """Opens (and so migrates) a store at `url`; returns the database's shape."""
    store = PostgresEventStore(url, StoreRules())
    await store.open(ignore)
    await store.close()
    conn = await asyncpg.connect(url)
    try:
        return await of_postgres(conn)
    finally:
        await conn.close()


async def test_a_new_database_has_the_shape_of_a_new_sqlite_one(
    postgres_url: str, tmp_path: Path
) -> None:
    sqlite = sqlite3.connect(tmp_path / "new.db", isolation_level=None)
    migrate(sqlite)
    assert await shape_after_open(postgres_url) == declared() == of_sqlite(sqlite)
    sqlite.close()


async def test_a_version_one_database_is_upgraded_to_the_declared_shape(postgres_url: str) -> None:
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        for statement in POSTGRES_V1:
            await conn.execute(statement)
        await conn.execute("INSERT INTO schema_version (version) VALUES (1)")
    finally:
        await conn.close()
    assert await shape_after_open(postgres_url) == declared()
