"""StoreHealth: the core's gRPC health follows whether its store can commit now."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from service.store.base import CommitObserver, EventStore

logger = logging.getLogger(__name__)

# Longest wait for one probe commit; a probe still pending then counts as a failure.
PROBE_TIMEOUT_SECONDS = 5.0


class StoreHealth:
    """A CommitObserver: NOT_SERVING from the first failed commit, SERVING again from the
    next successful one. A probe commit runs every `probe_seconds` while failing (so health
    recovers without traffic) and while idle (so a store that broke between publishes is
    noticed); `also` gets every outcome too (metrics)."""

    def __init__(
        self,
        store: EventStore,
        set_serving: Callable[[bool], Coroutine[Any, Any, None]],
        probe_seconds: float,
        also: CommitObserver | None = None,
    ) -> None:
        """Reports through `set_serving`; call start() to begin probing."""
        self._store = store
        self._set_serving = set_serving
        self._probe_seconds = probe_seconds
        self._also = also
        self.serving = True
        self._last_commit = time.monotonic()
        self._task: asyncio.Task[None] | None = None
        self._updates: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Watches the store's commits and starts the probe task."""
        self._store.watch_commits(self)
        self._task = asyncio.get_running_loop().create_task(self._probe(), name="store-probe")

    async def stop(self) -> None:
        """Stops probing."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def committed(self, seconds: float, events: int) -> None:
        """A transaction committed: SERVING (again)."""
        self._last_commit = time.monotonic()
        if self._also is not None:
            self._also.committed(seconds, events)
        if not self.serving:
            logger.warning("store commits again: health SERVING")
            self._report(True)

    def failed(self, error: BaseException, seconds: float) -> None:
        """A transaction failed: NOT_SERVING until one commits."""
        if self._also is not None:
            self._also.failed(error, seconds)
        if self.serving:
            logger.error(
                "store cannot commit: health NOT_SERVING", extra={"error": type(error).__name__}
            )
            self._report(False)

    def _report(self, serving: bool) -> None:
        self.serving = serving
        task = asyncio.get_running_loop().create_task(self._set_serving(serving))
        self._updates.add(task)
        task.add_done_callback(self._updates.discard)

    async def _probe(self) -> None:
        while True:
            await asyncio.sleep(self._probe_seconds)
            idle = time.monotonic() - self._last_commit >= self._probe_seconds
            if self.serving and not idle:
                continue
            try:
                async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                    await self._store.probe_commit()
            except TimeoutError as error:
                self.failed(error, PROBE_TIMEOUT_SECONDS)
            except Exception:  # the writer reported it to failed() already
                logger.debug("store probe failed", exc_info=True)
