"""The `bridge` command as a real process: SIGKILL after a 200 loses nothing; several workers."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from bridge.samples import sample_body
from tests.support.bridge import post_signed, start_bridge_process, wait_for_event
from tests.support.postgres import free_port
from tests.support.processes import start_core_process


async def test_event_accepted_before_sigkill_arrives_after_restart(tmp_path: Path) -> None:
    core_listen = f"127.0.0.1:{free_port()}"
    delivery = str(uuid.uuid4())
    with start_bridge_process(tmp_path / "bridge", core_listen) as bridge:
        url = f"http://{bridge.endpoint('http')}"
        async with httpx.AsyncClient(timeout=2.0) as client:
            body = sample_body("shopify", "products/update")
            response = await post_signed(
                client, url, "shopify", body, topic="products/update", delivery_id=delivery
            )
        assert response.status_code == 200
        event_id = response.json()["event_id"]
        bridge.kill()
        with start_core_process(tmp_path / "core", listen=core_listen) as core:
            bridge.start()
            event = await wait_for_event(core.endpoint("grpc"), lambda e: e.id == event_id)
            assert event.delivery_id == delivery


async def test_several_workers_share_socket_and_forward(tmp_path: Path) -> None:
    with start_core_process(tmp_path / "core") as core:
        address = core.endpoint("grpc")
        with start_bridge_process(tmp_path / "bridge", address, None, "--workers", "2") as bridge:
            url = f"http://{bridge.endpoint('http')}"
            async with httpx.AsyncClient(timeout=5.0) as client:
                ids = []
                for _ in range(4):
                    body = sample_body("betterdata", "inventory.updated")
                    response = await post_signed(client, url, "betterdata", body)
                    assert response.status_code == 200, response.text
                    ids.append(response.json()["event_id"])
            for event_id in ids:
                await wait_for_event(address, lambda e, i=event_id: e.id == i)
            assert bridge.terminate() == 0
