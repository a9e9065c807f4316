"""Stream figures: catch-up replay rate, core RSS with idle streams, and the raw ASGI limit."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

from commercegateway import CoreClient
from commercegateway.v1 import events_pb2 as ev
from google.protobuf.timestamp_pb2 import Timestamp

from tests.bench.live import Plan, check_outcomes, spread
from tests.bench.payloads import MERCHANT, SHOP
from tests.bench.procstat import cpu_seconds, peak_rss_mb
from tests.bench.report import Results
from tests.bench.system import (
    BenchError,
    SubscriberProcess,
    ask_all,
    run_loadgen,
    start_core,
    start_raw_app,
)

PUBLISH_BATCH = 1000


def _inventory(event: ev.Event, index: int, now: Timestamp) -> ev.Event:
    event.platform, event.shop, event.topic = (
        ev.PLATFORM_SQUARE,
        MERCHANT,
        "inventory.count.updated",
    )
    event.inventory_updated.CopyFrom(
        ev.InventoryUpdated(
            inventory_item_id=f"ITEM{index % 500}",
            location_id="LOC1",
            available=str(index % 50 + 10),
            update_time=now,
        )
    )
    return event


def _order(event: ev.Event, index: int, now: Timestamp) -> ev.Event:
    event.platform, event.shop, event.topic = ev.PLATFORM_SHOPIFY, SHOP, "orders/create"
    line = ev.LineItem(
        product_id="8123456789012345678",
        variant_id="7123456789012345678",
        sku="SKU-1",
        quantity=2,
        title="T-Shirt",
        price=ev.Money(amount_minor=2999, currency_code="USD", amount_decimal="29.99"),
    )
    event.order_created.CopyFrom(
        ev.OrderCreated(
            order_id=str(6_000_000_000_000_000 + index),
            name=f"#{index}",
            state=ev.ORDER_STATE_OPEN,
            line_items=[line, line, line],
            total=ev.Money(amount_minor=8997, currency_code="USD", amount_decimal="89.97"),
            cart_token=uuid.uuid4().hex,
            update_time=now,
        )
    )
    return event


def canonical_event(index: int, now: Timestamp) -> ev.Event:
    """A canonical event as the bridge makes them: Shopify orders, Square inventory."""
    ident = f"c-{index}"
    event = ev.Event(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench:{ident}")),
        source_event_id=ident,
        delivery_id=ident,
        occur_time=now,
        receive_time=now,
    )
    return _inventory(event, index, now) if index % 2 else _order(event, index, now)


async def load_events(core: str, total: int) -> None:
    """Stores `total` events in the core through PublishEvents, in batches."""
    now = Timestamp()
    now.FromDatetime(datetime.now(UTC))
    async with CoreClient(core, timeout=60) as client:
        for start in range(0, total, PUBLISH_BATCH):
            batch = [
                canonical_event(i, now) for i in range(start, min(total, start + PUBLISH_BATCH))
            ]
            results = await client.publish_events(batch)
            if len(results) != len(batch):
                raise BenchError("the core answered a publish with the wrong number of results")


def measure_catchup(plan: Plan, workdir: Path, results: Results) -> None:
    """A subscriber resuming `plan.catchup_events` behind: events per second replayed."""
    total = plan.catchup_events
    with start_core(workdir / "catchup") as core:
        asyncio.run(load_events(core.endpoint("grpc"), total))
        reader = SubscriberProcess(core.endpoint("grpc"), 0, workdir / "logs")
        try:
            for _ in range(plan.runs):
                reader.send({"cmd": "catchup", "through": total, "timeout": 120})
                answer = reader.answer()
                if answer["received"] != total or answer["gaps"]:
                    raise BenchError(f"catch-up: expected {total} events in order, got {answer}")
                results.add("catchup_events_per_s", total / answer["seconds"])
        finally:
            reader.close()


async def _publish_one(core: str) -> None:
    async with CoreClient(core) as client:
        await client.publish_events([canonical_event(0, Timestamp())])


def measure_idle(plan: Plan, workdir: Path, results: Results) -> None:
    """Peak RSS of a fresh core once `plan.idle_streams` subscriber streams are open."""
    streams = plan.idle_streams
    for run in range(plan.runs):
        with start_core(workdir / f"idle{run}") as core:
            address = core.endpoint("grpc")
            processes = [
                SubscriberProcess(address, share, workdir / "logs") for share in spread(streams, 4)
            ]
            try:
                asyncio.run(_publish_one(address))
                # An event every stream received proves every stream is open on the core.
                answers = ask_all(
                    processes,
                    {"cmd": "wait", "tag": "c", "count": 1, "times": False, "timeout": 60},
                )
                got = sum(r["received"] for a in answers for r in a["subscriptions"])
                if got != streams:
                    raise BenchError(f"idle streams: {got} of {streams} received the probe event")
                results.add("core_rss_mb_1000_idle_streams", peak_rss_mb(core.pid))
            finally:
                for process in processes:
                    process.close()


def measure_raw(plan: Plan, workdir: Path, results: Results) -> None:
    """The bare ASGI app's POSTs/s with the same requests and generator."""
    count = max(plan.saturation.values())
    with start_raw_app(workdir / "raw") as raw:
        address = raw.endpoint("http")
        check_outcomes(
            "raw-warm", run_loadgen(address, "rw", 1000, "saturate", connections=16), 1000
        )
        before: list[float] = []  # CPU seconds when each run's generator is ready
        for run in range(plan.runs):
            report = run_loadgen(
                address,
                f"raw{run}",
                count,
                "saturate",
                on_ready=lambda: before.append(cpu_seconds(raw.pid)),
                connections=plan.connections,
            )
            check_outcomes("raw", report, count)
            elapsed = (max(report["acked_ns"]) - min(report["sent_ns"])) / 1e9
            results.add("raw_asgi_per_s", count / elapsed)
            results.add("cpu_s_per_request_raw", (cpu_seconds(raw.pid) - before[-1]) / count)
            results.add("generator_max_requests_per_s", count / report["cpu_s"])
