"""Migration 2 of the SQLite store: content keys, and levels frozen in the future thawed."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from service.store.schema import LATEST
from service.store.sqlite_sql import migrate
from tests.support.schema_v1 import SQLITE_V1

HOUR_US = 3_600_000_000


def _version_one(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for statement in SQLITE_V1:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version (version) VALUES (1)")
    return conn


def test_levels_dated_in_the_future_are_thawed_and_others_kept(tmp_path: Path) -> None:
    conn = _version_one(tmp_path / "store.db")
    now_us = time.time_ns() // 1000
    for item, update_us in (("ahead", now_us + HOUR_US), ("past", now_us - HOUR_US)):
        conn.execute(
            "INSERT INTO inventory_levels VALUES ('s', ?, 'l', '0', ?, '', '', '', 1)",
            (item, update_us),
        )
    assert migrate(conn) == LATEST
    times = dict(conn.execute("SELECT inventory_item_id, update_time_us FROM inventory_levels"))
    assert times == {"ahead": None, "past": now_us - HOUR_US}
    conn.close()
