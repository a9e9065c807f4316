"""The bridge's local outbox: events committed to SQLite while the core is slow or down."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from commercegateway.v1 import events_pb2

from bridge.sqlite_thread import SqliteThread, write_transaction

OUTBOX_FILE = "outbox.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    event BLOB NOT NULL,
    created_at REAL NOT NULL,
    parked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_event_id ON outbox (event_id);
CREATE INDEX IF NOT EXISTS outbox_parked ON outbox (parked, id);
"""
# The readiness probe: one row, rewritten and committed (about one delivery's bytes).
PROBE_BYTES = 4096
_PROBE_TABLE = "CREATE TABLE IF NOT EXISTS ready_probe (id INTEGER PRIMARY KEY, at REAL, fill BLOB)"
_PROBE_WRITE = "INSERT OR REPLACE INTO ready_probe (id, at, fill) VALUES (1, ?, zeroblob(?))"
# Metadata kept beside each event so that listing never reads the event bytes; added to files
# of older versions on first use (their rows show these as NULL, but for their size).
_METADATA_COLUMNS = {
    "platform": "INTEGER",
    "topic": "TEXT",
    "kind": "TEXT",
    "shop": "TEXT",
    "size": "INTEGER",
    "parked_reason": "TEXT",
    "parked_at": "REAL",
}
_WAITING = "SELECT 1 FROM outbox WHERE event_id = ?"
_INSERT = (
    "INSERT INTO outbox (event_id, event, created_at, platform, topic, kind, shop, size)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_COUNTS = "SELECT parked, COUNT(*) FROM outbox GROUP BY parked"  # over the (parked, id) index
_MAX_LOOKUP = 500  # event ids per IN (...) query, below SQLite's variable limit


def _add_metadata_columns(connection: sqlite3.Connection) -> None:
    """Adds the metadata columns an outbox file of an older version lacks (once, serialised)."""
    if {row[1] for row in connection.execute("PRAGMA table_info(outbox)")} >= set(
        _METADATA_COLUMNS
    ):
        return  # up to date: no write lock taken
    connection.execute("BEGIN IMMEDIATE")
    try:
        present = {row[1] for row in connection.execute("PRAGMA table_info(outbox)")}
        missing = [name for name in _METADATA_COLUMNS if name not in present]
        for name in missing:
            connection.execute(f"ALTER TABLE outbox ADD COLUMN {name} {_METADATA_COLUMNS[name]}")
        if "size" in missing:
            connection.execute("UPDATE outbox SET size = length(event)")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _row(event: events_pb2.Event, now: float) -> tuple[object, ...]:
    blob = event.SerializeToString()
    kind = event.WhichOneof("payload") or ""
    return (event.id, blob, now, int(event.platform), event.topic, kind, event.shop, len(blob))


def _insert_new(rows: list[tuple[object, ...]], connection: sqlite3.Connection) -> list[bool]:
    """Inserts, in one transaction, the rows whose event is not waiting already; returns for
    each row whether it was new (a retried delivery's event id is the same, so it is not)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        fresh: list[bool] = []
        for row in rows:
            waiting = connection.execute(_WAITING, (row[0],)).fetchone() is not None
            if not waiting:
                connection.execute(_INSERT, row)
            fresh.append(not waiting)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return fresh


@dataclass(frozen=True)
class OutboxEntry:
    """One stored event waiting for the core's acknowledgement."""

    entry_id: int
    event: events_pb2.Event


class Outbox:
    """Durable FIFO of events; an entry is removed only once the core has acknowledged it.

    Several bridge worker processes may share the file (WAL plus a busy timeout); an entry
    sent twice by two workers is harmless because the core deduplicates.
    """

    def __init__(self, data_dir: Path) -> None:
        """Uses `<data_dir>/outbox.sqlite3`; the file is created on first use."""
        self._db = SqliteThread(Path(data_dir) / OUTBOX_FILE, _SCHEMA, _add_metadata_columns)
        self._pending: list[tuple[list[tuple[object, ...]], asyncio.Future[list[bool]]]] = []
        self._committer: asyncio.Task[None] | None = None
        self._adds = 0  # add() calls so far, so that a peek racing an add keeps the hint
        self._may_hold = (
            True  # unknown at start: a previous run or another worker may have left some
        )

    @property
    def path(self) -> Path:
        """The SQLite file."""
        return self._db.path

    @property
    def db(self) -> SqliteThread:
        """The file's connection thread, for the operator's functions in bridge.outbox_admin."""
        return self._db

    async def add(self, events: Sequence[events_pb2.Event]) -> list[bool]:
        """Commits the events durably (fsync) before returning; says for each event whether it
        was new (False: the same event already waits in the outbox, a duplicate delivery).

        Concurrent calls share transactions (group commit): while one commit is on disk, the
        rows of the calls that arrive meanwhile wait and are committed together next.
        """
        self._adds += 1
        self._may_hold = True
        now = time.time()
        rows = [_row(event, now) for event in events]
        done: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()
        self._pending.append((rows, done))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_pending())
        return await asyncio.shield(done)

    async def _commit_pending(self) -> None:
        while self._pending:
            group, self._pending = self._pending, []
            rows = [row for rows, _ in group for row in rows]
            try:
                fresh = await self._db.run(functools.partial(_insert_new, rows))
            except Exception as error:
                for _, done in group:
                    done.set_exception(error)
            else:
                start = 0
                for own_rows, done in group:
                    done.set_result(fresh[start : start + len(own_rows)])
                    start += len(own_rows)

    async def peek(self, limit: int) -> list[OutboxEntry]:
        """The oldest entries, at most `limit`, without removing them."""

        def _select(connection: sqlite3.Connection) -> list[tuple[int, bytes]]:
            query = "SELECT id, event FROM outbox WHERE parked = 0 ORDER BY id LIMIT ?"
            return list(connection.execute(query, (limit,)).fetchall())

        adds = self._adds
        rows = await self._db.run(_select)
        if not rows and adds == self._adds:
            self._may_hold = False
        return [OutboxEntry(row_id, events_pb2.Event.FromString(blob)) for row_id, blob in rows]

    def may_hold_waiting(self) -> bool:
        """False only when the last `peek` (the drain's, at least every second) found nothing
        waiting and this process added nothing since: a hint that spares the forwarder a
        lookup per delivery; entries another worker added in the last second may be missed."""
        return self._may_hold

    async def remove(self, entry_ids: Sequence[int]) -> None:
        """Deletes acknowledged entries (ids already gone are ignored)."""
        rows: list[tuple[object, ...]] = [(entry_id,) for entry_id in entry_ids]
        await self._db.run(lambda c: write_transaction(c, "DELETE FROM outbox WHERE id = ?", rows))

    async def park(self, entry_id: int, reason: str = "") -> None:
        """Keeps an entry the core refused as invalid, out of the drain's way (never deleted
        by the drain; see `commerce-gateway outbox`), with the core's reason."""
        rows: list[tuple[object, ...]] = [(reason[:1000], time.time(), entry_id)]
        statement = "UPDATE outbox SET parked = 1, parked_reason = ?, parked_at = ? WHERE id = ?"
        await self._db.run(lambda c: write_transaction(c, statement, rows))

    async def depth(self, *, parked: bool = False) -> int:
        """How many entries wait (or, with parked=True, how many were parked)."""
        query = "SELECT COUNT(*) FROM outbox WHERE parked = ?"
        return await self._db.run(lambda c: int(c.execute(query, (int(parked),)).fetchone()[0]))

    async def counts(self) -> tuple[int, int]:
        """(waiting, parked) entries, in one query."""

        def _count(connection: sqlite3.Connection) -> tuple[int, int]:
            found = dict(connection.execute(_COUNTS).fetchall())
            waiting = int(found.pop(0, 0))
            return waiting, sum(int(count) for count in found.values())

        return await self._db.run(_count)

    async def waiting(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these events are in the outbox (waiting or parked)."""

        def _lookup(connection: sqlite3.Connection) -> set[str]:
            found: set[str] = set()
            for start in range(0, len(event_ids), _MAX_LOOKUP):
                chunk = list(event_ids[start : start + _MAX_LOOKUP])
                marks = ",".join("?" * len(chunk))
                query = f"SELECT event_id FROM outbox WHERE event_id IN ({marks})"
                found.update(str(row[0]) for row in connection.execute(query, chunk))
            return found

        return await self._db.run(_lookup) if event_ids else set()

    async def writable(self) -> bool:
        """Whether a delivery-sized write commits now (for readiness): a probe row of
        PROBE_BYTES is rewritten and committed durably, as an outbox entry would be."""

        def _probe(connection: sqlite3.Connection) -> bool:
            connection.execute(_PROBE_TABLE)
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute(_PROBE_WRITE, (time.time(), PROBE_BYTES))
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return True

        try:
            return await self._db.run(_probe)
        except (sqlite3.Error, OSError):
            return False

    def close(self) -> None:
        """Closes the file."""
        self._db.close()
