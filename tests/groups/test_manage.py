"""Managing consumer groups: parked pages and redrive, seek, delete, filters, flow control,
the errors of bad requests and the authorization rules (both engines)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev
from google.protobuf.timestamp_pb2 import Timestamp

from tests.groups.helpers import acked_all, group_state, publish, running
from tests.service.events import order
from tests.support.core import CoreStub, core_stub, running_core
from tests.support.group_member import GroupMember
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("engine")


async def test_parked_events_are_listed_a_page_at_a_time_and_redriven_by_sequence(
    stub: CoreStub,
) -> None:
    sequences = await publish(stub, "park", 5, keys=5)
    refuser = GroupMember(stub, "parker", lambda _d: "nack", start_after=0, nack_delay=1)
    async with running([refuser]):
        await wait_for(
            lambda: group_state(stub, "parker", parked=5, lag=0), timeout=60, message="parked"
        )
        pages: list[list[int]] = []
        token = ""
        while True:
            request = api.ListParkedEventsRequest(group="parker", page_size=2, page_token=token)
            page = await stub.ListParkedEvents(request)
            pages.append([parked.event.sequence for parked in page.events])
            assert all(parked.attempts == 5 for parked in page.events)
            assert all(parked.park_time.seconds > 0 for parked in page.events)
            token = page.next_page_token
            if not token:
                break
        assert pages == [sequences[0:2], sequences[2:4], sequences[4:5]]
        refuser.policy = lambda _d: "ack"
        redrive = api.RedriveParkedEventsRequest(group="parker", sequences=[sequences[2]])
        assert (await stub.RedriveParkedEvents(redrive)).redriven == 1
        await wait_for(lambda: refuser.acked == [sequences[2]], message="the redriven event")
        await wait_for(lambda: group_state(stub, "parker", parked=4), message="four parked")


async def test_seek_moves_a_group_to_a_sequence_or_a_time(stub: CoreStub) -> None:
    before = datetime.now(UTC)
    sequences = await publish(stub, "seek", 10, keys=10)
    member = GroupMember(stub, "seeker", start_after=0)
    async with running([member]):
        await wait_for(lambda: len(member.acked) == 10, message="ten acks")
        await wait_for(lambda: group_state(stub, "seeker", acked=sequences[-1]), message="acks")
        moved = await stub.SeekGroup(api.SeekGroupRequest(group="seeker", sequence=sequences[5]))
        assert moved.group.acked_through_sequence == sequences[5]
        assert moved.group.lag == 4
        await wait_for(lambda: len(member.acked) == 14, message="the last four again")
        assert member.acked[10:] == sequences[6:]
        stamp = Timestamp()
        stamp.FromDatetime(before)
        moved = await stub.SeekGroup(api.SeekGroupRequest(group="seeker", time=stamp))
        assert moved.group.acked_through_sequence == sequences[0] - 1
        await wait_for(lambda: len(member.acked) == 24, message="all ten again")
        assert sorted(member.acked[14:]) == sequences
        beyond = await stub.SeekGroup(api.SeekGroupRequest(group="seeker", sequence=10**9))
        assert beyond.group.acked_through_sequence == sequences[-1]  # at most the head
        more = await publish(stub, "later", 2, keys=2)
        await wait_for(lambda: member.acked[-2:] == more, message="new events still flow")


async def test_deleting_a_group_ends_its_members_with_not_found(stub: CoreStub) -> None:
    member = GroupMember(stub, "doomed")
    async with running([member]) as tasks:
        await wait_for(lambda: group_state(stub, "doomed", lag=0), message="the group")
        await stub.DeleteGroup(api.DeleteGroupRequest(group="doomed"))
        await wait_for(tasks[0].done, message="the member's stream ended")
    assert member.error is not None and member.error.code() == grpc.StatusCode.NOT_FOUND
    for call in (
        stub.GetGroup(api.GetGroupRequest(group="doomed")),
        stub.DeleteGroup(api.DeleteGroupRequest(group="doomed")),
        stub.ListParkedEvents(api.ListParkedEventsRequest(group="doomed")),
        stub.SeekGroup(api.SeekGroupRequest(group="doomed", sequence=1)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert (await stub.ListGroups(api.ListGroupsRequest())).groups == []


async def test_a_group_filters_by_shop_and_kind_and_keeps_its_filter(stub: CoreStub) -> None:
    kinds = [ev.EVENT_KIND_ORDER_CREATED]
    member = GroupMember(stub, "orders", kinds=kinds, shop="a.example", start_after=0)
    await stub.PublishEvents(
        api.PublishEventsRequest(
            events=[
                order("o1", "1", shop="a.example"),
                order("o2", "2", shop="b.example"),
            ]
        )
    )
    await publish(stub, "inventory", 3, keys=3)
    async with running([member]):
        await wait_for(lambda: group_state(stub, "orders", lag=0, in_flight=0), message="lag")
        assert [r.sequence for r in member.received] == [1]
        other = GroupMember(stub, "orders", kinds=[ev.EVENT_KIND_INVENTORY_UPDATED])
        async with running([other]) as tasks:
            await wait_for(tasks[0].done, message="the mismatching member ended")
        assert other.error is not None
        assert other.error.code() == grpc.StatusCode.FAILED_PRECONDITION
        listed = (await stub.ListGroups(api.ListGroupsRequest())).groups
        assert [(g.name, g.shop, list(g.kinds), len(g.members)) for g in listed] == [
            ("orders", "a.example", kinds, 1)
        ]


async def test_a_member_holds_at_most_max_unacked_deliveries(stub: CoreStub) -> None:
    sequences = await publish(stub, "flow", 50, keys=50)
    holder = GroupMember(stub, "flow", lambda _d: "hold", start_after=0, max_unacked=3)
    async with running([holder]):
        await wait_for(lambda: group_state(stub, "flow", in_flight=3), message="three held")
        assert sorted(holder.held) == sequences[:3]
        await holder.ack_held()
        await wait_for(lambda: len(holder.held) == 3, message="three more")
        assert sorted(holder.held) == sequences[3:6]
        group = (await stub.GetGroup(api.GetGroupRequest(group="flow"))).group
        assert [(m.in_flight, m.max_unacked) for m in group.members] == [(3, 3)]
        assert group.members[0].replica and group.members[0].peer


async def refused(stub: CoreStub, *requests: api.ConsumeEventsRequest) -> grpc.aio.AioRpcError:
    """The error ending a ConsumeEvents stream sent `requests`."""
    call = stub.ConsumeEvents()  # type: ignore[call-arg]  # reader-writer API
    for request in requests:
        await call.write(request)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        async for _ in call:
            pass
    return raised.value


def start(group: str = "valid", **fields: object) -> api.ConsumeEventsRequest:
    """A first request."""
    return api.ConsumeEventsRequest(start=api.ConsumeStart(group=group, **fields))  # type: ignore[arg-type]


async def test_bad_consume_requests_are_invalid_arguments_with_clear_messages(
    stub: CoreStub,
) -> None:
    many = [f"{n}.1" for n in range(1001)]
    cases = [
        ((start("no spaces"),), "group name"),
        ((start(""),), "group name"),
        ((start("x" * 129),), "group name"),
        ((api.ConsumeEventsRequest(ack_ids=["1.1"]),), "must set start"),
        ((start(max_unacked=1001),), "max_unacked"),
        ((start(ack_deadline_seconds=3601),), "ack_deadline_seconds"),
        ((start(), api.ConsumeEventsRequest(ack_ids=many)), "too many ack_ids"),
        ((start(), api.ConsumeEventsRequest(ack_ids=["nonsense"])), "ack_id"),
        ((start(), start()), "first ConsumeEvents request only"),
        (
            (
                start(),
                api.ConsumeEventsRequest(nacks=[api.ConsumeNack(ack_id="1.1", reason="x" * 1025)]),
            ),
            "1024 bytes",
        ),
        (
            (start(), api.ConsumeEventsRequest(extensions=[api.ConsumeExtension(ack_id="1.1")])),
            "extension seconds",
        ),
    ]
    for requests, words in cases:
        error = await refused(stub, *requests)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, requests
        assert words in (error.details() or ""), (words, error.details())
    for bad in (
        stub.GetGroup(api.GetGroupRequest(group="bad name")),
        stub.SeekGroup(api.SeekGroupRequest(group="valid")),
        stub.RedriveParkedEvents(
            api.RedriveParkedEventsRequest(group="valid", sequences=list(range(1001)))
        ),
        stub.ListParkedEvents(api.ListParkedEventsRequest(group="valid", page_token="garbage")),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await bad
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def seek_authz(stub: CoreStub) -> object:
    """SeekGroup of the group "authz"."""
    return await stub.SeekGroup(api.SeekGroupRequest(group="authz", sequence=0))


async def redrive_authz(stub: CoreStub) -> object:
    """RedriveParkedEvents of the group "authz"."""
    return await stub.RedriveParkedEvents(api.RedriveParkedEventsRequest(group="authz"))


async def delete_authz(stub: CoreStub) -> object:
    """DeleteGroup of the group "authz"."""
    return await stub.DeleteGroup(api.DeleteGroupRequest(group="authz"))


async def test_consuming_and_looking_need_a_reader_managing_needs_the_publisher(
    tmp_path: Path,
) -> None:
    async with running_core(tmp_path / "core", publisher_token="p", subscriber_token="s") as core:
        async with core_stub(core.address, "s") as reader, core_stub(core.address, "p") as writer:
            member = GroupMember(reader, "authz", metadata=(("authorization", "Bearer s"),))
            async with running([member]):
                await wait_for(lambda: group_state(reader, "authz", lag=0), message="joined")
                assert len((await reader.ListGroups(api.ListGroupsRequest())).groups) == 1
                await reader.ListParkedEvents(api.ListParkedEventsRequest(group="authz"))
                manage = (seek_authz, redrive_authz, delete_authz)
                for call in manage:
                    with pytest.raises(grpc.aio.AioRpcError) as raised:
                        await call(reader)
                    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
                    assert "publisher token" in (raised.value.details() or "")
                for call in manage:
                    await call(writer)
        async with core_stub(core.address) as anonymous:
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await anonymous.GetGroup(api.GetGroupRequest(group="authz"))
            assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert (await refused(anonymous, start())).code() == grpc.StatusCode.UNAUTHENTICATED
    assert acked_all([member]) == []
