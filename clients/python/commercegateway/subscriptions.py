"""Subscriptions that survive the network: reconnect with backoff and resume from the cursor."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar, cast

import grpc

from commercegateway.config import BackoffPolicy
from commercegateway.cursor import CursorFile, CursorLike
from commercegateway.errors import CoreError, from_rpc_error

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
        stream: which subscription: "alerts", "orders", "events", or "group NAME" for a
            consumer group.
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


@dataclass(frozen=True)
class ReconnectedInfo:
    """What an `on_reconnected` hook is told once the core accepted a reopened stream.

    Attributes:
        stream: which subscription: "alerts", "orders", "events", or "group NAME" for a
            consumer group.
        attempts: how many reconnection attempts it took, from 1.
        cursor: the sequence the stream resumed after; None resumed live from now.
    """

    stream: str
    attempts: int
    cursor: int | None


ReconnectedHook = Callable[[ReconnectedInfo], None]


@dataclass(frozen=True)
class StreamSettings:
    """What every subscription of one client shares.

    Attributes:
        backoff: the reconnection backoff.
        head: returns the log's current last sequence, the start of a "live from now" stream.
        idle_timeout: seconds without any response after which the stream is reopened.
    """

    backoff: BackoffPolicy
    head: Callable[[], Awaitable[int]] | None = None
    idle_timeout: float | None = None


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

    `on_reconnected`, when set (before iterating), is called with a `ReconnectedInfo` once
    the core has accepted a stream reopened after a drop (its response headers arrived).
    """

    on_reconnected: ReconnectedHook | None = None

    def __init__(
        self,
        *,
        stream: str,
        open_stream: OpenStream[RespT],
        items_of: Callable[[RespT], Iterable[ItemT]],
        after_sequence: int | None,
        cursor_file: CursorLike,
        on_reconnect: ReconnectHook | None,
        settings: StreamSettings,
    ) -> None:
        self.stream = stream
        self._open = open_stream
        self._items_of = items_of
        self._cursor = after_sequence
        if cursor_file is not None and not isinstance(cursor_file, CursorFile):
            cursor_file = CursorFile(cursor_file)
        self._cursor_file = cursor_file
        self._on_reconnect = on_reconnect
        self._backoff = settings.backoff
        self._head = settings.head
        self._idle_timeout = settings.idle_timeout
        self._pending: int | None = None  # yielded, not yet known to be processed
        self._items: AsyncGenerator[ItemT, None] | None = None

    @property
    def cursor(self) -> int | None:
        """The sequence up to which everything has been handled; None before the first item."""
        return self._cursor

    def __aiter__(self) -> Self:
        return self

    def __anext__(self) -> Coroutine[Any, Any, ItemT]:
        # The generator's own awaitable, not one more coroutine around it (one per item); still
        # a coroutine, so asyncio.create_task(anext(subscription)) works and type-checks.
        if self._items is None:
            self._items = self._run()
        return self._items.__anext__()

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
        if self._moved(sequence) and self._cursor_file is not None:
            await self._cursor_file.write_async(sequence)

    def _moved(self, sequence: int) -> bool:
        """Marks everything through `sequence` handled; False when the cursor was past it."""
        self._pending = None
        if self._cursor is not None and sequence <= self._cursor:
            return False
        self._cursor = sequence
        return True

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
                    if attempt and self.on_reconnected is not None:
                        await self._confirm(call, attempt)
                        attempt = 0
                    while (response := await self._read(call)) is not None:
                        attempt = 0
                        floor = self._cursor
                        for item in self._items_of(response):
                            sequence = item.sequence
                            if floor is not None and sequence <= floor:
                                continue  # already delivered before a reconnect
                            self._pending = sequence
                            yield item
                            if self._cursor_file is None:
                                self._moved(sequence)  # no coroutine per item without a file
                            else:
                                await self._advance(sequence)
                        await self._advance(response.sequence)
                finally:
                    call.cancel()
            except grpc.aio.AioRpcError as rpc_error:
                error = from_rpc_error(rpc_error)
            except CoreError as core_error:  # from resolving the head, or an idle stream
                error = core_error
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # our caller is being cancelled: end quietly
                # grpc raises CancelledError for a call cancelled on this side: the channel
                # was closed under the subscription. Retrying could never succeed.
                raise CoreError(grpc.StatusCode.CANCELLED, "the client was closed") from None
            if error is not None and error.status not in RETRYABLE:
                raise error
            attempt += 1
            await self._wait_before_reconnect(attempt, error)

    async def _confirm(self, call: grpc.aio.UnaryStreamCall[Any, RespT], attempts: int) -> None:
        """Waits for the reopened stream's response headers, then tells `on_reconnected`;
        a call that failed instead is left for the next read to raise."""
        try:
            async with asyncio.timeout(self._idle_timeout):
                await call.initial_metadata()
                if call.done() and await call.code() != grpc.StatusCode.OK:
                    return
        except TimeoutError:
            details = f"no answer to a reopened stream for {self._idle_timeout:g}s"
            raise CoreError(grpc.StatusCode.UNAVAILABLE, details) from None
        if self.on_reconnected is not None:
            self.on_reconnected(ReconnectedInfo(self.stream, attempts, self._cursor))

    async def _read(self, call: grpc.aio.UnaryStreamCall[Any, RespT]) -> RespT | None:
        """The next response; None at the end of the stream."""
        try:
            async with asyncio.timeout(self._idle_timeout):
                response = await call.read()
        except TimeoutError:
            # No item and no heartbeat for that long: the connection is likely dead without
            # having been reset (a network partition). Reopen it.
            details = f"no item or heartbeat for {self._idle_timeout:g}s"
            raise CoreError(grpc.StatusCode.UNAVAILABLE, details) from None
        if response is grpc.aio.EOF:  # type: ignore[attr-defined]
            return None
        return cast(RespT, response)

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
