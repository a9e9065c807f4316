"""Issue 9 item 4: streams that stop reading stop being fed once their window is full (their
blocked writes give their write slots back) and are ended per the slow-subscriber contract,
while a reader keeps receiving every event in order (real core, real streams)."""

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

STALLED = 20
EVENTS = 600
PAD = "x" * 3000  # events of about 3 KB: a 64 KB window holds about 20
SLOTS = 2  # fewer write slots than stalled streams: they must give them back
QUEUE = 200
BATCH = 20

EventsCall = grpc.aio.UnaryStreamCall[api.SubscribeEventsRequest, api.SubscribeEventsResponse]


async def read_through(call: EventsCall, last: int, seen: list[int]) -> None:
    """Follows a stream until sequence `last`, noting every event's sequence."""
    while not seen or seen[-1] < last:
        response = await call.read()
        assert isinstance(response, api.SubscribeEventsResponse)
        seen.extend(event.sequence for event in response.events)


async def test_non_reading_streams_stop_being_fed_and_a_reader_gets_everything(
    tmp_path: Path,
) -> None:
    async with (
        running_core(
            tmp_path,
            stream_write_slots=SLOTS,
            subscriber_queue=QUEUE,
            subscriber_write_timeout_seconds=2.0,
        ) as core,
        core_stub(core.address) as stub,
    ):
        # No BDP probing: each stalled stream's window stays at 64 KB.
        options = [("grpc.http2.bdp_probe", 0), ("grpc.use_local_subchannel_pool", 1)]
        async with grpc.aio.insecure_channel(core.address, options=options) as channel:
            stalled_stub = core_service_pb2_grpc.CoreServiceStub(channel)
            stalled = [
                stalled_stub.SubscribeEvents(api.SubscribeEventsRequest()) for _ in range(STALLED)
            ]
            reader = stub.SubscribeEvents(api.SubscribeEventsRequest())
            for call in (*stalled, reader):
                await call.initial_metadata()
            seen: list[int] = []
            events = [inventory(f"e-{n}", f"{PAD}{n}", "10") for n in range(EVENTS)]
            for start in range(0, EVENTS, BATCH):
                await stub.PublishEvents(
                    api.PublishEventsRequest(events=events[start : start + BATCH])
                )
                async with asyncio.timeout(60):  # the reader keeps up, batch by batch
                    await read_through(reader, start + BATCH, seen)
            assert seen == list(range(1, EVENTS + 1))  # no gap, no duplicate, in order

            # Stalled streams fed to their full window blocked and gave their slots back (the
            # others were never fed past their turn); each was ended with RESOURCE_EXHAUSTED.
            assert core.broadcaster.slots.blocked_writes >= 1
            await wait_for(
                lambda: core.broadcaster.slow_subscribers >= STALLED,
                timeout=60,
                message="every stalled stream to be ended",
            )
            await wait_for(
                lambda: core.broadcaster.count == 1,
                timeout=60,
                message="only the reader to be registered",
            )
            await wait_for(
                lambda: core.broadcaster.slots.free == SLOTS,
                timeout=10,
                message="every write slot to be free again",
            )

            # Reading at last, a stalled client gets what it was sent (about its window, no
            # gap), then the status.
            for call in stalled:
                got: list[int] = []
                with pytest.raises(grpc.aio.AioRpcError) as ended:
                    async for response in call:
                        got.extend(event.sequence for event in response.events)
                assert ended.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                assert got == list(range(1, len(got) + 1))
                assert len(got) < QUEUE  # it stopped being fed long before the end
            # The reader was never ended: it still gets what comes next.
            await stub.PublishEvents(
                api.PublishEventsRequest(events=[inventory("last", "item-last", "1")])
            )
            await read_through(reader, EVENTS + 1, seen)
            assert seen == list(range(1, EVENTS + 2))
            reader.cancel()
