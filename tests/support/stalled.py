"""Subscribers that never read: a process holding N SubscribeEvents streams (tests and bench).

`python -m tests.support.stalled --core HOST:PORT --streams N [--per-channel K] [--small-window]`
opens N live streams, K to a TCP connection, prints "ready" once the core accepted every one,
then never reads a message until it is killed. By default gRPC's client grows each stream's
receive window (BDP probing), so a stream takes in about 4 MB before its writes block;
--small-window turns that off (64 KB). `stalled_streams(...)` runs it as a context manager.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import grpc
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import core_service_pb2_grpc

from tests.support.processes import REPO_ROOT

READY_TIMEOUT = 60.0


async def _hold(core: str, streams: int, per_channel: int, small_window: bool) -> None:
    # A local subchannel pool gives each channel its own TCP connection.
    options: list[tuple[str, Any]] = [("grpc.use_local_subchannel_pool", 1)]
    if small_window:
        options.append(("grpc.http2.bdp_probe", 0))
    channels = [
        grpc.aio.insecure_channel(core, options=options) for _ in range(-(-streams // per_channel))
    ]
    calls = []
    for number in range(streams):
        stub = core_service_pb2_grpc.CoreServiceStub(channels[number // per_channel])
        calls.append(stub.SubscribeEvents(api.SubscribeEventsRequest()))
    await asyncio.gather(*(call.initial_metadata() for call in calls))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    await asyncio.Event().wait()  # never reads; ends when killed


def main() -> None:
    """Holds the streams until killed."""
    parser = argparse.ArgumentParser(description="Subscriber streams that never read.")
    parser.add_argument("--core", required=True, help="core HOST:PORT")
    parser.add_argument("--streams", type=int, required=True, help="streams to open")
    parser.add_argument("--per-channel", type=int, default=50, help="streams per connection")
    parser.add_argument("--small-window", action="store_true", help="no BDP window growth")
    args = parser.parse_args()
    asyncio.run(_hold(args.core, args.streams, args.per_channel, args.small_window))


@contextlib.contextmanager
def stalled_streams(
    core: str, streams: int, per_channel: int = 50, small_window: bool = False
) -> Iterator[int]:
    """Runs a process holding `streams` never-read streams of `core`; yields its pid once
    every stream is open; kills it (SIGKILL, an abrupt disconnect) on exit."""
    argv = [sys.executable, "-m", "tests.support.stalled", "--core", core]
    argv += ["--streams", str(streams), "--per-channel", str(per_channel)]
    argv += ["--small-window"] if small_window else []
    process = subprocess.Popen(
        argv,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + READY_TIMEOUT
            while not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                if time.monotonic() >= deadline or process.poll() is not None:
                    raise RuntimeError(f"stalled streams not ready (exit {process.poll()})")
        if process.stdout.readline().strip() != b"ready":
            raise RuntimeError(f"stalled streams failed to open (exit {process.wait()})")
        yield process.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


if __name__ == "__main__":
    main()
