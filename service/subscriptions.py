"""SubscriptionService: opens replay-then-live streams of events, alerts and completions."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from typing import Any

import grpc

from service.errors import CursorOutOfRangeError, SubscriberTooSlowError
from service.fanout import Broadcaster, Entry, Selector, everything
from service.store.base import EventStore
from service.streams import Batch, Pump, Replay
from service.validation import check_cursor
from service.wire import encode, frame_of

logger = logging.getLogger(__name__)
Context = grpc.aio.ServicerContext[Any, Any]


class SubscriptionService:
    """Registers subscribers with the Broadcaster and pumps their streams."""

    def __init__(
        self,
        store: EventStore,
        broadcaster: Broadcaster,
        capacity: int,
        heartbeat_seconds: float,
        capacity_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        """Streams from `store` and `broadcaster`; each subscriber may have at most
        `capacity` items and `capacity_bytes` bytes pending."""
        self.store = store
        self.broadcaster = broadcaster
        self.capacity = capacity
        self.capacity_bytes = capacity_bytes
        self.heartbeat_seconds = heartbeat_seconds

    def events(
        self, after: int | None, shop: str, kinds: Sequence[int], context: Context
    ) -> AsyncGenerator[Batch, None]:
        """Events after the cursor (or live from now), filtered by shop and kinds."""
        wanted = frozenset(kind for kind in kinds if kind)

        def select(entry: Entry) -> Sequence[bytes]:
            if shop and entry.shop != shop:
                return ()
            if wanted and entry.kind not in wanted:
                return ()
            return (entry.event,)

        async def replay(cursor: int, limit: int) -> list[tuple[int, bytes]]:
            # The stored bytes are the event's serialization: framed, never parsed again.
            found = await self.store.read_stored_events(cursor, limit, shop, sorted(wanted))
            return [(sequence, frame_of(data)) for sequence, data in found]

        return self._open(after, select if shop or wanted else everything, replay, context)

    def alerts(self, after: int | None, shop: str, context: Context) -> AsyncGenerator[Batch, None]:
        """Inventory alerts after the cursor (or live from now), optionally of one shop."""

        def select(entry: Entry) -> Sequence[bytes]:
            return [frame for owner, frame in entry.alerts if not shop or owner == shop]

        async def replay(cursor: int, limit: int) -> list[tuple[int, bytes]]:
            found = await self.store.read_alerts(cursor, limit, shop)
            return [(alert.sequence, encode(alert)) for alert in found]

        return self._open(after, select, replay, context)

    def completions(
        self, after: int | None, shop: str, context: Context
    ) -> AsyncGenerator[Batch, None]:
        """Order completions after the cursor (or live from now), optionally of one shop."""

        def select(entry: Entry) -> Sequence[bytes]:
            return [frame for owner, frame in entry.completions if not shop or owner == shop]

        async def replay(cursor: int, limit: int) -> list[tuple[int, bytes]]:
            found = await self.store.read_completions(cursor, limit, shop)
            return [(item.sequence, encode(item)) for item in found]

        return self._open(after, select, replay, context)

    async def _open(
        self, after: int | None, select: Selector, replay: Replay, context: Context
    ) -> AsyncGenerator[Batch, None]:
        check_cursor(after)
        if after is not None:
            info = await self.store.info()
            if after < info.compacted_through:
                raise CursorOutOfRangeError(after, info.compacted_through + 1)
        broadcaster = self.broadcaster
        subscription = broadcaster.subscribe(select, self.capacity, self.capacity_bytes)
        subscription.peer = context.peer()
        try:
            await context.send_initial_metadata(())
            pump = Pump(subscription, replay, self.heartbeat_seconds, broadcaster.memory)
            async with aclosing(pump.run(after)) as batches:
                async for batch in batches:
                    yield batch
        except SubscriberTooSlowError:
            logger.warning("slow subscriber ended", extra={"peer": context.peer()})
            raise
        finally:
            broadcaster.unsubscribe(subscription)
