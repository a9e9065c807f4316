"""/metrics of the bridge: a content type strict parsers accept, text the official parser reads."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.bridge import bridge_settings, running_bridge
from tests.support.media_type import parse_media_type
from tests.support.postgres import free_port


async def test_metrics_content_type_is_strict_and_the_text_parses(tmp_path: Path) -> None:
    settings = bridge_settings(tmp_path / "bridge", f"127.0.0.1:{free_port()}")
    async with running_bridge(settings) as bridge, httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{bridge.url}/metrics")
    assert response.status_code == 200
    assert len(response.headers.get_list("content-type")) == 1
    kind, parameters = parse_media_type(response.headers["content-type"])
    assert kind == "text/plain"
    assert parameters == {"version": "1.0.0", "charset": "utf-8"}
    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    assert "commerce_gateway_bridge_outbox_depth" in families
    assert families["commerce_gateway_bridge_forward_latency_seconds"].type == "histogram"


def test_strict_parse_refuses_a_duplicated_parameter() -> None:
    duplicated = "text/plain; version=1.0.0; charset=utf-8; charset=utf-8"
    try:
        parse_media_type(duplicated)
    except ValueError as error:
        assert "duplicate parameter 'charset'" in str(error)
    else:
        raise AssertionError("a duplicated parameter was accepted")
