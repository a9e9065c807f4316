"""Durable forwarding: the outbox takes deliveries while the core is down and drains them once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from commercegateway.v1 import events_pb2

from bridge.forwarder import Forwarder
from bridge.intake import parse_delivery
from bridge.outbox import Outbox, OutboxEntry
from bridge.samples import sample_body
from tests.support.bridge import (
    bridge_settings,
    log_before_sentinel,
    post_signed,
    running_bridge,
    signed,
    wait_for_event,
)
from tests.support.core import running_core
from tests.support.postgres import free_port
from tests.support.waiting import wait_for


def _event(n: int) -> events_pb2.Event:
    return events_pb2.Event(
        id=str(uuid.uuid4()),
        platform=events_pb2.PLATFORM_BETTERDATA,
        source_event_id=f"outbox-{n}",
        shop="s",
        product_deleted=events_pb2.ProductDeleted(product_id=str(n)),
    )


async def test_outbox_entries_survive_reopening_and_leave_only_when_removed(
    tmp_path: Path,
) -> None:
    outbox = Outbox(tmp_path)
    events = [_event(n) for n in range(3)]
    await outbox.add(events)
    outbox.close()
    reopened = Outbox(tmp_path)
    entries = await reopened.peek(10)
    assert [entry.event for entry in entries] == events
    await reopened.remove([entries[0].entry_id])
    assert await reopened.depth() == 2
    assert [e.event.id for e in await reopened.peek(10)] == [events[1].id, events[2].id]
    reopened.close()


async def test_concurrent_adds_are_all_committed(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    events = [_event(n) for n in range(50)]
    await asyncio.gather(*(outbox.add([event]) for event in events))
    stored = {entry.event.id for entry in await outbox.peek(100)}
    assert stored == {event.id for event in events}
    outbox.close()


async def test_an_event_already_waiting_is_reported_as_not_new(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    event, other = _event(1), _event(2)
    first, second = await asyncio.gather(outbox.add([event]), outbox.add([event, other]))
    assert (first, second) == ([True], [False, True])
    assert await outbox.add([event]) == [False]
    assert await outbox.depth() == 2
    outbox.close()


async def test_core_down_delivery_is_accepted_then_arrives_exactly_once(tmp_path: Path) -> None:
    port = free_port()
    settings = bridge_settings(tmp_path / "bridge", f"127.0.0.1:{port}")
    body = sample_body("shopify", "orders/create")
    delivery = str(uuid.uuid4())
    async with running_bridge(settings) as bridge, httpx.AsyncClient(timeout=2.0) as client:
        response = await post_signed(
            client, bridge.url, "shopify", body, topic="orders/create", delivery_id=delivery
        )
        assert response.status_code == 200
        assert response.json()["status"] == "accepted"
        assert await bridge.forwarder.outbox.depth() == 1
        retried = await post_signed(
            client, bridge.url, "shopify", body, topic="orders/create", delivery_id=delivery
        )
        assert retried.json() == {"status": "duplicate", "event_id": response.json()["event_id"]}
        assert await bridge.forwarder.outbox.depth() == 1
        ready = await client.get(f"{bridge.url}/readyz")
        assert ready.json() == {
            "status": "ready",
            "core": "unreachable",
            "outbox": "writable",
            "outbox_parked": 0,
        }

        async with running_core(tmp_path / "core", grpc_listen=f"127.0.0.1:{port}") as core:
            event_id = response.json()["event_id"]
            await wait_for_event(core.address, lambda e: e.id == event_id)

            async def drained() -> bool:
                return await bridge.forwarder.outbox.depth() == 0

            await wait_for(drained, message="outbox drained")
            again = await post_signed(
                client, bridge.url, "shopify", body, topic="orders/create", delivery_id=delivery
            )
            assert again.json() == {"status": "duplicate", "event_id": event_id}
            log = await log_before_sentinel(core.address)
            assert [e.id for e in log].count(event_id) == 1


async def test_503_when_neither_core_nor_outbox_can_store(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    settings = bridge_settings(blocker / "data", f"127.0.0.1:{free_port()}")
    async with running_bridge(settings) as bridge, httpx.AsyncClient(timeout=5.0) as client:
        response = await post_signed(
            client, bridge.url, "betterdata", sample_body("betterdata", "order.created")
        )
        assert response.status_code == 503
        problem = response.json()
        assert problem["type"] == "urn:commerce-gateway:problem:unavailable"
        assert problem["reason"] == "store_unavailable"
        ready = await client.get(f"{bridge.url}/readyz")
        assert ready.status_code == 503
        assert ready.json()["outbox"] == "unwritable"


async def test_event_the_core_refuses_is_parked_and_does_not_block_the_rest(
    tmp_path: Path,
) -> None:
    body = sample_body("betterdata", "product.updated")
    headers = signed("betterdata", body, url="http://unused")
    config = bridge_settings(tmp_path, "127.0.0.1:1").verification_config()
    good = parse_delivery("betterdata", body, headers, config, received_at=datetime.now(UTC))
    invalid = events_pb2.Event(id=str(uuid.uuid4()), source_event_id="no-payload")
    outbox = Outbox(tmp_path / "bridge")
    await outbox.add([invalid, *good.events])
    outbox.close()
    async with running_core(tmp_path / "core") as core:
        settings = bridge_settings(tmp_path / "bridge", core.address)
        async with running_bridge(settings) as bridge:
            await wait_for_event(core.address, lambda e: e.id == good.events[0].id)

            async def drained() -> bool:
                return await bridge.forwarder.outbox.depth() == 0

            await wait_for(drained, message="outbox drained")
            assert await bridge.forwarder.outbox.depth(parked=True) == 1


class HeldOutbox(Outbox):
    """An outbox whose drain sees nothing while `held` (so a test controls when it delivers)."""

    held = True

    async def peek(self, limit: int) -> list[OutboxEntry]:
        """Nothing while held, else the real oldest entries."""
        return [] if self.held else await super().peek(limit)


async def test_retry_while_the_first_copy_waits_in_the_outbox_is_a_duplicate(
    tmp_path: Path,
) -> None:
    port = free_port()
    settings = bridge_settings(tmp_path / "bridge", f"127.0.0.1:{port}")
    outbox = HeldOutbox(settings.data_dir)
    forwarder = Forwarder(core=settings.core, token="", outbox=outbox, deadline=0.5)
    body = sample_body("betterdata", "order.created")
    headers = signed("betterdata", body, url="http://unused")
    async with running_bridge(settings, forwarder) as bridge, httpx.AsyncClient() as client:
        url = f"{bridge.url}/webhooks/betterdata"
        first = await client.post(url, content=body, headers=headers)
        assert first.json()["status"] == "accepted"
        assert await outbox.counts() == (1, 0)
        async with running_core(tmp_path / "core", grpc_listen=f"127.0.0.1:{port}") as core:
            await wait_for(forwarder.core_reachable, timeout=15, message="core reachable")
            retried = await client.post(url, content=body, headers=headers)
            assert retried.json() == {"status": "duplicate", "event_id": first.json()["event_id"]}
            outbox.held = False

            async def drained() -> bool:
                return await outbox.counts() == (0, 0)

            await wait_for(drained, message="outbox drained")
            log = await log_before_sentinel(core.address)
            assert [e.id for e in log].count(first.json()["event_id"]) == 1


async def test_the_outbox_says_it_holds_nothing_only_after_an_empty_peek(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    assert outbox.may_hold_waiting()  # unknown until looked at
    assert await outbox.peek(10) == []
    assert not outbox.may_hold_waiting()
    await outbox.add([_event(1)])
    assert outbox.may_hold_waiting()
    entries = await outbox.peek(10)
    assert outbox.may_hold_waiting()
    await outbox.remove([entries[0].entry_id])
    await outbox.peek(10)
    assert not outbox.may_hold_waiting()
    outbox.close()
