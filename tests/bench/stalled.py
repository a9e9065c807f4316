"""Stalled-stream figures: core RSS and a reader's delivery p99 while 2,000 streams never read.

A fresh core (SQLite), 2,000 live SubscribeEvents streams that never read a message (4
processes of `tests.support.stalled`, 50 streams to a connection), one reading subscriber (the
Python client in a `tests.bench.subscriber` process), then 30,000 canonical events of about
1 KB published through PublishEvents at a steady 2,000 events/s in batches of 20. Figures: the
core's peak RSS (VmHWM) and the reader's p99 delivery (publish call -> receipt; CLOCK_MONOTONIC
is shared by the processes). The run fails unless the reader got every event once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from pathlib import Path

from commercegateway import CoreClient
from commercegateway.v1 import events_pb2 as ev

from tests.bench.live import Plan, spread
from tests.bench.payloads import SHOP
from tests.bench.procstat import peak_rss_mb
from tests.bench.report import Results, percentile
from tests.bench.system import BenchError, SubscriberProcess, start_core
from tests.support.stalled import stalled_streams

STALLED_STREAMS = 2000
EVENTS = 30_000
BATCH = 20
RATE = 2000.0  # events per second
NOTE = "Please gift-wrap this order and include a handwritten card. " * 8  # ~500 bytes


def order_event(tag: str, index: int) -> ev.Event:
    """A canonical Shopify orders/create event of about 1 KB, delivery id TAG-INDEX."""
    ident = f"{tag}-{index}"
    line = ev.LineItem(
        product_id="8123456789012345678",
        variant_id="7123456789012345678",
        sku="SKU-1",
        quantity=2,
        title="T-Shirt",
        price=ev.Money(amount_minor=2999, currency_code="USD", amount_decimal="29.99"),
    )
    event = ev.Event(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-stalled:{ident}")),
        platform=ev.PLATFORM_SHOPIFY,
        source_event_id=ident,
        delivery_id=ident,
        shop=SHOP,
        topic="orders/create",
    )
    event.order_created.CopyFrom(
        ev.OrderCreated(
            order_id=str(6_000_000_000_000_000 + index),
            name=f"#{index}",
            state=ev.ORDER_STATE_OPEN,
            line_items=[line, line, line],
            total=ev.Money(amount_minor=8997, currency_code="USD", amount_decimal="89.97"),
            attributes={"gift_note": NOTE},
            cart_token=uuid.uuid4().hex,
        )
    )
    return event


async def _publish(core: str, tag: str, total: int) -> list[int]:
    """Publishes `total` events at RATE in batches; returns each one's send time (ns)."""
    sent = [0] * total
    interval = BATCH / RATE
    async with CoreClient(core, timeout=60) as client:
        started = time.monotonic()
        for number, start in enumerate(range(0, total, BATCH)):
            delay = started + number * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            batch = [order_event(tag, i) for i in range(start, min(total, start + BATCH))]
            now = time.monotonic_ns()
            for i in range(start, start + len(batch)):
                sent[i] = now
            await client.publish_events(batch)
    return sent


def _probe(reader: SubscriberProcess, core: str) -> None:
    """Publishes one event and waits until the reader has it (its stream is open)."""
    asyncio.run(_publish(core, "probe", 1))
    reader.send({"cmd": "wait", "tag": "probe", "count": 1, "times": False, "timeout": 60})
    if reader.answer()["subscriptions"][0]["received"] != 1:
        raise BenchError("stalled streams: the reader never received the probe event")


def measure_stalled(plan: Plan, workdir: Path, results: Results) -> None:
    """Core peak RSS and a reader's delivery p99 with 2,000 streams that never read."""
    for run in range(plan.runs):
        with start_core(workdir / f"stalled{run}") as core:
            address = core.endpoint("grpc")
            reader = SubscriberProcess(address, 1, workdir / "logs")
            try:
                _probe(reader, address)
                with contextlib.ExitStack() as stack:
                    for share in spread(STALLED_STREAMS, 4):
                        stack.enter_context(stalled_streams(address, share))
                    sent = asyncio.run(_publish(address, "s", EVENTS))
                    reader.send(
                        {"cmd": "wait", "tag": "s", "count": EVENTS, "times": True, "timeout": 120}
                    )
                    report = reader.answer()["subscriptions"][0]
                    rss = peak_rss_mb(core.pid)
            finally:
                reader.close()
        if report["received"] != EVENTS or report["duplicates"] or report["out_of_order"]:
            summary = {key: value for key, value in report.items() if key != "times"}
            raise BenchError(f"stalled streams: the reader missed or reordered events: {summary}")
        delays = [(received - sent[index]) / 1e6 for index, received in report["times"]]
        results.add("core_rss_mb_2000_stalled_streams", rss)
        results.add("reader_delivery_p99_ms_with_2000_stalled", percentile(delays, 0.99))
