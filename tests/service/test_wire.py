"""service.wire: pre-encoded SubscribeEvents responses are exactly the messages they replace."""

from __future__ import annotations

import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from service.wire import EventFrames

pytestmark = pytest.mark.unit  # pure: no core, bridge, database or other process


def _event(sequence: int) -> ev.Event:
    event = ev.Event(
        id=f"id-{sequence}",
        platform=ev.PLATFORM_SHOPIFY,
        source_event_id=f"delivery-{sequence}",
        shop="shop.myshopify.com",
        sequence=sequence,
        topic="inventory_levels/update",
    )
    event.inventory_updated.inventory_item_id = str(2**60 + sequence)
    event.inventory_updated.available = str(sequence * 1000)  # varying sizes
    return event


def test_response_parses_to_the_message_it_replaces() -> None:
    events = [_event(sequence) for sequence in (1, 2, 300)]
    encoded = EventFrames().response(events, 300)
    expected = api.SubscribeEventsResponse(events=events, sequence=300)
    assert api.SubscribeEventsResponse.FromString(encoded) == expected


def test_heartbeat_carries_only_the_cursor() -> None:
    encoded = EventFrames().response([], 2**40)
    assert encoded == api.SubscribeEventsResponse(sequence=2**40).SerializeToString()


def test_full_cache_starts_over_and_stays_exact() -> None:
    frames = EventFrames(limit=2)
    events = [_event(sequence) for sequence in range(1, 6)]
    for cursor in range(1, 6):
        encoded = frames.response(events[:cursor], cursor)
        expected = api.SubscribeEventsResponse(events=events[:cursor], sequence=cursor)
        assert api.SubscribeEventsResponse.FromString(encoded) == expected


def test_same_sequence_of_another_event_is_not_confused() -> None:
    frames = EventFrames()
    first, other = _event(7), _event(7)
    other.id = "another-id"
    frames.response([first], 7)
    decoded = api.SubscribeEventsResponse.FromString(frames.response([other], 7))
    assert decoded.events[0].id == "another-id"
