"""The order lifecycle (issue 12 section 3) through the real bridge and core, on both store
engines: every new topic's published example becomes its canonical event; a completed order
cancelled or fully refunded reaches completion subscribers as a retraction; a disconnected
inventory level produces no alert until it is connected again."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from commercegateway.v1 import core_service_pb2, core_service_pb2_grpc, events_pb2

from bridge.intake import PlatformName
from tests.support.bridge import (
    SECRET,
    SECRET_ENV,
    Stack,
    fixture_bytes,
    fresh_fixture_bytes,
    post_signed,
    running_stack,
    wait_for_event,
)
from tests.support.processes import REPO_ROOT, cli_argv

SHOP = "lifecycle.myshopify.com"
ORDER_ID = "820982911946154508"
_TIMES = ("created_at", "updated_at", "cancelled_at", "processed_at")


@pytest.fixture
async def stack(tmp_path: Path, store_url: str) -> AsyncIterator[Stack]:
    """A core on the test's store engine and a bridge forwarding to it."""
    async with running_stack(tmp_path) as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client with a bounded timeout."""
    async with httpx.AsyncClient(timeout=10.0) as http:
        yield http


def _now(offset_seconds: float = 0) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=offset_seconds)
    return moment.isoformat().replace("+00:00", "Z")


def fresh_shopify(name: str, offset_seconds: float = 0, **changes: Any) -> bytes:
    """A Shopify fixture as Shopify would send it now: its own times (set ones) moved to now
    plus `offset_seconds` (they are held to the replay window), then `changes` applied."""
    document: dict[str, Any] = json.loads(fixture_bytes(name))
    for key in _TIMES:
        if document.get(key) is not None:
            document[key] = _now(offset_seconds)
    return json.dumps(document | changes).encode()


@dataclass(frozen=True)
class TopicCase:
    """A lifecycle topic, its body, the canonical payload it becomes and a check of it."""

    platform: PlatformName
    topic: str
    body: Callable[[], bytes]
    kind: str
    check: Callable[[events_pb2.Event], bool]


CASES = [
    TopicCase(
        "shopify",
        "orders/paid",
        lambda: fresh_shopify(
            "shopify_orders_cancelled.json", cancelled_at=None, financial_status="paid"
        ),
        "order_created",
        lambda e: e.order_created.state == events_pb2.ORDER_STATE_COMPLETED,
    ),
    TopicCase(
        "shopify",
        "orders/updated",
        lambda: fresh_shopify(
            "shopify_orders_cancelled.json", cancelled_at=None, financial_status="refunded"
        ),
        "order_created",
        lambda e: e.order_created.state == events_pb2.ORDER_STATE_REFUNDED,
    ),
    TopicCase(
        "shopify",
        "orders/cancelled",
        lambda: fresh_shopify("shopify_orders_cancelled.json"),
        "order_cancelled",
        lambda e: (e.order_cancelled.order_id, e.order_cancelled.reason) == (ORDER_ID, "customer"),
    ),
    TopicCase(
        "shopify",
        "refunds/create",
        lambda: fresh_shopify("shopify_refunds_create.json"),
        "order_refunded",
        lambda e: e.order_refunded.amount.amount_decimal == "10.00",
    ),
    TopicCase(
        "shopify",
        "inventory_items/update",
        lambda: fresh_shopify("shopify_inventory_items_update.json"),
        "inventory_item_updated",
        lambda e: e.inventory_item_updated.sku == "example-sku",
    ),
    TopicCase(
        "shopify",
        "inventory_levels/connect",
        lambda: fresh_shopify("shopify_inventory_levels_connect.json"),
        "inventory_level_connected",
        lambda e: e.inventory_level_connected.available == "10",
    ),
    TopicCase(
        "shopify",
        "inventory_levels/disconnect",
        lambda: fresh_shopify("shopify_inventory_levels_disconnect.json"),
        "inventory_level_disconnected",
        lambda e: e.inventory_level_disconnected.location_id == "24826418",
    ),
    TopicCase(
        "square",
        "order.updated",
        lambda: square_order("CANCELED", 3),
        "order_created",
        lambda e: e.order_created.state == events_pb2.ORDER_STATE_CANCELED,
    ),
    TopicCase(
        "square",
        "order.fulfillment.updated",
        lambda: fresh_fixture_bytes("square_order_fulfillment_updated.json"),
        "order_fulfillment_updated",
        lambda e: [c.new_state for c in e.order_fulfillment_updated.changes] == ["RESERVED"],
    ),
    TopicCase(
        "square",
        "payment.updated",
        lambda: fresh_fixture_bytes("square_payment_updated.json"),
        "payment_updated",
        lambda e: e.payment_updated.total.amount_minor == 100,
    ),
]


def square_order(state: str, version: int) -> bytes:
    """Square's order.updated example, now, with the order in `state` at `version`."""
    document = json.loads(fresh_fixture_bytes("square_order_updated.json"))
    document["event_id"] = f"order-{state}-{version}"
    document["data"]["object"]["order_updated"].update(state=state, version=version)
    return json.dumps(document).encode()


