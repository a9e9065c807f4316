"""`commerce-gateway run` (what `make run` starts) at saturation with 10 subscribers.

The same saturation phase as the live figures, against one `run` process (core and bridge its
children) instead of `core` and `bridge` started apart: `webhooks_per_s_10_subscribers_run`.
"""

from __future__ import annotations

from pathlib import Path

from tests.bench.live import LiveSystem, Plan, check_outcomes, saturation_run, spread
from tests.bench.procstat import cpu_seconds
from tests.bench.report import Results
from tests.bench.system import BRIDGE_ENV, SubscriberProcess, run_loadgen, stop
from tests.support.processes import ServerProcess, run_argv, start_process

SUBSCRIBERS = 10


def start_run(data_dir: Path) -> ServerProcess:
    """`commerce-gateway run` on free loopback ports with a throwaway data directory."""
    data_dir.mkdir(parents=True, exist_ok=True)
    ready = data_dir / "run-ready.json"
    argv = run_argv(data_dir, ready)
    return start_process(argv, ready, BRIDGE_ENV)


def measure_run(plan: Plan, workdir: Path, results: Results) -> None:
    """Webhooks/s end to end through `run`, 10 subscribers, checked like the live figures."""
    run = start_run(workdir / "run")
    subscribers: list[SubscriberProcess] = []
    try:
        grpc = run.endpoint("grpc")
        for share in spread(SUBSCRIBERS, 4):
            subscribers.append(SubscriberProcess(grpc, share, workdir / "logs"))
        # `run` is both parts: its CPU (children included) is counted once, as the bridge's.
        system = LiveSystem(core=run, bridge=run, subscribers=subscribers)
        check_outcomes(
            "run-warm", run_loadgen(system.http, "wr", 500, "saturate", connections=16), 500
        )
        system.wait("wr", 500, times=False)
        for number in range(plan.runs):
            count = plan.saturation[SUBSCRIBERS]
            before = cpu_seconds(run.pid)
            figures = saturation_run(system, plan, f"run{number}", count)
            results.add("webhooks_per_s_10_subscribers_run", figures["per_s"])
            results.add(
                "cpu_s_per_webhook_run_10_subscribers", (cpu_seconds(run.pid) - before) / count
            )
    finally:
        for process in subscribers:
            process.close()
        stop(run)
