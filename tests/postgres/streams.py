"""Test support for the PostgreSQL suites: reading streams until a sequence, publishing."""

from __future__ import annotations

import grpc
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from tests.service.events import inventory
from tests.support.core import CoreStub

EventCall = grpc.aio.UnaryStreamCall[api.SubscribeEventsRequest, api.SubscribeEventsResponse]


def batch(prefix: str, count: int) -> list[ev.Event]:
    """`count` distinct inventory events named after `prefix`."""
    return [inventory(f"{prefix}-{n}", f"item-{n % 5}", str(n % 7)) for n in range(count)]


async def publish(stub: CoreStub, events: list[ev.Event]) -> list[int]:
    """Publishes one batch; returns the sequences of the stored (not duplicate) events."""
    reply = await stub.PublishEvents(api.PublishEventsRequest(events=events), timeout=10)
    return [r.sequence for r in reply.results if r.outcome == api.PUBLISH_OUTCOME_STORED]


async def collect(call: EventCall, through: int, seen: list[int] | None = None) -> list[int]:
    """Reads an event stream until its cursor reaches `through`; returns the sequences."""
    found = seen if seen is not None else []
    async for response in call:
        found.extend(event.sequence for event in response.events)
        if response.sequence >= through:
            break
    call.cancel()
    return found
