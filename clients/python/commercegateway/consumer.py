"""Consumer groups: a member receives deliveries of a group's events and acks, nacks or extends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
from collections.abc import AsyncGenerator, Callable, Iterable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self, cast

import grpc

from commercegateway.errors import CoreError, from_rpc_error
from commercegateway.subscriptions import (
    RETRYABLE,
    ReconnectedHook,
    ReconnectedInfo,
    ReconnectHook,
    ReconnectInfo,
    StreamSettings,
)
from commercegateway.v1 import core_service_pb2 as pb
from commercegateway.v1 import events_pb2

logger = logging.getLogger("commercegateway")

MAX_UNACKED = 1000
"""The most deliveries a member may hold unacknowledged (the core's ceiling)."""
MAX_SECONDS = 3600
"""The longest ack deadline, extension or nack delay, in seconds (the core's ceiling)."""
MAX_REASON_BYTES = 1024
"""The longest nack reason, in UTF-8 bytes; longer reasons are truncated."""
MAX_ANSWERS_PER_REQUEST = 1000
"""The most acks, nacks and extensions sent in one request (the core's ceiling)."""
CLOSE_GRACE_SECONDS = 2.0
"""How long closing waits for the core to end the stream after the last ack was sent."""
GROUP_NAME = re.compile(r"[A-Za-z0-9._-]{1,128}")

ConsumeCall = grpc.aio.StreamStreamCall[pb.ConsumeEventsRequest, pb.ConsumeEventsResponse]
OpenConsume = Callable[[], ConsumeCall]
Answer = str | pb.ConsumeNack | pb.ConsumeExtension


def check_group_name(group: str) -> str:
    """Returns `group` when it is a valid group name, else raises ValueError."""
    if not GROUP_NAME.fullmatch(group):
        raise ValueError(
            f"a group name is 1 to 128 letters, digits, '.', '_' or '-', got {group!r}"
        )
    return group


def truncate_reason(reason: str, limit: int = MAX_REASON_BYTES) -> str:
    """Returns `reason` cut to at most `limit` UTF-8 bytes, never inside a character."""
    data = reason.encode("utf-8")
    if len(data) <= limit:
        return reason
    return data[:limit].decode("utf-8", errors="ignore")


def whole_seconds(value: float | timedelta, *, minimum: int, name: str) -> int:
    """Returns `value` (seconds or a timedelta) rounded up to whole seconds, checked to be
    within [minimum, MAX_SECONDS]; raises ValueError otherwise."""
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    whole = math.ceil(seconds) if math.isfinite(seconds) else MAX_SECONDS + 1
    if not minimum <= whole <= MAX_SECONDS:
        raise ValueError(f"{name} must be {minimum} to {MAX_SECONDS} seconds, got {seconds:g}")
    return whole


def answers_request(answers: Iterable[Answer]) -> pb.ConsumeEventsRequest:
    """The request that carries these acks (ack ids), nacks and extensions."""
    request = pb.ConsumeEventsRequest()
    for answer in answers:
        if isinstance(answer, str):
            request.ack_ids.append(answer)
        elif isinstance(answer, pb.ConsumeNack):
            request.nacks.append(answer)
        else:
            request.extensions.append(answer)
    return request


class _Link:
    """One ConsumeEvents stream attempt: its call and the task that writes answers on it.

    Answers queued while a write is in progress go out together in the next request (at most
    MAX_ANSWERS_PER_REQUEST each), so acks are sent promptly and coalesced when ready at once.
    """

    def __init__(self, call: ConsumeCall) -> None:
        self.call = call
        self._open = True
        self._queue: list[tuple[Answer, asyncio.Future[bool]]] = []
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._writer = asyncio.create_task(self._write_loop())

    @property
    def live(self) -> bool:
        """False once the stream ended: closed here, or ended by the core or the network."""
        return self._open and not self.call.done()

    async def send(self, answer: Answer) -> bool:
        """Queues an answer; True once written on this stream, False when the stream ended."""
        if not self.live:
            return False
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((answer, future))
        self._drained.clear()
        self._wake.set()
        return await future

    async def _write_loop(self) -> None:
        try:
            while self.live:
                await self._wake.wait()
                self._wake.clear()
                while self._queue and self.live:
                    batch = self._queue[:MAX_ANSWERS_PER_REQUEST]
                    del self._queue[:MAX_ANSWERS_PER_REQUEST]
                    written = await self._write(answers_request(a for a, _ in batch))
                    for _, future in batch:
                        if not future.done():
                            future.set_result(written)
                self._drained.set()
        finally:
            self._open = False
            self._void_queue()

    async def _write(self, request: pb.ConsumeEventsRequest) -> bool:
        try:
            await self.call.write(request)
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
            self._open = False  # the stream ended: its reader sees why and reconnects
            return False
        return True

    def _void_queue(self) -> None:
        self._drained.set()
        for _, future in self._queue:
            if not future.done():
                future.set_result(False)
        self._queue.clear()

    async def close(self) -> None:
        """Sends what is queued (within CLOSE_GRACE_SECONDS), half-closes, then ends the call."""
        try:
            async with asyncio.timeout(CLOSE_GRACE_SECONDS):
                if self.live:
                    await self._drained.wait()
                    self._open = False
                    with contextlib.suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError):
                        await self.call.done_writing()
                    await self.call.code()  # the core ends the stream once it read our acks
        except (TimeoutError, grpc.aio.AioRpcError):
            pass
        finally:
            self._open = False
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._void_queue()
            self.call.cancel()


