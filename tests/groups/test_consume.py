"""ConsumeEvents: a group's events shared by its members, each acknowledged once, in key order,
with nacks, deadlines and parking (both engines, a core on a loopback port)."""

from __future__ import annotations

from collections import Counter

import pytest
from commercegateway.v1 import core_service_pb2 as api

from tests.groups.helpers import acked_all, group_state, publish, running
from tests.support.core import CoreStub
from tests.support.group_member import Answer, GroupMember
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("engine")


def in_key_order(member: GroupMember) -> bool:
    """True when, per key, the member received its events in log order (never an older one
    after a newer one)."""
    seen: dict[str, int] = {}
    for item in member.received:
        if seen.get(item.event_key, 0) > item.sequence:  # a redelivery may repeat one
            return False
        seen[item.event_key] = item.sequence
    return True


async def test_three_members_acknowledge_3000_events_exactly_once(stub: CoreStub) -> None:
    members = [GroupMember(stub, "reindex", name=f"m{n}", start_after=0) for n in range(3)]
    async with running(members):
        sequences = await publish(stub, "three", 3000, keys=300)
        await wait_for(lambda: len(acked_all(members)) >= 3000, timeout=120, message="acks")
        await wait_for(
            lambda: group_state(stub, "reindex", lag=0, in_flight=0, acked=sequences[-1]),
            timeout=30,
            message="the group caught up",
        )
        group = (await stub.GetGroup(api.GetGroupRequest(group="reindex"))).group
        assert len(group.members) == 3 and group.parked == 0
    assert acked_all(members) == sorted(sequences)
    assert all(member.acked for member in members), "every member took a share"
    assert all(in_key_order(member) for member in members)
    counts = Counter(r.sequence for m in members for r in m.received)
    assert set(counts.values()) == {1}, "no event was delivered twice"


async def test_an_always_nacked_event_is_parked_after_5_attempts_and_redriven(
    stub: CoreStub,
) -> None:
    sequences = await publish(stub, "nack", 40, keys=40)
    poison = sequences[7]

    def refuse_poison(delivery: api.ConsumerDelivery) -> Answer:
        return "nack" if delivery.event.sequence == poison else "ack"

    nacker = GroupMember(stub, "finalize", refuse_poison, name="nacker", start_after=0)
    helper = GroupMember(stub, "finalize", refuse_poison, name="helper", start_after=0)
    async with running([nacker, helper]):
        await wait_for(
            lambda: group_state(stub, "finalize", parked=1, lag=0), timeout=60, message="parked"
        )
        attempts = sorted(
            r.attempt for m in (nacker, helper) for r in m.received if r.sequence == poison
        )
        assert attempts == [1, 2, 3, 4, 5]
        assert sorted(set(acked_all([nacker, helper]))) == [s for s in sequences if s != poison]
        parked = await stub.ListParkedEvents(api.ListParkedEventsRequest(group="finalize"))
        assert [p.event.sequence for p in parked.events] == [poison]
        assert parked.events[0].attempts == 5
        assert parked.events[0].last_error.endswith("says no")

        nacker.policy = helper.policy = lambda _d: "ack"
        reply = await stub.RedriveParkedEvents(api.RedriveParkedEventsRequest(group="finalize"))
        assert reply.redriven == 1
        await wait_for(
            lambda: poison in acked_all([nacker, helper]), timeout=30, message="redriven ack"
        )
        redelivered = [r for m in (nacker, helper) for r in m.received if r.sequence == poison]
        assert max(redelivered, key=lambda r: r.received).attempt == 1
        await wait_for(
            lambda: group_state(stub, "finalize", parked=0, lag=0, in_flight=0),
            message="nothing parked",
        )


async def test_a_delivery_not_acknowledged_in_time_is_delivered_again(stub: CoreStub) -> None:
    sequences = await publish(stub, "late", 6, keys=2)
    sleeper = GroupMember(stub, "slow", lambda _d: "hold", ack_deadline=1, start_after=0)
    async with running([sleeper]):
        await wait_for(lambda: len(sleeper.held) == 2, message="the first event of each key")
        assert sorted(sleeper.held) == sequences[:2]  # the next of a key waits for its ack
        sleeper.policy = lambda _d: "ack"  # it never answers those two; later ones it acks
        worker = GroupMember(stub, "slow", start_after=0)
        async with running([worker]):
            await wait_for(
                lambda: sorted(acked_all([sleeper, worker])) == sequences,
                timeout=30,
                message="every event acknowledged once",
            )
    again = [r for r in worker.received if r.sequence in sequences[:2]]
    assert sorted(r.attempt for r in again) == [2, 2]  # to the other member, attempt 2
    assert all(in_key_order(member) for member in (sleeper, worker))


async def test_an_extended_delivery_stays_with_its_member_past_the_first_deadline(
    stub: CoreStub,
) -> None:
    sequences = await publish(stub, "extend", 2, keys=2)
    holder = GroupMember(stub, "extend", lambda _d: "hold", start_after=0, ack_deadline=1)
    async with running([holder]):
        await wait_for(lambda: len(holder.held) == 2, message="two held")
        extension = api.ConsumeExtension(ack_id=holder.held[sequences[0]], seconds=60)
        await holder.call.write(api.ConsumeEventsRequest(extensions=[extension]))
        other = GroupMember(stub, "extend", start_after=0)  # joins before the 1 s deadline
        async with running([other]):
            # The unextended one passed its deadline: the other member gets it...
            await wait_for(lambda: other.acked == [sequences[1]], message="the expired one")
            # ...while the extended one is still held, and its ack_id still settles it.
            await wait_for(lambda: group_state(stub, "extend", in_flight=1), message="one held")
            del holder.held[sequences[1]]
            await holder.ack_held()
            await wait_for(lambda: group_state(stub, "extend", in_flight=0, lag=0), message="acked")
    assert [r.sequence for r in other.received] == [sequences[1]]


async def test_nacked_deliveries_wait_a_doubling_backoff(stub: CoreStub) -> None:
    (sequence,) = await publish(stub, "backoff", 1, keys=1)
    member = GroupMember(stub, "backoff", lambda _d: "nack", start_after=0)
    async with running([member]):
        await wait_for(lambda: len(member.received) == 3, timeout=30, message="three attempts")
    first, second, third = (r.received for r in member.received)
    assert [r.sequence for r in member.received] == [sequence] * 3
    assert second - first >= 0.9 and third - second >= 1.9  # 1 s, then 2 s
