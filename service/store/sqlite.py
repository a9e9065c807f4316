"""SqliteEventStore: the embedded engine (WAL, one writer thread with group commit)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from commercegateway.v1 import events_pb2 as ev

from common.redaction import subject_of
from service.domain import Binding, Session
from service.store import event_rules, sql_rows
from service.store.base import (
    CommitListener,
    CommitObserver,
    CommittedRecord,
    LevelPage,
    PublishOutcome,
    StoreError,
    StoreInfo,
    StoreRules,
)
from service.store.sql_rows import SQL_ROWS
from service.store.sqlite_sql import connect, migrate, run_steps, truncate_wal
from service.store.sqlite_writer import SequenceCounter, Writer
from service.store.step_reads import StepReads

T = TypeVar("T")
logger = logging.getLogger(__name__)
# The probe of probe_commit: one row of log_meta, rewritten (no event, no sequence).
_PROBE_SQL = (
    "INSERT INTO log_meta (name, value) VALUES ('probed_at_us', ?)"
    " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)


class SqliteEventStore(StepReads):
    """The EventStore engine over one SQLite file; see service.store.base.EventStore."""

    def __init__(self, path: Path, rules: StoreRules) -> None:
        """Prepares the store at `path` (created on open)."""
        self.path = path
        self.rules = rules
        self._writer: Writer | None = None
        self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sqlite-read")
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._sequence = SequenceCounter()
        self._observer: CommitObserver | None = None

    async def open(self, listener: CommitListener) -> None:
        """Creates/migrates the database and starts the writer thread."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = await asyncio.to_thread(self._open_writer_conn)
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"cannot open the SQLite store at {self.path}: {error}") from None
        self._writer = Writer(conn, asyncio.get_running_loop(), listener, self._sequence)
        self._writer.observer = self._observer
        self._writer.start()

    def _open_writer_conn(self) -> sqlite3.Connection:
        conn = connect(self.path)
        migrate(conn)
        self._sequence.last = run_steps(sql_rows.positions(), conn).last_sequence
        return conn

    def watch_commits(self, observer: CommitObserver) -> None:
        """Reports the outcome of every later write transaction to `observer`."""
        self._observer = observer
        if self._writer is not None:
            self._writer.observer = observer

    async def probe_commit(self) -> None:
        """Commits a tiny write (no event); raises when the store cannot commit now."""

        def work(conn: sqlite3.Connection) -> tuple[None, list[CommittedRecord]]:
            conn.execute(_PROBE_SQL, (time.time_ns() // 1000,))
            return None, []

        await self._write(work)

    async def close(self) -> None:
        """Finishes queued writes, stops the threads and closes every connection."""
        if self._writer is not None:
            await asyncio.to_thread(self._writer.stop)
            self._writer = None
        self._readers.shutdown(wait=True)
        for conn in self._reader_conns:
            conn.close()

    async def publish(self, events: Sequence[ev.Event]) -> list[PublishOutcome]:
        """Stores the events durably, in order, idempotently; see EventStore.publish. After a
        redaction the WAL is checkpointed and truncated before the reply, so the erased bytes
        are gone from every file when the publisher hears back."""
        outcomes: list[PublishOutcome] = await self._write(
            lambda conn: self._publish_tx(conn, events)
        )
        if any(subject_of(event) is not None for event in events):
            await self._truncate_wal()
        return outcomes

    async def _truncate_wal(self) -> None:
        if not await asyncio.to_thread(truncate_wal, self.path):
            logger.warning(
                "WAL checkpoint after a redaction did not complete: readers held old snapshots;"
                " the next redaction or restart retries it"
            )

    def _publish_tx(
        self, conn: sqlite3.Connection, events: Sequence[ev.Event]
    ) -> tuple[list[PublishOutcome], list[CommittedRecord]]:
        stored_at_us = time.time_ns() // 1000  # one time per request: compacted together
        steps = event_rules.publish(SQL_ROWS, events, self._sequence.last, self.rules, stored_at_us)
        outcomes, records = run_steps(steps, conn)
        if records:
            self._sequence.last = records[-1].sequence
        return outcomes, records

    async def _write(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        if self._writer is None:
            raise RuntimeError("store is closed")
        return await self._writer.submit(work)

    async def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_read, work)

    def _run_read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            self._reader_conns.append(conn)
        return work(conn)

    async def _read_steps(self, steps: sql_rows.Step[T]) -> T:
        return await self._read(lambda conn: run_steps(steps, conn))

    async def info(self) -> StoreInfo:
        """The last sequence and the newest compacted sequence."""

        return await self._read_steps(sql_rows.positions())

    async def list_inventory_levels(
        self, shop: str, after: tuple[str, str, str] | None, limit: int
    ) -> LevelPage:
        """A page of levels after a key, consistent with the returned sequence."""

        def query(conn: sqlite3.Connection) -> LevelPage:
            conn.execute("BEGIN")  # the page and its sequence from one snapshot
            try:
                return run_steps(sql_rows.level_page(shop, after, limit), conn)
            finally:
                conn.execute("COMMIT")

        return await self._read(query)

    async def bind_session(
        self, session_id: str, shop: str, bindings: Sequence[Binding]
    ) -> Session:
        """Binds keys to a session (created when new) and returns it."""

        def work(conn: sqlite3.Connection) -> tuple[Session, list[CommittedRecord]]:
            steps = event_rules.bind_session(SQL_ROWS, session_id, shop, bindings)
            return run_steps(steps, conn), []

        result: Session = await self._write(work)
        return result

    async def write_steps(self, make: Callable[[], sql_rows.Step[T]]) -> T:
        """Runs the sans-IO step `make()` builds in one durable write transaction (see
        EventStore)."""

        def work(conn: sqlite3.Connection) -> tuple[T, list[CommittedRecord]]:
            return run_steps(make(), conn), []

        result: T = await self._write(work)
        return result

    async def compact(self, older_than: datetime) -> int:
        """Deletes the events stored before the time and their items; returns how many."""
        cutoff = sql_rows.to_us(older_than)

        def work(conn: sqlite3.Connection) -> tuple[int, list[CommittedRecord]]:
            return run_steps(sql_rows.compact(cutoff), conn), []

        deleted: int = await self._write(work)
        return deleted
