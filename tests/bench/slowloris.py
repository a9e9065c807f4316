"""Ack latency of signed webhooks while slow connections hold the bridge (slowloris).

`measure_slow_connections` starts core and bridge, then a holder process (this module run as
`python -m tests.bench.slowloris`) that keeps N connections open on the bridge sending one
byte per second (half of them a request head that never ends, half a body that never ends;
each reconnects as soon as the bridge closes it), and meanwhile the load generator sends
signed webhooks at a modest fixed rate and measures each acknowledgement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import IO, Any

from tests.bench.live import Plan, check_outcomes
from tests.bench.report import Results, percentile
from tests.bench.system import BenchError, run_loadgen, start_bridge, start_core, stop
from tests.support.processes import REPO_ROOT

SLOW_CONNECTIONS = 500
RATE = 100.0  # signed webhooks per second while the slow connections are held
DURATION_S = 12.0  # longer than the bridge's default head and body deadlines (10 s)
PACE_S = 1.0  # one byte per connection per second
KEY = "ack_p99_ms_under_500_slow_connections"

_HEAD = b"POST /webhooks/shopify HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\n"
_PAD = _HEAD + b"X-Pad: " + b"a" * 4096  # never ends its head
_BODY_BYTES = 1_000_000
_BODY_HEAD = _HEAD + b"Content-Length: %d\r\n\r\n" % _BODY_BYTES  # never ends its body


class _Slow(asyncio.Protocol):
    """One slow connection: remembers the status it was answered, if any, and its end."""

    def __init__(self) -> None:
        """Not connected yet."""
        self.transport: asyncio.Transport | None = None
        self.first = b""
        self.closed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keeps the transport."""
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        """Keeps the start of the answer (its status line)."""
        if not self.first:
            self.first = data[:12]

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection ended."""
        self.closed.set()


class _Tally:
    """Connections opened so far (`all_open` once the first N are), and how each ended."""

    def __init__(self, connections: int) -> None:
        """Nothing opened yet."""
        self.connections = connections
        self.opened = 0
        self.all_open = asyncio.Event()
        self.ends: Counter[str] = Counter()

    def open(self) -> None:
        """Counts one more connection opened."""
        self.opened += 1
        if self.opened >= self.connections:
            self.all_open.set()


async def _hold(host: str, port: int, body: bool, tally: _Tally) -> None:
    """Keeps one slow connection open, reconnecting whenever the bridge ends it."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            _, slow = await loop.create_connection(_Slow, host, port)
        except OSError:
            tally.ends["connect_failed"] += 1
            await asyncio.sleep(PACE_S)
            continue
        tally.open()
        assert slow.transport is not None
        if body:
            slow.transport.write(_BODY_HEAD)
        for index in range(_BODY_BYTES if body else len(_PAD)):
            if slow.closed.is_set() or slow.transport.is_closing():
                break
            slow.transport.write(b" " if body else _PAD[index : index + 1])
            try:
                await asyncio.wait_for(slow.closed.wait(), PACE_S)
            except TimeoutError:
                continue
        status = slow.first[9:12].decode() if slow.first else "closed"
        tally.ends[status] += 1
        slow.transport.close()


async def _holder(target: str, connections: int) -> dict[str, Any]:
    host, _, port = target.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit("the slow connections only target loopback")
    tally = _Tally(connections)
    tasks = [
        asyncio.create_task(_hold(host, int(port), index % 2 == 1, tally))
        for index in range(connections)
    ]
    await tally.all_open.wait()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"opened": tally.opened, "ends": dict(tally.ends)}


class HolderProcess:
    """The holder (this module as a process): N slow connections until `stop()`."""

    def __init__(self, target: str, connections: int, errors: IO[bytes]) -> None:
        """Starts the process and waits until every slow connection is open."""
        argv = [sys.executable, "-m", "tests.bench.slowloris", "--target", target]
        argv += ["--connections", str(connections)]
        self.process = subprocess.Popen(
            argv, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline() != b"ready\n":
            self.process.kill()
            self.process.wait()
            raise BenchError("the slow-connection holder did not start")

    def stop(self) -> dict[str, Any]:
        """Ends the slow connections; their report (connections opened, how each ended)."""
        try:
            output, _ = self.process.communicate(b"stop\n", timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise BenchError("the slow-connection holder did not stop in 60 s") from None
        report: dict[str, Any] = json.loads(output)
        return report


def slow_run(http: str, tag: str, requests: int, results: Results) -> dict[str, Any]:
    """One run: the holder's slow connections, then `requests` signed webhooks at RATE."""
    with tempfile.TemporaryFile() as errors:
        holder = HolderProcess(http, SLOW_CONNECTIONS, errors)
        try:
            report = run_loadgen(http, tag, requests, "rate", rate=RATE)
        finally:
            held = holder.stop()
    check_outcomes(tag, report, requests)
    sent = report["sent_ns"]
    acks = [(acked - sent[i]) / 1e6 for i, acked in enumerate(report["acked_ns"])]
    results.add(KEY, percentile(acks, 0.99))
    results.add("ack_p50_ms_under_500_slow_connections", percentile(acks, 0.5))
    return held


def measure_slow_connections(plan: Plan, workdir: Path, results: Results) -> None:
    """`ack_p99_ms_under_500_slow_connections`: every run of the slowloris phase."""
    core = start_core(workdir / "slow-core")
    try:
        bridge = start_bridge(workdir / "slow-bridge", core.endpoint("grpc"), plan.bridge_workers)
        try:
            http = bridge.endpoint("http")
            check_outcomes("sw", run_loadgen(http, "sw", 200, "saturate", connections=8), 200)
            requests = int(RATE * DURATION_S)
            for run in range(plan.runs):
                held = slow_run(http, f"slow{run}", requests, results)
                results.notes.setdefault("slow_connections", []).append(held)
        finally:
            stop(bridge)
    finally:
        stop(core)


def main() -> None:
    """The holder process: opens the slow connections, prints "ready", holds them until a
    line arrives on stdin, then prints its JSON report."""
    parser = argparse.ArgumentParser(description="Slow connections on the bridge (loopback).")
    parser.add_argument("--target", required=True, help="bridge HOST:PORT on loopback")
    parser.add_argument("--connections", type=int, default=SLOW_CONNECTIONS)
    args = parser.parse_args()
    try:
        import uvloop

        report = uvloop.run(_holder(args.target, args.connections))
    except ImportError:
        report = asyncio.run(_holder(args.target, args.connections))
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
