"""What the pages and the live stream show of a delivery, and the per-platform chart's bars."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bridge.console.hints import SecretNames, hint
from bridge.console.recorder import Delivery

CHART_WIDTH = 560
"""The width in pixels of the longest bar of the per-platform chart."""

_COLOURS = {
    "accepted": "#2e7d32",
    "duplicate": "#81c784",
    "ignored": "#9e9e9e",
    "parked": "#ef6c00",
    "quarantined": "#f9a825",
}
_REJECTED_COLOURS = ("#c62828", "#ad1457", "#6a1b9a", "#4527a0", "#283593", "#e53935")


def delivery_row(entry: Delivery, names: SecretNames) -> dict[str, Any]:
    """The fields of one delivery as the table and the live stream show them."""
    return {
        "id": entry.id,
        "time": datetime.fromtimestamp(entry.at, UTC).strftime("%H:%M:%S"),
        "platform": entry.platform,
        "topic": entry.topic,
        "shop": entry.shop,
        "outcome": entry.outcome,
        "status": entry.status,
        "reason": entry.reason,
        "hint": hint(entry, names),
        "latency": "" if entry.latency_ms is None else f"{entry.latency_ms:.1f} ms",
        "quarantine_id": entry.quarantine_id,
        "headers": [f"{name}: {value}" for name, value in entry.headers()],
    }


@dataclass(frozen=True)
class Segment:
    """One coloured part of a platform's bar."""

    label: str
    count: int
    x: float
    width: float
    colour: str


@dataclass(frozen=True)
class PlatformBar:
    """One platform's counts of the last hour, as bar segments."""

    platform: str
    total: int
    segments: list[Segment]


def chart_bars(totals: dict[str, dict[str, int]]) -> list[PlatformBar]:
    """Stacked bars (accepted first, then the other outcomes, then rejections by reason)."""
    largest = max((sum(counts.values()) for counts in totals.values()), default=0)
    scale = CHART_WIDTH / largest if largest else 0.0
    rejected_colours: dict[str, str] = {}
    bars: list[PlatformBar] = []
    for platform in sorted(totals):
        counts = totals[platform]
        order = sorted(counts, key=lambda label: (":" in label, label != "accepted", label))
        x = 0.0
        segments: list[Segment] = []
        for label in order:
            colour = None if label.startswith("rejected") else _COLOURS.get(label.split(":")[0])
            if colour is None:
                index = len(rejected_colours) % len(_REJECTED_COLOURS)
                colour = rejected_colours.setdefault(label, _REJECTED_COLOURS[index])
            width = counts[label] * scale
            shown = label.replace(":", " ")
            segments.append(Segment(shown, counts[label], x, width, colour))
            x += width
        bars.append(PlatformBar(platform, sum(counts.values()), segments))
    return bars
