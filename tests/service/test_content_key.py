"""PublishEvents with content keys: the second dedup key of body-only-signed deliveries."""

from __future__ import annotations

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from tests.service.events import inventory
from tests.support.core import CoreStub

KEY = "a" * 64 + ":0"


def _keyed(
    source_event_id: str, key: str, platform: ev.Platform.ValueType = ev.PLATFORM_SHOPIFY
) -> ev.Event:
    event = inventory(source_event_id, "item-1", "4")
    event.platform = platform
    event.content_key = key
    return event


async def test_same_content_key_under_another_delivery_id_is_a_duplicate(stub: CoreStub) -> None:
    first = await stub.PublishEvents(api.PublishEventsRequest(events=[_keyed("w-1", KEY)]))
    again = await stub.PublishEvents(api.PublishEventsRequest(events=[_keyed("w-2", KEY)]))
    assert again.results[0].outcome == api.PUBLISH_OUTCOME_DUPLICATE
    assert again.results[0].sequence == first.results[0].sequence
    assert again.results[0].event_id == first.results[0].event_id


async def test_content_key_duplicate_inside_one_batch(stub: CoreStub) -> None:
    events = [_keyed("w-1", KEY), _keyed("w-2", KEY), _keyed("w-3", "b" * 64 + ":0")]
    reply = await stub.PublishEvents(api.PublishEventsRequest(events=events))
    assert [r.outcome for r in reply.results] == [
        api.PUBLISH_OUTCOME_STORED,
        api.PUBLISH_OUTCOME_DUPLICATE,
        api.PUBLISH_OUTCOME_STORED,
    ]


async def test_content_keys_are_per_platform_and_empty_keys_never_collide(stub: CoreStub) -> None:
    events = [
        _keyed("w-1", KEY),
        _keyed("w-1", KEY, ev.PLATFORM_SQUARE),
        _keyed("w-2", ""),
        _keyed("w-3", ""),
    ]
    reply = await stub.PublishEvents(api.PublishEventsRequest(events=events))
    assert {r.outcome for r in reply.results} == {api.PUBLISH_OUTCOME_STORED}


async def test_oversized_content_key_is_invalid(stub: CoreStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.PublishEvents(api.PublishEventsRequest(events=[_keyed("w-1", "k" * 129)]))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "content_key" in (caught.value.details() or "")
