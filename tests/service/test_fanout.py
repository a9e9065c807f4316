"""The Broadcaster, its shared log and the replay-then-live Pump on their own (no server)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from service.errors import ShuttingDownError, SubscriberTooSlowError
from service.fanout import Broadcaster, Entry, FanoutSubscription, everything
from service.store.base import CommittedRecord
from service.streams import Batch, Pump, Replay
from service.wire import MAX_RESPONSE_BYTES, encode, response


def records(*sequences: int, pad: int = 0) -> list[CommittedRecord]:
    """Committed records of bare events with the given sequences (and `pad` bytes of shop)."""
    return [CommittedRecord(ev.Event(sequence=n, shop="s" + "x" * pad)) for n in sequences]


def selects_nothing(entry: Entry) -> Sequence[bytes]:
    """Selects no event (a filter nothing matches)."""
    return ()


async def nothing_stored(cursor: int, limit: int) -> list[tuple[int, bytes]]:
    """A replay source with an empty log."""
    return []


def pump(broadcaster: Broadcaster, subscription: FanoutSubscription, replay: Replay) -> Pump:
    """A pump of `subscription` with a one-minute heartbeat."""
    return Pump(subscription, replay, 60, broadcaster.memory)


def sequences(batch: Batch) -> tuple[list[int], int]:
    """The event sequences of a batch, and its cursor."""
    decoded = api.SubscribeEventsResponse.FromString(response(*batch))
    return [event.sequence for event in decoded.events], batch[1]


async def test_items_committed_before_the_pump_starts_are_delivered() -> None:
    broadcaster = Broadcaster(last_sequence=10)
    subscription = broadcaster.subscribe(everything, capacity=100)
    broadcaster.publish(records(11, 12))  # e.g. while initial metadata is being sent
    stream = pump(broadcaster, subscription, nothing_stored).run(None)
    assert sequences(await anext(stream)) == ([11, 12], 12)


async def test_replay_hands_over_to_live_without_duplicates() -> None:
    broadcaster = Broadcaster(last_sequence=3)
    subscription = broadcaster.subscribe(everything, capacity=100)
    broadcaster.publish(records(4, 5))
    log = {n: encode(ev.Event(sequence=n)) for n in range(1, 6)}

    async def replay(cursor: int, limit: int) -> list[tuple[int, bytes]]:
        return [(n, log[n]) for n in sorted(log) if n > cursor][:limit]

    stream = pump(broadcaster, subscription, replay).run(1)
    assert sequences(await anext(stream)) == ([2, 3, 4, 5], 5)
    broadcaster.publish(records(6))
    assert sequences(await anext(stream)) == ([6], 6)


async def test_live_overflow_ends_the_stream_as_too_slow() -> None:
    broadcaster = Broadcaster()
    subscription = broadcaster.subscribe(everything, capacity=2)
    broadcaster.publish(records(1, 2, 3))
    assert broadcaster.slow_subscribers == 1
    with pytest.raises(SubscriberTooSlowError):
        await anext(pump(broadcaster, subscription, nothing_stored).run(None))


async def test_live_subscriber_over_its_byte_bound_is_ended() -> None:
    broadcaster = Broadcaster()
    subscription = broadcaster.subscribe(everything, capacity=1000, capacity_bytes=64 * 1024)
    broadcaster.publish(records(*range(1, 11), pad=10_000))  # ten 10 KB events
    assert broadcaster.slow_subscribers == 1
    assert broadcaster.log.bytes == 0  # nobody needs the entries any more
    with pytest.raises(SubscriberTooSlowError):
        await anext(pump(broadcaster, subscription, nothing_stored).run(None))


async def test_responses_are_split_by_bytes_and_every_item_arrives_in_order() -> None:
    broadcaster = Broadcaster()
    subscription = broadcaster.subscribe(everything, capacity=1000, capacity_bytes=2**30)
    broadcaster.publish(records(*range(1, 201), pad=20_000))  # 4 MB in one commit
    stream = pump(broadcaster, subscription, nothing_stored).run(None)
    seen: list[int] = []
    while not seen or seen[-1] < 200:
        batch = await anext(stream)
        assert sum(len(frame) for frame in batch[0]) <= MAX_RESPONSE_BYTES
        seen += sequences(batch)[0]
    assert seen == list(range(1, 201))


async def test_replay_pages_are_split_by_bytes() -> None:
    broadcaster = Broadcaster(last_sequence=300)
    subscription = broadcaster.subscribe(everything, capacity=10)
    stored = [(n, encode(ev.Event(sequence=n, shop="x" * 30_000))) for n in range(1, 301)]

    async def replay(cursor: int, limit: int) -> list[tuple[int, bytes]]:
        return [item for item in stored if item[0] > cursor][:limit]

    stream = pump(broadcaster, subscription, replay).run(0)
    seen: list[int] = []
    while not seen or seen[-1] < 300:
        batch = await anext(stream)
        assert sum(len(frame) for frame in batch[0]) <= MAX_RESPONSE_BYTES
        seen += sequences(batch)[0]
    assert seen == list(range(1, 301))


async def test_shared_log_is_bounded_and_a_stalled_subscriber_is_ended() -> None:
    broadcaster = Broadcaster(memory_bytes=8 * 1024 * 1024)  # log: 4 MiB
    stalled = broadcaster.subscribe(everything, capacity=10**6, capacity_bytes=2**30)
    reader = broadcaster.subscribe(everything, capacity=10**6, capacity_bytes=2**30)
    stream = pump(broadcaster, reader, nothing_stored).run(None)
    seen: list[int] = []
    for batch in range(50):  # 50 commits of 100 KB
        first = batch * 10 + 1
        broadcaster.publish(records(*range(first, first + 10), pad=10_000))
        while not seen or seen[-1] < first + 9:
            seen += sequences(await anext(stream))[0]
        assert broadcaster.log.bytes <= broadcaster.memory.log_limit
    assert seen == list(range(1, 501))
    assert stalled.overflowed
    assert broadcaster.slow_subscribers == 1


async def test_filtered_subscriber_does_not_pin_the_log() -> None:
    broadcaster = Broadcaster()
    broadcaster.subscribe(selects_nothing, capacity=10)
    broadcaster.publish(records(1, 2, 3))
    assert broadcaster.log.bytes == 0


async def test_writes_in_flight_shrink_later_responses() -> None:
    broadcaster = Broadcaster(memory_bytes=256 * 1024 * 1024)
    memory = broadcaster.memory
    assert memory.response_bytes() == MAX_RESPONSE_BYTES  # 1/128 of 128 MiB free
    memory.hold(32 * 1024 * 1024)
    assert memory.response_bytes() == MAX_RESPONSE_BYTES // 2
    memory.hold(32 * 1024 * 1024)  # stalled writes hold 128 MiB, the whole budget
    assert memory.response_bytes() == 16 * 1024
    memory.release(64 * 1024 * 1024)
    assert memory.in_flight == 0


async def test_idle_stream_heartbeat_carries_progress_of_unmatched_records() -> None:
    broadcaster = Broadcaster()
    subscription = broadcaster.subscribe(selects_nothing, capacity=10)
    broadcaster.publish(records(1, 2))
    stream = Pump(subscription, nothing_stored, 0.01, broadcaster.memory).run(None)
    assert await anext(stream) == ([], 2)


async def test_close_ends_streams_as_shutting_down() -> None:
    broadcaster = Broadcaster()
    subscription = broadcaster.subscribe(everything, capacity=10)
    broadcaster.close()
    with pytest.raises(ShuttingDownError):
        await anext(pump(broadcaster, subscription, nothing_stored).run(None))
    broadcaster.unsubscribe(subscription)
    assert await broadcaster.wait_closed(0.1)


def alerts_of(entry: Entry) -> Sequence[bytes]:
    """Selects an entry's alert frames (several per entry)."""
    return [frame for _, frame in entry.alerts]


def test_take_keeps_an_entrys_items_together_within_the_count_and_byte_limits() -> None:
    broadcaster = Broadcaster()
    subscription = broadcaster.subscribe(alerts_of, capacity=100)
    for sequence in (1, 2, 3):
        alerts = tuple(ev.InventoryAlert(sequence=sequence, sku=f"sku-{n}") for n in range(2))
        broadcaster.publish([CommittedRecord(ev.Event(sequence=sequence), alerts=alerts)])
    assert subscription.pending == 6
    first = subscription.take(3, max_bytes=2**20, after=0)  # a second entry would make 4
    assert [sequence for sequence, _ in first] == [1, 1]
    assert subscription.pending == 4 and subscription.first_pending == 2
    one_entry = sum(len(frame) for _, frame in first)
    second = subscription.take(100, max_bytes=one_entry, after=0)  # bytes for one entry only
    assert [sequence for sequence, _ in second] == [2, 2]
    rest = subscription.take(100, max_bytes=2**20, after=2)
    assert [sequence for sequence, _ in rest] == [3, 3]
    assert subscription.pending == 0 and subscription.pending_bytes == 0
