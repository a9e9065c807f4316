"""The bench's ratios to the same run's limits, and its seed-stack peer (a real Node process)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.bench.payloads import SECRET, build_requests
from tests.bench.report import RAW_CPU, Figure, Ratio, Results, derive_ratios, table, write_json
from tests.bench.seed import start_seed_stack
from tests.support.bridge import signed


def _results() -> Results:
    results = Results()
    for value in (1000.0, 1200.0, 1100.0):
        results.add("webhooks_per_s_10_subscribers", value)
    for value in (10_000.0, 11_000.0):
        results.add("raw_asgi_per_s", value)
    results.add("seed_stack_verify_only_per_s", 4400.0)
    results.add("cpu_s_per_request_raw", 0.0001)
    results.add("cpu_s_per_webhook_bridge", 0.0003)
    return results


FIGURES = [
    Figure("webhooks_per_s_10_subscribers", "10 subscribers", "webhooks/s", raw_limit=True),
    Figure("raw_asgi_per_s", "raw", "POSTs/s"),
    Figure("cpu_s_per_webhook_bridge", "bridge CPU", "s", limit=RAW_CPU),
    Figure("full_path_vs_seed_stack", "full / seed", "ratio", 0.5),
    Figure("raw_vs_full_path", "raw / full", "ratio"),
]
RATIOS = [
    Ratio(
        "full_path_vs_seed_stack", "webhooks_per_s_10_subscribers", "seed_stack_verify_only_per_s"
    ),
    Ratio("raw_vs_full_path", "raw_asgi_per_s", "webhooks_per_s_10_subscribers"),
    Ratio("not_measured", "webhooks_per_s_10_subscribers_run", "raw_asgi_per_s"),
]


def test_ratios_divide_the_medians_of_figures_measured_in_the_same_run() -> None:
    results = _results()
    derive_ratios(results, RATIOS)
    assert results.runs["full_path_vs_seed_stack"] == [1100.0 / 4400.0]
    assert results.runs["raw_vs_full_path"] == [10_500.0 / 1100.0]
    assert "not_measured" not in results.runs


def test_table_and_json_show_each_figure_against_its_limit(tmp_path: Path) -> None:
    results = _results()
    derive_ratios(results, RATIOS)
    lines = {line.split("  ")[0]: line for line in table(results, FIGURES).splitlines()}
    assert lines["10 subscribers"].endswith("0.105 x raw rate")
    assert lines["bridge CPU"].endswith("3 x raw CPU")
    assert "SHORT" in lines["full / seed"]
    output = tmp_path / "bench-results.json"
    write_json(output, results, FIGURES)
    document = json.loads(output.read_text())
    assert document["webhooks_per_s_10_subscribers"]["vs_limit"] == 1100.0 / 10_500.0
    assert document["cpu_s_per_webhook_bridge"]["vs_limit"] == pytest.approx(3.0)
    assert "vs_limit" not in document["raw_asgi_per_s"]
    assert document["full_path_vs_seed_stack"]["median"] == 0.25


def test_seed_stack_verifies_shopify_hmac_and_parses_the_json(tmp_path: Path) -> None:
    with start_seed_stack(tmp_path) as seed:
        url = f"http://{seed.endpoint('http')}/webhooks/shopify"
        request = build_requests("t", 1, seed.endpoint("http"), shopify_only=True)[0]
        body = request[request.index(b"\r\n\r\n") + 4 :]
        good = signed("shopify", body, url=url, topic="orders/create", secret=SECRET)
        assert httpx.post(url, content=body, headers=good).json() == {
            "status": "accepted",
            "event_id": None,
        }
        bad = signed("shopify", body, url=url, topic="orders/create", secret="wrong")
        assert httpx.post(url, content=body, headers=bad).status_code == 401
        assert httpx.post(url, content=body, headers={}).status_code == 401
        tampered = body.replace(b"SKU-1", b"SKU-9")
        assert httpx.post(url, content=tampered, headers=good).status_code == 401
        not_json = b"{not json"
        signed_garbage = signed("shopify", not_json, url=url, topic="orders/create", secret=SECRET)
        assert httpx.post(url, content=not_json, headers=signed_garbage).status_code == 400
