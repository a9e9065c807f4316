"""Durable forwarding: publish to the core within a deadline, else commit to the local outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import grpc
from commercegateway.v1 import core_service_pb2, core_service_pb2_grpc, events_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bridge.core_channel import bearer_metadata, open_core_channel
from bridge.drain import OutboxDrain, core_stub, publish_batch
from bridge.metrics import BridgeMetrics
from bridge.outbox import Outbox
from common.repeat_log import RepeatedFailureLog

logger = logging.getLogger("bridge.forwarder")

_UNREACHABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
_CORE_SERVICE = core_service_pb2.DESCRIPTOR.services_by_name["CoreService"].full_name
CoreHealth = Literal["reachable", "not_serving", "unreachable"]


@dataclass(frozen=True)
class ForwardResult:
    """What became of one event: committed by the core (accepted/duplicate) or to the outbox."""

    status: Literal["accepted", "duplicate"]
    event_id: str
    destination: Literal["core", "outbox"]


class ForwardUnavailableError(Exception):
    """Neither the core nor the local outbox could store the events."""


@dataclass
class _Pending:
    event: events_pb2.Event
    future: asyncio.Future[core_service_pb2.PublishResult]


class Forwarder:
    """Owns the gRPC channel, the batching sender and the outbox with its drain task."""

    def __init__(
        self,
        *,
        core: str,
        token: str,
        outbox: Outbox,
        deadline: float = 0.5,
        batch_size: int = 256,
        queue_size: int = 4096,
        max_backoff: float = 2.0,
        metrics: BridgeMetrics | None = None,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        """Configures the forwarder; nothing connects until `start`."""
        self.core = core
        self.outbox = outbox
        self.metrics = metrics or BridgeMetrics()
        self._metadata = bearer_metadata(token)
        self._credentials = credentials
        self._deadline = deadline
        self._batch_size = batch_size
        self._queue_size = queue_size
        self._max_backoff = max_backoff
        self._channel: grpc.aio.Channel | None = None
        self._stub: core_service_pb2_grpc.CoreServiceAsyncStub | None = None
        self._queue: asyncio.Queue[_Pending] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._drain: OutboxDrain | None = None
        self._outbox_failures = RepeatedFailureLog(logger, "outbox write failed")

    async def start(self) -> None:
        """Opens the channel and starts the sender and outbox drain tasks."""
        self._channel = open_core_channel(self.core, self._credentials)
        self._stub = core_stub(self._channel)
        self._queue = asyncio.Queue(self._queue_size)
        self._drain = OutboxDrain(
            outbox=self.outbox,
            stub=self._stub,
            metadata=self._metadata,
            metrics=self.metrics,
            batch_size=self._batch_size,
            max_backoff=self._max_backoff,
        )
        self._tasks = [
            asyncio.create_task(self._send_loop(), name="forwarder-sender"),
            asyncio.create_task(self._drain.run(), name="forwarder-drain"),
        ]

    async def stop(self) -> None:
        """Stops the tasks and closes the channel; undelivered outbox entries stay on disk."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._channel is not None:
            await self._channel.close(grace=None)
        self.outbox.close()

    async def forward(self, events: Sequence[events_pb2.Event]) -> list[ForwardResult]:
        """Makes the events durable; raises ForwardUnavailableError when nothing can store them."""
        started = time.perf_counter()
        results = await self._to_core(events)
        destination: Literal["core", "outbox"] = "core"
        if results is None:
            destination = "outbox"
            results = await self._to_outbox(events)
        else:
            results = await self._seen_in_outbox(results)
        self.metrics.forward_seconds(destination, time.perf_counter() - started)
        return results

    async def _to_core(self, events: Sequence[events_pb2.Event]) -> list[ForwardResult] | None:
        assert self._queue is not None, "Forwarder.start() was not called"
        loop = asyncio.get_running_loop()
        pending = [_Pending(event, loop.create_future()) for event in events]
        try:
            for item in pending:
                self._queue.put_nowait(item)
            async with asyncio.timeout(self._deadline):
                if len(pending) == 1:  # the usual delivery: one event, no gathering future
                    answers = [await pending[0].future]
                else:
                    answers = await asyncio.gather(*(item.future for item in pending))
        except Exception as error:  # deadline, full queue, core error: the outbox takes it
            if not isinstance(error, TimeoutError | asyncio.QueueFull | grpc.aio.AioRpcError):
                logger.warning("forwarding failed", extra={"error": type(error).__name__})
            for item in pending:
                item.future.cancel()
            return None
        return [_result(answer) for answer in answers]

    async def _seen_in_outbox(self, results: list[ForwardResult]) -> list[ForwardResult]:
        """A retry the core stored while the first copy still waits in the outbox (the core was
        down, then came back before the drain delivered it) is a duplicate, not a new event."""
        fresh = [result.event_id for result in results if result.status == "accepted"]
        if not fresh or not self.outbox.may_hold_waiting():
            return results
        try:
            waiting = await self.outbox.waiting(fresh)
        except Exception as error:  # the core has it: "accepted" stays true enough
            logger.warning("outbox lookup failed", extra={"error": type(error).__name__})
            return results
        return [
            ForwardResult("duplicate", r.event_id, r.destination) if r.event_id in waiting else r
            for r in results
        ]

    async def _to_outbox(self, events: Sequence[events_pb2.Event]) -> list[ForwardResult]:
        try:
            fresh = await self.outbox.add(events)
        except Exception as error:  # a full disk: one line per run of failures, with counts
            self._outbox_failures.failed(error)
            raise ForwardUnavailableError(
                "neither the core nor the outbox could store it"
            ) from error
        self._outbox_failures.succeeded()
        assert self._drain is not None
        self._drain.wake()
        return [
            ForwardResult("accepted" if new else "duplicate", event.id, "outbox")
            for event, new in zip(events, fresh, strict=True)
        ]

    async def _send_loop(self) -> None:
        assert self._queue is not None and self._stub is not None
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            batch = [item for item in batch if not item.future.done()]
            if batch:
                await self._send(batch)

    async def _send(self, batch: list[_Pending]) -> None:
        assert self._stub is not None
        try:
            answers = await publish_batch(self._stub, [p.event for p in batch], self._metadata)
        except Exception as error:  # the waiting requests fall back to the outbox
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(error)
            return
        for item, answer in zip(batch, answers, strict=True):
            if not item.future.done():
                item.future.set_result(answer)

    async def core_reachable(self, timeout: float = 0.5) -> bool:
        """Whether the core answers its health check now and can store events."""
        return await self.core_health(timeout) == "reachable"

    async def core_health(self, timeout: float = 0.5) -> CoreHealth:
        """The core's health now: "reachable" (it can store events), "not_serving" (it
        answers but reports NOT_SERVING: its store cannot commit) or "unreachable"."""
        if self._channel is None:
            return "unreachable"
        stub = health_pb2_grpc.HealthStub(self._channel)
        request = health_pb2.HealthCheckRequest(service=_CORE_SERVICE)
        try:
            answer = await stub.Check(request, timeout=timeout)
        except grpc.aio.AioRpcError as error:
            # Any answer but "no answer" means a core is there (it may not serve health).
            return "unreachable" if error.code() in _UNREACHABLE else "reachable"
        if answer.status == health_pb2.HealthCheckResponse.SERVING:
            return "reachable"
        return "not_serving"


def _result(answer: core_service_pb2.PublishResult) -> ForwardResult:
    duplicate = answer.outcome == core_service_pb2.PUBLISH_OUTCOME_DUPLICATE
    return ForwardResult("duplicate" if duplicate else "accepted", answer.event_id, "core")
