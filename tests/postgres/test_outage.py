"""PostgreSQL crashes and restarts under traffic: acknowledged events survive, publishes in
the outage get UNAVAILABLE, subscribers stay connected and catch up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api

from tests.postgres.streams import batch, publish
from tests.support.core import CoreStub, core_stub, running_core
from tests.support.postgres import ThrowawayPostgres
from tests.support.waiting import wait_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def own_server() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL server of this test only, as the test stops and restarts it."""
    server = ThrowawayPostgres()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
async def replicas(tmp_path: Path, own_server: ThrowawayPostgres) -> AsyncIterator[list[CoreStub]]:
    """Stubs of two replicas on one database, sending heartbeats every 0.1 s."""
    url = await asyncio.to_thread(own_server.create_database, "outage")
    async with (
        running_core(tmp_path / "one", store=url, heartbeat_seconds=0.1) as one,
        running_core(tmp_path / "two", store=url, heartbeat_seconds=0.1) as two,
        core_stub(one.address) as stub_one,
        core_stub(two.address) as stub_two,
    ):
        yield [stub_one, stub_two]


class Traffic:
    """Publishes batches in the background, remembering what was acknowledged."""

    def __init__(self, stub: CoreStub) -> None:
        """Publishes through `stub` until stop()."""
        self.stub = stub
        self.acked: dict[str, int] = {}
        self.failures: set[grpc.StatusCode] = set()
        self.running = True
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        number = 0
        while self.running:
            events = batch(f"traffic-{number}", 10)
            try:
                reply = await self.stub.PublishEvents(api.PublishEventsRequest(events=events))
            except grpc.aio.AioRpcError as error:
                self.failures.add(error.code())
                continue
            for event, result in zip(events, reply.results, strict=True):
                self.acked[event.source_event_id] = result.sequence
            number += 1

    async def stop(self) -> None:
        """Stops publishing after the current batch."""
        self.running = False
        await self.task


async def follow(stub: CoreStub, seen: list[int], heartbeats: list[int]) -> None:
    """Follows the live event stream, recording sequences and heartbeats."""
    call = stub.SubscribeEvents(api.SubscribeEventsRequest())
    try:
        async for response in call:
            seen.extend(event.sequence for event in response.events)
            if not response.events:
                heartbeats.append(response.sequence)
    finally:
        call.cancel()


async def unavailable(call: Awaitable[Any]) -> bool:
    """True when awaiting the call fails with UNAVAILABLE."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code() == grpc.StatusCode.UNAVAILABLE
    return False


async def test_database_restart_loses_no_acknowledged_event(
    replicas: list[CoreStub], own_server: ThrowawayPostgres
) -> None:
    one, two = replicas
    seen: list[int] = []
    heartbeats: list[int] = []
    subscriber = asyncio.create_task(follow(two, seen, heartbeats))
    await wait_for(lambda: bool(heartbeats), message="the subscriber's first heartbeat")
    traffic = Traffic(one)
    await wait_for(lambda: len(traffic.acked) >= 100, message="traffic before the crash")
    await asyncio.to_thread(own_server.stop, "immediate")
    assert await unavailable(one.PublishEvents(api.PublishEventsRequest(events=batch("x", 1))))
    replay = two.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=0))
    assert await unavailable(replay.read())
    during = len(heartbeats)
    await wait_for(lambda: len(heartbeats) >= during + 3, message="heartbeats in the outage")
    await asyncio.to_thread(own_server.start)
    acked_before = len(traffic.acked)
    await wait_for(lambda: len(traffic.acked) >= acked_before + 100, message="traffic after")
    await traffic.stop()
    assert traffic.failures == {grpc.StatusCode.UNAVAILABLE}
    last = max(traffic.acked.values())
    await wait_for(lambda: bool(seen) and seen[-1] >= last, message="the subscriber caught up")
    assert seen == list(range(1, len(seen) + 1))
    subscriber.cancel()
    stored = await read_log(one, last)
    assert {source: stored[source] for source in traffic.acked} == traffic.acked
    assert await publish(two, batch("after", 3)) == [last + 1, last + 2, last + 3]


async def read_log(stub: CoreStub, through: int) -> dict[str, int]:
    """source_event_id -> sequence of every stored event up to `through`."""
    found: dict[str, int] = {}
    call = stub.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=0))
    async for response in call:
        found.update((event.source_event_id, event.sequence) for event in response.events)
        if response.sequence >= through:
            break
    call.cancel()
    return found
