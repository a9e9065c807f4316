"""Payload versions: the bounded label, the age check, and through the real bridge and core the
version on the event, its metric and one warning per shop for old versions."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
import pytest_asyncio

from bridge.intake import PlatformSecrets, VerificationConfig, parse_delivery
from bridge.payload_versions import OldVersionWarnings, older_than, version_label
from bridge.platforms.shopify import PLATFORM as SHOPIFY
from tests.support.bridge import (
    Stack,
    fixture_bytes,
    running_stack,
    signed,
    wait_for_event,
)

OLD_SHOP = "old-version.myshopify.com"


def test_version_label_keeps_year_and_month_of_dated_versions_only() -> None:
    assert version_label("2025-07") == "2025-07"
    assert version_label("2024-01-18") == "2024-01"  # Square's dated versions
    assert version_label("") == "none"
    for bogus in ("unstable", "2025-13", "1999-01", "2025-07x", "2025-07-32", "x" * 500):
        assert version_label(bogus) == "other"


def test_older_than_compares_dated_versions_and_ignores_the_rest() -> None:
    assert older_than("2023-10", "2024-01")
    assert not older_than("2024-01", "2024-01")
    assert not older_than("2025-07", "2024-01")
    assert older_than("2023-12-13", "2024-01")
    assert not older_than("2024-01-18", "2024-01")
    assert not older_than("unstable", "2024-01")
    assert not older_than("2020-01", "")


def test_warnings_are_once_per_platform_and_shop_and_bounded() -> None:
    warnings = OldVersionWarnings(limit=2)
    assert warnings.observe("shopify", "a", "2023-01", "2024-01")
    assert not warnings.observe("shopify", "a", "2023-04", "2024-01")
    assert not warnings.observe("shopify", "b", "2025-01", "2024-01")
    assert warnings.observe("shopify", "b", "2023-01", "2024-01")
    assert warnings.observe("shopify", "c", "2023-01", "2024-01")  # forgets "a"
    assert warnings.observe("shopify", "a", "2023-01", "2024-01")


def test_square_api_version_in_the_body_is_the_events_version() -> None:
    config = VerificationConfig(PlatformSecrets())
    document = json.loads(fixture_bytes("square_order_created.json"))
    received = datetime.fromisoformat(document["created_at"])
    plain = json.dumps(document).encode()
    without = parse_delivery("square", plain, {}, config, received_at=received)
    document["api_version"] = "2024-01-18"
    body = json.dumps(document).encode()
    with_version = parse_delivery("square", body, {}, config, received_at=received)
    assert {e.payload_version for e in without.events} == {""}
    assert {e.payload_version for e in with_version.events} == {"2024-01-18"}
    assert with_version.payload_version == "2024-01-18"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """One core and one bridge for the module."""
    async with running_stack(tmp_path_factory.mktemp("versions")) as running:
        yield running


def _count(metrics: str, version: str) -> float:
    prefix = (
        f'commerce_gateway_bridge_payload_versions_total{{platform="shopify",version="{version}"}}'
    )
    for line in metrics.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.asyncio(loop_scope="module")
async def test_old_version_is_recorded_counted_and_warned_once_per_shop(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"{stack.url}/webhooks/shopify"
    old = "2023-04"
    assert older_than(old, SHOPIFY.oldest_checked_version)
    async with httpx.AsyncClient(timeout=10.0) as client:
        before = _count((await client.get(f"{stack.url}/metrics")).text, old)
        delivery_ids = []
        with caplog.at_level(logging.WARNING, logger="bridge.payload_versions"):
            for index in range(2):
                document = json.loads(fixture_bytes("shopify_products_update.json"))
                document["title"] = f"old version {index}"
                body = json.dumps(document).encode()
                delivery_ids.append(str(uuid.uuid4()))
                headers = signed(
                    "shopify",
                    body,
                    url=url,
                    topic="products/update",
                    shop=OLD_SHOP,
                    delivery_id=delivery_ids[-1],
                )
                headers["X-Shopify-API-Version"] = old
                answer = await client.post(url, content=body, headers=headers)
                assert answer.json()["status"] == "accepted"
        after = _count((await client.get(f"{stack.url}/metrics")).text, old)
    event = await wait_for_event(stack.core_address, lambda e: e.delivery_id == delivery_ids[0])
    assert event.payload_version == old
    assert after - before == 2
    warned = [
        record
        for record in caplog.records
        if record.name == "bridge.payload_versions" and getattr(record, "shop", "") == OLD_SHOP
    ]
    assert len(warned) == 1
    assert getattr(warned[0], "payload_version", "") == old
