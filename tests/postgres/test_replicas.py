"""Two core replicas on one PostgreSQL database: shared log, fan-out, dedup, lossless resume."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from service.server import RunningCore
from tests.postgres.streams import batch, collect, publish
from tests.service.events import inventory
from tests.service.test_lossless import PUBLISHERS, TOTAL, follower, publisher
from tests.support.core import CoreStub, core_stub, running_core
from tests.support.waiting import wait_for

pytestmark = pytest.mark.postgres


@pytest.fixture
async def replicas(tmp_path: Path, postgres_url: str) -> AsyncIterator[list[RunningCore]]:
    """Two in-process cores sharing one fresh database."""
    async with (
        running_core(tmp_path / "one", store=postgres_url) as one,
        running_core(tmp_path / "two", store=postgres_url) as two,
    ):
        yield [one, two]


@pytest.fixture
async def stubs(replicas: list[RunningCore]) -> AsyncIterator[list[CoreStub]]:
    """A stub per replica."""
    async with (
        core_stub(replicas[0].address) as one,
        core_stub(replicas[1].address) as two,
    ):
        yield [one, two]


async def test_subscribers_of_one_replica_get_every_event_published_through_the_other(
    replicas: list[RunningCore], stubs: list[CoreStub]
) -> None:
    one, two = stubs
    await publish(one, batch("before", 10))
    # "Live from now" is from what this replica has received (a notification away).
    await wait_for(lambda: replicas[1].broadcaster.last_sequence == 10, message="replica two")
    live = two.SubscribeEvents(api.SubscribeEventsRequest())
    replay = two.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=0))
    await live.initial_metadata()
    await replay.initial_metadata()
    for number in range(10):
        await publish(one, batch(f"during-{number}", 19))
    assert await collect(live, 200) == list(range(11, 201))
    assert await collect(replay, 200) == list(range(1, 201))


async def test_same_delivery_to_both_replicas_at_once_is_stored_once(
    stubs: list[CoreStub],
) -> None:
    one, two = stubs
    for number in range(15):
        request = api.PublishEventsRequest(events=[inventory(f"twice-{number}", "i", "4")])
        first, second = await asyncio.gather(one.PublishEvents(request), two.PublishEvents(request))
        outcomes = sorted([first.results[0].outcome, second.results[0].outcome])
        assert outcomes == [api.PUBLISH_OUTCOME_STORED, api.PUBLISH_OUTCOME_DUPLICATE]
        assert first.results[0].sequence == second.results[0].sequence == number + 1
        assert first.results[0].event_id == second.results[0].event_id


async def test_state_written_by_one_replica_is_read_by_the_other(stubs: list[CoreStub]) -> None:
    one, two = stubs
    await publish(one, [inventory("lvl-1", "item-9", "12", location="loc-9")])
    await publish(two, [inventory("lvl-2", "item-9", "0", location="loc-9")])
    reply = await one.GetInventoryLevel(
        api.GetInventoryLevelRequest(
            shop="demo.myshopify.com", inventory_item_id="item-9", location_id="loc-9"
        )
    )
    assert reply.level.available == "0"
    alerts = one.SubscribeInventoryAlerts(api.SubscribeInventoryAlertsRequest(after_sequence=0))
    response = await alerts.read()
    alerts.cancel()
    assert isinstance(response, api.SubscribeInventoryAlertsResponse)
    assert [a.kind for a in response.alerts][-1] == ev.INVENTORY_ALERT_KIND_OUT_OF_STOCK


async def test_resuming_subscribers_of_both_replicas_see_every_event_once_in_order(
    stubs: list[CoreStub],
) -> None:
    publishers = [
        asyncio.create_task(publisher(stubs[number % 2], number)) for number in range(PUBLISHERS)
    ]
    followers = [asyncio.create_task(follower(stubs[seed % 2], 0, seed)) for seed in range(4)]
    await asyncio.gather(*publishers)
    for seen in await asyncio.gather(*followers):
        assert seen == list(range(1, TOTAL + 1))
