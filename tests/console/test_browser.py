"""The operator console in a real browser (headless Debian Chromium) against a real bridge and
core, each in its own process: live deliveries, quarantine re-drive, token login.

Each test saves screenshots of what it shows; `make screenshots` saves them into docs/console/,
where the README shows them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1.core_service_pb2_grpc import CoreServiceStub
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from bridge.quarantine import Quarantine
from bridge.samples import sample_body
from tests.support.bridge import SECRET, signed, start_bridge_process, wait_for_event
from tests.support.browser import chromium, screenshot, wait_until
from tests.support.processes import ServerProcess, start_core_process

TOKEN = "console-test-token"
BAD_LEVEL = b'{"inventory_item_id": "not-a-number", "location_id": {"nested": true}}'


@dataclass
class Servers:
    """A core and a bridge process; the bridge's data dir."""

    core: ServerProcess
    bridge: ServerProcess
    data_dir: Path

    @property
    def url(self) -> str:
        """The bridge's base URL."""
        return f"http://{self.bridge.endpoint('http')}"

    @property
    def core_address(self) -> str:
        """The core's gRPC address."""
        return self.core.endpoint("grpc")


def _servers(tmp_path: Path, token: str) -> Iterator[Servers]:
    with start_core_process(tmp_path / "core") as core:
        data_dir = tmp_path / "bridge"
        env = {"COMMERCE_GATEWAY_CONSOLE_TOKEN": token}
        with start_bridge_process(data_dir, core.endpoint("grpc"), env) as bridge:
            yield Servers(core, bridge, data_dir)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    """An open console (loopback, no token)."""
    yield from _servers(tmp_path, "")


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Servers]:
    """A console that needs the token (on loopback, with COMMERCE_GATEWAY_CONSOLE_TOKEN set)."""
    yield from _servers(tmp_path, TOKEN)


def post(url: str, platform: str, body: bytes, topic: str, **kwargs: str) -> httpx.Response:
    """Signs and posts a delivery (with another secret when `secret` is given)."""
    target = f"{url}/webhooks/{platform}"
    headers = signed(platform, body, url=target, topic=topic, **kwargs)  # type: ignore[arg-type]
    return httpx.post(target, content=body, headers=headers)


