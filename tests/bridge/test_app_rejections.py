"""Every way a request is refused over HTTP: 403 per reason, 413, 415, 400, 422, 405, 503."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio

from bridge.pipeline import PlatformName
from bridge.samples import sample_body
from common.logs import JsonFormatter
from tests.support.bridge import (
    SECRET,
    Stack,
    bridge_settings,
    running_bridge,
    running_stack,
    signed,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

AUTH_TYPE = "urn:commerce-gateway:problem:authentication-failed"
TOPICS: dict[PlatformName, str] = {
    "shopify": "orders/create",
    "square": "inventory.count.updated",
    "betterdata": "inventory.updated",
}
Mutation = Callable[[dict[str, str]], None]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """One core and one bridge (small body limit) for the module."""
    async with running_stack(tmp_path_factory.mktemp("reject"), max_body_bytes=4096) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the module."""
    async with httpx.AsyncClient(timeout=10.0) as http:
        yield http


def _drop(*names: str) -> Mutation:
    def mutate(headers: dict[str, str]) -> None:
        for name in list(headers):
            if name.lower() in names:
                del headers[name]

    return mutate


def _set(name: str, value: str) -> Mutation:
    def mutate(headers: dict[str, str]) -> None:
        _drop(name.lower())(headers)
        headers[name] = value

    return mutate


def _keep(headers: dict[str, str]) -> None:
    return None


NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=4)
CASES: list[tuple[PlatformName, str, str, datetime, Mutation]] = [
    ("shopify", "bad_signature", "another-secret", NOW, _keep),
    ("shopify", "missing_header", SECRET, NOW, _drop("x-shopify-hmac-sha256")),
    ("shopify", "malformed_signature", SECRET, NOW, _set("X-Shopify-Hmac-Sha256", "not base64!")),
    ("shopify", "stale_event", SECRET, OLD, _keep),
    ("square", "bad_signature", "another-secret", NOW, _keep),
    ("square", "missing_header", SECRET, NOW, _drop("x-square-hmacsha256-signature")),
    ("square", "malformed_signature", SECRET, NOW, _set("x-square-hmacsha256-signature", "%%")),
    ("square", "stale_event", SECRET, OLD, _keep),
    ("betterdata", "bad_signature", "another-secret", NOW, _keep),
    ("betterdata", "missing_header", SECRET, NOW, _drop("webhook-id")),
    ("betterdata", "malformed_signature", SECRET, NOW, _set("webhook-signature", "v2,abc")),
    ("betterdata", "malformed_timestamp", SECRET, NOW, _set("webhook-timestamp", "soon")),
    ("betterdata", "stale_timestamp", SECRET, NOW - timedelta(minutes=10), _keep),
    ("betterdata", "future_timestamp", SECRET, NOW + timedelta(minutes=10), _keep),
]


