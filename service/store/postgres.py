"""PostgresEventStore: the engine for several core replicas sharing one PostgreSQL database.

Driver: asyncpg with a connection pool. asyncpg speaks the protocol natively on the event loop
(no thread per query, unlike SQLite here), and the pool lets subscriber replays and unary
reads run concurrently with the writer without opening a connection per call; connections
are reused, and replaced after a database restart.

Cursor correctness: every write transaction (a group of pending publishes) first takes
pg_advisory_xact_lock(LOG_LOCK), then numbers its events after the highest stored sequence,
and holds the lock until it commits. PostgreSQL makes a commit visible before it releases the
transaction's locks, so the next writer (on any replica) numbers after every committed
event, and commits after it: sequence order = commit order. Hence any snapshot sees a prefix
of the log, and a reader of "sequence > cursor" (subscriber replay, LogFollower) can never
skip a lower sequence that commits later. Cost: write transactions of all replicas are
serialised on one lock (about one commit round trip each); group commit amortises it, and
this is also what keeps the state rules (read-modify-write of levels, orders, sessions) as
consistent as with the single SQLite writer. Replicas scale subscribers and reads, not writes.

Feeding subscribers: LogFollower hands the listener every committed record of every replica
in order (LISTEN/NOTIFY wakes it, a poll is the safety net), and log reads (replays) stop at
the last sequence it has handed over, so a replay never runs ahead of the live queue.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import asyncpg
from commercegateway.v1 import events_pb2 as ev

from service.domain import Binding, Session
from service.settings import SettingsError
from service.store import event_rules, sql_rows
from service.store.base import (
    CommitListener,
    CommitObserver,
    CommittedRecord,
    PublishOutcome,
    StoreError,
    StoreRules,
)
from service.store.postgres_errors import is_connection_error
from service.store.postgres_follower import POLL_SECONDS, LogFollower
from service.store.postgres_reads import StoreReader
from service.store.postgres_schema import migrate
from service.store.postgres_sql import run_steps
from service.store.postgres_writer import SequenceCounter, Writer, WriteWork
from service.store.sql_rows import SQL_ROWS

T = TypeVar("T")
POOL_SIZE = 8
URL_SCHEMES = ("postgres", "postgresql")
CONNECT_TIMEOUT = 5.0
# A reply means durable whatever the server's default: commits wait for the WAL flush.
SESSION_SETTINGS = {"synchronous_commit": "on", "application_name": "commerce-gateway-core"}
DEFAULT_PORT = 5432
# The probe of probe_commit: one row of log_meta, rewritten (no event, no sequence).
_PROBE_SQL = (
    "INSERT INTO log_meta (name, value) VALUES ('probed_at_us', $1)"
    " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)


class PostgresEventStore(StoreReader):
    """The EventStore engine over a shared PostgreSQL database; see EventStore."""

    def __init__(self, url: str, rules: StoreRules, *, poll_seconds: float = POLL_SECONDS) -> None:
        """Prepares the store at `url` (postgres:// or postgresql://); connects on open."""
        super().__init__()
        check_url(url)
        self.url = url
        self.rules = rules
        self.poll_seconds = poll_seconds
        self._writer: Writer | None = None
        self._follower: LogFollower | None = None
        self._observer: CommitObserver | None = None

    def _visible_through(self) -> int:
        if self._follower is None:
            raise RuntimeError("store is closed")
        return self._follower.delivered_through

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self.url, timeout=CONNECT_TIMEOUT, server_settings=SESSION_SETTINGS
        )

    async def open(self, listener: CommitListener) -> None:
        """Connects, migrates (one replica at a time) and starts the writer and follower."""
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=POOL_SIZE,
                timeout=CONNECT_TIMEOUT,
                server_settings=SESSION_SETTINGS,
            )
            async with self._pool.acquire() as conn:
                await migrate(conn)
                last = (await run_steps(sql_rows.positions(), conn)).last_sequence
        except Exception as error:
            await self._close_pool()
            raise open_error(error, self.url) from None
        self._follower = LogFollower(self._pool, self._connect, listener, self.poll_seconds)
        await self._follower.start(last)
        self._writer = Writer(self._pool, self._follower.deliver_own)
        self._writer.observer = self._observer
        self._writer.start()

    def watch_commits(self, observer: CommitObserver) -> None:
        """Reports the outcome of every later write transaction to `observer`."""
        self._observer = observer
        if self._writer is not None:
            self._writer.observer = observer

    async def probe_commit(self) -> None:
        """Commits a tiny write (no event); raises when the store cannot commit now."""

        async def work(
            conn: asyncpg.Connection, _counter: SequenceCounter
        ) -> tuple[None, list[CommittedRecord]]:
            await conn.execute(_PROBE_SQL, time.time_ns() // 1000)
            return None, []

        await self._write(work)

    async def close(self) -> None:
        """Finishes queued writes, stops following and closes every connection."""
        if self._writer is not None:
            await self._writer.stop()
            self._writer = None
        if self._follower is not None:
            await self._follower.stop()
            self._follower = None
        await self._close_pool()

    async def _close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), 5.0)
            except (TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                pool.terminate()

    async def _write(self, work: WriteWork) -> Any:
        if self._writer is None:
            raise RuntimeError("store is closed")
        return await self._writer.submit(work)

    async def publish(self, events: Sequence[ev.Event]) -> list[PublishOutcome]:
        """Stores the events durably, in order, idempotently; see EventStore.publish."""
        stored_at_us = time.time_ns() // 1000  # one time per request: compacted together

        async def work(
            conn: asyncpg.Connection, counter: SequenceCounter
        ) -> tuple[list[PublishOutcome], list[CommittedRecord]]:
            steps = event_rules.publish(SQL_ROWS, events, counter.last, self.rules, stored_at_us)
            outcomes, records = await run_steps(steps, conn)
            if records:
                counter.last = records[-1].sequence
            return outcomes, records

        outcomes: list[PublishOutcome] = await self._write(work)
        return outcomes

    async def bind_session(
        self, session_id: str, shop: str, bindings: Sequence[Binding]
    ) -> Session:
        """Binds keys to a session (created when new) and returns it."""

        async def work(
            conn: asyncpg.Connection, _counter: SequenceCounter
        ) -> tuple[Session, list[CommittedRecord]]:
            steps = event_rules.bind_session(SQL_ROWS, session_id, shop, bindings)
            return await run_steps(steps, conn), []

        session: Session = await self._write(work)
        return session

    async def write_steps(self, make: Callable[[], sql_rows.Step[T]]) -> T:
        """Runs the sans-IO step `make()` builds in one durable write transaction (see
        EventStore)."""

        async def work(
            conn: asyncpg.Connection, _counter: SequenceCounter
        ) -> tuple[T, list[CommittedRecord]]:
            return await run_steps(make(), conn), []

        result: T = await self._write(work)
        return result

    async def compact(self, older_than: datetime) -> int:
        """Deletes the events stored before the time and their items; returns how many."""
        cutoff = sql_rows.to_us(older_than)

        async def work(
            conn: asyncpg.Connection, _counter: SequenceCounter
        ) -> tuple[int, list[CommittedRecord]]:
            return await run_steps(sql_rows.compact(cutoff), conn), []

        deleted: int = await self._write(work)
        return deleted


def check_url(url: str) -> None:
    """Raises SettingsError (naming the setting, never echoing the URL) when it is unusable."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise SettingsError("COMMERCE_GATEWAY_STORE: malformed PostgreSQL URL") from None
    if parts.scheme not in URL_SCHEMES:
        raise SettingsError("COMMERCE_GATEWAY_STORE: expected postgres://... or postgresql://...")


def server_address(url: str) -> str:
    """HOST:PORT (or the socket directory) of a PostgreSQL URL, for messages: never the user,
    password or database."""
    try:
        parts = urlsplit(url)
        hosts = parts.netloc.rpartition("@")[2]
        if "," in hosts:  # several hosts: name them as written
            return hosts
        host, port = parts.hostname, parts.port
    except ValueError:
        return "an unparsable address"
    if not host:
        query = dict(item.partition("=")[::2] for item in parts.query.split("&") if item)
        host = unquote(query.get("host", "")) or "localhost"
        port = int(query["port"]) if query.get("port", "").isdigit() else port
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port or DEFAULT_PORT}"


def open_error(error: Exception, url: str = "") -> StoreError:
    """A one-line StoreError for a failed open naming the server's host and port; it never
    includes the rest of the URL (user, password)."""
    if isinstance(error, StoreError):
        return error
    where = f" at {server_address(url)}" if url else ""
    if is_connection_error(error):
        reason = f"{type(error).__name__}"
        if isinstance(error, OSError) and error.strerror:
            reason += f": {error.strerror}"
        return StoreError(f"cannot reach the PostgreSQL store{where} ({reason})")
    if isinstance(error, asyncpg.PostgresError):  # the server's own words: no password
        return StoreError(f"cannot open the PostgreSQL store{where}: {error}")
    return StoreError(f"cannot open the PostgreSQL store{where} ({type(error).__name__})")
