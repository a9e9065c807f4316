"""Lossless resume: subscribers drop and resume from their cursor while publishers run."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api

from tests.service.events import inventory
from tests.support.core import CoreStub, core_stub, running_core
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on both engines

PUBLISHERS = 4
BATCHES = 30
BATCH_SIZE = 25
TOTAL = PUBLISHERS * BATCHES * BATCH_SIZE  # 3,000 distinct events


async def publisher(stub: CoreStub, number: int) -> None:
    """Publishes BATCHES batches of distinct events, yielding between batches."""
    for batch in range(BATCHES):
        events = [
            inventory(f"p{number}-{batch}-{n}", f"item-{n % 7}", str(n % 9))
            for n in range(BATCH_SIZE)
        ]
        await stub.PublishEvents(api.PublishEventsRequest(events=events))


async def follower(stub: CoreStub, start: int, seed: int) -> list[int]:
    """Reads from `start`, dropping the stream after a random number of responses and
    resuming from the last cursor, until every event is delivered."""
    rng = random.Random(seed)
    seen: list[int] = []
    cursor = start
    while cursor < TOTAL:
        call = stub.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=cursor))
        budget = rng.randint(1, 6)
        try:
            async for response in call:
                seen.extend(event.sequence for event in response.events)
                cursor = response.sequence
                budget -= 1
                if budget == 0 or cursor >= TOTAL:
                    break
        except grpc.aio.AioRpcError as error:  # too slow for a tiny queue: resume
            assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        finally:
            call.cancel()
    return seen


@pytest.mark.parametrize("queue", [10_000, 30])
async def test_resuming_subscribers_see_every_event_once_in_order(
    tmp_path: Path, queue: int
) -> None:
    """With a tiny queue, replays overflow (and re-read the store) and live readers are
    ended as too slow: the sequence each one sees must still be exact."""
    async with (
        running_core(tmp_path, subscriber_queue=queue) as core,
        core_stub(core.address) as stub,
    ):
        await check_followers(stub)


async def check_followers(stub: CoreStub) -> None:
    """Runs publishers and resuming followers; checks what each follower saw."""
    publishers = [asyncio.create_task(publisher(stub, n)) for n in range(PUBLISHERS)]
    early = [asyncio.create_task(follower(stub, 0, seed)) for seed in range(3)]
    progress: list[int] = []

    async def a_third_is_stored() -> bool:
        probe = await stub.ListInventoryLevels(api.ListInventoryLevelsRequest())
        progress.append(probe.sequence)
        return probe.sequence >= TOTAL // 3

    await wait_for(a_third_is_stored, message="a third of the events stored")
    late_start = progress[-1]  # a late follower starts in the middle of the traffic
    late = asyncio.create_task(follower(stub, late_start, 99))
    await asyncio.gather(*publishers)
    results = await asyncio.gather(*early)
    for seen in results:
        assert seen == list(range(1, TOTAL + 1))
    assert await late == list(range(late_start + 1, TOTAL + 1))
