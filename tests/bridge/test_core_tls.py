"""The bridge reaches a core that serves TLS only, trusting the configured CA file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from commercegateway import CoreClient, TlsConfig

from bridge.samples import sample_body
from bridge.settings import SettingsError, load_bridge_settings
from tests.support.bridge import bridge_settings, post_signed, running_bridge
from tests.support.core import running_core
from tests.support.tls import self_signed_certificate


async def test_delivery_reaches_a_tls_core_through_the_configured_ca(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    async with running_core(tmp_path / "core", tls_cert=cert, tls_key=key) as core:
        settings = bridge_settings(tmp_path / "bridge", core.address, core_tls_ca=cert)
        async with running_bridge(settings) as bridge, httpx.AsyncClient() as http:
            body = sample_body("square", "inventory.count.updated")
            answer = await post_signed(
                http, bridge.url, "square", body, topic="inventory.count.updated"
            )
            ready = await http.get(f"{bridge.url}/readyz")
        async with CoreClient(core.address, tls=TlsConfig(cert)) as client:
            events = client.subscribe_events(after_sequence=0)
            first = await asyncio.wait_for(anext(aiter(events)), 10)
            await events.aclose()
    assert answer.status_code == 200, answer.text
    assert first.id == answer.json()["event_id"]
    assert ready.json()["core"] == "reachable"


def test_missing_core_ca_file_is_a_one_line_setting_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="CA file not found"):
        load_bridge_settings(core_tls_ca=str(tmp_path / "absent.pem"))
