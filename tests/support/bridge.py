"""Test support: the bridge under real uvicorn on an ephemeral port, signed deliveries, fixtures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import httpx
from commercegateway.v1 import core_service_pb2, core_service_pb2_grpc, events_pb2
from litestar import Litestar

from bridge.app import create_app, create_forwarder
from bridge.forwarder import Forwarder
from bridge.pipeline import PlatformName
from bridge.serving import AppServer, uvicorn_config
from bridge.settings import BridgeSettings
from bridge.signing import signed_headers
from common.serving import bind_socket, socket_address
from tests.support.core import running_core
from tests.support.processes import REPO_ROOT, ServerProcess, cli_argv, start_process

SECRET = "test-webhook-secret"
FIXTURES = REPO_ROOT / "tests" / "fixtures"  # platform sample bodies; see its README.md
_SECRET_FIELDS = (
    "webhook_secret",
    "shopify_webhook_secret",
    "square_signature_key",
    "betterdata_webhook_secret",
    "square_notification_url",
    "publisher_token",
)
# Every env var the bridge reads secrets from, emptied for subprocesses unless a test sets it.
SECRET_ENV = {
    "WEBHOOK_SECRET": "",
    "SHOPIFY_WEBHOOK_SECRET": "",
    "SQUARE_SIGNATURE_KEY": "",
    "SQUARE_NOTIFICATION_URL": "",
    "BETTERDATA_WEBHOOK_SECRET": "",
    "COMMERCE_GATEWAY_PUBLISHER_TOKEN": "",
    "COMMERCE_GATEWAY_SUBSCRIBER_TOKEN": "",
    "COMMERCE_GATEWAY_CONFIG": "",
}


def bridge_settings(data_dir: Path, core: str, **overrides: Any) -> BridgeSettings:
    """Settings for a test bridge, independent of the developer's environment: one fallback
    secret (SECRET) unless overridden, no platform-specific secrets, no token."""
    values: dict[str, Any] = dict.fromkeys(_SECRET_FIELDS, "")
    values.update(webhook_secret=SECRET, core=core, data_dir=data_dir, http_listen="127.0.0.1:0")
    values.setdefault("shop_secrets", {})
    values.update(overrides)
    return BridgeSettings(**values)


@dataclass
class RunningBridge:
    """A bridge served by uvicorn in this event loop."""

    url: str
    app: Litestar
    forwarder: Forwarder
    settings: BridgeSettings


@contextlib.asynccontextmanager
async def running_bridge(
    settings: BridgeSettings, forwarder: Forwarder | None = None
) -> AsyncIterator[RunningBridge]:
    """Serves the bridge app on 127.0.0.1:0 with uvicorn; stops it afterwards."""
    sock: socket.socket = bind_socket("127.0.0.1:0")
    forwarder = forwarder or create_forwarder(settings)
    app = create_app(settings, forwarder)
    started = asyncio.Event()
    server = AppServer(uvicorn_config(app), on_started=started.set)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
    if not started.is_set():
        waiter.cancel()
        raise RuntimeError("bridge did not start") from task.exception() if task.done() else None
    try:
        yield RunningBridge(f"http://{socket_address(sock)}", app, forwarder, settings)
    finally:
        server.stop()
        await task


def signed(
    platform: PlatformName,
    body: bytes,
    *,
    url: str,
    topic: str = "",
    shop: str = "example.myshopify.com",
    secret: str = SECRET,
    delivery_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """Headers signing `body` as `platform` does, for a post to `url` (Square signs the URL)."""
    headers = signed_headers(
        platform,
        body,
        secret,
        topic=topic,
        shop=shop,
        delivery_id=delivery_id,
        now=now,
        notification_url=url,
    )
    headers["Content-Type"] = "application/json"
    return headers


async def post_signed(
    client: httpx.AsyncClient, base_url: str, platform: PlatformName, body: bytes, **kwargs: Any
) -> httpx.Response:
    """Signs `body` as `platform` and posts it to /webhooks/<platform>."""
    url = f"{base_url}/webhooks/{platform}"
    return await client.post(url, content=body, headers=signed(platform, body, url=url, **kwargs))


async def log_before_sentinel(address: str) -> list[events_pb2.Event]:
    """Every event stored so far: publishes a sentinel event directly, then replays the log
    from the start up to it (so "exactly once" can be counted without waiting on silence)."""
    sentinel_id = str(uuid.uuid4())
    sentinel = events_pb2.Event(
        id=sentinel_id,
        platform=events_pb2.PLATFORM_BETTERDATA,
        source_event_id=f"sentinel-{sentinel_id}",
        shop="sentinel",
        topic="product.updated",
        delivery_id=f"sentinel-{sentinel_id}",
        product_deleted=events_pb2.ProductDeleted(product_id="sentinel"),
    )
    async with grpc.aio.insecure_channel(address) as channel:
        stub = core_service_pb2_grpc.CoreServiceStub(channel)
        request = core_service_pb2.PublishEventsRequest(events=[sentinel])
        last = (await stub.PublishEvents(request)).results[0].sequence
        call = stub.SubscribeEvents(core_service_pb2.SubscribeEventsRequest(after_sequence=0))
        events: list[events_pb2.Event] = []
        try:
            async for response in call:
                events.extend(e for e in response.events if e.id != sentinel_id)
                if response.sequence >= last:
                    break
        finally:
            call.cancel()
    return events


async def wait_for_event(
    address: str, predicate: Any, *, after: int = 0, timeout: float = 10.0
) -> events_pb2.Event:
    """Replays then follows SubscribeEvents until an event matching `predicate` arrives."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = core_service_pb2_grpc.CoreServiceStub(channel)
        call = stub.SubscribeEvents(core_service_pb2.SubscribeEventsRequest(after_sequence=after))
        try:
            async with asyncio.timeout(timeout):
                async for response in call:
                    for event in response.events:
                        if predicate(event):
                            return event
        finally:
            call.cancel()
    raise AssertionError("stream ended without the expected event")


