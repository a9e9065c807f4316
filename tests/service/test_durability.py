"""Durability: SIGKILL the core process while publishing; acknowledged events survive."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from tests.service.events import inventory
from tests.support.core import CoreStub, core_stub
from tests.support.processes import start_core_process
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on both engines

BATCH = 20


async def keep_publishing(stub: CoreStub, name: str, acked: dict[str, int]) -> None:
    """Publishes batches until the core goes away; records each acknowledged sequence."""
    batch = 0
    while True:
        events = [
            inventory(f"{name}-{batch}-{n}", f"item-{n}", str((batch * 7 + n) % 13))
            for n in range(BATCH)
        ]
        try:
            reply = await stub.PublishEvents(api.PublishEventsRequest(events=events), timeout=5)
        except grpc.aio.AioRpcError:
            return
        for event, result in zip(events, reply.results, strict=True):
            acked[event.source_event_id] = result.sequence
        batch += 1


async def read_log(stub: CoreStub, after: int, through: int) -> list[ev.Event]:
    """Every stored event after `after` up to `through`."""
    events: list[ev.Event] = []
    if through <= after:
        return events
    call = stub.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=after))
    async for response in call:
        events.extend(response.events)
        if response.sequence >= through:
            break
    call.cancel()
    return events


async def test_acknowledged_events_survive_sigkill(tmp_path: Path) -> None:
    acked: dict[str, int] = {}
    with start_core_process(tmp_path / "data") as core:
        async with core_stub(core.endpoint("grpc")) as stub:
            publishers = [
                asyncio.create_task(keep_publishing(stub, name, acked)) for name in ("a", "b")
            ]
            await wait_for(
                lambda: len(acked) >= 30 * BATCH, timeout=60, message="acknowledged events"
            )
            core.kill()
            await asyncio.gather(*publishers)
        core.restart()
        async with core_stub(core.endpoint("grpc")) as stub:
            levels = await stub.ListInventoryLevels(api.ListInventoryLevelsRequest())
            log = await read_log(stub, 0, levels.sequence)
            assert [event.sequence for event in log] == list(range(1, levels.sequence + 1))
            stored = {event.source_event_id: event.sequence for event in log}
            assert all(stored.get(source) == seq for source, seq in acked.items())

            expected: dict[str, tuple[str, int]] = {}
            for event in log:  # replaying the log gives the stored state
                item = event.inventory_updated
                expected[item.inventory_item_id] = (item.available, event.sequence)
            state = {lv.inventory_item_id: (lv.available, lv.sequence) for lv in levels.levels}
            assert state == expected

            cursor = max(acked.values())
            resumed = stub.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=cursor))
            await resumed.initial_metadata()
            await stub.PublishEvents(
                api.PublishEventsRequest(events=[inventory("after-restart", "item-0", "1")])
            )
            seen: list[str] = []
            async for response in resumed:
                seen.extend(event.source_event_id for event in response.events)
                if "after-restart" in seen:
                    break
            resumed.cancel()
            later = [source for source, seq in sorted(stored.items(), key=lambda kv: kv[1])]
            assert seen == [s for s in later if stored[s] > cursor] + ["after-restart"]