class Delivery:
    """One event of a group handed to this member; answer it with ack, nack or extend.

    A delivery belongs to the stream it came on. When that stream ends (the core restarted, the
    network dropped, the consumer was closed), the delivery is *void*: the core hands its event
    again, to this member after it reconnects or to another one, and `ack`, `nack` and
    `extend` of the void delivery do nothing and return False. They also return False once
    the delivery was acked or nacked. Handle events idempotently: delivery is at least once.

    Attributes:
        event: the canonical event.
        attempt: which attempt this is, from 1; the group parks the event after its maximum.
        ack_id: the token the core knows this delivery by.
        deadline: when the event goes to another member unless acked or extended (UTC).
    """

    __slots__ = ("_link", "_settled", "ack_id", "attempt", "deadline", "event")

    def __init__(self, message: pb.ConsumerDelivery, link: _Link) -> None:
        self.event: events_pb2.Event = message.event
        self.attempt: int = message.attempt
        self.ack_id: str = message.ack_id
        self.deadline: datetime | None = (
            message.deadline.ToDatetime(tzinfo=UTC) if message.HasField("deadline") else None
        )
        self._link = link
        self._settled = False

    def __repr__(self) -> str:
        return (
            f"Delivery(sequence={self.event.sequence}, attempt={self.attempt}, "
            f"void={self.void}, settled={self._settled})"
        )

    @property
    def void(self) -> bool:
        """True once the stream this delivery came on has ended."""
        return not self._link.live

    @property
    def settled(self) -> bool:
        """True once `ack` or `nack` was called."""
        return self._settled

    async def ack(self) -> bool:
        """Marks the event handled: the group never delivers it again.

        Returns True once the ack was written on the stream (the core applies it durably);
        False when the delivery was already settled or is void.
        """
        if self._settled:
            return False
        self._settled = True
        return await self._answer(self.ack_id, "ack")

    async def nack(self, reason: str = "", *, delay: float | timedelta = 0) -> bool:
        """Asks for the event to be delivered again, no sooner than `delay` (0: the core's
        backoff for the attempt); after the group's maximum attempts it is parked with `reason`
        (cut to 1,024 UTF-8 bytes). Returns like `ack`.

        Raises:
            ValueError: `delay` is negative or above 3,600 seconds.
        """
        seconds = whole_seconds(delay, minimum=0, name="delay")
        if self._settled:
            return False
        self._settled = True
        nack = pb.ConsumeNack(
            ack_id=self.ack_id, reason=truncate_reason(reason), delay_seconds=seconds
        )
        return await self._answer(nack, "nack")

    async def extend(self, seconds: float | timedelta) -> bool:
        """Moves the deadline to `seconds` from now (rounded up), for long work. Returns True
        once sent on the stream; False when the delivery is settled or void.

        Raises:
            ValueError: `seconds` is not within 1 to 3,600.
        """
        whole = whole_seconds(seconds, minimum=1, name="extension")
        if self._settled:
            return False
        sent = await self._answer(pb.ConsumeExtension(ack_id=self.ack_id, seconds=whole), "extend")
        if sent:
            self.deadline = datetime.now(UTC) + timedelta(seconds=whole)
        return sent

    async def _answer(self, answer: Answer, what: str) -> bool:
        sent = await self._link.send(answer)
        if not sent:
            logger.debug(
                "answer to a void delivery dropped",
                extra={"answer": what, "sequence": self.event.sequence},
            )
        return sent


