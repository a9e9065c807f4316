"""Broadcaster: one shared, byte-bounded log of encoded committed records, read by every
subscription at its own position, in sequence order.

Each committed record is encoded once (service.wire frames) into an Entry appended to the
log; a subscription holds only its position and counts of what it has pending, so a subscriber
costs the same memory whether it reads or not. The log drops entries nobody needs any more,
and the oldest entries when it is over its bound: a subscriber that still needed them has
fallen behind (a live one is ended with RESOURCE_EXHAUSTED, a replaying one reads them from
the store).
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from service.convert import event_kind
from service.store.base import CommittedRecord
from service.wire import MAX_RESPONSE_BYTES, EventFrames, encode
from service.write_slots import Slot, WriteSlots, cancel_wait

ENTRY_OVERHEAD = 256  # bytes counted per log entry beside its frames (objects, list slot)
MIN_RESPONSE_BYTES = 16 * 1024  # responses shrink to this when writes in flight use the budget
# A response takes at most this share of the free response budget: a write that completed
# may still sit in gRPC's transport buffers, so a few large responses must not use it all.
RESPONSE_SHARE = 128


@dataclass(frozen=True, slots=True)
class Entry:
    """One committed record, encoded: the event's frame and what selectors filter on."""

    sequence: int
    shop: str
    kind: int
    event: bytes
    alerts: tuple[tuple[str, bytes], ...]
    completions: tuple[tuple[str, bytes], ...]
    size: int
    logged: float = 0.0  # time.monotonic() when it was logged


def entry_of(record: CommittedRecord, frames: EventFrames, logged: float = 0.0) -> Entry:
    """Encodes a committed record once for every subscriber (logged at `logged`)."""
    event = record.event
    frame = frames.frame(event)
    alerts = tuple((alert.shop, encode(alert)) for alert in record.alerts)
    completions = tuple((item.shop, encode(item)) for item in record.completions)
    size = ENTRY_OVERHEAD + len(frame)
    size += sum(len(f) for _, f in alerts) + sum(len(f) for _, f in completions)
    return Entry(
        event.sequence, event.shop, event_kind(event), frame, alerts, completions, size, logged
    )


# Picks a subscriber's frames (items) from an entry.
Selector = Callable[[Entry], Sequence[bytes]]


def everything(entry: Entry) -> Sequence[bytes]:
    """Selects every entry's event (the selector of an unfiltered event stream)."""
    return (entry.event,)


