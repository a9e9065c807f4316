"""CoreServicer: the gRPC methods of CoreService; proto <-> domain, no business rules (tokens
are checked before any of these methods runs: service.auth.AuthorizationInterceptor)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import Any, TypeVar

import grpc
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import core_service_pb2_grpc as api_grpc

from service import convert, error_details, validation, wire
from service.errors import (
    DomainError,
    InvalidArgumentError,
    NotFoundError,
    SubscriberTooSlowError,
    status_of,
)
from service.groups.member import PeerGone
from service.groups.service import GroupService
from service.paging import decode_page_token, encode_page_token
from service.privacy_api import PrivacyMethods
from service.status import core_status
from service.store.base import EventStore
from service.streams import Batch
from service.subscriptions import SubscriptionService

logger = logging.getLogger(__name__)
Req = TypeVar("Req")
Resp = TypeVar("Resp")
Unary = grpc.aio.ServicerContext[Req, Awaitable[Resp]]
Stream = grpc.aio.ServicerContext[Req, AsyncIterator[Resp]]


async def abort_with(context: grpc.aio.ServicerContext[Any, Any], error: DomainError) -> None:
    """Ends the call with the status the error table gives (and the error's details)."""
    rich = error_details.grpc_status(error)
    if rich is not None:
        await context.abort(rich.code, rich.details, rich.trailing_metadata)
    await context.abort(status_of(error), str(error))


class CoreServicer(PrivacyMethods, api_grpc.CoreServiceServicer):
    """Implements CoreService over an EventStore and the subscription service."""

    def __init__(
        self,
        store: EventStore,
        subscriptions: SubscriptionService,
        max_event_bytes: int = validation.MAX_EVENT_BYTES,
        write_timeout_seconds: float = 10.0,
        groups: GroupService | None = None,
    ) -> None:
        """Serves `store` and `subscriptions`; refuses events larger than `max_event_bytes`
        serialized; ends a stream whose write has been pending `write_timeout_seconds` with
        RESOURCE_EXHAUSTED; serves consumer groups with `groups` (a default GroupService over
        `store` when None)."""
        self.write_timeout_seconds = write_timeout_seconds
        self.groups = groups or GroupService(store, write_timeout_seconds=write_timeout_seconds)
        self.store = store
        self.subscriptions = subscriptions
        self.max_event_bytes = max_event_bytes

    async def _unary(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        work: Callable[[], Awaitable[Resp]],
    ) -> Resp:
        try:
            return await work()
        except DomainError as error:
            await abort_with(context, error)
            raise  # unreachable: abort raises
        except Exception:
            logger.exception("request failed", extra={"method": work.__qualname__})
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")
            raise

    async def PublishEvents(
        self,
        request: api.PublishEventsRequest,
        context: Unary[api.PublishEventsRequest, api.PublishEventsResponse],
    ) -> api.PublishEventsResponse:
        """Stores a batch of events idempotently; see the proto."""

        async def work() -> api.PublishEventsResponse:
            validation.check_batch(request.events, self.max_event_bytes)
            outcomes = await self.store.publish(list(request.events))
            return api.PublishEventsResponse(
                results=[
                    api.PublishResult(
                        outcome=(
                            api.PUBLISH_OUTCOME_STORED
                            if outcome.stored
                            else api.PUBLISH_OUTCOME_DUPLICATE
                        ),
                        sequence=outcome.sequence,
                        event_id=outcome.event_id,
                    )
                    for outcome in outcomes
                ]
            )

        return await self._unary(context, work)

    async def _stream(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        batches: Callable[[], AsyncGenerator[Batch, None]],
    ) -> None:
        """Writes each (frames, cursor) batch as one response; a domain error ends the call with
        the status the error table gives, a write pending longer than the write timeout with
        RESOURCE_EXHAUSTED. A peer that went away (a write or the status fails) is a normal end,
        logged at DEBUG."""
        try:
            async with aclosing(batches()) as stream:
                async for frames, cursor in stream:
                    response = wire.response(frames, cursor)
                    if not await _write(context, response, self.write_timeout_seconds):
                        self.subscriptions.broadcaster.slow_subscribers += 1
                        logger.warning(
                            "stalled subscriber ended: a write was pending too long",
                            extra={"peer": context.peer(), "seconds": self.write_timeout_seconds},
                        )
                        raise SubscriberTooSlowError("subscriber")
        except DomainError as error:
            await _end(context, status_of(error), str(error), error_details.grpc_status(error))
        except _PeerGone:
            # No status can reach a peer that is gone; ending the handler as cancelled keeps
            # grpc from logging the failed write as an error.
            raise asyncio.CancelledError() from None
        except Exception:
            logger.exception("stream failed")
            await _end(context, grpc.StatusCode.INTERNAL, "internal error")

    async def SubscribeEvents(  # type: ignore[override]  # reader-writer API
        self,
        request: api.SubscribeEventsRequest,
        context: Stream[api.SubscribeEventsRequest, api.SubscribeEventsResponse],
    ) -> None:
        """Streams events after the cursor, then live; see the proto."""
        after = request.after_sequence if request.HasField("after_sequence") else None
        kinds = list(request.kinds)
        await self._stream(
            context, lambda: self.subscriptions.events(after, request.shop, kinds, context)
        )

    async def SubscribeInventoryAlerts(  # type: ignore[override]  # reader-writer API
        self,
        request: api.SubscribeInventoryAlertsRequest,
        context: Stream[api.SubscribeInventoryAlertsRequest, api.SubscribeInventoryAlertsResponse],
    ) -> None:
        """Streams inventory alerts after the cursor, then live; see the proto."""
        after = request.after_sequence if request.HasField("after_sequence") else None
        await self._stream(context, lambda: self.subscriptions.alerts(after, request.shop, context))

    async def SubscribeOrderCompletions(  # type: ignore[override]  # reader-writer API
        self,
        request: api.SubscribeOrderCompletionsRequest,
        context: Stream[
            api.SubscribeOrderCompletionsRequest, api.SubscribeOrderCompletionsResponse
        ],
    ) -> None:
        """Streams order completions after the cursor, then live; see the proto."""
        after = request.after_sequence if request.HasField("after_sequence") else None
        await self._stream(
            context, lambda: self.subscriptions.completions(after, request.shop, context)
        )

    async def GetInventoryLevel(
        self,
        request: api.GetInventoryLevelRequest,
        context: Unary[api.GetInventoryLevelRequest, api.GetInventoryLevelResponse],
    ) -> api.GetInventoryLevelResponse:
        """Returns one stored level, NOT_FOUND when absent."""

        async def work() -> api.GetInventoryLevelResponse:
            if not request.shop or not request.inventory_item_id:
                raise InvalidArgumentError("shop and inventory_item_id are required")
            level = await self.store.get_inventory_level(
                request.shop, request.inventory_item_id, request.location_id
            )
            if level is None:
                raise NotFoundError("no inventory level for that shop, item and location")
            return api.GetInventoryLevelResponse(level=convert.level_message(level))

        return await self._unary(context, work)

    async def ListInventoryLevels(
        self,
        request: api.ListInventoryLevelsRequest,
        context: Unary[api.ListInventoryLevelsRequest, api.ListInventoryLevelsResponse],
    ) -> api.ListInventoryLevelsResponse:
        """Returns a page of stored levels; see the proto."""

        async def work() -> api.ListInventoryLevelsResponse:
            size = validation.page_size(request.page_size)
            after = decode_page_token(request.page_token)
            page = await self.store.list_inventory_levels(request.shop, after, size)
            token = ""
            if page.more and page.levels:
                last = page.levels[-1]
                token = encode_page_token((last.shop, last.inventory_item_id, last.location_id))
            return api.ListInventoryLevelsResponse(
                levels=[convert.level_message(level) for level in page.levels],
                next_page_token=token,
                sequence=page.sequence,
            )

        return await self._unary(context, work)

    async def GetSession(
        self,
        request: api.GetSessionRequest,
        context: Unary[api.GetSessionRequest, api.GetSessionResponse],
    ) -> api.GetSessionResponse:
        """Returns a session, NOT_FOUND when unknown."""

        async def work() -> api.GetSessionResponse:
            if not request.session_id:
                raise InvalidArgumentError("session_id is required")
            session = await self.store.get_session(request.session_id)
            if session is None:
                raise NotFoundError("no session with that session_id")
            return api.GetSessionResponse(session=convert.session_message(session))

        return await self._unary(context, work)

    async def BindSession(
        self,
        request: api.BindSessionRequest,
        context: Unary[api.BindSessionRequest, api.BindSessionResponse],
    ) -> api.BindSessionResponse:
        """Binds keys to a session, creating it when new."""

        async def work() -> api.BindSessionResponse:
            bindings = validation.check_bindings(request)
            session = await self.store.bind_session(request.session_id, request.shop, bindings)
            return api.BindSessionResponse(session=convert.session_message(session))

        return await self._unary(context, work)

    async def GetCoreStatus(
        self,
        request: api.GetCoreStatusRequest,
        context: Unary[api.GetCoreStatusRequest, api.GetCoreStatusResponse],
    ) -> api.GetCoreStatusResponse:
        """Returns the head sequence and the connected subscribers' lag; see the proto."""

        async def work() -> api.GetCoreStatusResponse:
            return core_status(self.subscriptions.broadcaster)

        return await self._unary(context, work)

    async def ConsumeEvents(  # type: ignore[override]  # reader-writer API
        self,
        request_iterator: AsyncIterator[api.ConsumeEventsRequest],
        context: Stream[api.ConsumeEventsRequest, api.ConsumeEventsResponse],
    ) -> None:
        """Serves one member of a consumer group; see the proto and service.groups."""
        try:
            await self.groups.consume(request_iterator, context)
        except DomainError as error:
            await _end(context, status_of(error), str(error), error_details.grpc_status(error))
        except PeerGone:
            raise asyncio.CancelledError() from None
        except Exception:
            logger.exception("consumer stream failed")
            await _end(context, grpc.StatusCode.INTERNAL, "internal error")

    async def ListGroups(
        self,
        request: api.ListGroupsRequest,
        context: Unary[api.ListGroupsRequest, api.ListGroupsResponse],
    ) -> api.ListGroupsResponse:
        """Lists the consumer groups; see the proto."""
        return await self._unary(context, self.groups.list_groups)

    async def GetGroup(
        self,
        request: api.GetGroupRequest,
        context: Unary[api.GetGroupRequest, api.GetGroupResponse],
    ) -> api.GetGroupResponse:
        """Returns one consumer group, NOT_FOUND when unknown."""
        return await self._unary(context, lambda: self.groups.get_group(request))

    async def ListParkedEvents(
        self,
        request: api.ListParkedEventsRequest,
        context: Unary[api.ListParkedEventsRequest, api.ListParkedEventsResponse],
    ) -> api.ListParkedEventsResponse:
        """Returns a page of a group's parked events; see the proto."""
        return await self._unary(context, lambda: self.groups.list_parked(request))

    async def RedriveParkedEvents(
        self,
        request: api.RedriveParkedEventsRequest,
        context: Unary[api.RedriveParkedEventsRequest, api.RedriveParkedEventsResponse],
    ) -> api.RedriveParkedEventsResponse:
        """Puts parked events of a group back; see the proto."""
        return await self._unary(context, lambda: self.groups.redrive(request))

    async def DeleteGroup(
        self,
        request: api.DeleteGroupRequest,
        context: Unary[api.DeleteGroupRequest, api.DeleteGroupResponse],
    ) -> api.DeleteGroupResponse:
        """Deletes a consumer group; see the proto."""
        return await self._unary(context, lambda: self.groups.delete_group(request))

    async def SeekGroup(
        self,
        request: api.SeekGroupRequest,
        context: Unary[api.SeekGroupRequest, api.SeekGroupResponse],
    ) -> api.SeekGroupResponse:
        """Moves a consumer group to a sequence or a time; see the proto."""
        return await self._unary(context, lambda: self.groups.seek(request))


class _PeerGone(Exception):
    """The subscriber disconnected while a response or the status was being sent."""


async def _write(
    context: grpc.aio.ServicerContext[Any, Any], response: bytes, timeout: float
) -> bool:
    """Writes one pre-encoded response; False when the write was still pending after
    `timeout` seconds (it is then abandoned); raises _PeerGone when the peer has gone away."""
    try:
        async with asyncio.timeout(timeout):
            await context.write(response)
    except TimeoutError:
        return False
    except asyncio.CancelledError:
        raise
    except Exception as error:  # grpc raises ExecuteBatchError/UsageError on a closed call
        logger.debug(
            "subscriber went away during a write",
            extra={"peer": context.peer(), "error": type(error).__name__},
        )
        raise _PeerGone() from None
    return True


async def _end(
    context: grpc.aio.ServicerContext[Any, Any],
    code: grpc.StatusCode,
    details: str,
    rich: grpc.Status | None = None,
) -> None:
    """Ends the call with a status (the `rich` one, with error details, when given); when the
    peer is already gone that is a normal end: the handler ends as cancelled, which grpc logs
    at DEBUG only."""
    try:
        if rich is not None:
            await context.abort(rich.code, rich.details, rich.trailing_metadata)
        await context.abort(code, details)
    except grpc.aio.AbortError:
        raise
    except asyncio.CancelledError:
        raise
    except Exception as error:
        logger.debug(
            "subscriber went away before its status",
            extra={"peer": context.peer(), "code": code.name, "error": type(error).__name__},
        )
        raise asyncio.CancelledError() from None
