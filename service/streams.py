"""The replay-then-live pump behind every subscribe RPC: batches, cursors, heartbeats."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from service.errors import ShuttingDownError, SubscriberTooSlowError
from service.fanout import Subscription

T = TypeVar("T")
BATCH = 500
# Reads stored items after a sequence, at most `limit`, as (sequence, item) in order.
Replay = Callable[[int, int], Awaitable[list[tuple[int, T]]]]


@dataclass
class Pump(Generic[T]):
    """Yields (items, cursor) batches for one subscription: replay, then live."""

    subscription: Subscription[T]
    replay: Replay[T]
    heartbeat_seconds: float

    async def run(self, after: int | None) -> AsyncIterator[tuple[list[T], int]]:
        """Replays stored items after `after` (unless None), then follows live ones; an
        empty batch is a heartbeat. Raises SubscriberTooSlowError when the subscriber fell
        behind, ShuttingDownError when the subscription is closed."""
        start = self.subscription.start  # items queued since registration are all newer
        if after is not None:
            start = after
            async for items, cursor in self._replay(after):
                start = cursor
                yield items, cursor
        async for live in self._live(start, caught_up_marker=after is not None):
            yield live

    async def _replay(self, after: int) -> AsyncIterator[tuple[list[T], int]]:
        subscription = self.subscription
        subscription.replaying = True
        cursor = after
        while not subscription.closed:
            page = await self.replay(cursor, BATCH)
            if page:
                cursor = page[-1][0]
                yield [item for _, item in page], cursor
            elif subscription.lagged:
                subscription.lagged = False
            else:
                break
        subscription.replaying = False

    async def _live(
        self, cursor: int, caught_up_marker: bool
    ) -> AsyncIterator[tuple[list[T], int]]:
        """Live items; after a replay, one empty batch at once says "caught up" with the
        current cursor (so a sparse stream's cursor moves without waiting for a heartbeat)."""
        subscription = self.subscription
        reported = cursor
        while True:
            if subscription.overflowed:
                raise SubscriberTooSlowError("subscriber")
            if subscription.closed:
                raise ShuttingDownError()
            taken = subscription.take(BATCH, cursor)
            if taken:
                cursor = taken[-1][0]
                if not subscription.pending:
                    cursor = max(cursor, subscription.offered_through)
                reported = cursor
                yield [item for _, item in taken], cursor
                continue
            cursor = max(cursor, subscription.offered_through)
            if caught_up_marker and cursor > reported:
                reported = cursor
                yield [], cursor
            caught_up_marker = False
            if not await subscription.wait(self.heartbeat_seconds) and not subscription.pending:
                cursor = reported = max(cursor, subscription.offered_through)
                yield [], cursor
