"""404 and 405 of the bridge as problem+json, and the OpenAPI document's webhook headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.support.bridge import RunningBridge, bridge_settings, running_bridge

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROBLEM = "urn:commerce-gateway:problem:"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def bridge(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningBridge]:
    """A bridge for the module (its core is never reached: nothing here is stored)."""
    settings = bridge_settings(tmp_path_factory.mktemp("errors"), "127.0.0.1:9")
    async with running_bridge(settings) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the module."""
    async with httpx.AsyncClient(timeout=10.0) as http:
        yield http


def _problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    document: dict[str, Any] = response.json()
    assert document["type"] == PROBLEM + kind
    assert document["status"] == status
    return document


async def test_unknown_path_is_404_problem(
    bridge: RunningBridge, client: httpx.AsyncClient
) -> None:
    document = _problem(await client.get(f"{bridge.url}/no/such/path"), 404, "not-found")
    assert document["reason"] == "not_found"
    assert document["instance"] == "/no/such/path"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/healthz", "GET"),
        ("DELETE", "/schema/openapi.json", "GET"),
        ("GET", "/webhooks/shopify", "POST"),
        ("PUT", "/api/webhooks", "POST"),
    ],
)
async def test_wrong_method_is_405_problem_with_allow(
    bridge: RunningBridge, client: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, f"{bridge.url}{path}")
    document = _problem(response, 405, "method-not-allowed")
    assert document["reason"] == "method_not_allowed"
    assert allowed in response.headers["allow"]


def _headers(schema: dict[str, Any], path: str) -> dict[str, bool]:
    parameters = schema["paths"][path]["post"]["parameters"]
    assert {p["in"] for p in parameters} == {"header"}
    return {p["name"]: p.get("required", False) for p in parameters}


async def test_openapi_declares_each_webhook_routes_headers(
    bridge: RunningBridge, client: httpx.AsyncClient
) -> None:
    schema = (await client.get(f"{bridge.url}/schema/openapi.json")).json()
    shopify = _headers(schema, "/webhooks/shopify")
    assert shopify["X-Shopify-Hmac-Sha256"] and shopify["X-Shopify-Topic"]
    assert shopify["X-Shopify-Webhook-Id"] and shopify["X-Shopify-Shop-Domain"]
    assert shopify["X-Shopify-Triggered-At"] is False
    square = _headers(schema, "/webhooks/square")
    assert square["x-square-hmacsha256-signature"]
    assert square["square-initial-delivery-timestamp"] is False
    betterdata = _headers(schema, "/webhooks/betterdata")
    assert betterdata == {"webhook-id": True, "webhook-timestamp": True, "webhook-signature": True}
    detected = _headers(schema, "/api/webhooks")
    assert set(shopify) | set(square) | set(betterdata) == set(detected)
    assert not any(detected.values())  # which are required depends on the platform detected
    responses = schema["paths"]["/webhooks/shopify"]["post"]["responses"]
    assert {"408", "414", "431", "503"} <= set(responses)
    assert "overloaded" in responses["503"]["description"]
