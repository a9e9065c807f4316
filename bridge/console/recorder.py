"""The delivery ring: the last N webhook answers, recorded in microseconds on the request path.

The webhook endpoint calls `record_delivery` / `record_rejection`; they do nothing unless the
request runs inside a `TimedEndpoint` (the console wraps the endpoint with one), which also
gives the answer's latency. Bodies are never kept; headers are kept without signatures,
authorization or cookies.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, NamedTuple

from bridge.asgi_io import request_url
from bridge.intake import ParsedDelivery
from bridge.platforms import REGISTRY, Platform, header_names, named
from bridge.problems import ProblemError

OUTCOMES = ("accepted", "duplicate", "ignored", "rejected", "quarantined", "parked")
"""Every outcome a recorded delivery can have."""

MAX_HEADERS = 40
"""At most this many headers of a delivery are kept (the rest are dropped)."""
MAX_HEADER_CHARS = 200
"""Kept header values are clipped to this many characters."""
COUNTER_MINUTES = 60
"""The per-platform counters cover this many minutes (one bucket per minute)."""

# Dropped when recording (ASGI header names are lower case): every platform's signature
# headers (Platform.signature_headers) and these credentials.
_DROPPED_CREDENTIALS = frozenset({b"authorization", b"proxy-authorization", b"cookie"})
# And never shown: any header whose name mentions one of these.
_SECRET_HEADER_PARTS = ("signature", "hmac", "authorization", "cookie", "token", "secret")

Scope = MutableMapping[str, Any]
Endpoint = Callable[[Scope, Any, Any], Awaitable[None]]


# The dropped names for the registry as last seen (its platforms, in order): rebuilt only
# when a platform is registered, replaced or removed, not for every recorded delivery.
_dropped_for: list[tuple[tuple[Platform, ...], frozenset[bytes]]] = [((), _DROPPED_CREDENTIALS)]


def _dropped_names() -> frozenset[bytes]:
    """Every registered platform's signature header names and the credentials, as bytes."""
    platforms, dropped = _dropped_for[0]
    current = REGISTRY.values()
    if len(platforms) != len(current) or any(
        seen is not now for seen, now in zip(platforms, current, strict=True)
    ):
        dropped = _DROPPED_CREDENTIALS | {
            n.encode("latin-1") for n in header_names("signature_headers")
        }
        _dropped_for[0] = (tuple(current), dropped)
    return dropped


def _kept_headers(raw: Iterable[tuple[bytes, bytes]]) -> tuple[tuple[bytes, bytes], ...]:
    """At most MAX_HEADERS headers, signatures and credentials dropped, clipped."""
    dropped = _dropped_names()
    kept = [(n[:100], v[:MAX_HEADER_CHARS]) for n, v in raw if n not in dropped]
    return tuple(kept[:MAX_HEADERS])


def _kept_header(name: bytes) -> bool:
    lowered = name.decode("latin-1").lower()
    return not any(part in lowered for part in _SECRET_HEADER_PARTS)


class Delivery(NamedTuple):
    """One recorded answer to a webhook request (never a body, a signature or a secret)."""

    id: int
    at: float
    platform: str
    topic: str
    shop: str
    delivery_id: str
    outcome: str
    reason: str
    status: int
    latency_ms: float | None
    raw_headers: tuple[tuple[bytes, bytes], ...] = ()
    request_url: str = ""
    quarantine_id: int | None = None

    def headers(self) -> list[tuple[str, str]]:
        """The kept headers, decoded, without signatures or credentials, values clipped."""
        return [
            (name.decode("latin-1").lower(), value.decode("latin-1")[:MAX_HEADER_CHARS])
            for name, value in self.raw_headers
            if _kept_header(name)
        ]


@dataclass
class _Minute:
    minute: int
    counts: dict[tuple[str, str], int] = field(default_factory=dict)