class StreamMemory:
    """The bound on what all streams hold together: the shared log, and the responses being
    written (each counted twice: our bytes and gRPC's copy, held until the peer takes them)."""

    def __init__(self, limit: int) -> None:
        """Half of `limit` for the log, half for responses in flight."""
        self.limit = limit
        self.log_limit = limit // 2
        self.in_flight = 0

    def response_bytes(self) -> int:
        """How many bytes of items the next response may carry: 1/128 of the free response
        budget (512 KiB while little is in flight with the default 128 MiB, at most 1 MiB),
        shrinking to 16 KiB as stalled writes hold the budget (at least one item)."""
        free = self.limit - self.log_limit - self.in_flight
        return max(MIN_RESPONSE_BYTES, min(MAX_RESPONSE_BYTES, free // RESPONSE_SHARE))

    def hold(self, size: int) -> None:
        """Counts a response of `size` bytes as being written."""
        self.in_flight += 2 * size

    def release(self, size: int) -> None:
        """A response of `size` bytes was written (or abandoned)."""
        self.in_flight -= 2 * size


class Log:
    """The shared entries in sequence order, bounded in bytes; `floor` is the newest sequence
    dropped (everything at or before it is only in the store)."""

    def __init__(self) -> None:
        """Empty."""
        self.entries: list[Entry] = []
        self.start = 0  # index of the oldest kept entry
        self.bytes = 0
        self.floor = 0

    def append(self, entries: Sequence[Entry]) -> None:
        """Adds newly committed entries."""
        self.entries.extend(entries)
        self.bytes += sum(entry.size for entry in entries)

    def index_after(self, sequence: int) -> int:
        """The index of the first kept entry newer than `sequence`."""
        return bisect_right(self.entries, sequence, lo=self.start, key=_sequence_of)

    def drop_through(self, sequence: int) -> None:
        """Drops the entries up to and including `sequence`."""
        end = self.index_after(sequence)
        self._drop(end)

    def drop_to(self, limit: int) -> None:
        """Drops the oldest entries until at most `limit` bytes are kept."""
        end = self.start
        size = self.bytes
        while size > limit and end < len(self.entries):
            size -= self.entries[end].size
            end += 1
        self._drop(end)

    def _drop(self, end: int) -> None:
        if end <= self.start:
            return
        entries = self.entries
        self.bytes -= sum(entry.size for entry in entries[self.start : end])
        self.floor = max(self.floor, entries[end - 1].sequence)
        if end >= len(entries):
            entries.clear()
            self.start = 0
        elif end > 1024 and end * 2 > len(entries):
            del entries[:end]
            self.start = 0
        else:
            self.start = end


def _sequence_of(entry: Entry) -> int:
    return entry.sequence


class FanoutSubscription:
    """One subscriber's position in the shared log and what it has pending there."""

    def __init__(
        self,
        select: Selector,
        log: Log,
        start: int,
        capacity: int,
        capacity_bytes: int,
        *,
        slots: WriteSlots | None = None,
        order: int = 0,
    ) -> None:
        """`select` picks this subscriber's items from an entry; `start` is the last sequence
        broadcast before registration; at most `capacity` items and `capacity_bytes` bytes
        may be pending; its writes take turns in `slots` (registered `order`-th)."""
        self.select = select
        self.slots = slots if slots is not None else WriteSlots()
        self.order = order
        self._slot_waiter: asyncio.Future[Slot | None] | None = None
        self.log = log
        self.start = start
        self.capacity = capacity
        self.capacity_bytes = capacity_bytes
        self.offered_through = start
        self.position = start  # everything at or before it was taken or matched nothing
        self.first_pending = 0  # the sequence of the oldest pending item (0: none)
        self.pending_since = 0.0  # when the oldest pending item was logged
        self.pending = 0  # items pending in the log
        self.pending_bytes = 0
        self.replaying = False
        self.lagged = False
        self.overflowed = False
        self.closed = False
        self.peer = ""  # the subscriber's address, for status reports
        self._ready = asyncio.Event()
        self._idle = False  # the pump waits in wait() for items

    def offer(self, entries: Sequence[Entry], all_events: tuple[int, int]) -> bool:
        """Counts the matching items of newly logged entries (called by the Broadcaster,
        with the count and bytes of all their events); False when this put a live subscriber
        over its bounds."""
        if self.overflowed or self.closed:
            return True
        if self.select is everything:  # no filter: the same for every such subscriber
            count, size = all_events
            first, since = entries[0].sequence, entries[0].logged
        else:
            count = size = first = 0
            since = 0.0
            for entry in entries:
                frames = self.select(entry)
                if frames:
                    if not first:
                        first, since = entry.sequence, entry.logged
                    count += len(frames)
                    size += sum(len(frame) for frame in frames)
        if not self.pending:
            self.position = max(self.position, self.offered_through)
        self.offered_through = entries[-1].sequence
        if not count:
            if not self.pending:
                self.position = self.offered_through
            return True  # nothing matched: no wake-up, heartbeats report the progress
        if not self.pending:
            self.first_pending, self.pending_since = first, since
        self.pending += count
        self.pending_bytes += size
        if self.pending > self.capacity or self.pending_bytes > self.capacity_bytes:
            self.fall_behind()
        elif self._idle and self._slot_waiter is None:
            # The pump is woken once it may write (not on every commit, not all at once).
            self._slot_waiter = self.slots.request(
                self.first_pending, self.order, self.pending_since, self._ready.set
            )
        return not self.overflowed

    def needs(self) -> int:
        """The oldest sequence this subscription still has to read from the log (0: none)."""
        return self.first_pending if self.pending and not self.overflowed else 0

    def fall_behind(self) -> None:
        """Gives up what is pending: a replaying subscriber reads it from the store, a live
        one is ended with RESOURCE_EXHAUSTED by its pump (what it already took is delivered
        first; a client that does not read sees the status once it does)."""
        self.pending = self.pending_bytes = self.first_pending = 0
        self.position = self.offered_through
        if self.replaying:
            self.lagged = True
        else:
            self.overflowed = True
            cancel_wait(self._slot_waiter)
        self._ready.set()

    def take(self, limit: int, max_bytes: int, after: int) -> list[tuple[int, bytes]]:
        """Removes up to `limit` pending items and `max_bytes` bytes of them (at least one
        entry's), skipping those at or before `after`."""
        # Runs once per subscriber per response: counters are kept in locals in the loop.
        taken: list[tuple[int, bytes]] = []
        size = 0
        select = self.select
        pending, pending_bytes, position = self.pending, self.pending_bytes, self.position
        entries = self.log.entries
        end = len(entries)
        index = self.log.index_after(position)
        while pending and index < end:
            entry = entries[index]
            frames = select(entry)
            if frames:
                count = len(frames)
                weight = len(frames[0]) if count == 1 else sum(map(len, frames))
                sequence = entry.sequence
                if sequence > after:
                    if taken and (size + weight > max_bytes or len(taken) + count > limit):
                        self.first_pending, self.pending_since = sequence, entry.logged
                        break
                    if count == 1:
                        taken.append((sequence, frames[0]))
                    else:
                        taken.extend([(sequence, frame) for frame in frames])
                    size += weight
                pending -= count
                pending_bytes -= weight
            position = entry.sequence
            index += 1
        self.pending, self.pending_bytes, self.position = pending, pending_bytes, position
        if index >= end:
            self.pending = 0  # everything logged was read (keeps the counts honest)
        if not self.pending:
            self.pending = self.pending_bytes = self.first_pending = 0
            self.position = max(self.position, self.offered_through)
            self._ready.clear()
        return taken

    @property
    def delivered_through(self) -> int:
        """The sequence through which the subscriber was handed its items (for status reports)."""
        return self.position

    async def wait(self, timeout: float) -> bool:
        """Waits until items arrive or the subscription ends; False after `timeout`."""
        self._idle = True
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        except TimeoutError:
            return False
        finally:
            self._idle = False
        return True

    async def slot(self, head: int, since: float) -> Slot | None:
        """Waits for a write slot, the next item to write having sequence `head`, logged at
        `since`; None when the subscription fell behind or was closed meanwhile."""
        waiter = self._slot_waiter
        if waiter is None:
            slot = self.slots.try_acquire(since)
            if slot is not None:
                return slot
            waiter = self._slot_waiter = self.slots.request(head, self.order, since)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and (granted := waiter.result()):
                granted.release()
            raise
        finally:
            self._slot_waiter = None

    def drop_slot(self) -> None:
        """Gives back a slot granted but not taken, or leaves the queue (the stream ended)."""
        waiter, self._slot_waiter = self._slot_waiter, None
        if waiter is not None and waiter.done() and not waiter.cancelled():
            granted = waiter.result()
            if granted is not None:
                granted.release()
        cancel_wait(waiter)

    def close(self) -> None:
        """Ends the subscription (server shutdown)."""
        self.closed = True
        cancel_wait(self._slot_waiter)
        self._ready.set()


class Broadcaster:
    """Logs each commit's records once and lets every registered subscription read them."""

    def __init__(
        self,
        last_sequence: int = 0,
        memory_bytes: int = 128 * 1024 * 1024,
        frames: EventFrames | None = None,
        slots: WriteSlots | None = None,
    ) -> None:
        """Starts after `last_sequence`, the newest sequence already stored; all streams
        together hold at most about `memory_bytes` (see StreamMemory); their writes take
        turns in `slots` (see WriteSlots)."""
        self.last_sequence = last_sequence
        self.memory = StreamMemory(memory_bytes)
        self.slots = slots if slots is not None else WriteSlots()
        self._registrations = 0
        self.frames = frames if frames is not None else EventFrames()
        self.log = Log()
        self._subscriptions: set[FanoutSubscription] = set()
        self.closed = False
        self.slow_subscribers = 0  # live subscribers ended for falling behind, ever
        self._empty = asyncio.Event()
        self._empty.set()

    def subscribe(
        self, select: Selector, capacity: int, capacity_bytes: int = 8 * 1024 * 1024
    ) -> FanoutSubscription:
        """Registers a subscription that receives everything broadcast from now on."""
        self._registrations += 1
        subscription = FanoutSubscription(
            select,
            self.log,
            self.last_sequence,
            capacity,
            capacity_bytes,
            slots=self.slots,
            order=self._registrations,
        )
        if self.closed:
            subscription.close()
        self._subscriptions.add(subscription)
        self._empty.clear()
        return subscription

    def unsubscribe(self, subscription: FanoutSubscription) -> None:
        """Forgets a subscription."""
        self._subscriptions.discard(subscription)
        subscription.drop_slot()
        if not self._subscriptions:
            self._empty.set()
            self.log.drop_through(self.last_sequence)

    def publish(self, records: Sequence[CommittedRecord]) -> None:
        """Logs committed records (in sequence order) for every subscription."""
        if not records:
            return
        self.last_sequence = records[-1].sequence
        if not self._subscriptions:
            return
        now = time.monotonic()
        entries = [entry_of(record, self.frames, now) for record in records]
        log = self.log
        log.append(entries)
        subscriptions = tuple(self._subscriptions)
        all_events = (len(entries), sum(len(entry.event) for entry in entries))
        for subscription in subscriptions:
            if not subscription.offer(entries, all_events):
                self.slow_subscribers += 1
        if log.bytes > self.memory.log_limit:
            log.drop_to(self.memory.log_limit)
            for subscription in subscriptions:
                needs = subscription.needs()
                if needs and needs <= log.floor:
                    subscription.fall_behind()
                    self.slow_subscribers += subscription.overflowed
        self.trim()

    def trim(self) -> None:
        """Drops the log entries no subscription needs any more."""
        needed = [needs for s in self._subscriptions if (needs := s.needs())]
        oldest = min(needed) if needed else self.last_sequence + 1
        self.log.drop_through(oldest - 1)

    @property
    def count(self) -> int:
        """Registered subscriptions."""
        return len(self._subscriptions)

    def subscriptions(self) -> tuple[FanoutSubscription, ...]:
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
