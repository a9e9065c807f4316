"""Delivery counters keep their children by raw values, yet follow the registered platforms."""

from __future__ import annotations

import dataclasses

from bridge.metrics import MAX_CACHED_CHILDREN, BridgeMetrics
from bridge.platforms import REGISTRY, register

_NAME = "commerce_gateway_bridge_deliveries_total"


def _count(metrics: BridgeMetrics, platform: str, topic: str) -> float:
    labels = {"platform": platform, "topic": topic, "outcome": "accepted"}
    return metrics.registry.get_sample_value(_NAME, labels) or 0.0


def test_labels_follow_a_platform_registered_after_the_first_delivery() -> None:
    metrics = BridgeMetrics()
    metrics.delivery("zeta", "thing/done", "accepted")
    assert _count(metrics, "unknown", "other") == 1
    zeta = dataclasses.replace(REGISTRY["shopify"], name="zeta", handled_topics=("thing/done",))
    register(zeta)
    try:
        metrics.delivery("zeta", "thing/done", "accepted")
        metrics.delivery("zeta", "thing/done", "accepted")
        assert _count(metrics, "zeta", "thing/done") == 2
        assert _count(metrics, "unknown", "other") == 1
    finally:
        REGISTRY.pop("zeta", None)
    metrics.delivery("zeta", "thing/done", "accepted")
    assert _count(metrics, "unknown", "other") == 2


def test_raw_values_from_senders_keep_the_memory_bounded() -> None:
    metrics = BridgeMetrics()
    for number in range(3 * MAX_CACHED_CHILDREN):
        metrics.delivery("shopify", f"made/up/{number}", "ignored")
    assert len(metrics._children) <= MAX_CACHED_CHILDREN
    labels = {"platform": "shopify", "topic": "other", "outcome": "ignored"}
    assert metrics.registry.get_sample_value(_NAME, labels) == 3 * MAX_CACHED_CHILDREN
