"""`run --metrics HOST:PORT`: the embedded core's Prometheus endpoint beside the bridge's."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.bridge import SECRET, SECRET_ENV
from tests.support.processes import run_argv, start_process


async def test_run_serves_core_metrics_on_its_own_address(tmp_path: Path) -> None:
    ready = tmp_path / "run-ready.json"
    argv = run_argv(tmp_path, ready, "--metrics", "127.0.0.1:0")
    with start_process(argv, ready, {**SECRET_ENV, "WEBHOOK_SECRET": SECRET}) as gateway:
        async with httpx.AsyncClient(timeout=5) as client:
            core = await client.get(f"http://{gateway.endpoint('metrics')}/metrics")
            bridge = await client.get(f"http://{gateway.endpoint('http')}/metrics")
    core_names = {family.name for family in text_string_to_metric_families(core.text)}
    assert {
        "commerce_gateway_core_subscribers",
        "commerce_gateway_core_commit_seconds",
    } <= core_names
    bridge_names = {family.name for family in text_string_to_metric_families(bridge.text)}
    assert "commerce_gateway_bridge_outbox_depth" in bridge_names
