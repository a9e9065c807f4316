"""Issue 9 item 4: a stream whose write has been pending longer than the write timeout (its
client stopped reading) is ended with RESOURCE_EXHAUSTED; a slow reader is not."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import core_service_pb2_grpc

from tests.service.events import inventory
from tests.support.core import core_stub, running_core
from tests.support.waiting import wait_for

PAD = "x" * 3000  # events of about 3 KB
EVENTS = 400  # about 1.2 MB: far more than a 64 KB window holds
WRITE_TIMEOUT = 1.0


async def test_stalled_stream_is_ended_after_the_write_timeout_and_a_slow_reader_is_not(
    tmp_path: Path,
) -> None:
    async with (
        running_core(tmp_path, subscriber_write_timeout_seconds=WRITE_TIMEOUT) as core,
        core_stub(core.address) as stub,
    ):
        # No BDP probing: the stalled stream's window stays at 64 KB, so a write blocks soon.
        options = [("grpc.http2.bdp_probe", 0), ("grpc.use_local_subchannel_pool", 1)]
        async with grpc.aio.insecure_channel(core.address, options=options) as channel:
            stalled = core_service_pb2_grpc.CoreServiceStub(channel).SubscribeEvents(
                api.SubscribeEventsRequest()
            )
            slow = stub.SubscribeEvents(api.SubscribeEventsRequest())
            await stalled.initial_metadata()
            await slow.initial_metadata()
            events = [inventory(f"e-{n}", f"{PAD}{n}", "10") for n in range(EVENTS)]
            for start in range(0, EVENTS, 50):
                await stub.PublishEvents(
                    api.PublishEventsRequest(events=events[start : start + 50])
                )

            # The slow reader takes a response a tenth of the write timeout apart.
            seen: list[int] = []
            while not seen or seen[-1] < EVENTS:
                response = await slow.read()
                assert isinstance(response, api.SubscribeEventsResponse)
                seen.extend(event.sequence for event in response.events)
                await asyncio.sleep(WRITE_TIMEOUT / 10)
            assert seen == list(range(1, EVENTS + 1))

            await wait_for(
                lambda: core.broadcaster.slow_subscribers >= 1,
                timeout=30,
                message="the stalled stream to be ended",
            )
            assert core.broadcaster.slow_subscribers == 1  # the slow reader was not ended
            assert core.broadcaster.count == 1  # only the slow reader is still registered

            # Reading at last, the stalled client gets what was sent, then the status.
            stalled_seen: list[int] = []
            with pytest.raises(grpc.aio.AioRpcError) as ended:
                async for response in stalled:
                    stalled_seen.extend(event.sequence for event in response.events)
            assert ended.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert stalled_seen == list(range(1, len(stalled_seen) + 1))
            assert len(stalled_seen) < EVENTS
            slow.cancel()
