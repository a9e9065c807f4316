"""WriteSlots: how many stream writes may be in progress at once, and who goes first.

Every live subscriber stream asks for a slot before it takes its next response and gives it
back when that write completed. While slots are free a stream gets one at once; when all are
taken, waiting streams are served closest to the head first (the stream whose next item is
the newest), the longest-registered first among equals. A write that has not completed after
`blocked_seconds` (its client is not reading: its HTTP/2 window is full) gives its slot back
while it stays pending, and that stream asks again only once it completed.

A stream whose oldest pending item was logged more than `lag_seconds` ago is lagging: it is
served only when no stream nearer the head waits, and while streams near the head are being
served (within the last `lag_seconds`), all lagging streams together take at most
`lag_bytes_per_second` plus as many bytes as the streams near the head were written
(longest-registered first). So streams that stopped reading cost the core a bounded rate once
they fell behind, a reader near the head is never queued behind them (at most `slots` writes
and their completions are ahead of it), and when every stream lags (an overloaded core), they
are served as fast as the core can.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_SLOTS = 16
DEFAULT_BLOCKED_SECONDS = 0.03
DEFAULT_LAG_SECONDS = 0.1
DEFAULT_LAG_BYTES_PER_SECOND = 16 * 1024 * 1024
LAG_BURST_BYTES = 4 * 1024 * 1024  # what the lagging budget may save up while unused
ENDING_TURNS = 4  # streams ended for falling behind: at most this many per blocked_seconds


class Slot:
    """One granted write slot; `release` gives it back (once, whichever comes first: the
    write completed, or it was found blocked)."""

    __slots__ = ("_owner", "_timer", "blocked", "lagging")

    def __init__(self, owner: WriteSlots, lagging: bool) -> None:
        """Held from now until released; a `lagging` slot's bytes count against the lagging
        budget (see `charge`)."""
        self._owner: WriteSlots | None = owner
        self._timer: asyncio.TimerHandle | None = None
        self.blocked = False  # the write was still pending after blocked_seconds
        self.lagging = lagging

    def start_timer(self, seconds: float) -> None:
        """Releases the slot as blocked after `seconds` unless released before."""
        self._timer = asyncio.get_running_loop().call_later(seconds, self._expire)

    def charge(self, size: int) -> None:
        """Counts a response of `size` bytes written in this slot: a lagging stream's
        spends the lagging budget, one near the head adds as much to it."""
        owner = self._owner
        if owner is not None:
            owner.lag_tokens += -size if self.lagging else size

    def _expire(self) -> None:
        self._timer = None
        if self._owner is not None:
            self.blocked = True
            self._owner.blocked_writes += 1
            self.release()

    def release(self) -> None:
        """Gives the slot back (no-op when already given back)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        owner, self._owner = self._owner, None
        if owner is not None:
            owner.give_back()


Granted = Callable[[], None]


@dataclass(order=True, slots=True)
class _Request:
    """A stream waiting for a slot (ordered: nearest the head, then oldest registration)."""

    key: tuple[int, int, int]
    since: float = field(compare=False)  # when its oldest pending item was logged
    waiter: asyncio.Future[Slot | None] = field(compare=False)
    granted: Granted | None = field(compare=False)