def square_payment(order_id: str, refunded: int) -> bytes:
    """Square's payment.updated example, now, for `order_id` with `refunded` minor units back."""
    document = json.loads(fresh_fixture_bytes("square_payment_updated.json"))
    document["event_id"] = f"payment-{refunded}"
    document["merchant_id"] = "5S9MXCS9Y99KK"  # the merchant of Square's order.updated example
    payment = document["data"]["object"]["payment"]
    payment.update(order_id=order_id, refunded_money={"amount": refunded, "currency": "USD"})
    return json.dumps(document).encode()


async def post(
    client: httpx.AsyncClient, stack: Stack, platform: PlatformName, body: bytes, topic: str = ""
) -> str:
    """Posts a signed delivery; returns the accepted event's id."""
    response = await post_signed(client, stack.url, platform, body, topic=topic, shop=SHOP)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted", response.text
    event_id: str = response.json()["event_id"]
    return event_id


@pytest.mark.parametrize("case", CASES, ids=[f"{c.platform}:{c.topic}" for c in CASES])
async def test_lifecycle_topic_reaches_subscriber_as_its_canonical_event(
    stack: Stack, client: httpx.AsyncClient, case: TopicCase
) -> None:
    event_id = await post(client, stack, case.platform, case.body(), case.topic)
    event = await wait_for_event(stack.core_address, lambda e: e.id == event_id)
    assert event.WhichOneof("payload") == case.kind
    assert event.topic == case.topic
    assert case.check(event)


async def completions_until(
    address: str, done: Callable[[list[events_pb2.OrderCompletion]], bool]
) -> list[events_pb2.OrderCompletion]:
    """Every completion from the start of the log, read until `done` says enough (10 s)."""
    seen: list[events_pb2.OrderCompletion] = []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = core_service_pb2_grpc.CoreServiceStub(channel)
        request = core_service_pb2.SubscribeOrderCompletionsRequest(after_sequence=0)
        call = stub.SubscribeOrderCompletions(request)
        try:
            async with asyncio.timeout(10):
                async for batch in call:
                    seen.extend(batch.completions)
                    if done(seen):
                        return seen
        finally:
            call.cancel()
    raise AssertionError(f"stream ended after {len(seen)} completions")


