"""Subscriptions survive the network: a core killed and restarted, a subscriber dropped as slow."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from commercegateway import CoreClient, CoreError, ReconnectInfo
from commercegateway.v1 import events_pb2

from tests.clients.conftest import FAST
from tests.clients.events import inventory_event, publish
from tests.support.core import running_core
from tests.support.processes import ServerProcess, start_core_process
from tests.support.waiting import wait_for


@pytest.fixture
def core_process(tmp_path: Path) -> Iterator[ServerProcess]:
    """`commerce-gateway core` as a real process on an ephemeral port."""
    with start_core_process(tmp_path / "core") as process:
        yield process


async def publish_when_up(target: str, events: list[events_pb2.Event]) -> list[int]:
    """Publishes, waiting while a restarted core is not reachable yet; returns sequences."""
    sequences: list[int] = []

    async def published() -> bool:
        try:
            results = await publish(target, events)
        except Exception:  # the core is still starting: try again until the deadline
            return False
        sequences.extend(result.sequence for result in results)
        return True

    await wait_for(published, timeout=15, message="the core to accept a publish")
    return sequences


async def test_subscriber_resumes_across_core_kill_and_restart(
    core_process: ServerProcess, tmp_path: Path
) -> None:
    target = core_process.endpoint("grpc")
    received: list[events_pb2.Event] = []
    reconnects: list[ReconnectInfo] = []
    async with CoreClient(target, backoff=FAST) as client:
        subscription = client.subscribe_events(after_sequence=0, on_reconnect=reconnects.append)

        async def consume() -> None:
            async with subscription:
                async for event in subscription:
                    received.append(event)

        consumer = asyncio.create_task(consume())
        first = await publish_when_up(target, [inventory_event(f"i{n}") for n in range(4)])
        await wait_for(lambda: len(received) == 4, message="the events before the crash")

        core_process.kill()
        restarted = await asyncio.to_thread(start_core_process, tmp_path / "core", listen=target)
        try:
            second = await publish_when_up(target, [inventory_event(f"j{n}") for n in range(4)])
            await wait_for(lambda: len(received) >= 8, message="the events after the restart")
        finally:
            consumer.cancel()
            restarted.close()

    sequences = [event.sequence for event in received]
    assert sequences == first + second
    assert sequences == list(range(sequences[0], sequences[0] + 8))  # no gap, no duplicate
    assert [event.inventory_updated.inventory_item_id for event in received[4:]] == [
        f"j{n}" for n in range(4)
    ]
    assert reconnects and reconnects[0].cursor == first[-1]
    assert reconnects[0].error is not None and reconnects[0].error.reason == "unavailable"


async def test_subscriber_dropped_as_too_slow_resumes_without_loss(tmp_path: Path) -> None:
    # A queue of 2 items per subscriber: a batch of 40 overflows it while the stream is live.
    async with running_core(tmp_path, subscriber_queue=2) as core:
        reconnects: list[ReconnectInfo] = []
        async with CoreClient(core.address, backoff=FAST) as client:
            subscription = client.subscribe_events(on_reconnect=reconnects.append)
            async with subscription:
                # Once the first item arrived, the core has registered the live subscriber.
                warmup = asyncio.ensure_future(anext(subscription))
                await wait_for(lambda: subscription.cursor is not None, message="the head")
                results = await publish(core.address, [inventory_event("warm-up")])
                received = [await warmup]
                results += await publish(
                    core.address, [inventory_event(f"s{n}") for n in range(40)]
                )
                received += [await anext(subscription) for _ in range(40)]

    assert [event.sequence for event in received] == [result.sequence for result in results]
    assert [info.error.reason for info in reconnects if info.error] == ["resource_exhausted"]


async def test_silent_stream_is_reopened_after_the_idle_timeout(tmp_path: Path) -> None:
    # No heartbeat for a minute: a client expecting one within 50 ms reopens the stream.
    async with running_core(tmp_path, heartbeat_seconds=60) as core:
        reconnects: list[ReconnectInfo] = []
        async with CoreClient(core.address, backoff=FAST, idle_timeout=0.05) as client:
            subscription = client.subscribe_events(on_reconnect=reconnects.append)
            async with subscription:
                first = asyncio.ensure_future(anext(subscription))
                await wait_for(lambda: len(reconnects) >= 2, message="idle reconnections")
                results = await publish(core.address, [inventory_event("after-idle")])
                event = await first

    assert event.sequence == results[0].sequence
    assert reconnects[0].error is not None
    assert reconnects[0].error.reason == "unavailable"
    assert "no item or heartbeat" in reconnects[0].error.details


async def test_closing_the_client_ends_its_subscription_with_core_error(
    client: CoreClient,
) -> None:
    results = await publish(client.target, [inventory_event("before-close")])
    subscription = client.subscribe_events(after_sequence=0)
    assert (await anext(subscription)).sequence == results[0].sequence
    await client.close()
    with pytest.raises(CoreError) as caught:
        await anext(subscription)
    assert caught.value.reason == "cancelled"


async def test_the_next_item_can_be_awaited_in_a_task(client: CoreClient) -> None:
    # anext() of a subscription is a coroutine (at run time and for mypy): it can run in a task.
    subscription = client.subscribe_events(after_sequence=0)
    waiting = asyncio.create_task(anext(subscription))
    results = await publish(client.target, [inventory_event("in-a-task")])
    async with asyncio.timeout(10):
        assert (await waiting).sequence == results[0].sequence
    await subscription.aclose()
