"""The Broadcaster and the replay-then-live Pump on their own (no server)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from commercegateway.v1 import events_pb2 as ev

from service.errors import ShuttingDownError, SubscriberTooSlowError
from service.fanout import Broadcaster
from service.store.base import CommittedRecord
from service.streams import Pump


def records(*sequences: int) -> list[CommittedRecord]:
    """Committed records of bare events with the given sequences."""
    return [CommittedRecord(ev.Event(sequence=n, shop="s")) for n in sequences]


def everything(record: CommittedRecord) -> Sequence[ev.Event]:
    """Selects every event."""
    return (record.event,)


def selects_nothing(record: CommittedRecord) -> Sequence[ev.Event]:
    """Selects no event (a filter nothing matches)."""
    return ()


async def nothing_stored(cursor: int, limit: int) -> list[tuple[int, ev.Event]]:
    """A replay source with an empty log."""
    return []


async def test_items_committed_before_the_pump_starts_are_delivered() -> None:
    broadcaster = Broadcaster(last_sequence=10)
    subscription = broadcaster.subscribe(everything, capacity=100)
    broadcaster.publish(records(11, 12))  # e.g. while initial metadata is being sent
    stream = Pump(subscription, nothing_stored, heartbeat_seconds=60).run(None)
    items, cursor = await anext(stream)
    assert ([event.sequence for event in items], cursor) == ([11, 12], 12)


async def test_replay_hands_over_to_live_without_duplicates() -> None:
    broadcaster = Broadcaster(last_sequence=3)
    subscription = broadcaster.subscribe(everything, capacity=100)
    broadcaster.publish(records(4, 5))
    log = {n: ev.Event(sequence=n) for n in range(1, 6)}

    async def replay(cursor: int, limit: int) -> list[tuple[int, ev.Event]]:
        return [(n, log[n]) for n in sorted(log) if n > cursor][:limit]

    stream = Pump(subscription, replay, heartbeat_seconds=60).run(1)
    items, cursor = await anext(stream)
    assert ([event.sequence for event in items], cursor) == ([2, 3, 4, 5], 5)
    broadcaster.publish(records(6))
    items, cursor = await anext(stream)
    assert ([event.sequence for event in items], cursor) == ([6], 6)


async def test_live_overflow_ends_the_stream_as_too_slow() -> None:
    broadcaster = Broadcaster()
    subscription = broadcaster.subscribe(everything, capacity=2)
    broadcaster.publish(records(1, 2, 3))
    assert broadcaster.slow_subscribers == 1
    with pytest.raises(SubscriberTooSlowError):
        await anext(Pump(subscription, nothing_stored, heartbeat_seconds=60).run(None))


async def test_idle_stream_heartbeat_carries_progress_of_unmatched_records() -> None:
    broadcaster = Broadcaster()
    subscription = broadcaster.subscribe(selects_nothing, capacity=10)
    broadcaster.publish(records(1, 2))
    stream = Pump(subscription, nothing_stored, heartbeat_seconds=0.01).run(None)
    assert await anext(stream) == ([], 2)


async def test_close_ends_streams_as_shutting_down() -> None:
    broadcaster = Broadcaster()
    subscription = broadcaster.subscribe(everything, capacity=10)
    broadcaster.close()
    with pytest.raises(ShuttingDownError):
        await anext(Pump(subscription, nothing_stored, heartbeat_seconds=60).run(None))
    broadcaster.unsubscribe(subscription)
    assert await broadcaster.wait_closed(0.1)
