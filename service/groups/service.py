"""GroupService: consumer groups on this core: the members connected here, waking them when
something may be deliverable, and the management calls (list, get, parked, redrive, delete,
seek) over the store's group state (service.store.group_rows)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from functools import partial
from typing import Any

import grpc
from commercegateway.v1 import core_service_pb2 as api

from service.convert import event_kind
from service.errors import InvalidArgumentError
from service.groups import limits
from service.groups.convert import group_message, parked_message
from service.groups.member import Member, MemberStream, StreamLimits, first_request, now_us
from service.groups.requests import ConsumeOptions, check_group_name, check_start
from service.paging import decode_page_token, encode_page_token
from service.store import group_admin, group_rows
from service.store.base import CommittedRecord, EventStore
from service.wire import MAX_RESPONSE_BYTES

logger = logging.getLogger(__name__)
LEAVE_SECONDS = 5.0  # how long stopping waits for members' deliveries to be handed back
DEFAULT_PAGE = 100


def matches(options: ConsumeOptions, record: CommittedRecord) -> bool:
    """True when a committed event passes a group's filter (shop, kinds)."""
    event = record.event
    if options.shop and event.shop != options.shop:
        return False
    return not options.kinds or event_kind(event) in options.kinds


class GroupService:
    """Consumer groups served by this core; see the module docstring."""

    def __init__(
        self,
        store: EventStore,
        *,
        poll_seconds: float = 1.0,
        heartbeat_seconds: float = 15.0,
        write_timeout_seconds: float = 10.0,
        response_bytes: Callable[[], int] = lambda: MAX_RESPONSE_BYTES,
    ) -> None:
        """Serves groups stored in `store`; members look at the store at least every
        `poll_seconds`, get an empty response after `heartbeat_seconds` without one, and are
        ended when a write stays pending `write_timeout_seconds`."""
        self.store = store
        self.limits = StreamLimits(
            poll_seconds, heartbeat_seconds, write_timeout_seconds, response_bytes
        )
        self.replica = f"{socket.gethostname()}:{os.getpid()}"
        self._members: dict[str, set[Member]] = {}
        self._leaving: set[asyncio.Task[Any]] = set()
        self._closing = False

    def committed(self, records: Sequence[CommittedRecord]) -> None:
        """New events were committed (by any replica): the members here whose group's filter
        matches one of them look again."""
        if not records:
            return
        for members in self._members.values():
            options = next(iter(members)).options  # one group, one filter
            if any(matches(options, record) for record in records):
                for member in members:
                    member.wake.set()

    def wake_group(self, group: str, but: Member | None = None) -> None:
        """A group's deliveries changed on this core: its members here (but `but`) look
        again."""
        for member in self._members.get(group, ()):
            if member is not but:
                member.wake.set()

    def member_count(self) -> int:
        """Members connected to this core."""
        return sum(len(members) for members in self._members.values())

    async def close(self, grace: float = LEAVE_SECONDS) -> None:
        """Ends every member stream (UNAVAILABLE) and waits, at most `grace` seconds, until
        their deliveries were handed back."""
        self._closing = True
        for members in self._members.values():
            for member in members:
                member.wake.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                while self._members or self._leaving:
                    if self._leaving:
                        await asyncio.wait(set(self._leaving))
                    else:
                        await asyncio.sleep(0.01)

    async def consume(
        self,
        requests: AsyncIterator[api.ConsumeEventsRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> None:
        """Serves one ConsumeEvents stream; raises the DomainError that ends it."""
        options = check_start(await first_request(requests))
        member = Member(options, context.peer(), self.replica)
        at = now_us()
        member.create_time_us, _ = await self.store.write_steps(
            partial(group_rows.join, member.spec(), member.info(), at, limits.stale_before_us(at))
        )
        self._members.setdefault(options.group, set()).add(member)
        try:
            stream = MemberStream(
                self.store, member, self.limits, self.wake_group, lambda: self._closing
            )
            await stream.run(requests, context)
        finally:
            members = self._members.get(options.group)
            if members is not None:
                members.discard(member)
                if not members:
                    del self._members[options.group]
            task = asyncio.get_running_loop().create_task(self._leave(member))
            self._leaving.add(task)
            task.add_done_callback(self._leaving.discard)

    async def _leave(self, member: Member) -> None:
        """Unregisters a member and hands its deliveries back (other members may take them
        at once)."""
        group = member.options.group
        try:
            await self.store.write_steps(
                partial(group_rows.leave, group, member.member_id, now_us())
            )
        except Exception:
            logger.warning("handing back a member's deliveries failed", exc_info=True)
            return
        self.wake_group(group)

    async def list_groups(self) -> api.ListGroupsResponse:
        """Every group with its lag, in-flight count, members and parked count."""
        at = now_us()
        views = await self.store.read_steps(group_admin.list_groups(at, limits.stale_before_us(at)))
        return api.ListGroupsResponse(groups=[group_message(view) for view in views])

    async def get_group(self, request: api.GetGroupRequest) -> api.GetGroupResponse:
        """One group; NotFoundError when unknown."""
        name = check_group_name(request.group)
        at = now_us()
        view = await self.store.read_steps(
            group_admin.get_group(name, at, limits.stale_before_us(at))
        )
        return api.GetGroupResponse(group=group_message(view))

    async def list_parked(
        self, request: api.ListParkedEventsRequest
    ) -> api.ListParkedEventsResponse:
        """A page of a group's parked events, in sequence order."""
        name = check_group_name(request.group)
        if request.page_size < 0:
            raise InvalidArgumentError("page_size must not be negative")
        size = min(request.page_size or DEFAULT_PAGE, limits.MAX_REDRIVE)
        after = 0
        token = decode_page_token(request.page_token)
        if token is not None:
            if token[0] != "parked" or not token[1].isdigit() or token[2] != name:
                raise InvalidArgumentError("page_token is not a token this server issued")
            after = int(token[1])
        rows, more = await self.store.read_steps(group_admin.list_parked(name, after, size))
        next_token = ""
        if more and rows:
            next_token = encode_page_token(("parked", str(rows[-1].sequence), name))
        return api.ListParkedEventsResponse(
            events=[parked_message(row) for row in rows], next_page_token=next_token
        )

    async def redrive(
        self, request: api.RedriveParkedEventsRequest
    ) -> api.RedriveParkedEventsResponse:
        """Puts parked events back with a fresh attempt count."""
        name = check_group_name(request.group)
        if len(request.sequences) > limits.MAX_REDRIVE:
            raise InvalidArgumentError(
                f"too many sequences: {len(request.sequences)} (at most {limits.MAX_REDRIVE})"
            )
        sequences = sorted(set(request.sequences))
        count = await self.store.write_steps(
            partial(group_admin.redrive, name, sequences, now_us())
        )
        self.wake_group(name)
        return api.RedriveParkedEventsResponse(redriven=count)

    async def delete_group(self, request: api.DeleteGroupRequest) -> api.DeleteGroupResponse:
        """Deletes a group; its members (here at once, elsewhere within a poll) end with
        NOT_FOUND."""
        name = check_group_name(request.group)
        await self.store.write_steps(partial(group_admin.delete_group, name))
        self.wake_group(name)
        return api.DeleteGroupResponse()

    async def seek(self, request: api.SeekGroupRequest) -> api.SeekGroupResponse:
        """Moves a group to a sequence or a time; see the proto."""
        name = check_group_name(request.group)
        target = request.WhichOneof("target")
        sequence: int | None = None
        time_us: int | None = None
        if target == "sequence":
            if request.sequence < 0:
                raise InvalidArgumentError("sequence must not be negative")
            sequence = request.sequence
        elif target == "time":
            time_us = request.time.ToMicroseconds()
        else:
            raise InvalidArgumentError("set sequence or time: where the group goes")
        at = now_us()
        view = await self.store.write_steps(
            partial(group_admin.seek, name, sequence, time_us, at, limits.stale_before_us(at))
        )
        self.wake_group(name)
        return api.SeekGroupResponse(group=group_message(view))
