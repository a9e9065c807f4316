"""The SQLite writer thread: runs every pending write in one transaction (group commit)."""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.store.base import CommitListener, CommittedRecord

logger = logging.getLogger(__name__)

# A write returns (its result, the records it committed for subscribers).
WriteWork = Callable[[sqlite3.Connection], tuple[Any, Sequence[CommittedRecord]]]
MAX_GROUP = 256


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
    ) -> None:
        """Prepares the writer over an open connection; call start() to run it."""
        self._conn = conn
        self._loop = loop
        self._listener = listener
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
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in group:
                conn.execute("SAVEPOINT job")
                try:
                    job.result, job.records = job.work(conn)
                    conn.execute("RELEASE job")
                except Exception as error:  # one bad write fails only its own request
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    job.error = error
            conn.execute("COMMIT")
        except Exception as error:
            logger.exception("store commit failed", extra={"jobs": len(group)})
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for job in group:
                job.error, job.records = error, []
        self._loop.call_soon_threadsafe(self._deliver, group)

    def _deliver(self, group: list[_Job]) -> None:
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
        if records:
            try:
                self._listener(records)
            except Exception:  # subscribers must never fail a durable publish
                logger.exception("delivering committed records failed")
