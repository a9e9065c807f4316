"""Figures: percentiles, median/min/max over runs, the printed table and bench-results.json."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (`fraction` in 0..1) of non-empty `values`."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Figure:
    """How a figure is shown: its unit, the target it must reach, and the better direction."""

    key: str
    label: str
    unit: str
    target: float | None = None
    higher_is_better: bool = True
    raw_limit: bool = False  # show the bare ASGI rate beside it


@dataclass
class Results:
    """Every run's value of every figure, and extra facts about the runs."""

    runs: dict[str, list[float]] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    def add(self, key: str, value: float) -> None:
        """Records one run's value of a figure."""
        self.runs.setdefault(key, []).append(value)

    def summary(self, key: str) -> dict[str, float]:
        """Median, min and max of a figure's runs."""
        values = self.runs[key]
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _verdict(figure: Figure, median: float) -> str:
    if figure.target is None:
        return ""
    met = median >= figure.target if figure.higher_is_better else median < figure.target
    sign = ">=" if figure.higher_is_better else "<"
    return f"{sign} {_number(figure.target)} {'ok' if met else 'SHORT'}"


def table(results: Results, figures: Sequence[Figure]) -> str:
    """The printed table: median (min-max) per figure, its target, and the raw limit."""
    raw = results.runs.get("raw_asgi_per_s")
    raw_text = _number(statistics.median(raw)) if raw else "-"
    header = (
        f"{'figure':<44} {'median':>10} {'min':>10} {'max':>10}  {'unit':<13} {'target':<16}"
        " raw ASGI"
    )
    lines = [header, "-" * len(header)]
    for figure in figures:
        if figure.key not in results.runs:
            continue
        s = results.summary(figure.key)
        lines.append(
            f"{figure.label:<44} {_number(s['median']):>10} {_number(s['min']):>10}"
            f" {_number(s['max']):>10}  {figure.unit:<13} {_verdict(figure, s['median']):<16}"
            f" {raw_text if figure.raw_limit else ''}"
        )
    return "\n".join(lines)


def write_json(path: Path, results: Results, figures: Sequence[Figure]) -> None:
    """bench-results.json: one {median, min, max, unit} object per figure, nothing else."""
    document: dict[str, Any] = {}
    for figure in figures:
        if figure.key in results.runs:
            document[figure.key] = {**results.summary(figure.key), "unit": figure.unit}
    path.write_text(json.dumps(document, indent=2) + "\n")
