"""CoreClient: typed async calls to the core's RPCs and resumable subscriptions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc

from commercegateway.config import BackoffPolicy, TlsConfig, build_channel, resolve_tls
from commercegateway.consumer import (
    MAX_UNACKED,
    ConsumeCall,
    GroupConsumer,
    check_group_name,
    whole_seconds,
)
from commercegateway.cursor import CursorLike
from commercegateway.errors import from_rpc_error
from commercegateway.subscriptions import ReconnectHook, StreamSettings, Subscription
from commercegateway.v1 import core_service_pb2 as pb
from commercegateway.v1 import core_service_pb2_grpc, events_pb2

ReqT = TypeVar("ReqT")
RespT = TypeVar("RespT")

AlertSubscription = Subscription[events_pb2.InventoryAlert, pb.SubscribeInventoryAlertsResponse]
CompletionSubscription = Subscription[
    events_pb2.OrderCompletion, pb.SubscribeOrderCompletionsResponse
]
EventSubscription = Subscription[events_pb2.Event, pb.SubscribeEventsResponse]
AlertCall = grpc.aio.UnaryStreamCall[Any, pb.SubscribeInventoryAlertsResponse]
CompletionCall = grpc.aio.UnaryStreamCall[Any, pb.SubscribeOrderCompletionsResponse]
EventCall = grpc.aio.UnaryStreamCall[Any, pb.SubscribeEventsResponse]


class CoreClient:
    """An async client of the core's CoreService.

    Every failed call raises `CoreError` (with `.status` and `.reason`). Unary calls carry a
    deadline (`timeout` seconds unless a call says otherwise). Subscriptions reconnect with
    jittered backoff and resume from their cursor; see `Subscription`. Use it as an async
    context manager, or call `close()`, to release the channel.

    Args:
        target: the core's address, "host:port".
        token: the bearer token sent as `authorization` metadata; None sends none.
        tls: a TlsConfig, True for TLS with the system's roots, None or False for plaintext.
        timeout: default deadline of unary calls, in seconds.
        backoff: the reconnection backoff of subscriptions.
        idle_timeout: a subscription that receives nothing (no item, no heartbeat) for this
            many seconds is reopened; keep it above the core's heartbeat interval (15 s by
            default). None never reopens an idle stream.
    """

    def __init__(
        self,
        target: str,
        *,
        token: str | None = None,
        tls: TlsConfig | bool | None = None,
        timeout: float = 10.0,
        backoff: BackoffPolicy | None = None,
        idle_timeout: float | None = 60.0,
    ) -> None:
        if not target or ":" not in target:
            raise ValueError(f"core target must be host:port, got {target!r}")
        if timeout <= 0 or (idle_timeout is not None and idle_timeout <= 0):
            raise ValueError("timeout and idle_timeout must be positive")
        self.target = target
        self._timeout = timeout
        self._backoff = backoff or BackoffPolicy()
        self._metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ()
        )
        self._channel = build_channel(target, resolve_tls(tls), self._backoff)
        self._stub = core_service_pb2_grpc.CoreServiceStub(self._channel)
        self._streams = StreamSettings(self._backoff, self._head, idle_timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the channel; open subscriptions end."""
        await self._channel.close(grace=None)

    async def _unary(
        self,
        method: grpc.aio.UnaryUnaryMultiCallable[ReqT, RespT],
        request: ReqT,
        timeout: float | None,
    ) -> RespT:
        try:
            return await method(request, timeout=timeout or self._timeout, metadata=self._metadata)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from error

    async def publish_events(
        self, events: Iterable[events_pb2.Event], *, timeout: float | None = None
    ) -> list[pb.PublishResult]:
        """Stores events idempotently; returns one result per event, in order."""
        request = pb.PublishEventsRequest(events=events)
        response = await self._unary(self._stub.PublishEvents, request, timeout)
        return list(response.results)

    async def get_inventory_level(
        self,
        shop: str,
        inventory_item_id: str,
        location_id: str = "",
        *,
        timeout: float | None = None,
    ) -> pb.InventoryLevel:
        """Returns the stored level of one item at one location (NOT_FOUND when unknown)."""
        request = pb.GetInventoryLevelRequest(
            shop=shop, inventory_item_id=inventory_item_id, location_id=location_id
        )
        response = await self._unary(self._stub.GetInventoryLevel, request, timeout)
        return response.level

    async def list_inventory_levels(
        self,
        shop: str = "",
        *,
        page_size: int = 0,
        page_token: str = "",
        timeout: float | None = None,
    ) -> pb.ListInventoryLevelsResponse:
        """Returns one page of levels and the sequence they are consistent with."""
        request = pb.ListInventoryLevelsRequest(
            shop=shop, page_size=page_size, page_token=page_token
        )
        return await self._unary(self._stub.ListInventoryLevels, request, timeout)

    async def get_session(self, session_id: str, *, timeout: float | None = None) -> pb.Session:
        """Returns a conversational session (NOT_FOUND when unknown)."""
        request = pb.GetSessionRequest(session_id=session_id)
        response = await self._unary(self._stub.GetSession, request, timeout)
        return response.session

    async def bind_session(
        self,
        session_id: str,
        shop: str,
        bindings: Iterable[pb.SessionBinding],
        *,
        timeout: float | None = None,
    ) -> pb.Session:
        """Binds cart tokens, checkout ids or order ids to a session; returns the session."""
        request = pb.BindSessionRequest(session_id=session_id, shop=shop, bindings=bindings)
        response = await self._unary(self._stub.BindSession, request, timeout)
        return response.session

    async def _head(self) -> int:
        """The log's current last sequence (what ListInventoryLevels is consistent with)."""
        return (await self.list_inventory_levels(page_size=1)).sequence

    def subscribe_inventory_alerts(
        self,
        *,
        after_sequence: int | None = None,
        shop: str = "",
        cursor_file: CursorLike = None,
        on_reconnect: ReconnectHook | None = None,
    ) -> AlertSubscription:
        """Streams inventory alerts after `after_sequence` (None: live from now).

        A cursor file, when it exists, overrides `after_sequence`, and is kept up to date.
        """

        def open_stream(after: int | None) -> AlertCall:
            request = pb.SubscribeInventoryAlertsRequest(shop=shop, after_sequence=after)
            return self._stub.SubscribeInventoryAlerts(request, metadata=self._metadata)

        return Subscription(
            stream="alerts",
            open_stream=open_stream,
            items_of=lambda r: r.alerts,
            after_sequence=after_sequence,
            cursor_file=cursor_file,
            on_reconnect=on_reconnect,
            settings=self._streams,
        )

    def subscribe_order_completions(
        self,
        *,
        after_sequence: int | None = None,
        shop: str = "",
        cursor_file: CursorLike = None,
        on_reconnect: ReconnectHook | None = None,
    ) -> CompletionSubscription:
        """Streams order completions after `after_sequence` (None: live from now).

        A cursor file, when it exists, overrides `after_sequence`, and is kept up to date.
        """

        def open_stream(after: int | None) -> CompletionCall:
            request = pb.SubscribeOrderCompletionsRequest(shop=shop, after_sequence=after)
            return self._stub.SubscribeOrderCompletions(request, metadata=self._metadata)

        return Subscription(
            stream="orders",
            open_stream=open_stream,
            items_of=lambda r: r.completions,
            after_sequence=after_sequence,
            cursor_file=cursor_file,
            on_reconnect=on_reconnect,
            settings=self._streams,
        )

    def subscribe_events(
        self,
        *,
        after_sequence: int | None = None,
        shop: str = "",
        kinds: Iterable[events_pb2.EventKind.ValueType] = (),
        cursor_file: CursorLike = None,
        on_reconnect: ReconnectHook | None = None,
    ) -> EventSubscription:
        """Streams canonical events after `after_sequence` (None: live from now).

        `kinds` filters by event kind (empty: every kind). A cursor file, when it exists,
        overrides `after_sequence`, and is kept up to date.
        """
        kind_list = list(kinds)

        def open_stream(after: int | None) -> EventCall:
            request = pb.SubscribeEventsRequest(shop=shop, kinds=kind_list, after_sequence=after)
            return self._stub.SubscribeEvents(request, metadata=self._metadata)

        return Subscription(
            stream="events",
            open_stream=open_stream,
            items_of=lambda r: r.events,
            after_sequence=after_sequence,
            cursor_file=cursor_file,
            on_reconnect=on_reconnect,
            settings=self._streams,
        )

    def consume(
        self,
        group: str,
        *,
        kinds: Iterable[events_pb2.EventKind.ValueType] = (),
        shop: str = "",
        start_after: int | None = None,
        max_unacked: int = 100,
        ack_deadline: timedelta = timedelta(seconds=30),
        on_reconnect: ReconnectHook | None = None,
    ) -> GroupConsumer:
        """Joins consumer group `group` as a member: an async iterator of `Delivery` objects.

        The group is created on first use with this filter (`kinds`, empty: every kind;
        `shop`, empty: every shop) and starts after sequence `start_after` (None: from now);
        a later member must give the same filter, and `start_after` is then ignored. This
        member holds at most `max_unacked` (1 to 1,000) unacknowledged deliveries; one not
        acknowledged or extended within `ack_deadline` (1 s to 1 h, rounded up to seconds)
        goes to another member. See `GroupConsumer` and `Delivery`.

        Raises:
            ValueError: a malformed group name, or a limit out of range.
        """
        check_group_name(group)
        if not 1 <= max_unacked <= MAX_UNACKED:
            raise ValueError(f"max_unacked must be 1 to {MAX_UNACKED}, got {max_unacked}")
        start = pb.ConsumeStart(
            group=group,
            shop=shop,
            kinds=list(kinds),
            start_after_sequence=start_after,
            max_unacked=max_unacked,
            ack_deadline_seconds=whole_seconds(ack_deadline, minimum=1, name="ack_deadline"),
        )

        def open_call() -> ConsumeCall:
            return self._stub.ConsumeEvents(None, metadata=self._metadata)

        return GroupConsumer(
            group=group,
            start=start,
            open_call=open_call,
            on_reconnect=on_reconnect,
            settings=self._streams,
        )

    async def list_groups(self, *, timeout: float | None = None) -> list[pb.ConsumerGroup]:
        """Returns every consumer group, by name, with its lag, in-flight and parked counts."""
        response = await self._unary(self._stub.ListGroups, pb.ListGroupsRequest(), timeout)
        return list(response.groups)

    async def get_group(self, group: str, *, timeout: float | None = None) -> pb.ConsumerGroup:
        """Returns one consumer group with its members (NOT_FOUND when it does not exist)."""
        request = pb.GetGroupRequest(group=group)
        return (await self._unary(self._stub.GetGroup, request, timeout)).group

    async def list_parked_events(
        self,
        group: str,
        *,
        page_size: int = 0,
        page_token: str = "",
        timeout: float | None = None,
    ) -> pb.ListParkedEventsResponse:
        """Returns one page of a group's parked events, in sequence order (0: 100 a page)."""
        request = pb.ListParkedEventsRequest(
            group=group, page_size=page_size, page_token=page_token
        )
        return await self._unary(self._stub.ListParkedEvents, request, timeout)

    async def redrive_parked_events(
        self, group: str, sequences: Iterable[int] = (), *, timeout: float | None = None
    ) -> int:
        """Puts parked events back into the group (empty `sequences`: every parked event);
        returns how many were put back."""
        request = pb.RedriveParkedEventsRequest(group=group, sequences=list(sequences))
        return (await self._unary(self._stub.RedriveParkedEvents, request, timeout)).redriven

    async def delete_group(self, group: str, *, timeout: float | None = None) -> None:
        """Deletes a group with its position and parked events (NOT_FOUND when unknown)."""
        await self._unary(self._stub.DeleteGroup, pb.DeleteGroupRequest(group=group), timeout)

    async def seek_group(
        self,
        group: str,
        *,
        sequence: int | None = None,
        time: datetime | None = None,
        timeout: float | None = None,
    ) -> pb.ConsumerGroup:
        """Moves a group: events after `sequence`, or received after `time` (an aware
        datetime), are delivered next; give exactly one. Returns the group after the move."""
        if (sequence is None) == (time is None):
            raise ValueError("seek_group needs exactly one of sequence or time")
        request = pb.SeekGroupRequest(group=group)
        if sequence is not None:
            request.sequence = sequence
        elif time is not None:
            if time.tzinfo is None:
                raise ValueError("seek_group needs an aware datetime (with a time zone)")
            request.time.FromDatetime(time)
        return (await self._unary(self._stub.SeekGroup, request, timeout)).group
