"""PublishEvents through a real server: stored, duplicate, concurrent duplicates."""

from __future__ import annotations

import asyncio

from commercegateway.v1 import core_service_pb2 as api

from tests.service.events import inventory
from tests.support.core import CoreStub


async def test_new_event_is_stored_with_a_sequence(
    stub: CoreStub,
) -> None:
    event = inventory("evt-1", "item-1", "10")
    reply = await stub.PublishEvents(api.PublishEventsRequest(events=[event]))
    (result,) = reply.results
    assert result.outcome == api.PUBLISH_OUTCOME_STORED
    assert result.sequence == 1
    assert result.event_id == event.id


async def test_same_event_twice_is_a_duplicate_of_the_first(
    stub: CoreStub,
) -> None:
    first = await stub.PublishEvents(
        api.PublishEventsRequest(events=[inventory("evt-1", "item-1", "10")])
    )
    again = await stub.PublishEvents(
        api.PublishEventsRequest(events=[inventory("evt-1", "item-1", "10")])
    )
    assert again.results[0].outcome == api.PUBLISH_OUTCOME_DUPLICATE
    assert again.results[0].sequence == first.results[0].sequence
    assert again.results[0].event_id == first.results[0].event_id


async def test_concurrent_duplicates_are_stored_once(
    stub: CoreStub,
) -> None:
    request = api.PublishEventsRequest(events=[inventory("evt-c", "item-1", "3")])
    replies = await asyncio.gather(*(stub.PublishEvents(request) for _ in range(20)))
    outcomes = [reply.results[0].outcome for reply in replies]
    assert outcomes.count(api.PUBLISH_OUTCOME_STORED) == 1
    assert outcomes.count(api.PUBLISH_OUTCOME_DUPLICATE) == 19
    assert {reply.results[0].sequence for reply in replies} == {1}


async def test_duplicate_inside_one_batch_is_reported_as_duplicate(
    stub: CoreStub,
) -> None:
    events = [inventory("evt-b", "item-1", "3"), inventory("evt-b", "item-1", "3")]
    reply = await stub.PublishEvents(api.PublishEventsRequest(events=events))
    assert [r.outcome for r in reply.results] == [
        api.PUBLISH_OUTCOME_STORED,
        api.PUBLISH_OUTCOME_DUPLICATE,
    ]
    assert reply.results[0].sequence == reply.results[1].sequence
