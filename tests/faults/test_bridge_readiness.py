"""/readyz says whether a delivery can be stored now: an outbox on a full disk is unwritable
(a real commit is tried), a core whose store cannot commit is not_serving (its gRPC health)."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.samples import sample_body
from tests.support.bridge import bridge_settings, post_signed, running_bridge
from tests.support.core import running_core
from tests.support.disk import small_disk
from tests.support.postgres import free_port
from tests.support.waiting import wait_for


def _readiness(document: dict[str, Any]) -> dict[str, Any]:
    """The readiness fields of a /readyz answer (`outbox_parked` is checked elsewhere)."""
    return {key: value for key, value in document.items() if key != "outbox_parked"}


async def _deliver(client: httpx.AsyncClient, url: str) -> httpx.Response:
    body = sample_body("shopify", "orders/create")
    return await post_signed(
        client, url, "shopify", body, topic="orders/create", delivery_id=str(uuid.uuid4())
    )


async def test_readyz_503_while_the_outbox_disk_is_full_and_the_core_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "bridge.forwarder")
    with small_disk(tmp_path / "disk") as disk:
        settings = bridge_settings(disk.path / "bridge", f"127.0.0.1:{free_port()}")
        async with running_bridge(settings) as bridge, httpx.AsyncClient(timeout=5) as client:
            assert (await _deliver(client, bridge.url)).status_code == 200
            ready = await client.get(f"{bridge.url}/readyz")
            assert _readiness(ready.json()) == {
                "status": "ready",
                "core": "unreachable",
                "outbox": "writable",
            }

            disk.fill()
            for _ in range(20):
                assert (await _deliver(client, bridge.url)).status_code == 503
            # 20 refused deliveries: the outbox failure is logged once, not once each.
            failures = [r for r in caplog.records if r.getMessage() == "outbox write failed"]
            assert len(failures) == 1
            ready = await client.get(f"{bridge.url}/readyz")
            assert ready.status_code == 503
            assert _readiness(ready.json()) == {
                "status": "unavailable",
                "core": "unreachable",
                "outbox": "unwritable",
            }

            disk.free()
            ready = await client.get(f"{bridge.url}/readyz")
            assert ready.status_code == 200
            assert ready.json()["outbox"] == "writable"
            assert (await _deliver(client, bridge.url)).status_code == 200


async def test_readyz_follows_a_core_whose_store_cannot_commit(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        async with running_core(disk.path / "core", store_probe_seconds=0.1) as core:
            settings = bridge_settings(disk.path / "bridge", core.address)
            async with running_bridge(settings) as bridge, httpx.AsyncClient(timeout=5) as client:
                readyz = f"{bridge.url}/readyz"
                ready = await client.get(readyz)
                assert _readiness(ready.json()) == {
                    "status": "ready",
                    "core": "reachable",
                    "outbox": "writable",
                }
                accepted = await _deliver(client, bridge.url)
                assert accepted.status_code == 200

                disk.fill()

                async def unready() -> bool:
                    return (await client.get(readyz)).status_code == 503

                await wait_for(unready, timeout=10, message="readyz 503")
                assert _readiness((await client.get(readyz)).json()) == {
                    "status": "unavailable",
                    "core": "not_serving",
                    "outbox": "unwritable",
                }
                assert (await _deliver(client, bridge.url)).status_code == 503

                disk.free()

                async def ready_again() -> bool:
                    answer = await client.get(readyz)
                    return answer.status_code == 200 and answer.json()["core"] == "reachable"

                await wait_for(ready_again, timeout=10, message="core reachable again")
                assert (await client.get(readyz)).json()["outbox"] == "writable"
                assert (await _deliver(client, bridge.url)).status_code == 200


async def test_readyz_ready_through_the_outbox_while_the_core_cannot_commit(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        async with running_core(disk.path / "core", store_probe_seconds=0.1) as core:
            settings = bridge_settings(tmp_path / "bridge", core.address)
            async with running_bridge(settings) as bridge, httpx.AsyncClient(timeout=5) as client:
                readyz = f"{bridge.url}/readyz"
                disk.fill()

                async def core_not_serving() -> bool:
                    answer: dict[str, str] = (await client.get(readyz)).json()
                    return answer["core"] == "not_serving"

                await wait_for(core_not_serving, timeout=10, message="core not_serving")
                ready = await client.get(readyz)
                assert ready.status_code == 200
                assert _readiness(ready.json()) == {
                    "status": "ready",
                    "core": "not_serving",
                    "outbox": "writable",
                }
                assert (await _deliver(client, bridge.url)).status_code == 200
                assert await bridge.forwarder.outbox.depth() == 1
