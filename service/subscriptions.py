"""SubscriptionService: opens replay-then-live streams of events, alerts and completions."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeVar

import grpc
from commercegateway.v1 import events_pb2 as ev

from service.convert import event_kind
from service.errors import CursorOutOfRangeError, SubscriberTooSlowError
from service.fanout import Broadcaster, Selector
from service.store.base import CommittedRecord, EventStore
from service.streams import Pump, Replay
from service.validation import check_cursor

logger = logging.getLogger(__name__)
T = TypeVar("T")
Context = grpc.aio.ServicerContext[Any, Any]


class SubscriptionService:
    """Registers subscribers with the Broadcaster and pumps their streams."""

    def __init__(
        self,
        store: EventStore,
        broadcaster: Broadcaster,
        capacity: int,
        heartbeat_seconds: float,
    ) -> None:
        """Streams from `store` and `broadcaster` with per-subscriber queues of `capacity`."""
        self.store = store
        self.broadcaster = broadcaster
        self.capacity = capacity
        self.heartbeat_seconds = heartbeat_seconds

    def events(
        self, after: int | None, shop: str, kinds: Sequence[int], context: Context
    ) -> AsyncIterator[tuple[list[ev.Event], int]]:
        """Events after the cursor (or live from now), filtered by shop and kinds."""
        wanted = frozenset(kind for kind in kinds if kind)

        def select(record: CommittedRecord) -> Sequence[ev.Event]:
            event = record.event
            if shop and event.shop != shop:
                return ()
            if wanted and event_kind(event) not in wanted:
                return ()
            return (event,)

        async def replay(cursor: int, limit: int) -> list[tuple[int, ev.Event]]:
            found = await self.store.read_events(cursor, limit, shop, sorted(wanted))
            return [(event.sequence, event) for event in found]

        return self._open(after, select, replay, context)

    def alerts(
        self, after: int | None, shop: str, context: Context
    ) -> AsyncIterator[tuple[list[ev.InventoryAlert], int]]:
        """Inventory alerts after the cursor (or live from now), optionally of one shop."""

        def select(record: CommittedRecord) -> Sequence[ev.InventoryAlert]:
            return [alert for alert in record.alerts if not shop or alert.shop == shop]

        async def replay(cursor: int, limit: int) -> list[tuple[int, ev.InventoryAlert]]:
            found = await self.store.read_alerts(cursor, limit, shop)
            return [(alert.sequence, alert) for alert in found]

        return self._open(after, select, replay, context)

    def completions(
        self, after: int | None, shop: str, context: Context
    ) -> AsyncIterator[tuple[list[ev.OrderCompletion], int]]:
        """Order completions after the cursor (or live from now), optionally of one shop."""

        def select(record: CommittedRecord) -> Sequence[ev.OrderCompletion]:
            return [item for item in record.completions if not shop or item.shop == shop]

        async def replay(cursor: int, limit: int) -> list[tuple[int, ev.OrderCompletion]]:
            found = await self.store.read_completions(cursor, limit, shop)
            return [(item.sequence, item) for item in found]

        return self._open(after, select, replay, context)

    async def _open(
        self, after: int | None, select: Selector[T], replay: Replay[T], context: Context
    ) -> AsyncIterator[tuple[list[T], int]]:
        check_cursor(after)
        if after is not None:
            info = await self.store.info()
            if after < info.compacted_through:
                raise CursorOutOfRangeError(after, info.compacted_through + 1)
        subscription = self.broadcaster.subscribe(select, self.capacity)
        subscription.peer = context.peer()
        try:
            await context.send_initial_metadata(())
            pump = Pump(subscription, replay, self.heartbeat_seconds)
            async for batch in pump.run(after):
                yield batch
        except SubscriberTooSlowError:
            logger.warning("slow subscriber ended", extra={"peer": context.peer()})
            raise
        finally:
            self.broadcaster.unsubscribe(subscription)
