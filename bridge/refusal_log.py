"""RefusalLog: refused requests logged without a log flood (the first at once, then counts)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

LOG_INTERVAL_S = 1.0  # refusals after the first are logged at most once a second, counted


class RefusalLog:
    """Logs the first refusal at once, then the refusals of each following second as one
    line per (status, reason) with a count: a flood of slow connections is not a log flood."""

    def __init__(self, logger: logging.Logger, interval: float = LOG_INTERVAL_S) -> None:
        """Logs to `logger`, counts at most once per `interval` seconds; nothing logged yet."""
        self._logger = logger
        self._interval = interval
        self._pending: Counter[tuple[int, str]] = Counter()
        self._flush: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def refused(self, loop: asyncio.AbstractEventLoop, status: int, reason: str) -> None:
        """Records one refusal (in `loop`, which runs the flush of the counts)."""
        if loop is not self._loop:  # a new server loop: whatever the old one held is moot
            self._loop, self._flush = loop, None
            self._pending.clear()
        if self._flush is None:
            self._logger.warning("request refused", extra={"status": status, "reason": reason})
            self._flush = loop.call_later(self._interval, self._write, loop)
            return
        self._pending[(status, reason)] += 1

    def _write(self, loop: asyncio.AbstractEventLoop) -> None:
        self._flush = None
        if not self._pending:
            return
        for (status, reason), count in sorted(self._pending.items()):
            self._logger.warning(
                "requests refused", extra={"status": status, "reason": reason, "count": count}
            )
        self._pending.clear()
        self._flush = loop.call_later(self._interval, self._write, loop)
