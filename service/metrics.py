"""CoreMetrics: the core's Prometheus metrics (subscribers, lag, events stored, commits)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service.fanout import Broadcaster

# The Prometheus text format, with one charset parameter (strict parsers refuse duplicates).
CONTENT_TYPE = "text/plain; version=1.0.0; charset=utf-8"
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _StreamCollector(Collector):
    """Subscribers connected now and how far behind they are, read at scrape time.

    Lag is summarised over all subscribers (max and sum of queued items): the label set stays
    fixed however many subscribers connect."""

    def __init__(self, broadcaster: Broadcaster) -> None:
        """Reads `broadcaster` at each scrape."""
        self._broadcaster = broadcaster

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The current subscriber count, lag summary and last sequence."""
        lags = self._broadcaster.lags()
        yield GaugeMetricFamily(
            "commerce_gateway_core_subscribers",
            "Subscriber streams connected now (events, alerts and completions).",
            value=len(lags),
        )
        yield GaugeMetricFamily(
            "commerce_gateway_core_subscriber_lag_max_items",
            "Items queued for the subscriber furthest behind (0 without subscribers).",
            value=max(lags, default=0),
        )
        yield GaugeMetricFamily(
            "commerce_gateway_core_subscriber_lag_sum_items",
            "Items queued for all subscribers together.",
            value=sum(lags),
        )
        yield GaugeMetricFamily(
            "commerce_gateway_core_last_sequence",
            "The newest sequence this core has handed to subscribers.",
            value=self._broadcaster.last_sequence,
        )


class CoreMetrics:
    """The core's metrics in their own registry; also a CommitObserver of the store.

    Label values come from closed sets only: never a shop, id, token or payload value."""

    def __init__(self, broadcaster: Broadcaster) -> None:
        """Creates the registry and every metric."""
        self.registry = CollectorRegistry()
        self.registry.register(_StreamCollector(broadcaster))
        self.events_stored = Counter(
            "commerce_gateway_core_events_stored",
            "Events this core stored (duplicates excluded).",
            registry=self.registry,
        )
        self.commit_seconds = Histogram(
            "commerce_gateway_core_commit_seconds",
            "Time of one store write transaction (a group of writes), until it committed.",
            buckets=COMMIT_BUCKETS,
            registry=self.registry,
        )
        self.store_errors = Counter(
            "commerce_gateway_core_store_errors",
            "Store write transactions that failed to commit (their writes answered UNAVAILABLE).",
            registry=self.registry,
        )
        self.store_serving = Gauge(
            "commerce_gateway_core_store_serving",
            "1 while the store commits (health SERVING), 0 after a failed commit until one"
            " succeeds.",
            registry=self.registry,
        )
        self.store_serving.set(1)

    def committed(self, seconds: float, events: int) -> None:
        """Counts a committed transaction."""
        self.commit_seconds.observe(seconds)
        self.events_stored.inc(events)
        self.store_serving.set(1)

    def failed(self, error: BaseException, seconds: float) -> None:
        """Counts a failed transaction."""
        self.store_errors.inc()
        self.store_serving.set(0)

    def render(self) -> bytes:
        """The text exposition of every metric."""
        return generate_latest(self.registry)