def rows(driver: WebDriver) -> list[str]:
    """The text of each delivery row shown, top first."""
    return [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#deliveries tbody tr")]


def live(driver: WebDriver) -> bool:
    """Whether the page's live stream is connected."""
    return driver.find_element(By.ID, "live").text == "live"


def test_a_wrongly_signed_delivery_appears_live_with_reason_and_hint(servers: Servers) -> None:
    with chromium() as driver:
        driver.get(f"{servers.url}/console")
        wait_until(driver, live, "the live stream")
        assert post(
            servers.url, "shopify", sample_body("shopify", "orders/create"), "orders/create"
        )
        refused = post(servers.url, "shopify", b'{"id": 1}', "orders/create", secret="wrong")
        assert refused.status_code == 403
        wait_until(driver, lambda d: any("bad_signature" in row for row in rows(d)), "the row")
        newest = rows(driver)[0]
        assert "rejected" in newest and "orders/create" in newest
        assert "Tried WEBHOOK_SECRET; none matched the signature." in newest
        assert SECRET not in driver.page_source  # never a secret
        post(servers.url, "shopify", BAD_LEVEL, "inventory_levels/update")
        wait_until(driver, lambda d: "quarantined" in rows(d)[0], "the quarantined row")
        count = sample_body("square", "inventory.count.updated")
        target = f"{servers.url}/webhooks/square"
        proxied = signed("square", count, url="https://hooks.example.com/square")
        assert httpx.post(target, content=count, headers=proxied).status_code == 403
        wait_until(driver, lambda d: "square" in rows(d)[0], "the Square row")
        assert f"the expected URL was {target} (this request's URL)" in rows(driver)[0]
        level = sample_body("betterdata", "inventory.updated")
        assert post(servers.url, "betterdata", level, "").status_code == 200
        wait_until(driver, lambda d: "betterdata" in rows(d)[0], "the Better Data row")
        driver.refresh()  # the chart is drawn by the server
        wait_until(driver, live, "the live stream after reload")
        assert (
            "shopify rejected bad_signature: 1" in driver.find_element(By.CLASS_NAME, "legend").text
        )
        screenshot(driver, "deliveries")


def test_a_quarantined_entry_is_redriven_from_the_page_to_a_subscriber(servers: Servers) -> None:
    quarantine = Quarantine(servers.data_dir)  # as kept by an older bridge version
    entry_id = asyncio.run(
        quarantine.add(
            platform="shopify",
            topic="orders/create",
            delivery_id="console-redrive-1",
            reason="schema_mismatch",
            errors=["from an older bridge version"],
            headers={
                "x-shopify-topic": "orders/create",
                "x-shopify-shop-domain": "redrive.myshopify.com",
                "x-shopify-api-version": "2025-07",
                "x-shopify-webhook-id": "console-redrive-1",
                "content-type": "application/json",
            },
            body=sample_body("shopify", "orders/create"),
            received_at=datetime.now(UTC),
        )
    )
    quarantine.close()
    post(servers.url, "shopify", BAD_LEVEL, "inventory_levels/update")  # stays: still invalid
    with chromium() as driver:
        driver.get(f"{servers.url}/console/quarantine")
        row = driver.find_element(By.CSS_SELECTOR, f'tr[data-entry="{entry_id}"]')
        assert "not-a-number" not in driver.page_source  # payloads only on request
        screenshot(driver, "quarantine")
        row.find_element(By.LINK_TEXT, "show payload").click()
        wait_until(driver, lambda d: d.find_elements(By.ID, "payload"), "the payload")
        assert "x-shopify-hmac-sha256" not in driver.page_source
        driver.back()
        row = driver.find_element(By.CSS_SELECTOR, f'tr[data-entry="{entry_id}"]')
        row.find_element(By.CSS_SELECTOR, "button.redrive").click()
        wait_until(driver, lambda d: d.find_elements(By.ID, "notice"), "the re-drive notice")
        notice = driver.find_element(By.ID, "notice").text
        assert f"Quarantine entry {entry_id}: stored" in notice
        assert not driver.find_elements(By.CSS_SELECTOR, f'tr[data-entry="{entry_id}"]')
    event = asyncio.run(
        wait_for_event(servers.core_address, lambda e: e.delivery_id == "console-redrive-1")
    )
    assert event.shop == "redrive.myshopify.com"


def test_core_view_shows_head_subscribers_and_inventory(servers: Servers) -> None:
    level = sample_body("shopify", "inventory_levels/update")
    assert post(servers.url, "shopify", level, "inventory_levels/update").status_code == 200
    with (
        grpc.insecure_channel(servers.core_address) as channel,
        chromium() as driver,
    ):
        stub: Any = CoreServiceStub(channel)
        stream = stub.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=0))
        assert next(stream).sequence == 1  # replayed: the subscriber is connected
        driver.get(f"{servers.url}/console/core")
        assert driver.find_element(By.ID, "head").text == "1"
        assert driver.find_element(By.ID, "subscriber-count").text == "1"
        assert "caught up" in driver.find_element(By.ID, "subscribers").text
        assert "no consumer groups yet" in driver.find_element(By.ID, "consumer-groups").text
        driver.find_element(By.NAME, "shop").send_keys("example.myshopify.com")
        driver.find_element(By.CSS_SELECTOR, "form.filters button").click()
        wait_until(driver, lambda d: d.find_elements(By.ID, "levels"), "the inventory levels")
        screenshot(driver, "core")
        stream.cancel()


def test_token_login_is_needed_and_works(guarded: Servers) -> None:
    refused = httpx.get(f"{guarded.url}/console/api/deliveries")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["reason"] == "login_required"
    assert httpx.get(f"{guarded.url}/console/events").status_code == 401
    with chromium() as driver:
        driver.get(f"{guarded.url}/console")
        wait_until(driver, lambda d: d.current_url.endswith("/console/login"), "the login page")
        driver.find_element(By.ID, "token").send_keys("not-the-token")
        driver.find_element(By.ID, "login").click()
        wait_until(driver, lambda d: d.find_elements(By.ID, "login-failed"), "the refusal")
        screenshot(driver, "login")
        driver.find_element(By.ID, "token").send_keys(TOKEN)
        driver.find_element(By.ID, "login").click()
        wait_until(driver, lambda d: d.find_elements(By.ID, "deliveries"), "the deliveries page")
        wait_until(driver, live, "the live stream")
        cookie = driver.get_cookie("cg_console_session")
        assert cookie is not None and cookie["httpOnly"] and TOKEN not in cookie["value"]
        assert TOKEN not in driver.page_source
