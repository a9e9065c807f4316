"""Replays with rewritten unsigned headers, and future-dated events, through the real bridge and
core on both store engines (issue 9, items 6 and 7).

Shopify and Square sign the body only: the delivery id, topic, shop domain and delivery time
headers can be rewritten on a captured body without breaking the signature.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from commercegateway.v1 import core_service_pb2, core_service_pb2_grpc, events_pb2

from bridge.samples import sample_body
from bridge.signing import rfc3339
from tests.support.bridge import (
    Stack,
    bridge_settings,
    log_before_sentinel,
    running_bridge,
    signed,
)
from tests.support.core import running_core

SHOP = "replay.myshopify.com"
OTHER_SHOP = "other.myshopify.com"


@contextlib.asynccontextmanager
async def _stack(data_dir: Path, **bridge_overrides: Any) -> AsyncIterator[Stack]:
    async with running_core(data_dir / "core") as core:
        settings = bridge_settings(data_dir / "bridge", core.address, **bridge_overrides)
        async with running_bridge(settings) as bridge:
            yield Stack(core.address, bridge, data_dir / "bridge")


@pytest.fixture
async def stack(tmp_path: Path, store_url: str) -> AsyncIterator[Stack]:
    """A core on the test's store engine and a bridge with the shared test secret."""
    async with _stack(tmp_path) as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client with a bounded timeout."""
    async with httpx.AsyncClient(timeout=10.0) as http:
        yield http


async def _post(
    client: httpx.AsyncClient, stack: Stack, platform: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    return await client.post(f"{stack.url}/webhooks/{platform}", content=body, headers=headers)


def _shopify_headers(stack: Stack, body: bytes, topic: str, **kwargs: Any) -> dict[str, str]:
    url = f"{stack.url}/webhooks/shopify"
    return signed("shopify", body, url=url, topic=topic, shop=kwargs.pop("shop", SHOP), **kwargs)


async def test_captured_shopify_body_with_a_new_webhook_id_is_a_duplicate(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    body = sample_body("shopify", "orders/create")
    headers = _shopify_headers(stack, body, "orders/create")
    first = await _post(client, stack, "shopify", body, headers)
    assert first.status_code == 200 and first.json()["status"] == "accepted", first.text
    for _ in range(3):  # the four order_created events for one order
        replay = dict(headers)
        replay["X-Shopify-Webhook-Id"] = str(uuid.uuid4())
        replay["X-Shopify-Triggered-At"] = rfc3339(datetime.now(UTC), nanoseconds=True)
        again = await _post(client, stack, "shopify", body, replay)
        assert again.status_code == 200, again.text
        assert again.json() == {"status": "duplicate", "event_id": first.json()["event_id"]}
    order_id = str(json.loads(body)["id"])
    stored = [
        event
        for event in await log_before_sentinel(stack.core_address)
        if event.order_created.order_id == order_id
    ]
    assert len(stored) == 1


async def test_multi_event_square_delivery_stores_every_event_once(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    document = json.loads(sample_body("square", "inventory.count.updated"))
    count = document["data"]["object"]["inventory_counts"][0]
    items = [f"ITEM{uuid.uuid4().hex[:12].upper()}" for _ in range(3)]
    document["data"]["object"]["inventory_counts"] = [
        {**count, "catalog_object_id": item, "quantity": "4"} for item in items
    ]
    body = json.dumps(document).encode()
    url = f"{stack.url}/webhooks/square"
    headers = signed("square", body, url=url)
    first = await _post(client, stack, "square", body, headers)
    assert first.json()["status"] == "accepted" and len(first.json()["event_ids"]) == 3
    headers["square-initial-delivery-timestamp"] = rfc3339(datetime.now(UTC))
    again = await _post(client, stack, "square", body, headers)
    assert again.json()["status"] == "duplicate", again.text
    stored = [
        event.inventory_updated.inventory_item_id
        for event in await log_before_sentinel(stack.core_address)
        if event.HasField("inventory_updated")
    ]
    assert sorted(stored) == sorted(items)


async def test_eighty_hour_old_shopify_body_with_a_fresh_header_is_403(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    old = datetime.now(UTC) - timedelta(hours=80)
    body = sample_body("shopify", "orders/create", now=old)
    headers = _shopify_headers(stack, body, "orders/create", now=datetime.now(UTC))
    response = await _post(client, stack, "shopify", body, headers)
    assert response.status_code == 403, response.text
    assert response.json()["reason"] == "stale_event"


async def test_eighty_hour_old_square_body_with_a_rewritten_delivery_time_is_403(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    old = datetime.now(UTC) - timedelta(hours=80)
    body = sample_body("square", "inventory.count.updated", now=old)
    headers = signed("square", body, url=f"{stack.url}/webhooks/square", now=datetime.now(UTC))
    response = await _post(client, stack, "square", body, headers)
    assert response.status_code == 403, response.text
    assert response.json()["reason"] == "stale_event"


async def test_products_delete_topic_on_a_products_update_body_is_refused(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    body = sample_body("shopify", "products/update")
    product_id = str(json.loads(body)["id"])
    update = await _post(
        client, stack, "shopify", body, _shopify_headers(stack, body, "products/update")
    )
    assert update.json()["status"] == "accepted", update.text
    rewritten = _shopify_headers(stack, body, "products/delete")
    response = await _post(client, stack, "shopify", body, rewritten)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["reason"] == "schema_mismatch"
    assert "quarantine" in problem["detail"]
    assert "title: not part of a products/delete body" in problem["errors"]
    events = await log_before_sentinel(stack.core_address)
    assert [e.product_updated.product_id for e in events if e.HasField("product_updated")] == [
        product_id
    ]
    assert not [e for e in events if e.HasField("product_deleted")]


async def test_shop_header_rewrite_is_403_with_per_shop_secrets(
    tmp_path: Path, store_url: str, client: httpx.AsyncClient
) -> None:
    shop_secrets = {SHOP: {"shopify": ["secret-of-shop"]}, OTHER_SHOP: {"shopify": ["other"]}}
    async with _stack(tmp_path, webhook_secret="", shop_secrets=shop_secrets) as stack:
        body = sample_body("shopify", "orders/create")
        headers = _shopify_headers(stack, body, "orders/create", secret="secret-of-shop")
        rewritten = {**headers, "X-Shopify-Shop-Domain": OTHER_SHOP}
        response = await _post(client, stack, "shopify", body, rewritten)
        assert response.status_code == 403, response.text
        assert response.json()["reason"] == "bad_signature"
        genuine = await _post(client, stack, "shopify", body, headers)
        assert genuine.json()["status"] == "accepted", genuine.text
        shops = {event.shop for event in await log_before_sentinel(stack.core_address)}
        assert shops == {SHOP}


async def _level_and_alert(
    address: str, item: str, location: str
) -> tuple[core_service_pb2.InventoryLevel, events_pb2.InventoryAlert]:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = core_service_pb2_grpc.CoreServiceStub(channel)
        level = await stub.GetInventoryLevel(
            core_service_pb2.GetInventoryLevelRequest(
                shop=SHOP, inventory_item_id=item, location_id=location
            )
        )
        request = core_service_pb2.SubscribeInventoryAlertsRequest(after_sequence=0, shop=SHOP)
        call = stub.SubscribeInventoryAlerts(request)
        try:
            async with asyncio.timeout(10):
                async for batch in call:
                    found = [
                        alert
                        for alert in batch.alerts
                        if alert.inventory_item_id == item
                        and alert.kind == events_pb2.INVENTORY_ALERT_KIND_BACK_IN_STOCK
                    ]
                    if found:
                        return level.level, found[0]
        finally:
            call.cancel()
    raise AssertionError("alert stream ended without the BACK_IN_STOCK alert")


def _inventory_body(item: int, location: int, available: int, at: datetime) -> bytes:
    document = {
        "inventory_item_id": item,
        "location_id": location,
        "available": available,
        "updated_at": rfc3339(at),
    }
    return json.dumps(document).encode()


async def test_future_dated_update_never_freezes_the_level(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    item, location = 2**60 + uuid.uuid4().int % 2**40, 2**61
    now = datetime.now(UTC)
    ahead = _inventory_body(item, location, 0, now + timedelta(hours=1))
    correct = _inventory_body(item, location, 7, now + timedelta(seconds=1))
    for body in (ahead, correct):
        headers = _shopify_headers(stack, body, "inventory_levels/update")
        response = await _post(client, stack, "shopify", body, headers)
        assert response.json()["status"] == "accepted", response.text
    level, alert = await _level_and_alert(stack.core_address, str(item), str(location))
    assert level.available == "7"
    assert (alert.previous_quantity, alert.new_quantity) == ("0", "7")
    flags = [
        event.future_dated
        for event in await log_before_sentinel(stack.core_address)
        if event.inventory_updated.inventory_item_id == str(item)
    ]
    assert flags == [True, False]
