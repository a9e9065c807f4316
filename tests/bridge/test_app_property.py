"""Property: arbitrary requests never make the bridge fail (5xx) nor reach the core unverified."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.intake import PlatformName
from bridge.platforms import REGISTRY
from tests.support.bridge import SECRET, SECRET_ENV, log_before_sentinel, signed
from tests.support.processes import ServerProcess, run_argv, start_process

PATHS = ["/webhooks/shopify", "/webhooks/square", "/webhooks/betterdata", "/api/webhooks"]
HEADER_NAMES = [
    "x-shopify-hmac-sha256",
    "shopify-hmac-sha256",
    "x-shopify-topic",
    "x-shopify-shop-domain",
    "x-shopify-api-version",
    "x-shopify-webhook-id",
    "x-shopify-triggered-at",
    "x-square-hmacsha256-signature",
    "x-square-signature",
    "square-initial-delivery-timestamp",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "content-length-ish",
]
header_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80
).map(str.strip)  # HTTP forbids leading and trailing blanks in a header value
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.binary(max_size=2048) | json_values.map(lambda v: json.dumps(v).encode())
content_types = st.sampled_from(
    ["application/json", "application/cloudevents+json", "text/plain", ""]
)
PROPERTY = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One `commerce-gateway run` (core + bridge) for the module, with a 1 KiB body limit."""
    data_dir: Path = tmp_path_factory.mktemp("property")
    ready = data_dir / "ready.json"
    argv = run_argv(data_dir, ready)
    env = {**SECRET_ENV, "WEBHOOK_SECRET": SECRET, "COMMERCE_GATEWAY_MAX_BODY_BYTES": "1024"}
    with start_process(argv, ready, env) as process:
        yield process


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    """A synchronous HTTP client (hypothesis drives plain functions)."""
    with httpx.Client(timeout=10.0) as http:
        yield http


@PROPERTY
@given(
    path=st.sampled_from(PATHS),
    headers=st.builds(
        lambda named, content_type: {**named, "content-type": content_type},
        st.dictionaries(st.sampled_from(HEADER_NAMES), header_values, max_size=8),
        content_types,
    ),
    body=bodies,
)
def test_unsigned_requests_are_refused_without_5xx(
    gateway: ServerProcess,
    client: httpx.Client,
    path: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    url = f"http://{gateway.endpoint('http')}{path}"
    response = client.post(url, content=body, headers=headers)
    assert response.status_code in {403, 413, 415}, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_nothing_unverified_reached_the_core(gateway: ServerProcess) -> None:
    assert asyncio.run(log_before_sentinel(gateway.endpoint("grpc"))) == []


@PROPERTY
@given(platform=st.sampled_from(list(REGISTRY)), body=bodies)
def test_signed_arbitrary_bodies_never_fail_with_5xx(
    gateway: ServerProcess, client: httpx.Client, platform: PlatformName, body: bytes
) -> None:
    url = f"http://{gateway.endpoint('http')}/webhooks/{platform}"
    headers = signed(platform, body, url=url, topic="orders/create")
    response = client.post(url, content=body, headers=headers)
    assert response.status_code in {200, 400, 403, 413, 422}, response.text
