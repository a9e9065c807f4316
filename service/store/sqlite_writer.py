"""The SQLite writer thread: runs every pending write in one transaction (group commit)."""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from common.repeat_log import RepeatedFailureLog
from service.errors import StoreUnavailableError
from service.store.base import CommitListener, CommitObserver, CommittedRecord, tell_observer

logger = logging.getLogger(__name__)

# A write returns (its result, the records it committed for subscribers).
WriteWork = Callable[[sqlite3.Connection], tuple[Any, Sequence[CommittedRecord]]]
MAX_GROUP = 256
# Primary result codes meaning the file cannot take a commit now (disk full, I/O error,
# read-only, gone, locked by another process beyond the busy timeout): not the request's fault.
_STORE_FAULTS = frozenset(
    {
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_NOTADB,
    }
)


def is_store_fault(error: BaseException) -> bool:
    """True when `error` says the database file cannot commit now (not a bad request)."""
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(error, sqlite3.Error) and code is not None and code & 0xFF in _STORE_FAULTS


@dataclass
class SequenceCounter:
    """The last sequence assigned; restored when a transaction rolls back (no gaps)."""

    last: int = 0


@dataclass
class _Job:
    work: WriteWork
    future: asyncio.Future[Any]
    result: Any = None
    error: BaseException | None = None
    records: Sequence[CommittedRecord] = field(default_factory=list)


class Writer:
    """Owns the writing connection; a reply is sent only after the commit is durable."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        loop: asyncio.AbstractEventLoop,
        listener: CommitListener,
        sequence: SequenceCounter,
    ) -> None:
        """Prepares the writer over an open connection; call start() to run it. Writes number
        events from `sequence`; a failed commit puts it back where the transaction began."""
        self._conn = conn
        self._loop = loop
        self._listener = listener
        self._sequence = sequence
        self.observer: CommitObserver | None = None
        self._failures = RepeatedFailureLog(logger, "store commit failed")
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="sqlite-writer", daemon=True)

    def start(self) -> None:
        """Starts the writer thread."""
        self._thread.start()

    def stop(self) -> None:
        """Finishes the queued writes, then stops the thread and closes the connection."""
        self._jobs.put(None)
        self._thread.join()
        self._conn.close()

    def submit(self, work: WriteWork) -> asyncio.Future[Any]:
        """Queues a write; the future resolves after its transaction commits."""
        future: asyncio.Future[Any] = self._loop.create_future()
        self._jobs.put(_Job(work, future))
        return future

    def _take_group(self) -> tuple[list[_Job], bool]:
        first = self._jobs.get()
        if first is None:
            return [], True
        group = [first]
        while len(group) < MAX_GROUP:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return group, True
            group.append(job)
        return group, False

    def _run(self) -> None:
        stopping = False
        while not stopping:
            group, stopping = self._take_group()
            if group:
                self._commit_group(group)

    def _commit_group(self, group: list[_Job]) -> None:
        conn = self._conn
        start_sequence = self._sequence.last
        started = time.perf_counter()
        failure: BaseException | None = None
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in group:
                conn.execute("SAVEPOINT job")
                try:
                    job.result, job.records = job.work(conn)
                    conn.execute("RELEASE job")
                except Exception as error:  # one bad write fails only its own request
                    if is_store_fault(error):
                        raise  # the file cannot take writes: the whole group fails
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    job.error = error
            conn.execute("COMMIT")
        except Exception as error:
            failure = error
            self._rollback()
            self._sequence.last = start_sequence  # rolled back: these numbers are free again
            self._failures.failed(error, jobs=len(group))
            reply: BaseException = error
            if is_store_fault(error):
                reply = StoreUnavailableError()
                reply.__cause__ = error
            for job in group:
                job.error, job.records = reply, []
        else:
            self._failures.succeeded()
        seconds = time.perf_counter() - started
        self._loop.call_soon_threadsafe(self._deliver, group, failure, seconds)

    def _rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:  # SQLite rolls back by itself when it cannot
            logger.debug("rollback after a failed commit failed", exc_info=True)

    def _deliver(self, group: list[_Job], failure: BaseException | None, seconds: float) -> None:
        # Publishers' futures first, so their replies are scheduled ahead of the subscriber
        # wake-ups; the broadcast still runs in this same callback, in commit order.
        for job in group:
            if job.future.done():
                continue
            if job.error is not None:
                job.future.set_exception(job.error)
            else:
                job.future.set_result(job.result)
        records = [record for job in group if job.error is None for record in job.records]
        tell_observer(self.observer, failure, seconds, len(records))
        if records:
            try:
                self._listener(records)
            except Exception:  # subscribers must never fail a durable publish
                logger.exception("delivering committed records failed")
