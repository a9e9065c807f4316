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
    raw_limit: bool = False  # compare with the bare ASGI rate (same as limit="raw_asgi_per_s")
    limit: str | None = None  # key of the same run's limit figure this one is compared with

    @property
    def limit_key(self) -> str | None:
        """The key of the limit figure this one is shown as a ratio of, if any."""
        return self.limit or (RAW_RATE if self.raw_limit else None)


RAW_RATE = "raw_asgi_per_s"  # the machine's HTTP limit: the bare ASGI app's POSTs/s
RAW_CPU = "cpu_s_per_request_raw"  # the bare ASGI app's CPU seconds per POST
LIMIT_NAMES = {RAW_RATE: "raw rate", RAW_CPU: "raw CPU"}


@dataclass(frozen=True)
class Ratio:
    """A figure derived from two measured ones: median of `numerator` / median of `denominator`."""

    key: str
    numerator: str
    denominator: str


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


def derive_ratios(results: Results, ratios: Sequence[Ratio]) -> None:
    """Adds each ratio whose two figures were measured in this run, from their medians."""
    for ratio in ratios:
        if ratio.numerator in results.runs and ratio.denominator in results.runs:
            top = results.summary(ratio.numerator)["median"]
            bottom = results.summary(ratio.denominator)["median"]
            if bottom > 0:
                results.runs[ratio.key] = [top / bottom]


def vs_limit(results: Results, figure: Figure) -> float | None:
    """The figure's median over its limit's median measured in the same run, if both exist."""
    key = figure.limit_key
    if key is None or key not in results.runs or figure.key not in results.runs:
        return None
    limit = results.summary(key)["median"]
    return results.summary(figure.key)["median"] / limit if limit > 0 else None


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
    """The printed table: median (min-max) per figure, its target, and its ratio to the limit
    measured in the same run (the bare ASGI app's rate, or its CPU per request)."""
    header = (
        f"{'figure':<44} {'median':>10} {'min':>10} {'max':>10}  {'unit':<13} {'target':<16}"
        " vs limit (same run)"
    )
    lines = [header, "-" * len(header)]
    for figure in figures:
        if figure.key not in results.runs:
            continue
        s = results.summary(figure.key)
        ratio = vs_limit(results, figure)
        limit = (
            ""
            if ratio is None
            else f"{ratio:.3g} x {LIMIT_NAMES.get(figure.limit_key or '', figure.limit_key)}"
        )
        lines.append(
            f"{figure.label:<44} {_number(s['median']):>10} {_number(s['min']):>10}"
            f" {_number(s['max']):>10}  {figure.unit:<13} {_verdict(figure, s['median']):<16}"
            f" {limit}"
        )
    return "\n".join(lines)


def write_json(path: Path, results: Results, figures: Sequence[Figure]) -> None:
    """bench-results.json: one {median, min, max, unit} object per figure, with "vs_limit"
    (median over the same run's limit median) where the figure has a limit."""
    document: dict[str, Any] = {}
    for figure in figures:
        if figure.key in results.runs:
            document[figure.key] = {**results.summary(figure.key), "unit": figure.unit}
            ratio = vs_limit(results, figure)
            if ratio is not None:
                document[figure.key]["vs_limit"] = ratio
    path.write_text(json.dumps(document, indent=2) + "\n")
