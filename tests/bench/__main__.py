"""`make bench`: real processes on loopback, one table printed, bench-results.json written."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.console import DEFERRED, FIGURE, measure_console
from tests.bench.groups import FIGURES as GROUP_FIGURES
from tests.bench.groups import measure_groups
from tests.bench.live import Plan, measure_live
from tests.bench.report import RAW_CPU, Figure, Ratio, Results, derive_ratios, table, write_json
from tests.bench.seed import measure_seed_stack
from tests.bench.slowloris import measure_slow_connections
from tests.bench.stalled import measure_stalled
from tests.bench.streams import measure_catchup, measure_idle, measure_raw
from tests.bench.system import BenchError
from tests.bench.through_run import measure_run
from tests.support.processes import REPO_ROOT

FULL = Plan(
    runs=5,
    saturation={1: 9000, 10: 9000, 100: 1500},
    latency_requests=2000,
    rate=500.0,
    connections=128,
    bridge_workers=1,
    catchup_events=100_000,
    idle_streams=1000,
)
QUICK = Plan(
    runs=1,
    saturation={1: 1500, 10: 1500, 100: 300},
    latency_requests=500,
    rate=500.0,
    connections=128,
    bridge_workers=1,
    catchup_events=20_000,
    idle_streams=1000,
)

FIGURES = [
    Figure(
        "webhooks_per_s_1_subscriber",
        "webhooks/s end to end, 1 subscriber",
        "webhooks/s",
        raw_limit=True,
    ),
    Figure(
        "webhooks_per_s_10_subscribers",
        "webhooks/s end to end, 10 subscribers",
        "webhooks/s",
        3000,
        raw_limit=True,
    ),
    Figure(
        "webhooks_per_s_100_subscribers",
        "webhooks/s end to end, 100 subscribers",
        "webhooks/s",
        raw_limit=True,
    ),
    Figure(
        "webhooks_per_s_10_subscribers_run",
        "webhooks/s through `run`, 10 subscribers",
        "webhooks/s",
        raw_limit=True,
    ),
    Figure("raw_asgi_per_s", "bare ASGI app under uvicorn (raw limit)", "POSTs/s"),
    Figure(
        "seed_stack_verify_only_per_s",
        "seed stack (Hono/Node): verify + parse only",
        "webhooks/s",
        raw_limit=True,
    ),
    Figure("full_path_vs_seed_stack", "10-subscriber rate / seed stack rate", "ratio", 0.5),
    Figure("subscribers_100_vs_10", "100-subscriber rate / 10-subscriber rate", "ratio", 0.5),
    Figure("run_vs_two_processes", "`run` rate / core+bridge apart (10 subs)", "ratio", 0.9),
    Figure("raw_vs_full_path", "raw ASGI rate / 10-subscriber rate", "ratio"),
    Figure("ack_p50_ms_at_500", "ack p50 at 500/s, 10 subscribers", "ms"),
    Figure("ack_p99_ms_at_500", "ack p99 at 500/s, 10 subscribers", "ms", 10, False),
    Figure("delivery_p50_ms_at_500", "delivery p50 at 500/s, 10 subscribers", "ms"),
    Figure("delivery_p99_ms_at_500", "delivery p99 at 500/s, 10 subscribers", "ms", 10, False),
    *(
        Figure(f"{name}_ms_at_500_{suffix}", f"{name.replace('_', ' ')} at 500/s, {label}", "ms")
        for suffix, label in (("1_subscriber", "1 subscriber"), ("100_subscribers", "100 subs"))
        for name in ("ack_p50", "ack_p99", "delivery_p50", "delivery_p99")
    ),
    Figure("cpu_s_per_request_raw", "CPU per request, bare ASGI app (raw limit)", "s"),
    Figure("cpu_s_per_request_seed_stack", "CPU per request, seed stack", "s", limit=RAW_CPU),
    Figure(
        "cpu_s_per_webhook_bridge", "CPU per webhook, bridge (10 subscribers)", "s", limit=RAW_CPU
    ),
    Figure("cpu_s_per_webhook_core", "CPU per webhook, core (10 subscribers)", "s", limit=RAW_CPU),
    Figure("cpu_s_per_webhook_subscribers", "CPU per webhook, 10 subscribers", "s", limit=RAW_CPU),
    Figure(
        "cpu_s_per_webhook_run_10_subscribers",
        "CPU per webhook, `run` (10 subs)",
        "s",
        limit=RAW_CPU,
    ),
    *(
        Figure(
            f"cpu_s_per_webhook_{part}_100_subscribers",
            f"CPU per webhook, {part} (100 subs)",
            "s",
            limit=RAW_CPU,
        )
        for part in ("bridge", "core", "subscriber")
    ),
    Figure("achieved_rate_10_subscribers", "rate held in the 500/s phase, 10 subs", "webhooks/s"),
    Figure("catchup_events_per_s", "catch-up replay to one subscriber", "events/s", 300_000),
    Figure("core_rss_mb_1000_idle_streams", "core peak RSS, 1,000 idle streams", "MB", 150, False),
    Figure(
        "core_rss_mb_2000_stalled_streams", "core peak RSS, 2,000 stalled streams", "MB", 300, False
    ),
    Figure(
        "reader_delivery_p99_ms_with_2000_stalled",
        "reader delivery p99, 2,000 stalled",
        "ms",
        100,
        False,
    ),
    Figure("generator_max_requests_per_s", "load generator capacity (req per CPU s)", "req/s"),
    FIGURE,
    DEFERRED,
    Figure("ack_p50_ms_under_500_slow_connections", "ack p50 at 100/s, 500 slow conns", "ms"),
    Figure(
        "ack_p99_ms_under_500_slow_connections", "ack p99 at 100/s, 500 slow conns", "ms", 50, False
    ),
    *GROUP_FIGURES,
]
# Ratios of figures measured in the same run (medians), added once everything is measured.
RATIOS = [
    Ratio(
        "full_path_vs_seed_stack", "webhooks_per_s_10_subscribers", "seed_stack_verify_only_per_s"
    ),
    Ratio(
        "run_vs_two_processes", "webhooks_per_s_10_subscribers_run", "webhooks_per_s_10_subscribers"
    ),
    Ratio("raw_vs_full_path", "raw_asgi_per_s", "webhooks_per_s_10_subscribers"),
    Ratio(
        "subscribers_100_vs_10", "webhooks_per_s_100_subscribers", "webhooks_per_s_10_subscribers"
    ),
]
# The figures of the 10-subscriber runs are also the unsuffixed, headline ones.
ALIASES = {
    "ack_p50_ms_at_500": "ack_p50_ms_at_500_10_subscribers",
    "ack_p99_ms_at_500": "ack_p99_ms_at_500_10_subscribers",
    "delivery_p50_ms_at_500": "delivery_p50_ms_at_500_10_subscribers",
    "delivery_p99_ms_at_500": "delivery_p99_ms_at_500_10_subscribers",
    "cpu_s_per_webhook_bridge": "cpu_s_per_webhook_bridge_10_subscribers",
    "cpu_s_per_webhook_core": "cpu_s_per_webhook_core_10_subscribers",
    "cpu_s_per_webhook_subscribers": "cpu_s_per_webhook_subscriber_10_subscribers",
}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench",
        description="Benchmarks of the whole system on loopback; writes bench-results.json.",
    )
    parser.add_argument("--quick", action="store_true", help="one short run of each figure")
    parser.add_argument(
        "--output",
        type=Path,
        default=REPO_ROOT / "bench-results.json",
        help="where to write the results (default: bench-results.json)",
    )
    parser.add_argument(
        "--only",
        choices=[
            *("live", "catchup", "idle", "raw", "seed", "run", "console", "slow", "stalled"),
            "groups",
        ],
        action="append",
        help="measure only these parts (repeatable; default: all)",
    )
    parser.add_argument(
        "--subscribers",
        type=int,
        action="append",
        choices=[1, 10, 100],
        help="live runs only with these subscriber counts (default: 1, 10, 100)",
    )
    parser.add_argument("--bridge-workers", type=int, help="bridge worker processes")
    parser.add_argument("--runs", type=int, help="runs per figure (default 5, 1 with --quick)")
    return parser.parse_args()


def _measure(args: argparse.Namespace, plan: Plan, workdir: Path, results: Results) -> None:
    parts = args.only or [
        "raw",
        "seed",
        "live",
        "run",
        "catchup",
        "idle",
        "console",
        "slow",
        "stalled",
        "groups",
    ]
    if "raw" in parts:
        measure_raw(plan, workdir, results)
    if "seed" in parts:
        measure_seed_stack(plan, workdir, results)
    if "live" in parts:
        for subscribers in args.subscribers or [10, 1, 100]:
            measure_live(plan, subscribers, workdir / f"live{subscribers}", results)
    if "run" in parts:
        measure_run(plan, workdir, results)
    if "catchup" in parts:
        measure_catchup(plan, workdir, results)
    if "idle" in parts:
        measure_idle(plan, workdir, results)
    if "console" in parts:
        measure_console(plan.runs, results)
    if "slow" in parts:
        measure_slow_connections(plan, workdir, results)
    if "stalled" in parts:
        measure_stalled(plan, workdir, results)
    if "groups" in parts:
        measure_groups(plan, workdir, results)
    for alias, source in ALIASES.items():
        if source in results.runs:
            results.runs[alias] = results.runs[source]
    derive_ratios(results, RATIOS)


def main() -> int:
    """Runs the benchmark; exit 1 when an event was lost or a process failed."""
    args = _arguments()
    plan = QUICK if args.quick else FULL
    if args.bridge_workers:
        plan = Plan(**{**plan.__dict__, "bridge_workers": args.bridge_workers})
    if args.runs:
        plan = Plan(**{**plan.__dict__, "runs": args.runs})
    results = Results()
    workdir = Path(tempfile.mkdtemp(prefix="commerce-gateway-bench-"))
    started = time.monotonic()
    try:
        _measure(args, plan, workdir, results)
    except BenchError as error:
        print(f"benchmark FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(table(results, FIGURES))
    print(
        f"\n{plan.runs} run(s) per figure, {time.monotonic() - started:.0f} s;"
        f" bridge workers: {plan.bridge_workers}; results in {args.output}"
    )
    write_json(args.output, results, FIGURES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
