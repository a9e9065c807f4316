"""Consumer groups across crashes: a member process SIGKILLed while holding deliveries, and a
core process SIGKILLed and restarted mid-stream (both engines)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import grpc
import pytest

from service.server import RunningCore
from tests.groups.helpers import acked_all, group_state, publish, running
from tests.support.core import CoreStub, core_stub, running_core
from tests.support.group_member import Answer, GroupMember, Received
from tests.support.processes import REPO_ROOT, start_core_process
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("engine")


def lines(path: Path) -> list[tuple[int, int]]:
    """The (sequence, attempt) lines a member process wrote."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return [(int(a), int(b)) for a, b in (line.split() for line in text.splitlines() if line)]


def keys_in_order(received: list[Received]) -> bool:
    """True when, across members, each key's deliveries came in log order."""
    latest: dict[str, int] = {}
    for item in sorted(received, key=lambda r: r.received):
        if latest.get(item.event_key, 0) > item.sequence:
            return False
        latest[item.event_key] = item.sequence
    return True


async def test_a_killed_members_deliveries_reach_the_others_in_key_order(
    core_server: RunningCore, stub: CoreStub, tmp_path: Path
) -> None:
    sequences = await publish(stub, "kill", 300, keys=30)
    out = tmp_path / "held.txt"
    argv = [sys.executable, "-m", "tests.support.group_member", core_server.address]
    holder = subprocess.Popen(  # noqa: ASYNC220 - starting it is quick; it runs on its own
        [*argv, "handover", str(out), "2"], cwd=REPO_ROOT, start_new_session=True
    )
    try:
        await wait_for(lambda: len(lines(out)) == 30, timeout=30, message="30 held deliveries")
    except BaseException:
        holder.kill()
        raise
    held = [sequence for sequence, _ in lines(out)]
    assert held == sequences[:30]  # the first event of each of the 30 keys
    members = [GroupMember(stub, "handover", name=f"m{n}") for n in range(2)]
    async with running(members):
        await wait_for(
            lambda: group_state(stub, "handover", in_flight=30), message="two more members"
        )
        assert not any(member.received for member in members)  # every key is held
        holder.kill()
        holder.wait()
        await wait_for(
            lambda: len(acked_all(members)) >= 300, timeout=60, message="every event acked"
        )
    assert acked_all(members) == sorted(sequences)
    received = [r for m in members for r in m.received]
    assert all(r.attempt == 2 for r in received if r.sequence in held)
    assert Counter(r.sequence for r in received).most_common(1)[0][1] == 1
    assert keys_in_order(received)


async def test_core_sigkill_and_restart_redelivers_only_unacknowledged_events(
    tmp_path: Path,
) -> None:
    with start_core_process(tmp_path / "core") as core:
        async with core_stub(core.endpoint("grpc")) as stub:
            sequences = await publish(stub, "crash", 200, keys=200)
            cut = sequences[149]

            def ack_through_cut(delivery: object) -> Answer:
                return "ack" if delivery.event.sequence <= cut else "hold"  # type: ignore[attr-defined]

            before = [
                GroupMember(stub, "durable", ack_through_cut, start_after=0, ack_deadline=2)
                for _ in range(2)
            ]
            async with running(before):
                await wait_for(
                    lambda: group_state(stub, "durable", acked=cut, in_flight=50),
                    timeout=60,
                    message="150 acks stored and 50 deliveries held",
                )
                core.kill()
                await wait_for(lambda: all(m.error for m in before), message="streams ended")
        core.restart()
        async with core_stub(core.endpoint("grpc")) as stub:
            after = [GroupMember(stub, "durable") for _ in range(2)]
            async with running(after):
                more = await publish(stub, "after", 20, keys=20)
                await wait_for(
                    lambda: len(acked_all(after)) >= 70, timeout=60, message="the rest acked"
                )
                await wait_for(
                    lambda: group_state(stub, "durable", lag=0, acked=more[-1]),
                    message="the group caught up",
                )
    acked_before = set(acked_all(before))
    assert acked_before == {s for s in sequences if s <= cut}
    assert acked_all(after) == sorted(sequences[150:] + more)  # none acked twice, none lost


async def test_a_core_that_stops_hands_its_members_deliveries_back(tmp_path: Path) -> None:
    async with running_core(tmp_path / "core") as first, core_stub(first.address) as stub:
        sequences = await publish(stub, "stop", 5, keys=5)
        holder = GroupMember(stub, "stop", lambda _d: "hold", start_after=0, ack_deadline=3600)
        async with running([holder]):
            await wait_for(lambda: len(holder.held) == 5, message="five held")
            await first.stop(grace=None)
            await wait_for(lambda: holder.error is not None, message="the stream ended")
    assert holder.error is not None and holder.error.code() == grpc.StatusCode.UNAVAILABLE
    async with running_core(tmp_path / "core") as second, core_stub(second.address) as stub:
        member = GroupMember(stub, "stop")
        async with running([member]):  # long before the hour-long deadline
            await wait_for(lambda: sorted(member.acked) == sequences, message="handed back")
    assert {r.attempt for r in member.received} == {2}
