"""The embeddable handler with a captured Shopify body re-sent under a new webhook id."""

from __future__ import annotations

import uuid

import httpx
from commercegateway.v1 import events_pb2

from bridge import create_webhook_handler
from bridge.samples import sample_body
from tests.bridge.test_handler import serving
from tests.support.bridge import SECRET, signed


async def test_new_webhook_id_on_a_captured_body_is_a_duplicate_without_callbacks() -> None:
    orders: list[events_pb2.Event] = []
    handler = create_webhook_handler(SECRET, on_order_complete=orders.append)
    async with serving(handler) as base, httpx.AsyncClient(timeout=10.0) as client:
        url = f"{base}/shopify"
        body = sample_body("shopify", "orders/create")
        headers = signed("shopify", body, url=url, topic="orders/create")
        first = await client.post(url, content=body, headers=headers)
        replay = {**headers, "X-Shopify-Webhook-Id": str(uuid.uuid4())}
        again = await client.post(url, content=body, headers=replay)
    assert first.json()["status"] == "accepted", first.text
    assert again.status_code == 200 and again.json()["status"] == "duplicate", again.text
    assert len(orders) == 1