class WriteSlots:
    """At most `slots` stream writes in progress; waiting streams served closest to the head
    first; lagging streams served last, from a bounded byte rate."""

    def __init__(
        self,
        slots: int = DEFAULT_SLOTS,
        blocked_seconds: float = DEFAULT_BLOCKED_SECONDS,
        lag_seconds: float = DEFAULT_LAG_SECONDS,
        lag_bytes_per_second: int = DEFAULT_LAG_BYTES_PER_SECOND,
    ) -> None:
        """`slots` writes at once; a write pending `blocked_seconds` gives its slot back; a
        stream whose oldest pending item is `lag_seconds` old shares `lag_bytes_per_second`."""
        self.slots = slots
        self.blocked_seconds = blocked_seconds
        self.lag_seconds = lag_seconds
        self.lag_rate = lag_bytes_per_second
        self.free = slots
        self.blocked_writes = 0  # writes that gave their slot back still pending, ever
        self.lag_tokens = float(LAG_BURST_BYTES)
        self._refilled = time.monotonic()
        self._fresh_at = -math.inf  # when a stream near the head was last granted a slot
        self._waiting: list[_Request] = []  # nearest the head first
        self._lagging: list[_Request] = []  # oldest registration first
        self._arrivals = itertools.count()
        self._wake: asyncio.TimerHandle | None = None
        self._endings = asyncio.Semaphore(ENDING_TURNS)

    async def ending_turn(self) -> None:
        """Waits for a turn to end a stream that fell behind: at most ENDING_TURNS endings
        start per `blocked_seconds` (an ending's status and clean-up cost the event loop)."""
        await self._endings.acquire()
        asyncio.get_running_loop().call_later(self.blocked_seconds, self._endings.release)

    def try_acquire(self, since: float) -> Slot | None:
        """A slot at once when one is free, nobody waits and the stream's oldest pending
        item (logged at `since`) is not lagging; else None."""
        if self.free and not self._waiting and time.monotonic() - since <= self.lag_seconds:
            return self._grant_fresh()
        return None

    def request(
        self, head: int, order: int, since: float, granted: Granted | None = None
    ) -> asyncio.Future[Slot | None]:
        """Queues a stream whose next item has sequence `head` (logged at `since`),
        registered `order`-th; the future resolves to its slot (or to None when `cancel_wait`
        ended the wait first), and `granted` is called as it gets one."""
        waiter: asyncio.Future[Slot | None] = asyncio.get_running_loop().create_future()
        entry = _Request((-head, order, next(self._arrivals)), since, waiter, granted)
        heapq.heappush(self._waiting, entry)
        self._serve()
        return waiter

    def give_back(self) -> None:
        """A slot is free again: serves the first waiting stream."""
        self.free += 1
        self._serve()

    def waiting(self) -> int:
        """Streams queued for a slot (status and tests)."""
        queued = self._waiting + self._lagging
        return sum(1 for entry in queued if not entry.waiter.done())

    def _grant(self, lagging: bool) -> Slot:
        self.free -= 1
        slot = Slot(self, lagging)
        slot.start_timer(self.blocked_seconds)
        return slot

    def _grant_fresh(self) -> Slot:
        self._fresh_at = time.monotonic()
        return self._grant(lagging=False)

    def _give(self, entry: _Request, lagging: bool) -> None:
        entry.waiter.set_result(self._grant(lagging) if lagging else self._grant_fresh())
        if entry.granted is not None:
            entry.granted()

    def _serve(self) -> None:
        waiting, lagging = self._waiting, self._lagging
        now = time.monotonic()
        while self.free and waiting:
            entry = heapq.heappop(waiting)
            if entry.waiter.done():  # a cancelled wait (the stream ended) is skipped
                continue
            if now - entry.since > self.lag_seconds:
                entry.key = (entry.key[1], entry.key[2], 0)
                heapq.heappush(lagging, entry)
                continue
            self._give(entry, lagging=False)
        if not self.free or not lagging:
            return
        self.lag_tokens = min(
            float(LAG_BURST_BYTES), self.lag_tokens + (now - self._refilled) * self.lag_rate
        )
        self._refilled = now
        if now - self._fresh_at > self.lag_seconds:  # every stream lags: nobody to protect
            self.lag_tokens = max(self.lag_tokens, 1.0)
        while self.free and lagging and self.lag_tokens > 0:
            entry = heapq.heappop(lagging)
            if not entry.waiter.done():
                self._give(entry, lagging=True)
        if self.free and lagging and self._wake is None:
            delay = max(0.001, -self.lag_tokens / self.lag_rate)
            self._wake = asyncio.get_running_loop().call_later(delay, self._woken)

    def _woken(self) -> None:
        self._wake = None
        self._serve()


def cancel_wait(waiter: asyncio.Future[Slot | None] | None) -> None:
    """Ends a stream's wait for a slot (it fell behind or was closed): the waiter gets None."""
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
