"""Issue 9 item 4: stream write slots (service.write_slots): closest to the head first, a
blocked write gives its slot back, lagging streams share a bounded byte rate, endings take
turns."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from service.write_slots import ENDING_TURNS, Slot, WriteSlots, cancel_wait
from tests.support.waiting import wait_for

LONG = 60.0  # a blocked-write timeout no test reaches


def fresh() -> float:
    """A `since` for an item logged just now."""
    return time.monotonic()


def taken(waiter: asyncio.Future[Slot | None]) -> Slot:
    """The slot a waiter was granted."""
    assert waiter.done()
    slot = waiter.result()
    assert slot is not None
    return slot


async def test_waiting_streams_are_served_closest_to_the_head_then_oldest_first() -> None:
    slots = WriteSlots(slots=1, blocked_seconds=LONG)
    holder = slots.try_acquire(fresh())
    assert holder is not None
    assert slots.try_acquire(fresh()) is None  # all taken
    granted: list[str] = []

    def noting(name: str) -> Callable[[], None]:
        return lambda: granted.append(name)

    waiters = {
        name: slots.request(head, order, fresh(), noting(name))
        for name, head, order in (("old", 5, 1), ("newest-late", 9, 7), ("newest", 9, 2))
    }
    waiters["mid"] = slots.request(7, 3, fresh(), noting("mid"))
    assert slots.waiting() == 4
    holder.release()
    for expected in ("newest", "newest-late", "mid", "old"):
        assert granted[-1] == expected
        taken(waiters[expected]).release()
    assert granted == ["newest", "newest-late", "mid", "old"]
    assert slots.free == 1
    assert slots.waiting() == 0


async def test_a_blocked_write_gives_its_slot_back_to_the_next_stream() -> None:
    slots = WriteSlots(slots=1, blocked_seconds=0.02)
    blocked = slots.try_acquire(fresh())
    assert blocked is not None
    waiter = slots.request(1, 1, fresh())
    await wait_for(waiter.done, timeout=10, message="the blocked slot to be given back")
    assert blocked.blocked
    assert slots.blocked_writes == 1
    blocked.release()  # the write completed at last: nothing more to give back
    assert slots.free == 0
    taken(waiter).release()
    assert slots.free == 1
    assert slots.blocked_writes == 1  # released in time: not blocked


async def test_a_cancelled_wait_gets_none_and_the_slot_goes_to_the_next() -> None:
    slots = WriteSlots(slots=1, blocked_seconds=LONG)
    holder = slots.try_acquire(fresh())
    assert holder is not None
    ended = slots.request(9, 1, fresh())
    other = slots.request(1, 2, fresh())
    cancel_wait(ended)  # that stream fell behind or was closed
    assert ended.result() is None
    holder.release()
    taken(other).release()
    assert slots.free == 1


async def test_lagging_streams_wait_behind_fresh_ones_and_share_a_byte_rate() -> None:
    rate = 64 * 1024
    slots = WriteSlots(slots=2, blocked_seconds=LONG, lag_seconds=30, lag_bytes_per_second=rate)
    old = time.monotonic() - 100  # oldest pending item logged 100 s ago: lagging
    near_head = slots.try_acquire(fresh())  # a reader near the head is being served
    assert near_head is not None
    assert not near_head.lagging
    assert slots.try_acquire(old) is None  # a lagging stream never gets a slot at once
    first = slots.request(1, 1, old)
    slot = taken(first)  # the budget starts with a burst's worth
    assert slot.lagging
    slot.charge(8 * 1024 * 1024)  # an 8 MiB response: the budget is in debt
    slot.release()
    second = slots.request(2, 2, old)
    assert not second.done()  # a slot is free, but the lagging budget is spent
    third = taken(slots.request(3, 3, fresh()))  # a stream near the head: at once
    third.charge(100 * 1024)  # what streams near the head are written adds to the budget...
    third.release()
    assert slots.lag_tokens < 0
    assert not second.done()
    near_head.charge(8 * 1024 * 1024)  # ...up to paying the debt off
    near_head.release()  # a slot coming back now serves the lagging stream
    taken(second).release()
    assert slots.free == 2


async def test_when_every_stream_lags_they_are_served_as_fast_as_the_core_can() -> None:
    slots = WriteSlots(slots=1, blocked_seconds=LONG, lag_seconds=30, lag_bytes_per_second=1)
    old = time.monotonic() - 100
    first = taken(slots.request(1, 1, old))
    first.charge(100 * 1024 * 1024)  # far beyond the budget, but nobody is near the head
    first.release()
    taken(slots.request(2, 2, old)).release()
    assert slots.free == 1


async def test_endings_take_turns() -> None:
    slots = WriteSlots(blocked_seconds=LONG)  # a turn comes back only after a minute
    started: list[int] = []

    async def end(number: int) -> None:
        await slots.ending_turn()
        started.append(number)

    tasks = [asyncio.create_task(end(n)) for n in range(3 * ENDING_TURNS)]
    await wait_for(lambda: len(started) >= ENDING_TURNS, timeout=10, message="first endings")
    for _ in range(10):
        await asyncio.sleep(0)  # let every task run as far as it can
    assert sorted(started) == list(range(ENDING_TURNS))  # the rest wait for a turn
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    quick = WriteSlots(blocked_seconds=0.01)
    done: list[int] = []

    async def end_quick(number: int) -> None:
        await quick.ending_turn()
        done.append(number)

    await asyncio.gather(*(end_quick(n) for n in range(3 * ENDING_TURNS)))
    assert sorted(done) == list(range(3 * ENDING_TURNS))  # every ending gets its turn