SIGNATURE_HEADERS = {"x-shopify-hmac-sha256", "x-square-hmacsha256-signature", "webhook-signature"}


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
async def test_authentication_failure_is_403_problem(
    stack: Stack, client: httpx.AsyncClient, case: tuple[PlatformName, str, str, datetime, Mutation]
) -> None:
    platform, reason, secret, now, mutate = case
    url = f"{stack.url}/webhooks/{platform}"
    body = sample_body(platform, TOPICS[platform], now=now)
    headers = signed(platform, body, url=url, topic=TOPICS[platform], secret=secret, now=now)
    mutate(headers)
    response = await client.post(url, content=body, headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == AUTH_TYPE
    assert problem["title"] == "Webhook authentication failed"
    assert problem["reason"] == reason
    for name, value in headers.items():
        if name.lower() in SIGNATURE_HEADERS and len(value) > 8:
            assert value not in response.text
    assert SECRET not in response.text


async def test_no_signature_header_on_api_webhooks_is_403(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        f"{stack.url}/api/webhooks", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "missing_signature"


async def test_no_secret_configured_rejects_every_delivery(
    stack: Stack, client: httpx.AsyncClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = bridge_settings(
        tmp_path_factory.mktemp("nosecret"), stack.core_address, webhook_secret=""
    )
    async with running_bridge(settings) as bridge:
        for platform, topic in TOPICS.items():
            url = f"{bridge.url}/webhooks/{platform}"
            body = sample_body(platform, topic)
            response = await client.post(
                url, content=body, headers=signed(platform, body, url=url, topic=topic)
            )
            assert response.status_code == 403
            assert response.json()["reason"] == "no_secret_configured"


async def test_body_over_limit_is_413(stack: Stack, client: httpx.AsyncClient) -> None:
    url = f"{stack.url}/webhooks/shopify"
    body = b'{"pad": "' + b"x" * 5000 + b'"}'
    response = await client.post(url, content=body, headers=signed("shopify", body, url=url))
    assert response.status_code == 413
    assert response.json()["reason"] == "body_too_large"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 1000

    streamed = await client.post(url, content=chunks(), headers={"Content-Type": "text/plain"})
    assert "content-length" not in streamed.request.headers
    assert streamed.status_code == 413


async def test_declared_oversize_is_refused_before_the_body_is_sent(stack: Stack) -> None:
    """Content-Length over the limit: 413 comes back though no body byte was ever sent."""
    address = urlsplit(stack.url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        writer.write(
            b"POST /webhooks/shopify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000000\r\n\r\n"
        )
        await writer.drain()
        async with asyncio.timeout(5):
            reply = await reader.readline()
    finally:
        writer.close()
    assert reply.startswith(b"HTTP/1.1 413")


async def test_size_is_checked_before_content_type(stack: Stack, client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{stack.url}/webhooks/square", content=b"x" * 5000, headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
async def test_non_json_content_type_is_415(
    stack: Stack, client: httpx.AsyncClient, content_type: str
) -> None:
    url = f"{stack.url}/webhooks/shopify"
    body = sample_body("shopify", "orders/create")
    headers = signed("shopify", body, url=url, topic="orders/create")
    headers["Content-Type"] = content_type
    response = await client.post(url, content=body, headers=headers)
    assert response.status_code == 415
    assert response.json()["type"] == "urn:commerce-gateway:problem:unsupported-media-type"


async def test_malformed_json_is_400(stack: Stack, client: httpx.AsyncClient) -> None:
    url = f"{stack.url}/webhooks/shopify"
    body = b'{"id": 1,'
    response = await client.post(
        url, content=body, headers=signed("shopify", body, url=url, topic="orders/create")
    )
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"] == "urn:commerce-gateway:problem:malformed-payload"
    assert problem["status"] == 400


async def test_get_on_webhook_path_is_405(stack: Stack, client: httpx.AsyncClient) -> None:
    response = await client.get(f"{stack.url}/webhooks/shopify")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_rejections_are_counted_by_reason(stack: Stack, client: httpx.AsyncClient) -> None:
    metrics = (await client.get(f"{stack.url}/metrics")).text
    assert 'platform="betterdata",reason="future_timestamp",status="403"' in metrics
    assert SECRET not in metrics


async def test_logs_name_outcomes_but_never_secret_signature_or_payload(
    stack: Stack, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"{stack.url}/webhooks/shopify"
    body = sample_body("shopify", "orders/create")
    good = signed("shopify", body, url=url, topic="orders/create")
    forged = signed("shopify", body, url=url, topic="orders/create", secret="wrong-secret")
    with caplog.at_level(logging.INFO):
        assert (await client.post(url, content=body, headers=good)).status_code == 200
        assert (await client.post(url, content=body, headers=forged)).status_code == 403
    lines = [JsonFormatter().format(record) for record in caplog.records]
    outcomes = [json.loads(line) for line in lines if "delivery" in line]
    assert {(o["status"], o.get("reason")) for o in outcomes} >= {
        (200, None),
        (403, "bad_signature"),
    }
    email = json.loads(body)["email"]
    for line in lines:
        assert SECRET not in line and "wrong-secret" not in line
        assert good["X-Shopify-Hmac-Sha256"] not in line
        assert forged["X-Shopify-Hmac-Sha256"] not in line
        assert email not in line
