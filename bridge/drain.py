"""The outbox drain: delivers stored events to the core with jittered exponential backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence

import grpc
from commercegateway.v1 import core_service_pb2, core_service_pb2_grpc, events_pb2

from bridge.metrics import BridgeMetrics
from bridge.outbox import Outbox, OutboxEntry

logger = logging.getLogger("bridge.drain")

PUBLISH_TIMEOUT = 5.0
_IDLE_POLL = 1.0  # also picks up entries written by other worker processes
_BASE_BACKOFF = 0.05

Metadata = tuple[tuple[str, str], ...]


def core_stub(channel: grpc.aio.Channel) -> core_service_pb2_grpc.CoreServiceAsyncStub:
    """The CoreService stub on an asyncio channel, typed as the async stub it is."""
    return core_service_pb2_grpc.CoreServiceStub(channel)


async def publish_batch(
    stub: core_service_pb2_grpc.CoreServiceAsyncStub,
    events: Sequence[events_pb2.Event],
    metadata: Metadata,
) -> list[core_service_pb2.PublishResult]:
    """Publishes events in one call; returns one result per event (raises AioRpcError)."""
    request = core_service_pb2.PublishEventsRequest(events=events)
    response = await stub.PublishEvents(request, metadata=metadata, timeout=PUBLISH_TIMEOUT)
    if len(response.results) != len(events):
        raise RuntimeError("core answered a different number of results than events sent")
    return list(response.results)


def backoff_delay(attempt: int, maximum: float) -> float:
    """Full-jitter exponential backoff for the given attempt (1, 2, ...)."""
    ceiling = min(maximum, _BASE_BACKOFF * 2 ** min(attempt, 20))
    return random.uniform(ceiling / 2, ceiling)


class OutboxDrain:
    """Loops over the outbox; removes an entry only after the core answered STORED or DUPLICATE."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        stub: core_service_pb2_grpc.CoreServiceAsyncStub,
        metadata: Metadata,
        metrics: BridgeMetrics,
        batch_size: int,
        max_backoff: float,
    ) -> None:
        """Binds the drain to its outbox and core stub."""
        self._outbox = outbox
        self._stub = stub
        self._metadata = metadata
        self._metrics = metrics
        self._batch_size = batch_size
        self._max_backoff = max_backoff
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Tells the drain that new entries were written."""
        self._wake.set()

    async def run(self) -> None:
        """Drains forever (until cancelled)."""
        attempt = 0
        while True:
            try:
                delivered = await self._drain_once()
            except Exception as error:  # core down, disk trouble: retry later, never die
                attempt += 1
                code = (
                    error.code().name
                    if isinstance(error, grpc.aio.AioRpcError)
                    else type(error).__name__
                )
                logger.info("outbox drain retry", extra={"attempt": attempt, "code": code})
                await asyncio.sleep(backoff_delay(attempt, self._max_backoff))
                continue
            attempt = 0
            if not delivered:
                await self._idle()

    async def _drain_once(self) -> int:
        self._wake.clear()
        entries = await self._outbox.peek(self._batch_size)
        self._metrics.outbox_depth.set(await self._outbox.depth() if entries else 0)
        if not entries:
            return 0
        try:
            await publish_batch(self._stub, [entry.event for entry in entries], self._metadata)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
                raise
            await self._isolate(entries)
            return len(entries)
        await self._outbox.remove([entry.entry_id for entry in entries])
        logger.info("outbox drained", extra={"events": len(entries)})
        return len(entries)

    async def _isolate(self, entries: Sequence[OutboxEntry]) -> None:
        """One event the core refuses must not block the others: send one by one, park refusals."""
        for entry in entries:
            try:
                await publish_batch(self._stub, [entry.event], self._metadata)
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
                    raise
                await self._outbox.park(entry.entry_id, error.details() or "")
                logger.error(
                    "core refused an outbox event as invalid; parked in the outbox"
                    " (see `commerce-gateway outbox list`)",
                    extra={"event_id": entry.event.id, "entry_id": entry.entry_id},
                )
                continue
            await self._outbox.remove([entry.entry_id])
        self._metrics.outbox_parked.set((await self._outbox.counts())[1])

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_IDLE_POLL):
                await self._wake.wait()
