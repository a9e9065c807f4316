"""GetCoreStatus through a real server: head sequence, subscribers and their lag, tokens."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from service.fanout import Broadcaster, Entry, FanoutSubscription, everything
from service.status import core_status
from service.store.base import CommittedRecord
from tests.service.events import inventory
from tests.support.core import core_stub, running_core
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on both engines


async def test_status_reports_head_and_each_subscriber(tmp_path: Path) -> None:
    async with running_core(tmp_path) as core, core_stub(core.address) as stub:
        empty = await stub.GetCoreStatus(api.GetCoreStatusRequest())
        assert (empty.head_sequence, empty.subscriber_count, list(empty.subscribers)) == (0, 0, [])
        events = [inventory(f"e{n}", f"item-{n}", "3") for n in range(3)]
        await stub.PublishEvents(api.PublishEventsRequest(events=events))
        call = stub.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=0))
        try:
            first = await call.read()
            assert isinstance(first, api.SubscribeEventsResponse)

            async def caught_up() -> bool:
                status = await stub.GetCoreStatus(api.GetCoreStatusRequest())
                return status.subscriber_count == 1 and not status.subscribers[0].replaying

            await wait_for(caught_up, message="the subscriber to finish its replay")
            status = await stub.GetCoreStatus(api.GetCoreStatusRequest())
            assert status.head_sequence == 3
            (subscriber,) = status.subscribers
            assert subscriber.peer
            assert subscriber.delivered_sequence == 3
            assert subscriber.behind == 0
            assert subscriber.capacity > 0
        finally:
            call.cancel()

        async def gone() -> bool:
            status = await stub.GetCoreStatus(api.GetCoreStatusRequest())
            return status.subscriber_count == 0

        await wait_for(gone, message="the cancelled subscriber to be forgotten")


async def test_status_is_readable_with_the_subscriber_token_only(tmp_path: Path) -> None:
    async with running_core(tmp_path, publisher_token="pub", subscriber_token="sub") as core:
        async with core_stub(core.address, "sub") as stub:
            status = await stub.GetCoreStatus(api.GetCoreStatusRequest())
            assert status.head_sequence == 0
        async with core_stub(core.address) as stub:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.GetCoreStatus(api.GetCoreStatusRequest())
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


def _selects_nothing(entry: Entry) -> tuple[bytes, ...]:
    return ()


@pytest.mark.unit
def test_a_subscriber_with_queued_items_is_behind_by_their_span() -> None:
    broadcaster = Broadcaster(last_sequence=10)
    slow = broadcaster.subscribe(everything, capacity=100)
    slow.peer = "ipv4:127.0.0.1:1"
    quiet: FanoutSubscription = broadcaster.subscribe(_selects_nothing, capacity=100)
    broadcaster.publish([CommittedRecord(ev.Event(sequence=n)) for n in (11, 12, 13)])
    status = core_status(broadcaster)
    assert status.head_sequence == 13
    assert [(s.peer, s.behind, s.queued, s.delivered_sequence) for s in status.subscribers] == [
        ("ipv4:127.0.0.1:1", 3, 3, 10),
        ("", 0, 0, 13),
    ]
    assert quiet.pending == 0
    slow.take(2, max_bytes=2**20, after=0)
    assert core_status(broadcaster).subscribers[0].behind == 1
