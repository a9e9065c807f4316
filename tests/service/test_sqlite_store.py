"""The SQLite engine on its own: schema versions, reopening, one transaction per group."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from service.store.base import CommittedRecord, StoreError, StoreRules
from service.store.schema import LATEST
from service.store.sqlite import SqliteEventStore
from tests.service.events import inventory


def ignore(records: Sequence[CommittedRecord]) -> None:
    """A commit listener that drops what it gets."""


async def test_reopened_store_keeps_events_and_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    store = SqliteEventStore(path, StoreRules())
    await store.open(ignore)
    await store.publish([inventory("e1", "item", "4")])
    await store.close()
    reopened = SqliteEventStore(path, StoreRules())
    await reopened.open(ignore)
    (again,) = await reopened.publish([inventory("e1", "item", "4")])
    (new,) = await reopened.publish([inventory("e2", "item", "5")])
    await reopened.close()
    assert (again.stored, again.sequence, new.sequence) == (False, 1, 2)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == LATEST
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_newer_schema_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version (version) VALUES (99)")
    store = SqliteEventStore(path, StoreRules())
    with pytest.raises(StoreError, match="schema version 99 is newer"):
        await store.open(ignore)
    await store.close()


async def test_listener_gets_records_in_commit_order(tmp_path: Path) -> None:
    got: list[int] = []
    store = SqliteEventStore(tmp_path / "events.sqlite3", StoreRules())
    await store.open(lambda records: got.extend(r.sequence for r in records))
    for n in range(5):
        await store.publish([inventory(f"a{n}", "item", "1"), inventory(f"b{n}", "item", "2")])
    await store.close()
    assert got == list(range(1, 11))
