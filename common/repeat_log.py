"""RepeatedFailureLog: a run of identical failures logged once, then as counts, never a flood."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

# At most one line per this many seconds while a run of failures lasts (besides its first).
REPEAT_INTERVAL_SECONDS = 10.0


class RepeatedFailureLog:
    """Logs the first failure of a run with its traceback; later ones only as one line per
    `interval` saying how many more happened since ("N more since"); one line when the run
    ends. Thread-safe (the SQLite writer reports from its own thread)."""

    def __init__(
        self,
        logger: logging.Logger,
        message: str,
        interval: float = REPEAT_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Logs `message` to `logger` for the failures of one kind of operation."""
        self._logger = logger
        self._message = message
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._failing = False
        self._since = 0.0  # when the last line was written
        self._unlogged = 0  # failures since the last line
        self._total = 0  # failures in the current run

    def failed(self, error: BaseException, **extra: object) -> None:
        """Records one failure; writes a line only when the run starts or `interval` passed."""
        with self._lock:
            now = self._clock()
            self._total += 1
            if not self._failing:
                self._failing, self._since, self._unlogged = True, now, 0
                self._logger.error(
                    self._message,
                    extra={**extra, "error": type(error).__name__},
                    exc_info=error,
                )
                return
            self._unlogged += 1
            if now - self._since < self._interval:
                return
            more, self._unlogged, self._since = self._unlogged, 0, now
        self._logger.error(
            f"{self._message} ({more} more since the last line)",
            extra={**extra, "error": type(error).__name__, "more_since": more},
        )

    def succeeded(self) -> None:
        """Ends a run of failures (one line with the run's count); nothing when none ran."""
        with self._lock:
            if not self._failing:
                return
            total, unlogged = self._total, self._unlogged
            self._failing, self._total, self._unlogged = False, 0, 0
        self._logger.warning(
            f"{self._message}: recovered after {total} failures",
            extra={"failures": total, "more_since": unlogged},
        )
