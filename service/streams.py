"""The replay-then-live pump behind every subscribe RPC: batches bounded in count and bytes,
cursors, heartbeats."""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass

from service.errors import ShuttingDownError, SubscriberTooSlowError
from service.fanout import FanoutSubscription, StreamMemory

BATCH = 500  # items per response at most
LAGGING_RESPONSE_BYTES = 64 * 1024  # a lagging stream's response (it may well be stalled)
FIRST_PAGE = 16  # items of the first replay page; later pages are sized from the ones before
# Reads stored items after a sequence, at most `limit`, as (sequence, frame) in order.
Replay = Callable[[int, int], Awaitable[list[tuple[int, bytes]]]]
Batch = tuple[list[bytes], int]


def _split(page: list[tuple[int, bytes]], max_bytes: int) -> list[list[tuple[int, bytes]]]:
    """Cuts a page into runs of at most `max_bytes` bytes (at least one item each)."""
    runs: list[list[tuple[int, bytes]]] = []
    run: list[tuple[int, bytes]] = []
    size = 0
    for item in page:
        if run and size + len(item[1]) > max_bytes:
            runs.append(run)
            run, size = [], 0
        run.append(item)
        size += len(item[1])
    if run:
        runs.append(run)
    return runs


@dataclass
class Pump:
    """Yields (frames, cursor) batches for one subscription: replay, then live.

    A batch holds at most BATCH items and the response size StreamMemory allows (512 KiB by
    default, less while many writes are stalled; 64 KiB for a lagging stream), unless one item
    alone is larger. A batch counts as in flight from its yield until the pump is resumed,
    i.e. until the write completed; each batch with items is written in a write slot
    (service.write_slots), taken before the batch and given back when the write completed."""

    subscription: FanoutSubscription
    replay: Replay
    heartbeat_seconds: float
    memory: StreamMemory

    async def run(self, after: int | None) -> AsyncGenerator[Batch, None]:
        """Replays stored items after `after` (unless None), then follows live ones; an
        empty batch is a heartbeat. Raises SubscriberTooSlowError when the subscriber fell
        behind, ShuttingDownError when the subscription is closed."""
        start = self.subscription.start  # items logged since registration are all newer
        if after is not None:
            start = after
            async with aclosing(self._replay(after)) as replayed:
                async for batch in replayed:
                    start = batch[1]
                    yield batch
        async with aclosing(self._live(start, caught_up_marker=after is not None)) as live:
            async for batch in live:
                yield batch

    async def _replay(self, after: int) -> AsyncGenerator[Batch, None]:
        subscription = self.subscription
        subscription.replaying = True
        cursor = after
        limit = FIRST_PAGE
        while not subscription.closed:
            max_bytes = self.memory.response_bytes()
            page = await self.replay(cursor, limit)
            if page:
                size = sum(len(frame) for _, frame in page)
                # Next page: about one response's worth, growing at most twofold.
                limit = max(1, min(BATCH, 2 * limit, max_bytes * len(page) // max(size, 1)))
                for run in _split(page, max_bytes):
                    slot = await subscription.slot(run[0][0], math.inf)  # never lagging
                    if slot is None:  # closed while waiting
                        break
                    cursor = run[-1][0]
                    size = sum(len(frame) for _, frame in run)
                    self.memory.hold(size)
                    try:
                        yield [frame for _, frame in run], cursor
                    finally:
                        self.memory.release(size)
                        slot.release()
            elif subscription.lagged:
                subscription.lagged = False
            else:
                break
        subscription.replaying = False

    async def _live(self, cursor: int, caught_up_marker: bool) -> AsyncGenerator[Batch, None]:
        """Live items; after a replay, one empty batch at once says "caught up" with the
        current cursor (so a sparse stream's cursor moves without waiting for a heartbeat)."""
        subscription = self.subscription
        reported = cursor
        while True:
            if subscription.overflowed:
                # Many streams falling behind at once must not stall the event loop
                # together: their endings take turns.
                await subscription.slots.ending_turn()
                raise SubscriberTooSlowError("subscriber")
            if subscription.closed:
                raise ShuttingDownError()
            slot = None
            if subscription.pending:
                slot = await subscription.slot(
                    subscription.first_pending, subscription.pending_since
                )
                if slot is None:  # fell behind or closed while waiting: said above
                    continue
            max_bytes = self.memory.response_bytes()
            if slot is not None and slot.lagging:
                max_bytes = min(max_bytes, LAGGING_RESPONSE_BYTES)
            taken = subscription.take(BATCH, max_bytes, cursor)
            if taken:
                cursor = taken[-1][0]
                if not subscription.pending:
                    cursor = max(cursor, subscription.offered_through)
                reported = cursor
                size = sum(len(frame) for _, frame in taken)
                if slot is not None:
                    slot.charge(size)
                self.memory.hold(size)
                try:
                    yield [frame for _, frame in taken], cursor
                finally:
                    self.memory.release(size)
                    if slot is not None:
                        slot.release()
                continue
            if slot is not None:
                slot.release()
            cursor = max(cursor, subscription.offered_through)
            if caught_up_marker and cursor > reported:
                reported = cursor
                yield [], cursor
            caught_up_marker = False
            if not await subscription.wait(self.heartbeat_seconds) and not subscription.pending:
                cursor = reported = max(cursor, subscription.offered_through)
                yield [], cursor