def start_bridge_process(
    data_dir: Path, core: str, env: Mapping[str, str] | None = None, *extra: str
) -> ServerProcess:
    """Starts `commerce-gateway bridge` on 127.0.0.1:0 against `core`; endpoint("http")."""
    data_dir.mkdir(parents=True, exist_ok=True)
    ready = data_dir / "bridge-ready.json"
    argv = cli_argv(
        "bridge",
        "--listen",
        "127.0.0.1:0",
        "--core",
        core,
        "--data-dir",
        str(data_dir),
        "--ready-file",
        str(ready),
        *extra,
    )
    return start_process(argv, ready, {**SECRET_ENV, "WEBHOOK_SECRET": SECRET, **(env or {})})


def fixture_bytes(name: str) -> bytes:
    """The raw bytes of a platform fixture in tests/fixtures/."""
    return (FIXTURES / name).read_bytes()


def fresh_fixture_bytes(name: str) -> bytes:
    """A fixture as the platform would send it now: a Square envelope's signed `created_at`
    (the event's own time, judged against the replay window) set to the current time."""
    document = json.loads(fixture_bytes(name))
    if isinstance(document, dict) and "created_at" in document and "event_id" in document:
        document["created_at"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps(document).encode()


def json_headers(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A JSON content type plus `extra` headers."""
    return {"Content-Type": "application/json", **(extra or {})}


@dataclass
class Stack:
    """A core and a bridge forwarding to it, both in this event loop."""

    core_address: str
    bridge: RunningBridge
    data_dir: Path

    @property
    def url(self) -> str:
        """The bridge's base URL."""
        return self.bridge.url


@contextlib.asynccontextmanager
async def running_stack(data_dir: Path, **bridge_overrides: Any) -> AsyncIterator[Stack]:
    """A real core (SQLite in data_dir/core) and a bridge (data_dir/bridge) forwarding to it."""
    async with running_core(data_dir / "core") as core:
        settings = bridge_settings(data_dir / "bridge", core.address, **bridge_overrides)
        async with running_bridge(settings) as bridge:
            yield Stack(core.address, bridge, data_dir / "bridge")
