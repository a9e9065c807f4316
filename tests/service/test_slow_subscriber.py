"""A subscriber that does not read is ended with RESOURCE_EXHAUSTED; others keep going."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api

from tests.service.events import inventory
from tests.support.core import CoreStub, core_stub, running_core

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on both engines

BIG_ITEM = "x" * 3000  # large events fill the slow client's transport buffers quickly


async def publish_batch(stub: CoreStub, batch: int) -> None:
    """Publishes ten large events."""
    events = [inventory(f"e-{batch}-{n}", f"{BIG_ITEM}{n}", "10") for n in range(10)]
    await stub.PublishEvents(api.PublishEventsRequest(events=events))


EventsCall = grpc.aio.UnaryStreamCall[api.SubscribeEventsRequest, api.SubscribeEventsResponse]


async def read_until(call: EventsCall, sequence: int) -> list[int]:
    """Reads a stream until it has delivered `sequence`; returns the event sequences."""
    seen: list[int] = []
    while not seen or seen[-1] < sequence:
        response = await call.read()
        assert isinstance(response, api.SubscribeEventsResponse)
        seen.extend(event.sequence for event in response.events)
    return seen


async def test_reader_that_falls_behind_is_ended_and_others_get_everything(
    tmp_path: Path,
) -> None:
    async with running_core(tmp_path, subscriber_queue=50) as core, core_stub(core.address) as stub:
        slow = stub.SubscribeEvents(api.SubscribeEventsRequest())
        fast = stub.SubscribeEvents(api.SubscribeEventsRequest())
        await slow.initial_metadata()
        await fast.initial_metadata()
        fast_seen: list[int] = []
        batch = 0
        while core.broadcaster.slow_subscribers == 0:
            assert batch < 3000, "the slow subscriber was never ended"
            await publish_batch(stub, batch)
            batch += 1
            fast_seen += await read_until(fast, batch * 10)
        await publish_batch(stub, batch)
        fast_seen += await read_until(fast, (batch + 1) * 10)
        assert fast_seen == list(range(1, (batch + 1) * 10 + 1))

        slow_seen: list[int] = []
        last_cursor = 0
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            async for response in slow:
                slow_seen.extend(event.sequence for event in response.events)
                last_cursor = response.sequence
        assert ended.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert slow_seen == list(range(1, len(slow_seen) + 1))
        assert last_cursor == len(slow_seen)
        fast.cancel()
