"""Broadcaster: hands committed records to bounded per-subscriber queues, in sequence order."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from service.store.base import CommittedRecord

T = TypeVar("T")
Selector = Callable[[CommittedRecord], Sequence[T]]


class Subscription(Generic[T]):
    """One subscriber's bounded queue of (sequence, item) and its delivery progress."""

    def __init__(self, select: Selector[T], capacity: int, start: int) -> None:
        """`select` picks this subscriber's items from a record; `start` is the last sequence
        broadcast before registration."""
        self.select = select
        self.capacity = capacity
        self.start = start
        self.offered_through = start
        self.replaying = False
        self.lagged = False
        self.overflowed = False
        self.closed = False
        self.peer = ""  # the subscriber's address, for status reports
        self._queue: deque[tuple[int, T]] = deque()
        self._ready = asyncio.Event()

    def offer(self, records: Sequence[CommittedRecord]) -> bool:
        """Queues the matching items of committed records (called by the Broadcaster);
        False when this overflowed the queue of a live subscriber."""
        if self.overflowed or self.closed:
            return True
        queued = len(self._queue)
        for record in records:
            for item in self.select(record):
                self._queue.append((record.sequence, item))
        self.offered_through = records[-1].sequence
        if len(self._queue) == queued:
            return True  # nothing matched: no wake-up, heartbeats report the progress
        if len(self._queue) > self.capacity:
            self._queue.clear()
            if self.replaying:
                self.lagged = True  # the replay will read what was dropped from the store
            else:
                # Ended with RESOURCE_EXHAUSTED by its pump; what it already took is still
                # delivered first (a client that does not read sees the status once it does).
                self.overflowed = True
        self._ready.set()
        return not self.overflowed

    def take(self, limit: int, after: int) -> list[tuple[int, T]]:
        """Removes up to `limit` queued items, dropping those at or before `after`."""
        queue = self._queue
        while queue and queue[0][0] <= after:  # in sequence order: covered items lead
            queue.popleft()
        if len(queue) <= limit:
            taken = list(queue)
            queue.clear()
        else:
            taken = [queue.popleft() for _ in range(limit)]
        if not queue:
            self._ready.clear()
        return taken

    @property
    def pending(self) -> int:
        """Items waiting in the queue."""
        return len(self._queue)

    @property
    def delivered_through(self) -> int:
        """The sequence through which the subscriber was handed its items (the queue's view)."""
        return self._queue[0][0] - 1 if self._queue else self.offered_through

    async def wait(self, timeout: float) -> bool:
        """Waits until items arrive or the subscription ends; False after `timeout`."""
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        """Ends the subscription (server shutdown)."""
        self.closed = True
        self._ready.set()


class Broadcaster:
    """Delivers each commit's records to every registered subscription, in order."""

    def __init__(self, last_sequence: int = 0) -> None:
        """Starts after `last_sequence`, the newest sequence already stored."""
        self.last_sequence = last_sequence
        self._subscriptions: set[Subscription[Any]] = set()
        self.closed = False
        self.slow_subscribers = 0  # live subscribers ended for falling behind, ever
        self._empty = asyncio.Event()
        self._empty.set()

    def subscribe(self, select: Selector[T], capacity: int) -> Subscription[T]:
        """Registers a subscription that receives everything broadcast from now on."""
        subscription: Subscription[T] = Subscription(select, capacity, self.last_sequence)
        if self.closed:
            subscription.close()
        self._subscriptions.add(subscription)
        self._empty.clear()
        return subscription

    def unsubscribe(self, subscription: Subscription[T]) -> None:
        """Forgets a subscription."""
        self._subscriptions.discard(subscription)
        if not self._subscriptions:
            self._empty.set()

    def publish(self, records: Sequence[CommittedRecord]) -> None:
        """Hands committed records (in sequence order) to every subscription."""
        if not records:
            return
        for subscription in tuple(self._subscriptions):
            if not subscription.offer(records):
                self.slow_subscribers += 1
        self.last_sequence = records[-1].sequence

    @property
    def count(self) -> int:
        """Registered subscriptions."""
        return len(self._subscriptions)

    def subscriptions(self) -> tuple[Subscription[Any], ...]:
        """The registered subscriptions now (for status reports)."""
        return tuple(self._subscriptions)

    def close(self) -> None:
        """Ends every subscription and refuses new ones (server shutdown)."""
        self.closed = True
        for subscription in tuple(self._subscriptions):
            subscription.close()

    async def wait_closed(self, timeout: float) -> bool:
        """Waits until every subscription has ended; False after `timeout` seconds."""
        try:
            async with asyncio.timeout(timeout):
                await self._empty.wait()
        except TimeoutError:
            return False
        return True

    def lags(self) -> list[int]:
        """For each registered subscription, how many items wait in its queue (metrics)."""
        return [subscription.pending for subscription in self._subscriptions]
