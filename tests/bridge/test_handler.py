"""The embeddable handler: inside a Litestar app and as plain ASGI, under real uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from commercegateway.v1 import events_pb2
from litestar import Litestar, Request, Response, post

from bridge import create_webhook_handler
from bridge.handler import WebhookHandler
from bridge.samples import sample_body
from bridge.serving import AppServer, uvicorn_config
from common.serving import bind_socket, socket_address
from tests.support.bridge import SECRET, post_signed, signed


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serves any ASGI app with uvicorn on 127.0.0.1:0; yields its base URL."""
    sock = bind_socket("127.0.0.1:0")
    started = asyncio.Event()
    server = AppServer(uvicorn_config(app), on_started=started.set)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await asyncio.wait_for(started.wait(), timeout=10)
    try:
        yield f"http://{socket_address(sock)}"
    finally:
        server.stop()
        await task


class Recorder:
    """Collects the events each callback received."""

    def __init__(self) -> None:
        """Starts empty."""
        self.inventory: list[events_pb2.Event] = []
        self.orders: list[events_pb2.Event] = []
        self.catalog: list[events_pb2.Event] = []

    def on_inventory_change(self, event: events_pb2.Event) -> None:
        """A sync callback."""
        self.inventory.append(event)

    async def on_order_complete(self, event: events_pb2.Event) -> None:
        """An async callback."""
        await asyncio.sleep(0)
        self.orders.append(event)

    def on_catalog_change(self, event: events_pb2.Event) -> None:
        """Another sync callback."""
        self.catalog.append(event)


def _handler(recorder: Recorder) -> WebhookHandler:
    return create_webhook_handler(
        secret=SECRET,
        on_inventory_change=recorder.on_inventory_change,
        on_order_complete=recorder.on_order_complete,
        on_catalog_change=recorder.on_catalog_change,
    )


async def test_handler_in_a_litestar_app_calls_the_callbacks() -> None:
    recorder = Recorder()
    handler = _handler(recorder)

    @post("/hooks/{platform:str}")
    async def receive(request: Request[Any, Any, Any]) -> Response[bytes]:
        return await handler.handle(request)

    async with serving(Litestar([receive])) as url, httpx.AsyncClient() as client:
        base = f"{url}/hooks"
        inventory = sample_body("betterdata", "inventory.updated")
        response = await client.post(
            f"{base}/betterdata",
            content=inventory,
            headers=_signed_for(f"{base}/betterdata", "betterdata", inventory),
        )
        assert response.json()["status"] == "accepted", response.text
        order = sample_body("shopify", "orders/create")
        response = await client.post(
            f"{base}/shopify",
            content=order,
            headers=_signed_for(f"{base}/shopify", "shopify", order, topic="orders/create"),
        )
        assert response.status_code == 200
    assert [e.WhichOneof("payload") for e in recorder.inventory] == ["inventory_updated"]
    assert [e.WhichOneof("payload") for e in recorder.orders] == ["order_created"]
    assert recorder.orders[0].id == response.json()["event_id"]


def _signed_for(url: str, platform: Any, body: bytes, topic: str = "") -> dict[str, str]:
    return signed(platform, body, url=url, topic=topic)


async def test_handler_as_plain_asgi_verifies_and_dedups() -> None:
    recorder = Recorder()
    async with serving(_handler(recorder)) as url, httpx.AsyncClient() as client:
        body = sample_body("square", "catalog.version.updated")
        headers = _signed_for(f"{url}/webhooks/square", "square", body)
        first = await client.post(f"{url}/webhooks/square", content=body, headers=headers)
        again = await client.post(f"{url}/webhooks/square", content=body, headers=headers)
        forged = await post_signed(
            client,
            url,
            "shopify",
            sample_body("shopify", "products/update"),
            topic="products/update",
            secret="not-the-secret",
        )
        detected = await client.post(
            f"{url}/anything",
            content=sample_body("shopify", "products/update"),
            headers={"Content-Type": "application/json"},
        )
    assert first.json()["status"] == "accepted"
    assert again.json() == {"status": "duplicate", "event_id": first.json()["event_id"]}
    assert forged.status_code == 403
    assert forged.json()["reason"] == "bad_signature"
    assert detected.status_code == 403
    assert [e.WhichOneof("payload") for e in recorder.catalog] == ["catalog_refresh"]


async def test_failing_callback_answers_500_so_the_platform_retries() -> None:
    def explode(event: events_pb2.Event) -> None:
        raise RuntimeError("downstream is down")

    handler = create_webhook_handler(secret=SECRET, on_inventory_change=explode)
    async with serving(handler) as url, httpx.AsyncClient() as client:
        body = sample_body("betterdata", "inventory.updated")
        response = await post_signed(client, url, "betterdata", body)
    assert response.status_code == 500
    assert response.json()["reason"] == "callback_failed"
    assert "downstream is down" not in response.text


async def test_later_shopify_order_topics_do_not_call_on_order_complete_again() -> None:
    recorder = Recorder()
    async with serving(_handler(recorder)) as url, httpx.AsyncClient() as client:
        for topic in ("orders/create", "orders/paid", "orders/updated"):
            body = sample_body("shopify", topic)
            headers = _signed_for(f"{url}/webhooks/shopify", "shopify", body, topic=topic)
            response = await client.post(f"{url}/webhooks/shopify", content=body, headers=headers)
            assert response.json()["status"] == "accepted", response.text
    assert [e.topic for e in recorder.orders] == ["orders/create"]
