"""The live delivery stream (server-sent events): new deliveries as they are recorded.

A stream lasts at most STREAM_SECONDS, then ends; the browser reconnects by itself with
Last-Event-ID and misses nothing still in the ring. That bounds how long an open console can
hold up a graceful shutdown of the bridge.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from litestar.response import ServerSentEventMessage

from bridge.console.recorder import Delivery, DeliveryRecorder, Filters

STREAM_SECONDS = 10.0
"""A live stream ends after this many seconds (the page reconnects and resumes)."""
MAX_STREAMS = 16
"""At most this many live streams are open at once per bridge process (more: 503)."""
RECONNECT_MS = 500
"""How long the browser waits before reconnecting a stream that ended."""
_BATCH = 200


class LiveStreams:
    """Counts open streams (bounded by MAX_STREAMS) and produces their messages."""

    def __init__(self, recorder: DeliveryRecorder) -> None:
        """Streams what `recorder` records."""
        self._recorder = recorder
        self.open = 0

    def full(self) -> bool:
        """Whether no further stream may open now."""
        return self.open >= MAX_STREAMS

    async def messages(
        self,
        after: int,
        filters: Filters,
        render: Callable[[Delivery], dict[str, Any]],
    ) -> AsyncIterator[ServerSentEventMessage]:
        """Deliveries newer than id `after` matching `filters`, oldest first, for a while."""
        self.open += 1
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + STREAM_SECONDS
            yield ServerSentEventMessage(data=None, comment="live", retry=RECONNECT_MS)
            cursor = max(0, min(after, self._recorder.last_id))
            while True:
                newest = self._recorder.last_id
                found = self._recorder.newest(after=cursor, limit=_BATCH, filters=filters)
                for entry in reversed(found):
                    data = orjson.dumps(render(entry)).decode()
                    yield ServerSentEventMessage(data=data, event="delivery", id=entry.id)
                cursor = newest
                remaining = deadline - loop.time()
                if remaining <= 0 or not await self._recorder.wait_newer(cursor, remaining):
                    return
        finally:
            self.open -= 1
