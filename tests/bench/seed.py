"""The seed's stack as a peer: Hono on Node verifying Shopify's HMAC and parsing the JSON.

`tests/bench/seed_stack/server.mjs` (installed by `make install`) answers 200 after verifying and
parsing each delivery, storing nothing: the stack the product page mounts its handler on. It is
driven by the same load generator with the same signed 2 KB Shopify orders/create deliveries.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.bench.live import Plan, check_outcomes
from tests.bench.payloads import SECRET
from tests.bench.procstat import cpu_seconds
from tests.bench.report import Results
from tests.bench.system import BenchError, run_loadgen, stop
from tests.support.processes import REPO_ROOT, ServerProcess, start_process

SEED_DIR = REPO_ROOT / "tests" / "bench" / "seed_stack"


def start_seed_stack(data_dir: Path) -> ServerProcess:
    """The Hono server on a free loopback port; the secret goes in its environment."""
    node = shutil.which("node")
    if node is None or not (SEED_DIR / "node_modules" / "hono").is_dir():
        raise BenchError("the seed stack is not installed: run `make install` (needs Node.js)")
    data_dir.mkdir(parents=True, exist_ok=True)
    ready = data_dir / "seed-ready.json"
    argv = [node, str(SEED_DIR / "server.mjs"), "--ready-file", str(ready)]
    return start_process(argv, ready, {"SEED_STACK_WEBHOOK_SECRET": SECRET})


def measure_seed_stack(plan: Plan, workdir: Path, results: Results) -> None:
    """The seed stack's verified deliveries per second at saturation, and its CPU per request."""
    count = max(plan.saturation.values())
    seed = start_seed_stack(workdir / "seed")
    try:
        address = seed.endpoint("http")
        warm = run_loadgen(address, "seedw", 1000, "saturate", platforms="shopify", connections=16)
        check_outcomes("seed-warm", warm, 1000)
        before: list[float] = []  # CPU seconds when each run's generator is ready
        for run in range(plan.runs):
            report = run_loadgen(
                address,
                f"seed{run}",
                count,
                "saturate",
                on_ready=lambda: before.append(cpu_seconds(seed.pid)),
                platforms="shopify",
                connections=plan.connections,
            )
            check_outcomes("seed", report, count)
            elapsed = (max(report["acked_ns"]) - min(report["sent_ns"])) / 1e9
            results.add("seed_stack_verify_only_per_s", count / elapsed)
            results.add(
                "cpu_s_per_request_seed_stack", (cpu_seconds(seed.pid) - before[-1]) / count
            )
    finally:
        stop(seed)