class HourlyCounters:
    """Per-platform counts (accepted, rejected by reason, ...) per minute, last hour only."""

    def __init__(self) -> None:
        """Starts empty."""
        self._minutes: deque[_Minute] = deque(maxlen=COUNTER_MINUTES)

    def add(self, at: float, platform: str, label: str) -> None:
        """Counts one answer of `platform` labelled `label` (an outcome or rejected:<reason>)."""
        minute = int(at // 60)
        minutes = self._minutes
        if not minutes or minutes[-1].minute != minute:
            minutes.append(_Minute(minute))
        counts = minutes[-1].counts
        key = (platform, label)
        counts[key] = counts.get(key, 0) + 1

    def totals(self, now: float) -> dict[str, dict[str, int]]:
        """platform -> label -> count over the last COUNTER_MINUTES minutes."""
        oldest = int(now // 60) - COUNTER_MINUTES + 1
        totals: dict[str, dict[str, int]] = {}
        for bucket in self._minutes:
            if bucket.minute < oldest:
                continue
            for (platform, label), count in bucket.counts.items():
                per = totals.setdefault(platform, {})
                per[label] = per.get(label, 0) + count
        return totals


class Filters(NamedTuple):
    """Which deliveries a view shows: empty fields match everything; shop is a substring."""

    platform: str = ""
    outcome: str = ""
    shop: str = ""


# An answer as the request path notes it: (time, latency in ms, ASGI scope, then the outcome
# and the ParsedDelivery, or the ProblemError and (platform, headers)).
_Pending = tuple[float, float, Scope, Any, Any]


def _fields(pending: _Pending) -> tuple[Any, ...]:
    """The Delivery fields (but the id) of a noted answer."""
    at, latency_ms, scope, what, subject = pending
    if isinstance(what, str):
        delivery: ParsedDelivery = subject
        return (
            at,
            delivery.platform,
            delivery.topic,
            delivery.shop,
            delivery.delivery_id,
            what,
            "",
            200,
            latency_ms,
            scope["headers"],
            "",
            None,
        )
    problem: ProblemError = what
    platform, headers = subject
    kept = problem.quarantine_entry
    return (
        at,
        platform or "unknown",
        _first(headers, header_names("topic_headers")),
        _first(headers, header_names("shop_headers")),
        _first(headers, header_names("delivery_id_headers")),
        "quarantined" if kept is not None else "rejected",
        problem.reason,
        problem.status,
        latency_ms,
        scope["headers"],
        request_url(scope, headers) if _signs_url(platform) else "",
        kept,
    )


class DeliveryRecorder:
    """A bounded ring of the last `capacity` deliveries, with waiters for new ones.

    The request path only appends a tuple (`note`); the entries are built, stripped of
    signature headers, counted and announced to the live views once per event-loop
    iteration (`flush`), or at once before any read.
    """

    def __init__(self, capacity: int) -> None:
        """Keeps at most `capacity` deliveries (the oldest are forgotten first)."""
        self.capacity = capacity
        self.counters = HourlyCounters()
        self._ring: deque[Delivery] = deque(maxlen=capacity)
        self._pending: list[_Pending] = []
        self._next_id = 1
        self._waiters = 0
        self._changed = asyncio.Event()
        self._flush_scheduled = False

    @property
    def last_id(self) -> int:
        """The id of the newest recorded delivery (0 before the first)."""
        self.flush()
        return self._next_id - 1

    def note(self, pending: _Pending) -> None:
        """Records one answer from the request path: a tuple append; the rest is deferred
        to the end of this event-loop iteration (at most `capacity` wait for it)."""
        self._pending.append(pending)
        if len(self._pending) >= self.capacity:
            self.flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def add(
        self,
        *,
        platform: str,
        topic: str,
        shop: str,
        delivery_id: str,
        outcome: str,
        reason: str,
        status: int,
        latency_ms: float | None,
        raw_headers: Iterable[tuple[bytes, bytes]] = (),
        request_url: str = "",
        quarantine_id: int | None = None,
    ) -> None:
        """Records one answer at once (for callers off the request path)."""
        self.flush()
        fields = (
            time.time(),
            platform,
            topic,
            shop,
            delivery_id,
            outcome,
            reason,
            status,
            latency_ms,
            raw_headers,
            request_url,
            quarantine_id,
        )
        self._store(fields)
        self._announce()

    def _store(self, fields: tuple[Any, ...]) -> None:
        at, platform, topic, shop, delivery_id, outcome, reason, status, *rest = fields
        latency_ms, raw_headers, url, quarantine_id = rest
        self._ring.append(
            Delivery(
                self._next_id,
                at,
                platform,
                topic[:100],
                shop[:100],
                delivery_id[:100],
                outcome,
                reason,
                status,
                latency_ms,
                _kept_headers(raw_headers),
                url,
                quarantine_id,
            )
        )
        self._next_id += 1
        self.counters.add(at, platform, outcome if status < 400 else f"{outcome}:{reason}")

    def flush(self) -> None:
        """Moves the answers noted so far into the ring and wakes the live views."""
        self._flush_scheduled = False
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        for noted in pending:
            self._store(_fields(noted))
        self._announce()

    def _announce(self) -> None:
        if self._waiters:
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()

    def newest(
        self, *, after: int = 0, limit: int = 200, filters: Filters | None = None
    ) -> list[Delivery]:
        """Up to `limit` deliveries newer than id `after` matching the filters, newest first."""
        self.flush()
        platform, outcome, shop = filters or Filters()
        found: list[Delivery] = []
        for entry in reversed(self._ring):
            if entry.id <= after or len(found) >= limit:
                break
            if platform and entry.platform != platform:
                continue
            if outcome and entry.outcome != outcome:
                continue
            if shop and shop not in entry.shop:
                continue
            found.append(entry)
        return found

    async def wait_newer(self, after: int, timeout: float) -> bool:
        """Waits until a delivery newer than id `after` is recorded; False after `timeout`."""
        if self.last_id > after:
            return True
        changed = self._changed
        self._waiters += 1
        try:
            async with asyncio.timeout(timeout):
                await changed.wait()
        except TimeoutError:
            return False
        finally:
            self._waiters -= 1
        return True


_ACTIVE: ContextVar[tuple[DeliveryRecorder, float, Scope] | None] = ContextVar(
    "console_delivery", default=None
)


class TimedEndpoint:
    """Wraps the webhook endpoint: each request records into `recorder`, with its latency."""

    def __init__(self, endpoint: Endpoint, recorder: DeliveryRecorder) -> None:
        """Serves requests with `endpoint`, recording into `recorder`."""
        self._endpoint = endpoint
        self._recorder = recorder

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Handles one request with the recorder and the start time in context."""
        token = _ACTIVE.set((self._recorder, perf_counter(), scope))
        try:
            await self._endpoint(scope, receive, send)
        finally:
            _ACTIVE.reset(token)


def _first(headers: Mapping[str, str], names: tuple[str, ...]) -> str:
    return next((headers[name] for name in names if name in headers), "")


def record_delivery(delivery: ParsedDelivery, outcome: str) -> None:
    """Records a verified delivery's outcome (accepted, duplicate, ignored, parked)."""
    active = _ACTIVE.get()
    if active is not None:
        recorder, started, scope = active
        recorder.note((time.time(), (perf_counter() - started) * 1000, scope, outcome, delivery))


def record_rejection(
    problem: ProblemError, platform: str | None, headers: Mapping[str, str]
) -> None:
    """Records a refused request (outcome "quarantined" when the delivery was kept)."""
    active = _ACTIVE.get()
    if active is not None:
        recorder, started, scope = active
        elapsed = (perf_counter() - started) * 1000
        recorder.note((time.time(), elapsed, scope, problem, (platform, headers)))


def _signs_url(platform: str | None) -> bool:
    """Whether `platform` signs the URL it posts to (its console hint shows that URL)."""
    found = named(platform)
    return found is not None and found.signs_url
