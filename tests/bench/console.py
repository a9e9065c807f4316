"""Micro-benchmark: what recording one delivery into the console's ring costs the request.

Measures, in this process, the console's per-request work on the webhook path: the context
set and reset by the endpoint wrapper plus `record_delivery` (or `record_rejection`) with
realistic headers (a signature included), half accepted, half refused. The entries are built
(signature headers dropped, counters updated) after the answer, once per event-loop
iteration: that deferred work is the second figure, per delivery.
"""

from __future__ import annotations

import asyncio
import time

from bridge.console.recorder import (
    _ACTIVE,
    DeliveryRecorder,
    record_delivery,
    record_rejection,
)
from bridge.intake import ParsedDelivery
from bridge.problems import ProblemError
from tests.bench.report import Figure, Results

FIGURE = Figure(
    "console_record_us_per_delivery",
    "console: record one delivery on the request (in-process)",
    "µs",
    5,
    False,
)
DEFERRED = Figure(
    "console_flush_us_per_delivery", "console: deferred ring entry, off the request", "µs"
)
DELIVERIES = 100_000
BATCH = 10
_HEADERS = {
    "host": "127.0.0.1:8080",
    "user-agent": "Shopify-Captain-Hook",
    "content-type": "application/json",
    "content-length": "512",
    "x-shopify-topic": "inventory_levels/update",
    "x-shopify-shop-domain": "example.myshopify.com",
    "x-shopify-api-version": "2025-07",
    "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    "x-shopify-triggered-at": "2026-11-30T05:00:00Z",
    "x-shopify-hmac-sha256": "XWmrwMey6OsLMeiZKwP4FppHH3cmAiiJJAweH5Jo4bM=",
    "accept-encoding": "gzip",
    "accept": "*/*",
}


async def _run(count: int) -> tuple[float, float]:
    recorder = DeliveryRecorder(1000)
    raw = [(name.encode(), value.encode()) for name, value in _HEADERS.items()]
    scope = {"headers": raw, "scheme": "http", "path": "/webhooks/shopify"}
    delivery = ParsedDelivery(
        "shopify", "inventory_levels/update", "b54557e4", "example.myshopify.com", (), True
    )
    problem = ProblemError("authentication", "bad_signature", "no match", platform="shopify")
    on_request = deferred = 0.0
    clock = time.perf_counter
    for _ in range(count // BATCH):
        started = clock()
        for number in range(BATCH):  # the requests answered in one event-loop iteration
            token = _ACTIVE.set((recorder, clock(), scope))
            if number % 2:
                record_rejection(problem, "shopify", _HEADERS)
            else:
                record_delivery(delivery, "accepted")
            _ACTIVE.reset(token)
        recorded = clock()
        recorder.flush()  # what the loop then runs once, after those answers
        deferred += clock() - recorded
        on_request += recorded - started
    assert recorder.last_id == count // BATCH * BATCH
    done = count // BATCH * BATCH
    return on_request / done * 1e6, deferred / done * 1e6


def measure_console(runs: int, results: Results, deliveries: int = DELIVERIES) -> None:
    """Adds `runs` values of both figures (µs per recorded delivery)."""
    for _ in range(runs):
        on_request, deferred = asyncio.run(_run(deliveries))
        results.add(FIGURE.key, on_request)
        results.add(DEFERRED.key, deferred)


if __name__ == "__main__":
    figures = Results()
    measure_console(5, figures)
    for figure in (FIGURE, DEFERRED):
        print(figure.key, figures.summary(figure.key))
