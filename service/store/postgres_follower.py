"""LogFollower: hands this replica's listener every record committed by any replica, in
sequence order, exactly once. LISTEN/NOTIFY wakes it; a periodic poll is the safety net."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from commercegateway.v1 import events_pb2 as ev

from service.store.base import CommitListener, CommittedRecord
from service.store.postgres_errors import is_connection_error
from service.store.postgres_schema import NOTIFY_CHANNEL

logger = logging.getLogger(__name__)

PAGE = 500
POLL_SECONDS = 1.0
NO_LIMIT = 2**63 - 1
# Events with their (at most one) alert and completion, read in one statement so that the
# three come from the same snapshot.
RECORDS_SQL = (
    "SELECT e.data, a.data, c.data FROM events e"
    " LEFT JOIN alerts a ON a.sequence = e.sequence"
    " LEFT JOIN completions c ON c.sequence = e.sequence"
    " WHERE e.sequence > $1 AND e.sequence < $2 ORDER BY e.sequence LIMIT $3"
)


def record_from_row(row: Sequence[Any]) -> CommittedRecord:
    """A CommittedRecord from a row of RECORDS_SQL."""
    alerts = (ev.InventoryAlert.FromString(row[1]),) if row[1] is not None else ()
    completions = (ev.OrderCompletion.FromString(row[2]),) if row[2] is not None else ()
    return CommittedRecord(ev.Event.FromString(row[0]), alerts, completions)


class LogFollower:
    """Follows the shared log after `delivered_through` and feeds the listener from it.

    The visible log is always a prefix of the sequence order (writers commit in sequence
    order, see PostgresEventStore), so reading `sequence > delivered_through` in order can
    never skip a record that commits later.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        listener: CommitListener,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        """Reads through `pool`, listens on a connection from `connect`, feeds `listener`."""
        self._pool = pool
        self._connect = connect
        self._listener = listener
        self.poll_seconds = poll_seconds
        self.delivered_through = 0
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._listening: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    async def start(self, delivered_through: int) -> None:
        """Starts following after `delivered_through` (the last sequence already known)."""
        self.delivered_through = delivered_through
        self._task = asyncio.get_running_loop().create_task(self._run(), name="pg-follower")

    async def stop(self) -> None:
        """Stops following and closes the listening connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._listening is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._listening.close(), 2.0)
            self._listening = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                if self._listening is None or self._listening.is_closed():
                    await self._listen()
                await self.catch_up()
                if self._failing:
                    logger.info("store reachable again")
                    self._failing = False
            except Exception as error:
                self._report(error)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()

    def _report(self, error: Exception) -> None:
        if not is_connection_error(error):
            logger.error("following the event log failed", exc_info=error)
        elif not self._failing:
            logger.warning("store unreachable", extra={"error": type(error).__name__})
        self._failing = True

    async def _listen(self) -> None:
        self._listening = None
        conn = await self._connect()
        try:
            await conn.add_listener(NOTIFY_CHANNEL, self._notified)
        except BaseException:
            conn.terminate()
            raise
        conn.add_termination_listener(lambda _conn: self._wake.set())
        self._listening = conn

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        with contextlib.suppress(ValueError):
            if int(payload) <= self.delivered_through:
                return  # already delivered (usually this replica's own commit)
        self._wake.set()

    def wake(self) -> None:
        """Asks for a catch-up read now (as a notification does)."""
        self._wake.set()

    async def catch_up(self) -> None:
        """Delivers every committed record after `delivered_through`, in order."""
        async with self._lock:
            while await self._deliver_from_log(NO_LIMIT) == PAGE:
                pass

    async def deliver_own(
        self, records: Sequence[CommittedRecord], reply: Callable[[], None]
    ) -> None:
        """Delivers the records this replica just committed, after any earlier records of
        other replicas not delivered yet (on a read failure the follower delivers them
        later). `reply` resolves the publishers' calls; it runs right before the records
        are handed over, in the same step, as the SQLite engine does."""
        async with self._lock:
            fresh = [record for record in records if record.sequence > self.delivered_through]
            try:
                while fresh and self.delivered_through < fresh[0].sequence - 1:
                    if not await self._deliver_from_log(fresh[0].sequence):
                        break  # compacted meanwhile: nothing left below
            except Exception as error:
                self._report(error)
                self._wake.set()
                fresh = []
            reply()
            self._deliver([r for r in fresh if r.sequence > self.delivered_through])

    async def _deliver_from_log(self, before: int) -> int:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(RECORDS_SQL, self.delivered_through, before, PAGE)
        self._deliver([record_from_row(tuple(row)) for row in rows])
        return len(rows)

    def _deliver(self, records: Sequence[CommittedRecord]) -> None:
        if records:
            self.delivered_through = records[-1].sequence
            self._listener(records)
