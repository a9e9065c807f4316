"""The `bridge` command as a real process: SIGKILL after a 200 loses nothing; several workers."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import httpx

from bridge.samples import sample_body
from tests.support.bridge import (
    log_before_sentinel,
    post_signed,
    start_bridge_process,
    wait_for_event,
)
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


async def test_stalled_core_hits_the_deadline_and_the_outbox_delivers_once(
    tmp_path: Path,
) -> None:
    """A core that accepts connections but never answers (SIGSTOP) is the slow-core case."""
    with start_core_process(tmp_path / "core") as core:
        address = core.endpoint("grpc")
        with start_bridge_process(tmp_path / "bridge", address) as bridge:
            url = f"http://{bridge.endpoint('http')}"
            async with httpx.AsyncClient(timeout=2.0) as client:
                warm = await post_signed(
                    client, url, "betterdata", sample_body("betterdata", "order.created")
                )
                assert warm.status_code == 200
                os.kill(core.pid, signal.SIGSTOP)
                try:
                    body = sample_body("betterdata", "order.created")
                    response = await post_signed(client, url, "betterdata", body)
                finally:
                    os.kill(core.pid, signal.SIGCONT)
            assert response.status_code == 200
            assert '"destination": "outbox"' in bridge.stderr_tail()
            event_id = response.json()["event_id"]
            await wait_for_event(address, lambda e: e.id == event_id)
            log = await log_before_sentinel(address)
            assert [e.id for e in log].count(event_id) == 1