async def test_cancelled_order_after_completion_reaches_completion_subscribers_as_retraction(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    session = {"name": "gateway_session_id", "value": "sess-lifecycle"}
    paid = fresh_shopify(
        "shopify_orders_cancelled.json",
        -30,
        cancelled_at=None,
        financial_status="paid",
        note_attributes=[session],
    )
    await post(client, stack, "shopify", paid, "orders/paid")
    partial = fresh_shopify("shopify_refunds_create.json")  # a partial refund: no retraction
    refund_id = await post(client, stack, "shopify", partial, "refunds/create")
    await post(
        client, stack, "shopify", fresh_shopify("shopify_orders_cancelled.json"), "orders/cancelled"
    )
    seen = await completions_until(stack.core_address, lambda found: len(found) >= 2)
    completion, retraction = seen
    assert (completion.session_id, completion.order_id, completion.retracted) == (
        "sess-lifecycle",
        ORDER_ID,
        False,
    )
    assert (retraction.session_id, retraction.order_id, retraction.retracted) == (
        "sess-lifecycle",
        ORDER_ID,
        True,
    )
    assert retraction.retraction_reason == events_pb2.RETRACTION_REASON_CANCELLED
    refund = await wait_for_event(stack.core_address, lambda e: e.id == refund_id)
    assert completion.sequence < refund.sequence < retraction.sequence


async def test_square_fully_refunded_payment_retracts_the_completed_order(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    order_id = "eA3vssLHKJrv9H0IdJCM3gNqfdcZY"  # the id in Square's order.updated example
    await post(client, stack, "square", square_order("COMPLETED", 4))
    await post(client, stack, "square", square_payment(order_id, 40))  # partial
    await post(client, stack, "square", square_payment(order_id, 100))  # the whole payment
    seen = await completions_until(stack.core_address, lambda found: len(found) >= 2)
    assert [(c.order_id, c.retracted) for c in seen] == [(order_id, False), (order_id, True)]
    assert seen[1].retraction_reason == events_pb2.RETRACTION_REASON_REFUNDED


async def test_disconnected_level_produces_no_alert_until_reconnected(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    level = "shopify_inventory_levels_connect.json"  # the same item and location throughout
    await post(
        client, stack, "shopify", fresh_shopify(level, -40, available=10), "inventory_levels/update"
    )
    disconnect = fresh_shopify("shopify_inventory_levels_disconnect.json")
    await post(client, stack, "shopify", disconnect, "inventory_levels/disconnect")
    sold_out = fresh_shopify(level, -20, available=0)
    quiet = await post(client, stack, "shopify", sold_out, "inventory_levels/update")
    back = fresh_shopify(level, -10, available=0)
    connected = await post(client, stack, "shopify", back, "inventory_levels/connect")
    reconnect = await wait_for_event(stack.core_address, lambda e: e.id == connected)
    ignored = await wait_for_event(stack.core_address, lambda e: e.id == quiet)
    alerts: list[events_pb2.InventoryAlert] = []
    async with grpc.aio.insecure_channel(stack.core_address) as channel:
        stub = core_service_pb2_grpc.CoreServiceStub(channel)
        request = core_service_pb2.SubscribeInventoryAlertsRequest(after_sequence=0)
        call = stub.SubscribeInventoryAlerts(request)
        try:
            async with asyncio.timeout(10):
                async for batch in call:
                    alerts.extend(batch.alerts)
                    if batch.sequence >= reconnect.sequence:
                        break
        finally:
            call.cancel()
    assert ignored.sequence not in {a.sequence for a in alerts}
    assert [(a.sequence, a.kind) for a in alerts if a.sequence > ignored.sequence] == [
        (reconnect.sequence, events_pb2.INVENTORY_ALERT_KIND_OUT_OF_STOCK)
    ]
    async with grpc.aio.insecure_channel(stack.core_address) as channel:
        stub = core_service_pb2_grpc.CoreServiceStub(channel)
        found = await stub.GetInventoryLevel(
            core_service_pb2.GetInventoryLevelRequest(
                shop=SHOP, inventory_item_id="271878346596884015", location_id="24826418"
            )
        )
    assert found.level.available == "0"


@pytest.mark.parametrize("case", CASES, ids=[f"{c.platform}:{c.topic}" for c in CASES])
async def test_send_posts_a_built_in_sample_of_each_lifecycle_topic(
    stack: Stack, case: TopicCase
) -> None:
    process = await asyncio.create_subprocess_exec(
        *cli_argv("send", case.platform, "--topic", case.topic, "--url", stack.url),
        cwd=REPO_ROOT,
        env={**os.environ, **SECRET_ENV, "WEBHOOK_SECRET": SECRET},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        out, err = await process.communicate()
    assert process.returncode == 0, (out + err).decode()
    status, body = out.decode().split("\n", 1)
    assert status == "200"
    event_id = json.loads(body)["event_id"]
    event = await wait_for_event(stack.core_address, lambda e: e.id == event_id)
    assert (event.topic, event.WhichOneof("payload")) == (case.topic, case.kind)
