"""CoreClient.consume against a real core: ack once, nack, extend, restart, run_callbacks."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from commercegateway import CoreClient, CoreError, Delivery, GroupConsumer, run_callbacks
from commercegateway.v1 import events_pb2

from tests.clients.conftest import FAST
from tests.clients.events import inventory_event, publish
from tests.clients.test_resume import publish_when_up
from tests.support.core import running_core
from tests.support.processes import start_core_process
from tests.support.waiting import wait_for

TAKE_TIMEOUT = 20.0


async def take(consumer: GroupConsumer, count: int) -> list[Delivery]:
    """The next `count` deliveries of `consumer`, failing after TAKE_TIMEOUT seconds."""
    taken: list[Delivery] = []
    async with asyncio.timeout(TAKE_TIMEOUT):
        while len(taken) < count:
            taken.append(await anext(consumer))
    return taken


async def settled(client: CoreClient, group: str) -> bool:
    """True when the group has nothing in flight and no lag."""
    state = await client.get_group(group)
    return state.lag == 0 and state.in_flight == 0


async def test_each_event_is_delivered_once_and_an_acked_event_never_again(
    client: CoreClient,
) -> None:
    results = await publish(client.target, [inventory_event(f"once-{n}") for n in range(5)])
    sequences = [result.sequence for result in results]
    async with client.consume("once", start_after=0) as consumer:
        deliveries = await take(consumer, 5)
        assert sorted(d.event.sequence for d in deliveries) == sequences
        assert {d.attempt for d in deliveries} == {1}
        assert all(d.deadline is not None for d in deliveries)
        assert [await d.ack() for d in deliveries] == [True] * 5
        assert await deliveries[0].ack() is False  # a second answer does nothing
        await wait_for(lambda: settled(client, "once"), message="the acks to be applied")
    state = await client.get_group("once")
    assert state.acked_through_sequence == sequences[-1]

    later = await publish(client.target, [inventory_event("once-later")])
    async with client.consume("once") as consumer:
        (delivery,) = await take(consumer, 1)
        assert delivery.event.sequence == later[0].sequence  # nothing acked came again
        assert await delivery.ack()


async def test_a_nacked_event_comes_again_with_attempt_2(client: CoreClient) -> None:
    results = await publish(client.target, [inventory_event("nacked")])
    async with client.consume("retry", start_after=0) as consumer:
        (first,) = await take(consumer, 1)
        assert (first.event.sequence, first.attempt) == (results[0].sequence, 1)
        assert await first.nack("not yet")
        (again,) = await take(consumer, 1)
        assert (again.event.sequence, again.attempt) == (results[0].sequence, 2)
        assert await again.ack()
        await wait_for(lambda: settled(client, "retry"), message="the ack to be applied")


async def test_an_extended_delivery_outlives_its_deadline_and_the_other_does_not(
    client: CoreClient,
) -> None:
    results = await publish(client.target, [inventory_event("kept"), inventory_event("dropped")])
    kept_sequence, dropped_sequence = (result.sequence for result in results)
    consumer = client.consume("extend", start_after=0, ack_deadline=timedelta(seconds=1))
    async with consumer:
        kept, dropped = sorted(await take(consumer, 2), key=lambda d: d.event.sequence)
        assert await kept.extend(60)
        # Both had the same 1 s deadline: the unextended one comes again, the extended does not
        # (it is the older, so it would come first).
        (again,) = await take(consumer, 1)
        assert (again.event.sequence, again.attempt) == (dropped_sequence, 2)
        assert kept.event.sequence == kept_sequence
        assert await kept.ack()
        assert await again.ack()
        await wait_for(lambda: settled(client, "extend"), message="the acks to be applied")
    state = await client.get_group("extend")
    assert state.acked_through_sequence == dropped_sequence
    assert dropped.settled is False


async def test_consuming_continues_after_a_core_restart_without_acked_events(
    tmp_path: Path,
) -> None:
    with start_core_process(tmp_path / "core") as core:
        target = core.endpoint("grpc")
        first = await publish_when_up(target, [inventory_event(f"r{n}") for n in range(3)])
        async with CoreClient(target, backoff=FAST) as client:
            consumer = client.consume("restart", start_after=0, ack_deadline=timedelta(seconds=2))
            async with consumer:
                deliveries = sorted(await take(consumer, 3), key=lambda d: d.event.sequence)
                assert await deliveries[0].ack()
                assert await deliveries[1].ack()
                held = deliveries[2]
                # The acks are durable once applied: wait for them before the crash.
                await wait_for(
                    lambda: _acked_through(client, "restart", first[1]),
                    message="the acks to be stored",
                )
                core.kill()
                # Noticed without reading on: the held delivery is void, its ack does nothing.
                await wait_for(lambda: held.void, message="the dead stream to void the delivery")
                assert await held.ack() is False
                with start_core_process(tmp_path / "core", listen=target):
                    later = await publish_when_up(target, [inventory_event("r-later")])
                    after = await take(consumer, 2)
                    seen = {(d.event.sequence, d.attempt) for d in after}
                    assert seen == {(first[2], 2), (later[0], 1)}
                    assert await held.nack() is False  # still void after the reconnect
                    assert [await d.ack() for d in after] == [True, True]
                    await wait_for(lambda: settled(client, "restart"), message="the acks")


async def _acked_through(client: CoreClient, group: str, sequence: int) -> bool:
    return (await client.get_group(group)).acked_through_sequence >= sequence


async def test_run_callbacks_with_group_acks_on_return_and_nacks_on_raise(
    client: CoreClient,
) -> None:
    results = await publish(client.target, [inventory_event(f"cb-{n}") for n in range(3)])
    sequences = [result.sequence for result in results]
    failing = sequences[1]
    calls: Counter[int] = Counter()

    async def on_event(event: events_pb2.Event) -> None:
        calls[event.sequence] += 1
        if event.sequence == failing and calls[failing] == 1:
            raise RuntimeError("the model timed out")

    runner = asyncio.create_task(
        run_callbacks(client, group="callbacks", on_event=on_event, after_sequence=0)
    )
    await wait_for(lambda: calls[failing] == 2, timeout=15, message="the nacked event again")
    await wait_for(lambda: settled(client, "callbacks"), message="every delivery acked")
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert calls == Counter({sequences[0]: 1, failing: 2, sequences[2]: 1})
    assert (await client.get_group("callbacks")).parked == 0


async def test_a_member_with_another_filter_is_refused(client: CoreClient) -> None:
    first = client.consume("filtered", kinds=[events_pb2.EVENT_KIND_ORDER_CREATED])
    joined = asyncio.create_task(anext(first))  # iterating opens the stream and the group
    try:
        await wait_for(lambda: _exists(client, "filtered"), message="the group to exist")
        async with client.consume("filtered") as other:
            with pytest.raises(CoreError) as refused:
                await anext(other)
        assert refused.value.status == grpc.StatusCode.FAILED_PRECONDITION
    finally:
        joined.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await joined
        await first.aclose()


async def _exists(client: CoreClient, group: str) -> bool:
    return any(g.name == group for g in await client.list_groups())


async def test_run_callbacks_with_group_raises_the_core_refusal_itself(tmp_path: Path) -> None:
    async with (
        running_core(tmp_path, subscriber_token="right", publisher_token="p") as core,
        CoreClient(core.address, token="wrong", backoff=FAST) as wrong,
    ):
        with pytest.raises(CoreError) as refused:
            await run_callbacks(wrong, group="g", on_event=print)
    assert refused.value.status == grpc.StatusCode.UNAUTHENTICATED
