"""Webhooks over real HTTP to a real core: fixtures become canonical events, alerts derive."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import grpc
import httpx
import pytest
import pytest_asyncio
from commercegateway.v1 import core_service_pb2, core_service_pb2_grpc, events_pb2

from bridge.pipeline import PlatformName
from bridge.samples import sample_body
from tests.support.bridge import (
    Stack,
    fresh_fixture_bytes,
    log_before_sentinel,
    post_signed,
    running_stack,
    signed,
    wait_for_event,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """One core and one bridge for the whole module."""
    async with running_stack(tmp_path_factory.mktemp("webhooks")) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the module."""
    async with httpx.AsyncClient(timeout=10.0) as http:
        yield http


def _expected_id(platform: str, source_event_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{platform}:{source_event_id}"))


@dataclass(frozen=True)
class FixtureCase:
    """A platform fixture, the platform that sends it and the canonical event it must become."""

    name: str
    platform: PlatformName
    topic: str
    kind: str
    check: Callable[[events_pb2.Event], bool]


FIXTURE_CASES = [
    FixtureCase(
        "shopify_products_update.json",
        "shopify",
        "products/update",
        "product_updated",
        lambda e: e.product_updated.product_id == "9554194432293",
    ),
    FixtureCase(
        "square_catalog_version_updated.json",
        "square",
        "",
        "catalog_refresh",
        lambda e: e.shop == "6SSW7HV8K2ST5",
    ),
    FixtureCase(
        "square_inventory_count_updated.json",
        "square",
        "",
        "inventory_updated",
        lambda e: (
            e.inventory_updated.inventory_item_id == "FGQ5JJWT2PYTHF35CKZ2DSKP"
            and e.inventory_updated.available == "10"
        ),
    ),
    FixtureCase(
        "square_order_created.json",
        "square",
        "",
        "order_created",
        lambda e: e.order_created.order_id == "eA3vssLHKJrv9H0IdJCM3gNqfdcZY",
    ),
    FixtureCase(
        "square_order_updated.json",
        "square",
        "",
        "order_created",
        lambda e: e.order_created.version == 2,
    ),
]


@pytest.mark.parametrize("case", FIXTURE_CASES, ids=[c.name for c in FIXTURE_CASES])
async def test_fixture_reaches_subscriber_as_canonical_event(
    stack: Stack, client: httpx.AsyncClient, case: FixtureCase
) -> None:
    body = fresh_fixture_bytes(case.name)
    response = await post_signed(client, stack.url, case.platform, body, topic=case.topic)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted"
    event_id = response.json()["event_id"]
    event = await wait_for_event(stack.core_address, lambda e: e.id == event_id)
    assert event.WhichOneof("payload") == case.kind
    assert case.check(event)
    if case.platform == "square":
        assert event_id == _expected_id("square", json.loads(body)["event_id"])


def _square_count(item: str, quantity: str, calculated_at: str) -> bytes:
    document = json.loads(fresh_fixture_bytes("square_inventory_count_updated.json"))
    document["event_id"] = str(uuid.uuid4())
    count = document["data"]["object"]["inventory_counts"][0]
    count.update(catalog_object_id=item, quantity=quantity, calculated_at=calculated_at)
    return json.dumps(document).encode()


async def test_square_count_of_zero_produces_out_of_stock_alert(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    item = f"ITEM{uuid.uuid4().hex[:12].upper()}"
    for quantity, at in (("10", "2026-01-01T00:00:00Z"), ("0", "2026-01-01T00:05:00Z")):
        response = await post_signed(client, stack.url, "square", _square_count(item, quantity, at))
        assert response.json()["status"] == "accepted", response.text
    async with grpc.aio.insecure_channel(stack.core_address) as channel:
        stub = core_service_pb2_grpc.CoreServiceStub(channel)
        request = core_service_pb2.SubscribeInventoryAlertsRequest(after_sequence=0)
        call = stub.SubscribeInventoryAlerts(request)
        try:
            async with asyncio.timeout(10):
                async for batch in call:
                    alerts = [a for a in batch.alerts if a.inventory_item_id == item]
                    if alerts:
                        break
        finally:
            call.cancel()
    assert alerts[0].kind == events_pb2.INVENTORY_ALERT_KIND_OUT_OF_STOCK
    assert (alerts[0].previous_quantity, alerts[0].new_quantity) == ("10", "0")


async def test_api_webhooks_detects_platform_from_signature_header(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    url = f"{stack.url}/api/webhooks"
    cases: list[tuple[PlatformName, str]] = [
        ("shopify", "orders/create"),
        ("square", "inventory.count.updated"),
        ("betterdata", "inventory.updated"),
    ]
    for platform, topic in cases:
        body = sample_body(platform, topic)
        headers = signed(platform, body, url=url, topic=topic)
        response = await client.post(url, content=body, headers=headers)
        assert response.status_code == 200, (platform, response.text)
        event_id = response.json()["event_id"]
        event = await wait_for_event(stack.core_address, lambda e, i=event_id: e.id == i)
        assert events_pb2.Platform.Name(event.platform) == f"PLATFORM_{platform.upper()}"


async def test_sequential_duplicate_is_answered_duplicate_with_same_event(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    body = sample_body("shopify", "orders/create")
    delivery = str(uuid.uuid4())
    first = await post_signed(
        client, stack.url, "shopify", body, topic="orders/create", delivery_id=delivery
    )
    again = await post_signed(
        client, stack.url, "shopify", body, topic="orders/create", delivery_id=delivery
    )
    assert first.json()["status"] == "accepted"
    assert again.json() == {"status": "duplicate", "event_id": first.json()["event_id"]}


async def test_concurrent_duplicates_have_one_effect(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    body = sample_body("betterdata", "order.created")
    delivery = f"msg_{uuid.uuid4().hex}"
    posts = [
        post_signed(client, stack.url, "betterdata", body, delivery_id=delivery) for _ in range(8)
    ]
    responses = await asyncio.gather(*posts)
    statuses = sorted(r.json()["status"] for r in responses)
    assert statuses == ["accepted"] + ["duplicate"] * 7
    assert len({r.json()["event_id"] for r in responses}) == 1
    log = await log_before_sentinel(stack.core_address)
    assert [e.delivery_id for e in log].count(delivery) == 1


async def test_unknown_topic_is_ignored_and_counted(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    body = b'{"id": 1, "token": "abc"}'
    response = await post_signed(client, stack.url, "shopify", body, topic="carts/update")
    assert response.status_code == 200
    assert response.json() == {"status": "ignored", "event_id": None}
    metrics = (await client.get(f"{stack.url}/metrics")).text
    assert (
        'commerce_gateway_bridge_deliveries_total{outcome="ignored",platform="shopify",topic="other"}'
        in metrics
    )


async def test_probes_and_openapi(stack: Stack, client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{stack.url}/healthz")).json() == {"status": "alive"}
    ready = await client.get(f"{stack.url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "core": "reachable",
        "outbox": "writable",
        "outbox_parked": 0,
    }
    metrics = await client.get(f"{stack.url}/metrics")
    assert "commerce_gateway_bridge_outbox_depth 0.0" in metrics.text
    assert "# TYPE commerce_gateway_bridge_forward_latency_seconds histogram" in metrics.text
    schema = (await client.get(f"{stack.url}/schema/openapi.json")).json()
    assert "/readyz" in schema["paths"]
    shopify = schema["paths"]["/webhooks/shopify"]["post"]
    assert {"200", "403", "413", "415", "400", "422", "503"} <= set(shopify["responses"])
