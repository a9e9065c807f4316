"""One ConsumeEvents stream: a member of a group taking deliveries and answering them.

Two loops share the call: the delivery loop claims deliverable events in the store (leases,
service.store.group_rows.claim) and writes them in responses bounded in bytes, then waits
until something may have changed (a commit or an answer on this core, the next backoff or
deadline, or the poll interval that covers other replicas); the answer loop reads acks, nacks
and extensions and settles them durably. When the stream ends the member's deliveries are
handed back at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import grpc
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from service.errors import (
    DomainError,
    InvalidArgumentError,
    NotFoundError,
    ShuttingDownError,
    SubscriberTooSlowError,
)
from service.groups import limits
from service.groups.requests import ConsumeOptions, ack_id, check_answers
from service.store import group_rows
from service.store.base import EventStore
from service.store.group_rows import Claimed, GroupSpec, MemberInfo

logger = logging.getLogger(__name__)
# A delivery's bytes in a response beside its event (attempt, ack_id, deadline, framing).
DELIVERY_OVERHEAD = 64


def now_us() -> int:
    """The wall clock in microseconds since the epoch (what the store's times use)."""
    return time.time_ns() // 1000


@dataclass(eq=False)
class Member:
    """A connected member: its identity, options and the event that wakes its delivery loop."""

    options: ConsumeOptions
    peer: str
    replica: str
    member_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    connect_time_us: int = field(default_factory=now_us)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    error: DomainError | None = None
    finished: bool = False
    create_time_us: int = 0

    def info(self) -> MemberInfo:
        """The member as stored for every replica to see."""
        return MemberInfo(
            self.member_id,
            self.peer[:256],
            self.replica,
            self.options.max_unacked,
            self.connect_time_us,
        )

    def spec(self) -> GroupSpec:
        """The group this member asks for."""
        return GroupSpec(
            self.options.group,
            self.options.shop,
            self.options.kinds,
            self.options.start_after,
            limits.MAX_ATTEMPTS,
        )


@dataclass
class StreamLimits:
    """How a member stream runs: poll interval, heartbeat, write timeout, response bytes."""

    poll_seconds: float
    heartbeat_seconds: float
    write_timeout_seconds: float
    response_bytes: Callable[[], int]


class _PeerGoneError(Exception):
    """The member disconnected while a response was being written."""


def delivery(claimed: Claimed, deadline_us: int) -> api.ConsumerDelivery:
    """The ConsumerDelivery of a claimed event."""
    message = api.ConsumerDelivery(
        event=ev.Event.FromString(claimed.data),
        attempt=claimed.attempt,
        ack_id=ack_id(claimed.sequence, claimed.version),
    )
    message.deadline.FromMicroseconds(deadline_us)
    return message


def batches(claimed: list[Claimed], deadline_us: int, max_bytes: int) -> list[list[Any]]:
    """The deliveries cut into responses of at most `max_bytes` (at least one each)."""
    runs: list[list[Any]] = []
    run: list[Any] = []
    size = 0
    for item in claimed:
        cost = len(item.data) + DELIVERY_OVERHEAD
        if run and size + cost > max_bytes:
            runs.append(run)
            run, size = [], 0
        run.append(delivery(item, deadline_us))
        size += cost
    if run:
        runs.append(run)
    return runs


class MemberStream:
    """Runs one member's stream until the member leaves, the group is deleted or the core
    stops; see the module docstring."""

    def __init__(
        self,
        store: EventStore,
        member: Member,
        stream: StreamLimits,
        wake_group: Callable[[str, Member | None], None],
        closing: Callable[[], bool],
    ) -> None:
        """Serves `member` from `store`; `wake_group` wakes the group's members on this core
        (but the one given) after an answer or a hand-off; `closing` says the core is
        stopping."""
        self.store = store
        self.member = member
        self.stream = stream
        self.wake_group = wake_group
        self.closing = closing

    async def run(
        self,
        requests: AsyncIterator[api.ConsumeEventsRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> None:
        """Delivers and reads answers until the end; raises the DomainError ending the call."""
        answers = asyncio.get_running_loop().create_task(self._answers(requests))
        try:
            await self._deliver(context)
        finally:
            answers.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await answers

    async def _answers(self, requests: AsyncIterator[api.ConsumeEventsRequest]) -> None:
        member = self.member
        group = member.options.group
        try:
            async for request in requests:
                answers = check_answers(request)
                if not (answers.acks or answers.nacks or answers.extensions):
                    continue
                at = now_us()
                await self.store.write_steps(
                    partial(group_rows.settle, group, member.member_id, answers, at)
                )
                if answers.acks or answers.nacks:
                    self.wake_group(group, None)
        except DomainError as error:
            member.error = error
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the peer went away mid-read: the stream ends
            logger.debug("member stream read ended", extra={"error": type(error).__name__})
        member.finished = True
        member.wake.set()

    async def _deliver(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        member, options = self.member, self.member.options
        last_write = time.monotonic()
        while True:
            if member.error is not None:
                raise member.error
            if member.finished:
                return
            if self.closing():
                raise ShuttingDownError()
            member.wake.clear()
            at = now_us()
            deadline_us = at + options.ack_deadline_seconds * 1_000_000
            result = await self.store.write_steps(
                partial(
                    group_rows.claim,
                    options.group,
                    member.create_time_us,
                    member.member_id,
                    options.max_unacked,
                    now_us=at,
                    deadline_us=deadline_us,
                    stale_before_us=limits.stale_before_us(at),
                )
            )
            if result is None:
                raise NotFoundError(f"consumer group {options.group!r} was deleted")
            for run in batches(result.claimed, deadline_us, self.stream.response_bytes()):
                await self._write(context, api.ConsumeEventsResponse(deliveries=run))
                last_write = time.monotonic()
            if result.handoff:  # another member here may take what this one let expire
                self.wake_group(options.group, member)
            if result.more:
                continue
            wait = self.stream.poll_seconds
            if result.next_due_us is not None:
                wait = min(wait, max(0.0, (result.next_due_us - now_us()) / 1e6) + 0.001)
            idle = time.monotonic() - last_write
            wait = min(wait, max(0.0, self.stream.heartbeat_seconds - idle))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await member.wake.wait()
            if time.monotonic() - last_write >= self.stream.heartbeat_seconds:
                await self._write(context, api.ConsumeEventsResponse())
                last_write = time.monotonic()

    async def _write(
        self, context: grpc.aio.ServicerContext[Any, Any], response: api.ConsumeEventsResponse
    ) -> None:
        try:
            async with asyncio.timeout(self.stream.write_timeout_seconds):
                await context.write(response)
        except TimeoutError:
            logger.warning(
                "stalled group member ended: a write was pending too long",
                extra={"peer": self.member.peer, "group": self.member.options.group},
            )
            raise SubscriberTooSlowError("group member") from None
        except asyncio.CancelledError:
            raise
        except Exception as error:  # grpc raises on a closed call
            raise _PeerGoneError() from error


async def first_request(
    requests: AsyncIterator[api.ConsumeEventsRequest],
) -> api.ConsumeEventsRequest:
    """The stream's first request, within FIRST_MESSAGE_SECONDS; InvalidArgumentError when
    the stream ends or stays silent before it."""
    try:
        async with asyncio.timeout(limits.FIRST_MESSAGE_SECONDS):
            return await anext(aiter(requests))
    except StopAsyncIteration:
        raise InvalidArgumentError(
            "the ConsumeEvents stream ended before its first request (start)"
        ) from None
    except TimeoutError:
        raise InvalidArgumentError(
            f"no first ConsumeEvents request (start) within {limits.FIRST_MESSAGE_SECONDS:g} s"
        ) from None


PeerGone = _PeerGoneError
