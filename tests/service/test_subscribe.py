"""SubscribeEvents through a real server: replay, live, filters, batching, heartbeats."""

from __future__ import annotations

from pathlib import Path

import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from tests.service.events import inventory, product
from tests.support.core import CoreStub, core_stub, running_core

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on both engines

Stub = CoreStub


async def publish_inventory(stub: Stub, first: int, count: int, shop: str = "a.shop") -> None:
    """Publishes `count` inventory events numbered from `first`."""
    events = [
        inventory(f"evt-{n}", f"item-{n}", "10", shop=shop) for n in range(first, first + count)
    ]
    await stub.PublishEvents(api.PublishEventsRequest(events=events))


async def test_replay_then_live_delivers_each_event_once_in_order(stub: Stub) -> None:
    await publish_inventory(stub, 0, 5)
    call = stub.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=2))
    await call.initial_metadata()
    await publish_inventory(stub, 5, 3)
    seen: list[int] = []
    async for response in call:
        seen.extend(event.sequence for event in response.events)
        assert response.sequence == seen[-1]
        if len(seen) >= 6:
            break
    call.cancel()
    assert seen == [3, 4, 5, 6, 7, 8]


async def test_without_cursor_only_live_events_arrive(stub: Stub) -> None:
    await publish_inventory(stub, 0, 3)
    call = stub.SubscribeEvents(api.SubscribeEventsRequest())
    await call.initial_metadata()
    await publish_inventory(stub, 3, 1)
    response = await call.read()
    call.cancel()
    assert isinstance(response, api.SubscribeEventsResponse)
    assert [event.sequence for event in response.events] == [4]


async def test_catch_up_is_batched(stub: Stub) -> None:
    for start in range(0, 1200, 400):
        await publish_inventory(stub, start, 400)
    call = stub.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=0))
    sizes: list[int] = []
    async for response in call:
        sizes.append(len(response.events))
        if response.sequence == 1200:
            break
    call.cancel()
    assert sum(sizes) == 1200
    assert max(sizes) >= 400


async def test_shop_and_kind_filters_apply_to_replay_and_live(stub: Stub) -> None:
    await publish_inventory(stub, 0, 2, shop="a.shop")
    await publish_inventory(stub, 2, 2, shop="b.shop")
    request = api.SubscribeEventsRequest(
        after_sequence=0, shop="b.shop", kinds=[ev.EVENT_KIND_PRODUCT_UPDATED]
    )
    call = stub.SubscribeEvents(request)
    await call.initial_metadata()
    catalog = [product("p-1", "prod-1", [("v", "s", "i")], shop="b.shop")]
    catalog.append(product("p-2", "prod-2", [("v", "s", "j")], shop="a.shop"))
    await stub.PublishEvents(api.PublishEventsRequest(events=catalog))
    delivered: list[tuple[str, str]] = []
    async for response in call:  # an empty "caught up" response may come first
        delivered.extend((e.shop, e.source_event_id) for e in response.events)
        if response.sequence >= 6:
            break
    call.cancel()
    assert delivered == [("b.shop", "p-1")]


async def test_idle_stream_gets_heartbeats_with_the_current_sequence(tmp_path: Path) -> None:
    async with (
        running_core(tmp_path, heartbeat_seconds=0.05) as core,
        core_stub(core.address) as stub,
    ):
        await publish_inventory(stub, 0, 2)
        call = stub.SubscribeEvents(api.SubscribeEventsRequest(shop="elsewhere"))
        await call.initial_metadata()
        await publish_inventory(stub, 2, 1)
        heartbeats: list[int] = []
        async for response in call:  # until a heartbeat reports the unmatched event's sequence
            assert list(response.events) == []
            heartbeats.append(response.sequence)
            if response.sequence == 3:
                break
        call.cancel()
    assert heartbeats[-1] == 3
    assert set(heartbeats) <= {2, 3}
