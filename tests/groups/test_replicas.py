"""Two core replicas sharing one PostgreSQL database, members on both: each event is held by one
member at a time (leases in the database), and every event is acknowledged once."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from commercegateway.v1 import core_service_pb2 as api

from service.server import RunningCore
from tests.groups.helpers import acked_all, group_state, publish, running
from tests.support.core import CoreStub, core_stub, running_core
from tests.support.group_member import Answer, GroupMember
from tests.support.waiting import wait_for

pytestmark = pytest.mark.postgres


@pytest.fixture
async def replicas(tmp_path: Path, postgres_url: str) -> AsyncIterator[list[RunningCore]]:
    """Two in-process cores sharing one fresh database."""
    async with (
        running_core(tmp_path / "one", store=postgres_url, group_poll_seconds=0.2) as one,
        running_core(tmp_path / "two", store=postgres_url, group_poll_seconds=0.2) as two,
    ):
        yield [one, two]


def nack_some_first_attempts(delivery: api.ConsumerDelivery) -> Answer:
    """Refuses the first attempt of every seventh event, so some move between members."""
    return "nack" if delivery.event.sequence % 7 == 0 and delivery.attempt == 1 else "ack"


async def test_members_on_two_replicas_never_hold_one_event_at_once(
    replicas: list[RunningCore],
) -> None:
    async with (
        core_stub(replicas[0].address) as one,
        core_stub(replicas[1].address) as two,
    ):
        stubs: list[CoreStub] = [one, two]
        members = [
            GroupMember(
                stubs[n % 2], "fleet", nack_some_first_attempts, name=f"m{n}", start_after=0
            )
            for n in range(4)
        ]
        async with running(members):
            sequences = await publish(one, "fleet", 1000, keys=50)
            await wait_for(
                lambda: len(acked_all(members)) >= 1000, timeout=120, message="1000 acks"
            )
            await wait_for(
                lambda: group_state(two, "fleet", lag=0, in_flight=0, acked=sequences[-1]),
                message="the group caught up",
            )
            group = (await two.GetGroup(api.GetGroupRequest(group="fleet"))).group
            assert len(group.members) == 4
    assert acked_all(members) == sorted(sequences)
    deliveries = Counter(r.sequence for m in members for r in m.received)
    nacks = Counter(sequence for m in members for sequence in m.nacked)
    # Each delivery beyond the first follows a nack: never two members at once.
    assert all(deliveries[s] == 1 + nacks[s] for s in sequences)
    assert sum(nacks.values()) == len([s for s in sequences if s % 7 == 0])
    assert all(m.acked for m in members), "members on both replicas took a share"
