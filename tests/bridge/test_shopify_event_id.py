"""Shopify two-level dedup through the real bridge and core: deliveries of one merchant action
to several subscriptions share X-Shopify-Event-Id and have one effect."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio

from bridge.platforms.shopify import event_key
from tests.support.bridge import (
    Stack,
    fixture_bytes,
    log_before_sentinel,
    running_stack,
    signed,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")
SHOP = "event-id.myshopify.com"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """One core and one bridge for the whole module."""
    async with running_stack(tmp_path_factory.mktemp("event-id")) as running:
        yield running


def _product_body(*, indent: int | None = None) -> bytes:
    document = json.loads(fixture_bytes("shopify_products_update.json"))
    document["created_at"] = datetime.now(UTC).isoformat()
    return json.dumps(document, indent=indent).encode()


async def _post(
    client: httpx.AsyncClient, stack: Stack, body: bytes, topic: str, event_id: str
) -> httpx.Response:
    url = f"{stack.url}/webhooks/shopify"
    headers = signed("shopify", body, url=url, topic=topic, shop=SHOP)
    headers["X-Shopify-Event-Id"] = event_id  # the webhook id stays fresh per delivery
    return await client.post(url, content=body, headers=headers)


async def test_same_event_id_is_a_duplicate_whatever_the_webhook_id_and_body(
    stack: Stack,
) -> None:
    shared = str(uuid.uuid4())
    body = _product_body()
    reserialised = _product_body(indent=2)
    assert body != reserialised
    async with httpx.AsyncClient(timeout=10.0) as client:
        first = await _post(client, stack, body, "products/update", shared)
        second = await _post(client, stack, reserialised, "products/update", shared)
        other_topic = await _post(client, stack, reserialised, "products/create", shared)
    assert first.status_code == 200 and first.json()["status"] == "accepted"
    assert second.json() == {"status": "duplicate", "event_id": first.json()["event_id"]}
    assert other_topic.status_code == 200 and other_topic.json()["status"] == "accepted"
    stored = [e for e in await log_before_sentinel(stack.core_address) if e.shop == SHOP]
    keys = {event.source_event_id for event in stored}
    assert keys == {
        event_key(SHOP, "products/update", shared, 0),
        event_key(SHOP, "products/create", shared, 0),
    }


async def test_another_shop_with_the_same_event_id_is_accepted(stack: Stack) -> None:
    shared = str(uuid.uuid4())
    async with httpx.AsyncClient(timeout=10.0) as client:
        url = f"{stack.url}/webhooks/shopify"
        answers = []
        for shop in ("one.myshopify.com", "two.myshopify.com"):
            body = _product_body()
            headers = signed("shopify", body, url=url, topic="products/update", shop=shop)
            headers["X-Shopify-Event-Id"] = shared
            answers.append((await client.post(url, content=body, headers=headers)).json())
    assert [answer["status"] for answer in answers] == ["accepted", "accepted"]
