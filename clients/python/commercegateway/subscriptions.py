"""Subscriptions that survive the network: reconnect with backoff and resume from the cursor."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

import grpc

from commercegateway.config import BackoffPolicy
from commercegateway.cursor import CursorFile
from commercegateway.errors import CoreError, from_rpc_error
from commercegateway.v1 import core_service_pb2 as pb
from commercegateway.v1 import events_pb2

logger = logging.getLogger("commercegateway")


class Sequenced(Protocol):
    """A streamed item: it carries the log sequence that is its resume cursor."""

    @property
    def sequence(self) -> int:
        """The sequence of the event the item is or derives from."""
        ...


ItemT = TypeVar("ItemT", bound=Sequenced)
RespT = TypeVar("RespT", bound=Sequenced)

# Status codes after which the stream is reopened from the cursor: the core or the network
# went away (UNAVAILABLE, or CANCELLED/ABORTED when the server ends the call), or the core
# dropped a subscriber that fell behind (RESOURCE_EXHAUSTED).
RETRYABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.ABORTED,
    }
)


@dataclass(frozen=True)
class ReconnectInfo:
    """What an `on_reconnect` hook is told before the client waits and reopens a stream.

    Attributes:
        stream: which subscription: "alerts", "orders" or "events".
        attempt: consecutive failed attempts so far, from 1.
        delay: seconds the client waits before reopening.
        cursor: the sequence the stream resumes after; None resumes live from now.
        error: why the stream ended; None when the core closed it without an error.
    """

    stream: str
    attempt: int
    delay: float
    cursor: int | None
    error: CoreError | None


ReconnectHook = Callable[[ReconnectInfo], None]
OpenStream = Callable[[int | None], "grpc.aio.UnaryStreamCall[Any, RespT]"]


class Subscription(Generic[ItemT, RespT]):
    """An async iterator of streamed items that reconnects and resumes across core restarts.

    Items come once each and in sequence order. Without a cursor (no `after_sequence`, no
    cursor file) the stream starts after the log's current head, i.e. live from now. The
    cursor (and the cursor file, when given) advances past an item once the caller asks for
    the next one, on a heartbeat, or when the subscription is closed normally (`aclose()`, or
    leaving `async with` without an exception); so after a crash of the caller's process, at
    most the item it was handling is delivered again. A cursor older than the core's
    retention raises `CursorExpiredError`; any other non-retryable status raises `CoreError`.
    """

    def __init__(
        self,
        *,
        stream: str,
        open_stream: OpenStream[RespT],
        items_of: Callable[[RespT], Iterable[ItemT]],
        after_sequence: int | None,
        cursor_file: CursorFile | None,
        backoff: BackoffPolicy,
        on_reconnect: ReconnectHook | None,
        head: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self.stream = stream
        self._open = open_stream
        self._items_of = items_of
        self._cursor = after_sequence
        self._cursor_file = cursor_file
        self._backoff = backoff
        self._on_reconnect = on_reconnect
        self._head = head
        self._pending: int | None = None  # yielded, not yet known to be processed
        self._items: AsyncGenerator[ItemT, None] | None = None

    @property
    def cursor(self) -> int | None:
        """The sequence up to which everything has been handled; None before the first item."""
        return self._cursor

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ItemT:
        if self._items is None:
            self._items = self._run()
        return await self._items.__anext__()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose(processed=exc_type is None)

    async def aclose(self, *, processed: bool = True) -> None:
        """Ends the stream; `processed` says whether the last item yielded was handled."""
        if self._items is not None:
            await self._items.aclose()
        if processed and self._pending is not None:
            await self._advance(self._pending)

    async def _advance(self, sequence: int) -> None:
        self._pending = None
        if self._cursor is not None and sequence <= self._cursor:
            return
        self._cursor = sequence
        if self._cursor_file is not None:
            await self._cursor_file.write_async(sequence)

    async def _start_cursor(self) -> None:
        if self._cursor_file is not None:
            stored = await asyncio.to_thread(self._cursor_file.read)
            if stored is not None:
                self._cursor = stored
        if self._cursor is None and self._head is not None:
            # "Live from now" becomes "after the log's current head": a real cursor from the
            # start, so a drop before the first response cannot skip anything.
            await self._advance(await self._head())

    async def _run(self) -> AsyncGenerator[ItemT, None]:
        attempt = 0
        started = False
        while True:
            error: CoreError | None = None
            try:
                if not started:
                    await self._start_cursor()
                    started = True
                call = self._open(self._cursor)
                try:
                    async for response in call:
                        attempt = 0
                        floor = self._cursor
                        for item in self._items_of(response):
                            if floor is not None and item.sequence <= floor:
                                continue  # already delivered before a reconnect
                            self._pending = item.sequence
                            yield item
                            await self._advance(item.sequence)
                        await self._advance(response.sequence)
                finally:
                    call.cancel()
            except grpc.aio.AioRpcError as rpc_error:
                error = from_rpc_error(rpc_error)
            except CoreError as core_error:  # from resolving the head
                error = core_error
            if error is not None and error.status not in RETRYABLE:
                raise error
            attempt += 1
            await self._wait_before_reconnect(attempt, error)

    async def _wait_before_reconnect(self, attempt: int, error: CoreError | None) -> None:
        delay = self._backoff.delay(attempt)
        info = ReconnectInfo(self.stream, attempt, delay, self._cursor, error)
        logger.warning(
            "subscription reconnecting",
            extra={
                "stream": self.stream,
                "attempt": attempt,
                "delay_seconds": round(delay, 3),
                "cursor": self._cursor,
                "reason": error.reason if error else "closed",
            },
        )
        if self._on_reconnect is not None:
            self._on_reconnect(info)
        await asyncio.sleep(delay)


AlertSubscription = Subscription[events_pb2.InventoryAlert, pb.SubscribeInventoryAlertsResponse]
CompletionSubscription = Subscription[
    events_pb2.OrderCompletion, pb.SubscribeOrderCompletionsResponse
]
EventSubscription = Subscription[events_pb2.Event, pb.SubscribeEventsResponse]
AlertCall = grpc.aio.UnaryStreamCall[Any, pb.SubscribeInventoryAlertsResponse]
CompletionCall = grpc.aio.UnaryStreamCall[Any, pb.SubscribeOrderCompletionsResponse]
EventCall = grpc.aio.UnaryStreamCall[Any, pb.SubscribeEventsResponse]