class GroupConsumer:
    """An async iterator of a consumer group's deliveries to this member; reconnects like the
    broadcast subscriptions (same backoff, same retryable statuses, same idle timeout).

    Each matching event goes to one live member at a time; answer every delivery with
    `ack()`, `nack()` or `extend()`. The core sends at most `max_unacked` unacknowledged
    deliveries to this member, so the local buffer holds at most that many (a response with
    more ends the consumer with CoreError INTERNAL). After a reconnect the deliveries of the
    old stream are void (see `Delivery`) and their events come again. A group whose filter
    differs from this one's raises CoreError FAILED_PRECONDITION; any other non-retryable
    status raises CoreError. Close it (`aclose()` or `async with`) to send the acks in flight
    and leave the group; its unacknowledged deliveries then go to other members.

    `on_reconnected`, when set (before iterating), is called with a `ReconnectedInfo` once the
    core has accepted a stream reopened after a drop.
    """

    on_reconnected: ReconnectedHook | None = None

    def __init__(
        self,
        *,
        group: str,
        start: pb.ConsumeStart,
        open_call: OpenConsume,
        on_reconnect: ReconnectHook | None,
        settings: StreamSettings,
    ) -> None:
        self.group = group
        self._start = start
        self._open = open_call
        self._on_reconnect = on_reconnect
        self._backoff = settings.backoff
        self._idle_timeout = settings.idle_timeout
        self._deliveries: AsyncGenerator[Delivery, None] | None = None

    @property
    def max_unacked(self) -> int:
        """The most deliveries this member holds unacknowledged."""
        return self._start.max_unacked

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Delivery:
        if self._deliveries is None:
            self._deliveries = self._run()
        return await self._deliveries.__anext__()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Sends the answers in flight and leaves the group; unacknowledged deliveries go to
        other members."""
        if self._deliveries is not None:
            await self._deliveries.aclose()

    async def _connect(self) -> _Link:
        call = self._open()
        try:
            await call.write(pb.ConsumeEventsRequest(start=self._start))
        except BaseException:
            call.cancel()
            raise
        return _Link(call)

    async def _run(self) -> AsyncGenerator[Delivery, None]:
        attempt = 0
        while True:
            error: CoreError | None = None
            try:
                link = await self._connect()
                try:
                    if attempt and self.on_reconnected is not None:
                        await self._confirm(link.call, attempt)
                        attempt = 0
                    while (response := await self._read(link.call)) is not None:
                        attempt = 0
                        self._check_bound(response)
                        for message in response.deliveries:
                            if not link.live:
                                break  # the stream failed under us: the next read says why
                            yield Delivery(message, link)
                finally:
                    await link.close()
            except grpc.aio.AioRpcError as rpc_error:
                error = from_rpc_error(rpc_error)
            except CoreError as core_error:  # an idle stream
                if core_error.status not in RETRYABLE:
                    raise
                error = core_error
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
                raise CoreError(grpc.StatusCode.CANCELLED, "the client was closed") from None
            if error is not None and error.status not in RETRYABLE:
                raise error
            attempt += 1
            await self._wait_before_reconnect(attempt, error)

    def _check_bound(self, response: pb.ConsumeEventsResponse) -> None:
        count = len(response.deliveries)
        if count > self._start.max_unacked:
            raise CoreError(
                grpc.StatusCode.INTERNAL,
                f"the core sent {count} deliveries at once, more than max_unacked "
                f"{self._start.max_unacked}",
            )

    async def _confirm(self, call: ConsumeCall, attempts: int) -> None:
        try:
            async with asyncio.timeout(self._idle_timeout):
                await call.initial_metadata()
                if call.done() and await call.code() != grpc.StatusCode.OK:
                    return
        except TimeoutError:
            details = f"no answer to a reopened stream for {self._idle_timeout:g}s"
            raise CoreError(grpc.StatusCode.UNAVAILABLE, details) from None
        if self.on_reconnected is not None:
            self.on_reconnected(ReconnectedInfo(self._stream_name, attempts, None))

    @property
    def _stream_name(self) -> str:
        return f"group {self.group}"

    async def _read(self, call: ConsumeCall) -> pb.ConsumeEventsResponse | None:
        try:
            async with asyncio.timeout(self._idle_timeout):
                response = await call.read()
        except TimeoutError:
            details = f"no delivery or heartbeat for {self._idle_timeout:g}s"
            raise CoreError(grpc.StatusCode.UNAVAILABLE, details) from None
        if response is grpc.aio.EOF:  # type: ignore[attr-defined]
            return None
        return cast(pb.ConsumeEventsResponse, response)

    async def _wait_before_reconnect(self, attempt: int, error: CoreError | None) -> None:
        delay = self._backoff.delay(attempt)
        info = ReconnectInfo(self._stream_name, attempt, delay, None, error)
        logger.warning(
            "group consumer reconnecting",
            extra={
                "group": self.group,
                "attempt": attempt,
                "delay_seconds": round(delay, 3),
                "reason": error.reason if error else "closed",
            },
        )
        if self._on_reconnect is not None:
            self._on_reconnect(info)
        await asyncio.sleep(delay)
