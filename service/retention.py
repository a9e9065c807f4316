"""Retention: compacts the event log periodically, keeping the configured number of hours."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from service.store.base import EventStore

logger = logging.getLogger(__name__)


class Retention:
    """A background task that deletes events older than the retention period."""

    def __init__(self, store: EventStore, hours: float, interval_seconds: float) -> None:
        """Keeps `hours` of log, compacting every `interval_seconds`."""
        self.store = store
        self.keep = timedelta(hours=hours)
        self.interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    async def compact_once(self, now: datetime | None = None) -> int:
        """Deletes what is older than the retention period now; returns how many events."""
        cutoff = (now or datetime.now(UTC)) - self.keep
        deleted = await self.store.compact(cutoff)
        if deleted:
            logger.info("event log compacted", extra={"deleted_events": deleted})
        return deleted

    def start(self) -> None:
        """Starts the periodic compaction."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                await self.compact_once()
            except Exception:
                logger.exception("event log compaction failed")
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        """Stops the periodic compaction."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
