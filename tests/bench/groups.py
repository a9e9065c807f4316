"""Consumer-group figures (`--only groups`): the rate three members acknowledge a backlog at,
and how soon a SIGKILLed member's deliveries reach the others (5 s ack deadline).

The core is a real process (SQLite); the acking members run on the raw stubs in this process
(tests.support.group_member), the killed one is a process of its own.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import grpc
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import core_service_pb2_grpc

from tests.bench.live import Plan
from tests.bench.report import Figure, Results
from tests.bench.streams import load_events
from tests.bench.system import BenchError, start_core
from tests.support.group_member import GroupMember
from tests.support.processes import REPO_ROOT

ACKED_EVENTS = 20_000  # the backlog three members acknowledge per run
HELD_EVENTS = 100  # deliveries the killed member holds
DEADLINE_SECONDS = 5
TIMEOUT = 120.0
FIGURES = [
    Figure("group_acked_events_per_s_3_members", "group: events acked/s, 3 members", "events/s"),
    Figure(
        "group_redelivery_ms_after_member_kill",
        "group: a killed member's events reach others",
        "ms",
        higher_is_better=False,
    ),
]


async def _until(condition: object, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise BenchError(f"groups: timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def _acked_rate(address: str, group: str, total: int) -> float:
    """Events per second three members acknowledge a stored backlog of `total` at."""
    channels = [grpc.aio.insecure_channel(address) for _ in range(3)]
    members = [
        GroupMember(core_service_pb2_grpc.CoreServiceStub(ch), group, start_after=0)
        for ch in channels
    ]
    started = time.perf_counter()
    tasks = [asyncio.get_running_loop().create_task(member.run()) for member in members]
    try:
        await _until(lambda: sum(len(m.acked) for m in members) >= total, "the backlog acked")
        elapsed = time.perf_counter() - started
    finally:
        for member in members:
            member.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for channel in channels:
            await channel.close(None)
    acked = sorted(s for m in members for s in m.acked)
    if len(acked) != total or len(set(acked)) != total:
        distinct = len(set(acked))
        raise BenchError(f"groups: {len(acked)} acks of {total} events ({distinct} distinct)")
    return total / elapsed


def _held(path: Path) -> set[int]:
    if not path.exists():
        return set()
    return {int(line.split()[0]) for line in path.read_text().splitlines() if line}


async def _redelivery_ms(address: str, group: str, out: Path) -> float:
    """Milliseconds from SIGKILL of a member holding HELD_EVENTS deliveries until other
    members received all of them."""
    holder = subprocess.Popen(  # noqa: ASYNC220 - quick to start; it runs on its own
        [
            sys.executable,
            "-m",
            "tests.support.group_member",
            address,
            group,
            str(out),
            str(DEADLINE_SECONDS),
            str(ACKED_EVENTS - HELD_EVENTS),  # the log's last events: 100 distinct keys
        ],
        cwd=REPO_ROOT,
        start_new_session=True,
    )
    channel = grpc.aio.insecure_channel(address)
    members = [
        GroupMember(core_service_pb2_grpc.CoreServiceStub(channel), group, start_after=0)
        for _ in range(2)
    ]
    tasks: list[asyncio.Task[None]] = []
    try:
        await _until(lambda: len(_held(out)) >= HELD_EVENTS, "the held deliveries")
        held = _held(out)
        tasks = [asyncio.get_running_loop().create_task(member.run()) for member in members]
        stub = core_service_pb2_grpc.CoreServiceStub(channel)
        for _ in range(int(TIMEOUT * 100)):
            reply = await stub.GetGroup(api.GetGroupRequest(group=group))
            if len(reply.group.members) == 3:
                break
            await asyncio.sleep(0.01)
        else:
            raise BenchError("groups: the two members did not join")
        killed = time.monotonic()
        holder.kill()
        await _until(
            lambda: held <= {r.sequence for m in members for r in m.received}, "redelivery"
        )
        arrived = max(r.received for m in members for r in m.received if r.sequence in held)
        return (arrived - killed) * 1000
    finally:
        holder.kill()
        holder.wait()
        for member in members:
            member.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await channel.close(None)


def measure_groups(plan: Plan, workdir: Path, results: Results) -> None:
    """Both consumer-group figures, `plan.runs` times each, on one core."""
    with start_core(workdir / "groups") as core:
        address = core.endpoint("grpc")
        asyncio.run(load_events(address, ACKED_EVENTS))  # each run: a new group acks them all
        for run in range(plan.runs):
            rate = asyncio.run(_acked_rate(address, f"bench-{run}", ACKED_EVENTS))
            results.add("group_acked_events_per_s_3_members", rate)
        for run in range(plan.runs):
            ms = asyncio.run(_redelivery_ms(address, f"kill-{run}", workdir / f"held-{run}.txt"))
            results.add("group_redelivery_ms_after_member_kill", ms)
