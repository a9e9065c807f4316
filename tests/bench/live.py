"""Live figures: webhooks/s at saturation and latencies at a fixed rate, with N subscribers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.procstat import cpu_seconds
from tests.bench.report import Results, percentile
from tests.bench.system import (
    BenchError,
    SubscriberProcess,
    ask_all,
    run_loadgen,
    start_bridge,
    start_core,
    stop,
)
from tests.support.processes import ServerProcess

WAIT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Plan:
    """How much load each phase sends, and how many times."""

    runs: int
    saturation: dict[int, int]  # subscribers -> requests per saturation run
    latency_requests: int
    rate: float
    connections: int
    bridge_workers: int
    catchup_events: int
    idle_streams: int


@dataclass
class LiveSystem:
    """A running core, bridge and subscriber processes."""

    core: ServerProcess
    bridge: ServerProcess
    subscribers: list[SubscriberProcess]

    @property
    def http(self) -> str:
        """The bridge's address."""
        return self.bridge.endpoint("http")

    def cpu(self) -> tuple[float, float, float]:
        """CPU seconds so far of (bridge with its workers, core, all subscriber processes)."""
        subscribers = sum(cpu_seconds(process.pid) for process in self.subscribers)
        return cpu_seconds(self.bridge.pid), cpu_seconds(self.core.pid), subscribers

    def wait(self, tag: str, count: int, times: bool) -> list[dict[str, Any]]:
        """Every subscription's report of phase `tag`, checked: each event exactly once."""
        command = {"cmd": "wait", "tag": tag, "count": count, "times": times}
        answers = ask_all(self.subscribers, {**command, "timeout": WAIT_TIMEOUT})
        reports = [report for answer in answers for report in answer["subscriptions"]]
        for number, report in enumerate(reports):
            if report["missing"] or report["duplicates"] or report["out_of_order"]:
                raise BenchError(
                    f"phase {tag}: subscriber {number} of {len(reports)} missed"
                    f" {report['missing']}, got {report['duplicates']} twice and"
                    f" {report['out_of_order']} out of order, of {count} events"
                )
        return reports


def spread(total: int, processes: int) -> list[int]:
    """`total` subscriptions over `processes` processes, as evenly as possible."""
    return [total // processes + (1 if i < total % processes else 0) for i in range(processes)]


@contextmanager
def live_system(workdir: Path, subscribers: int, workers: int) -> Iterator[LiveSystem]:
    """Starts core, bridge and subscriber processes (at most 4, sharing the subscriptions)."""
    core = start_core(workdir / "core")
    started: list[SubscriberProcess] = []
    bridge: ServerProcess | None = None
    try:
        bridge = start_bridge(workdir / "bridge", core.endpoint("grpc"), workers)
        for share in spread(subscribers, min(subscribers, 4)):
            started.append(SubscriberProcess(core.endpoint("grpc"), share, workdir / "logs"))
        yield LiveSystem(core, bridge, started)
    finally:
        for process in started:
            process.close()
        if bridge is not None:
            stop(bridge)
        stop(core)


def check_outcomes(tag: str, report: dict[str, Any], count: int) -> None:
    """Fails unless every request of the phase was answered 200 accepted."""
    if report["outcomes"] != {"accepted": count}:
        raise BenchError(f"phase {tag}: expected {count} accepted, got {report['outcomes']}")


def saturation_run(system: LiveSystem, plan: Plan, tag: str, count: int) -> dict[str, float]:
    """Sends `count` requests as fast as the system takes them; rate and CPU per webhook."""
    before: list[tuple[float, float, float]] = []
    report = run_loadgen(
        system.http,
        tag,
        count,
        "saturate",
        on_ready=lambda: before.append(system.cpu()),
        connections=plan.connections,
    )
    check_outcomes(tag, report, count)
    reports = system.wait(tag, count, times=False)
    after = system.cpu()
    start = min(report["sent_ns"])
    end = max(*report["acked_ns"], *(r["last_ns"] for r in reports))
    return {
        "per_s": count / ((end - start) / 1e9),
        "ack_per_s": count / ((max(report["acked_ns"]) - start) / 1e9),
        "bridge_cpu": (after[0] - before[0][0]) / count,
        "core_cpu": (after[1] - before[0][1]) / count,
        "subscriber_cpu": (after[2] - before[0][2]) / count,
        "generator_cpu": report["cpu_s"] / count,
    }


def latency_run(system: LiveSystem, plan: Plan, tag: str) -> dict[str, float]:
    """Sends at `plan.rate`; ack latency and POST-to-subscriber latency percentiles (ms)."""
    count = plan.latency_requests
    report = run_loadgen(system.http, tag, count, "rate", rate=plan.rate)
    check_outcomes(tag, report, count)
    reports = system.wait(tag, count, times=True)
    sent: Sequence[int] = report["sent_ns"]
    acks = [(acked - sent[i]) / 1e6 for i, acked in enumerate(report["acked_ns"])]
    deliveries = [(at - sent[i]) / 1e6 for r in reports for i, at in r["times"]]
    return {
        "ack_p50": percentile(acks, 0.5),
        "ack_p99": percentile(acks, 0.99),
        "delivery_p50": percentile(deliveries, 0.5),
        "delivery_p99": percentile(deliveries, 0.99),
        "achieved_rate": count / ((max(sent) - min(sent)) / 1e9) if count > 1 else plan.rate,
    }


def _suffix(subscribers: int) -> str:
    return "1_subscriber" if subscribers == 1 else f"{subscribers}_subscribers"


def measure_live(plan: Plan, subscribers: int, workdir: Path, results: Results) -> None:
    """All runs of the saturation and latency phases with `subscribers` subscribers."""
    suffix = _suffix(subscribers)
    with live_system(workdir, subscribers, plan.bridge_workers) as system:
        warm = f"w{subscribers}"
        check_outcomes(warm, run_loadgen(system.http, warm, 500, "saturate", connections=16), 500)
        system.wait(warm, 500, times=False)
        for run in range(plan.runs):
            count = plan.saturation[subscribers]
            figures = saturation_run(system, plan, f"s{subscribers}r{run}", count)
            results.add(f"webhooks_per_s_{suffix}", figures["per_s"])
            results.add(f"acks_per_s_{suffix}", figures["ack_per_s"])
            results.add(f"generator_cpu_s_per_request_{suffix}", figures["generator_cpu"])
            for part in ("bridge", "core", "subscriber"):
                results.add(f"cpu_s_per_webhook_{part}_{suffix}", figures[f"{part}_cpu"])
            latency = latency_run(system, plan, f"l{subscribers}r{run}")
            for name in ("ack_p50", "ack_p99", "delivery_p50", "delivery_p99"):
                results.add(f"{name}_ms_at_500_{suffix}", latency[name])
            results.add(f"achieved_rate_{suffix}", latency["achieved_rate"])
