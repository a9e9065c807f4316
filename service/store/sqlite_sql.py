"""The SQLite engine's I/O: opening a file, migrating it to service.store.schema, and running
sans-IO steps (service.store.sql_rows) on a connection, synchronously (store threads)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, TypeVar, cast

from service.store import schema
from service.store.sql_rows import ALL, COUNT, ONE, Step

T = TypeVar("T")


def connect(path: Path) -> sqlite3.Connection:
    """Opens a connection in WAL mode with durable commits (synchronous=FULL) and
    secure_delete (deleted or overwritten content is zeroed, so a redaction leaves no bytes in
    free pages)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA secure_delete=ON")
    return conn


CHECKPOINT_ATTEMPTS = 5
"""How many times a truncating WAL checkpoint is tried while readers hold old snapshots."""


def truncate_wal(path: Path) -> bool:
    """Copies every WAL frame into the database file and truncates the WAL to zero bytes
    (PRAGMA wal_checkpoint(TRUNCATE)), so that no older page image, erased content included,
    stays in the WAL; each attempt waits up to the busy timeout for readers. False when
    readers kept it from completing every attempt."""
    conn = connect(path)
    try:
        for _ in range(CHECKPOINT_ATTEMPTS):
            busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return True
        return False
    finally:
        conn.close()


def run_steps(steps: Step[T], conn: sqlite3.Connection) -> T:
    """Runs a step's statements on `conn` in order, handing each its result; returns the
    step's value."""
    execute, send = conn.execute, steps.send
    result: Any = None
    try:
        while True:
            fetch, sql, params = send(result)
            cursor = execute(sql, params)
            if fetch == ONE:
                result = cursor.fetchone()
            elif fetch == ALL:
                result = cursor.fetchall()
            else:
                result = cursor.rowcount if fetch == COUNT else None
    except StopIteration as done:
        return cast(T, done.value)


def schema_version(conn: sqlite3.Connection) -> int:
    """The applied schema version (0 for a new database)."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection) -> int:
    """Brings the database to schema.LATEST, one transaction per step; returns the version."""
    current = schema_version(conn)
    if message := schema.too_new(current):
        raise sqlite3.DatabaseError(message)
    for versions, statements in schema.plan(current, "sqlite"):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in statements:
                conn.execute(statement)
            conn.executemany(
                "INSERT INTO schema_version (version) VALUES (?)", [(v,) for v in versions]
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return schema.LATEST
