"""The PostgreSQL writer task: every pending write in one transaction (group commit), with
sequences assigned under a transaction-scoped advisory lock shared by all replicas."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from common.repeat_log import RepeatedFailureLog
from service.store.base import CommitObserver, CommittedRecord, tell_observer
from service.store.postgres_errors import (
    StoreUnavailableError,
    as_request_error,
    is_connection_error,
)
from service.store.postgres_schema import LOG_LOCK, NOTIFY_CHANNEL
from service.store.postgres_sql import run_steps
from service.store.sql_rows import positions

logger = logging.getLogger(__name__)

MAX_GROUP = 256


@dataclass
class SequenceCounter:
    """The last sequence used in the current write transaction."""

    last: int


# A write gets the transaction's connection and counter; returns (its result, the records it
# committed for subscribers).
WriteWork = Callable[
    [asyncpg.Connection, SequenceCounter], Awaitable[tuple[Any, Sequence[CommittedRecord]]]
]
# Called with a group's records (in sequence order) once it has committed, and a callback
# resolving the group's calls, to run just before the records reach subscribers.
CommitHook = Callable[[Sequence[CommittedRecord], Callable[[], None]], Awaitable[None]]


@dataclass
class _Job:
    """One queued write, its outcome and the records it committed."""

    work: WriteWork
    future: asyncio.Future[Any]
    result: Any = None
    error: BaseException | None = None
    records: Sequence[CommittedRecord] = field(default_factory=list)


class _CommitUnknownError(Exception):
    """The connection broke while COMMIT was in flight: it may or may not have committed."""


class Writer:
    """Runs queued writes in group transactions on one pooled connection at a time.

    Each group takes pg_advisory_xact_lock(LOG_LOCK) first, so write transactions of all
    replicas run one after another and commit in sequence order (see PostgresEventStore).
    A reply is sent only after COMMIT returned.
    """

    def __init__(self, pool: asyncpg.Pool, on_commit: CommitHook) -> None:
        """Writes through `pool`; `on_commit` delivers each committed group's records."""
        self._pool = pool
        self._on_commit = on_commit
        self._jobs: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.observer: CommitObserver | None = None
        self._unavailable = RepeatedFailureLog(logger, "store unavailable")
        self._failures = RepeatedFailureLog(logger, "store commit failed")

    def start(self) -> None:
        """Starts the writer task."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="pg-writer")

    async def stop(self) -> None:
        """Finishes the queued writes, then stops the task."""
        task, self._task = self._task, None
        if task is not None:
            self._jobs.put_nowait(None)
            await task

    async def submit(self, work: WriteWork) -> Any:
        """Queues a write and returns its result once its transaction has committed."""
        if self._task is None:
            raise RuntimeError("store is closed")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._jobs.put_nowait(_Job(work, future))
        return await future

    def _take_group(self, first: _Job) -> tuple[list[_Job], bool]:
        group = [first]
        while len(group) < MAX_GROUP and not self._jobs.empty():
            job = self._jobs.get_nowait()
            if job is None:
                return group, True
            group.append(job)
        return group, False

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._jobs.get()
            if first is None:
                break
            group, stopping = self._take_group(first)
            await self._commit_group(group)

    async def _commit_group(self, group: list[_Job]) -> None:
        started = time.perf_counter()
        error = await self._try(group)
        if error is not None and is_connection_error(error):
            # Nothing was committed (COMMIT had not been sent): retry once on a fresh
            # connection, as pooled ones may be stale after a database restart.
            await self._pool.expire_connections()
            error = await self._try(group)
        if error is not None:
            self._fail(group, error)
        else:
            self._unavailable.succeeded()
            self._failures.succeeded()
        records = [record for job in group if job.error is None for record in job.records]
        tell_observer(self.observer, error, time.perf_counter() - started, len(records))
        if records:
            try:
                await self._on_commit(records, lambda: self._resolve(group))
            except Exception:  # the writes committed: their replies must still go out
                logger.exception("delivering committed records failed")
        self._resolve(group)

    def _resolve(self, group: list[_Job]) -> None:
        for job in group:
            if job.future.done():
                continue
            if job.error is not None:
                job.future.set_exception(job.error)
            else:
                job.future.set_result(job.result)

    async def _try(self, group: list[_Job]) -> Exception | None:
        try:
            await self._attempt(group)
        except Exception as error:
            return error
        return None

    def _fail(self, group: list[_Job], error: Exception) -> None:
        # Whatever broke the transaction itself (not one write's savepoint) is the store's
        # fault, not the requests': callers get UNAVAILABLE and retry (the bridge's outbox).
        if is_connection_error(error) or isinstance(error, _CommitUnknownError):
            self._unavailable.failed(error, jobs=len(group))
        else:
            self._failures.failed(error, jobs=len(group))
        failure = StoreUnavailableError()
        failure.__cause__ = error
        for job in group:
            job.error, job.records = failure, []

    async def _attempt(self, group: list[_Job]) -> None:
        async with self._pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                await self._run_jobs(conn, group)
            except BaseException:
                if not conn.is_closed():
                    await transaction.rollback()
                raise
            try:
                await transaction.commit()
            except Exception as error:
                if is_connection_error(error):
                    raise _CommitUnknownError() from error
                raise

    async def _run_jobs(self, conn: asyncpg.Connection, group: list[_Job]) -> None:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", LOG_LOCK)
        counter = SequenceCounter((await run_steps(positions(), conn)).last_sequence)
        start = counter.last
        for job in group:
            before = counter.last
            job.error, job.records = None, []
            try:
                async with conn.transaction():  # a savepoint: one bad write fails only itself
                    job.result, job.records = await job.work(conn, counter)
            except Exception as error:
                if is_connection_error(error):
                    raise
                counter.last = before
                job.error = as_request_error(error)
        if counter.last > start:
            await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, str(counter.last))
