"""Test support for the consumer-group tests: publishing keyed events, running members."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import grpc
from commercegateway.v1 import core_service_pb2 as api

from tests.service.events import inventory
from tests.support.core import CoreStub
from tests.support.group_member import GroupMember


async def publish(
    stub: CoreStub, prefix: str, count: int, keys: int, *, batch: int = 500
) -> list[int]:
    """Publishes `count` inventory events spread over `keys` items (key = item); returns
    their sequences in order."""
    sequences: list[int] = []
    for start in range(0, count, batch):
        events = [
            inventory(f"{prefix}-{n}", f"item-{n % keys}", str(n))
            for n in range(start, min(count, start + batch))
        ]
        reply = await stub.PublishEvents(api.PublishEventsRequest(events=events), timeout=30)
        sequences.extend(result.sequence for result in reply.results)
    return sequences


@asynccontextmanager
async def running(members: Sequence[GroupMember]) -> AsyncIterator[list[asyncio.Task[None]]]:
    """Runs the members' streams for the block; cancels them after it."""
    tasks = [asyncio.get_running_loop().create_task(member.run()) for member in members]
    try:
        yield tasks
    finally:
        for member in members:
            member.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def acked_all(members: Sequence[GroupMember]) -> list[int]:
    """Every sequence the members acknowledged, sorted (with repeats)."""
    return sorted(sequence for member in members for sequence in member.acked)


async def group_state(stub: CoreStub, name: str, **expected: int) -> bool:
    """True when GetGroup shows the expected lag, in_flight, parked, acked (through) values."""
    try:
        group = (await stub.GetGroup(api.GetGroupRequest(group=name))).group
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:  # no member has created it yet
            return False
        raise
    actual = {
        "lag": group.lag,
        "in_flight": group.in_flight,
        "parked": group.parked,
        "acked": group.acked_through_sequence,
    }
    return all(actual[key] == value for key, value in expected.items())
