"""Prometheus metrics of one bridge app: deliveries, rejections, forward latency, outbox."""

from __future__ import annotations

import sqlite3

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bridge.outbox import Outbox
from bridge.payload_versions import version_label
from bridge.platforms import REGISTRY, Platform

MAX_CACHED_CHILDREN = 1024
"""The counter children kept by raw label values (see BridgeMetrics._remember)."""


def _platform_label(platform: str | None) -> str:
    return platform if platform is not None and platform in REGISTRY else "unknown"


def _topic_label(topic: str) -> str:
    # Topics of unhandled deliveries come from the sender: keep label values to a closed set.
    known = any(topic in platform.handled_topics for platform in REGISTRY.values())
    return topic if known else "other"


class BridgeMetrics:
    """The bridge's metrics in their own registry (so several apps can live in one process).

    Label values come from closed sets only (platform names, handled topics, outcome and
    reason codes): never a secret, signature or payload value.
    """

    # The text format's media type without its charset: Litestar appends "; charset=utf-8" to
    # every text/* media type, so naming it here too would send the parameter twice (which
    # strict parsers, Prometheus 3's among them, refuse).
    content_type = "text/plain; version=1.0.0"

    def __init__(self) -> None:
        """Creates the registry and every metric."""
        self.registry = CollectorRegistry()
        self._children: dict[tuple[str, str, str, str], Counter] = {}
        self._platforms: tuple[Platform, ...] = ()  # the registry the children were kept for
        self._latency: dict[str, Histogram] = {}  # by destination: "core" or "outbox"
        self.deliveries = Counter(
            "commerce_gateway_bridge_deliveries",
            "Verified deliveries by platform, topic and outcome (accepted, duplicate, ignored).",
            ["platform", "topic", "outcome"],
            registry=self.registry,
        )
        self.rejections = Counter(
            "commerce_gateway_bridge_rejections",
            "Rejected requests by platform, HTTP status and reason code.",
            ["platform", "status", "reason"],
            registry=self.registry,
        )
        self.forward_latency = Histogram(
            "commerce_gateway_bridge_forward_latency_seconds",
            "Time to make a delivery durable (core commit or local outbox).",
            ["destination"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "commerce_gateway_bridge_outbox_depth",
            "Events waiting in the local outbox for the core.",
            registry=self.registry,
        )
        self.outbox_parked = Gauge(
            "commerce_gateway_bridge_outbox_parked",
            "Events the core refused, parked in the local outbox for an operator "
            "(commerce-gateway outbox list).",
            registry=self.registry,
        )

        self.payload_versions = Counter(
            "commerce_gateway_bridge_payload_versions",
            "Verified deliveries by platform and payload API version (YYYY-MM, none or other).",
            ["platform", "version"],
            registry=self.registry,
        )

    def payload_version(self, platform: str, version: str) -> None:
        """Counts one verified delivery under its payload version's bounded label."""
        key = ("version", platform, version, "")
        child = self._current().get(key)
        if child is None:
            labels = (_platform_label(platform), version_label(version))
            child = self._remember(key, self.payload_versions.labels(*labels))
        child.inc()

    def delivery(self, platform: str, topic: str, outcome: str) -> None:
        """Counts one verified delivery."""
        key = ("delivery", platform, topic, outcome)
        child = self._current().get(key)
        if child is None:
            labels = (_platform_label(platform), _topic_label(topic), outcome)
            child = self._remember(key, self.deliveries.labels(*labels))
        child.inc()

    def _current(self) -> dict[tuple[str, str, str, str], Counter]:
        """The kept children, forgotten when the registered platforms changed (the labels
        of a platform or topic depend on them)."""
        current = tuple(REGISTRY.values())
        if current != self._platforms:  # identical items compare without calling __eq__
            self._platforms = current
            self._children.clear()
        return self._children

    def _remember(self, key: tuple[str, str, str, str], child: Counter) -> Counter:
        """Keeps the counter child of a delivery's raw values (they repeat on every delivery
        of a kind: labels() and the label checks run once), at most MAX_CACHED_CHILDREN."""
        if len(self._children) >= MAX_CACHED_CHILDREN:
            self._children.clear()  # raw values come from senders: the memory stays bounded
        self._children[key] = child
        return child

    def forward_seconds(self, destination: str, seconds: float) -> None:
        """Observes the time one delivery took to become durable at `destination`."""
        child = self._latency.get(destination)
        if child is None:
            child = self._latency[destination] = self.forward_latency.labels(destination)
        child.observe(seconds)

    def rejection(self, platform: str | None, status: int, reason: str) -> None:
        """Counts one rejected request."""
        self.rejections.labels(_platform_label(platform), str(status), reason).inc()

    async def observe_outbox(self, outbox: Outbox) -> None:
        """Sets the outbox gauges (waiting, parked) from the file; unchanged if unreadable."""
        try:
            waiting, parked = await outbox.counts()
        except (sqlite3.Error, OSError):
            return
        self.outbox_depth.set(waiting)
        self.outbox_parked.set(parked)

    def render(self) -> bytes:
        """The text exposition of every metric."""
        return generate_latest(self.registry)
