"""The load generator process: pre-signed requests over keep-alive HTTP/1.1 connections.

Two modes: `saturate` keeps C connections busy until every request is answered; `rate` sends
at a fixed rate (open loop) and measures each acknowledgement. It prints one JSON report:
per-request send and ack times (CLOCK_MONOTONIC, shared by every process on the machine),
status counts, and the CPU seconds it used itself (to show it was not the bottleneck).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from array import array
from collections import Counter

from tests.bench.payloads import build_requests
from tests.bench.procstat import own_cpu_seconds


class Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        """Starts idle; `send` writes a request, `answered` resolves with the response."""
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self.answered: asyncio.Future[tuple[int, bytes]] | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keeps the transport."""
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        """Fails the request in flight."""
        self.lost = True
        if self.answered is not None and not self.answered.done():
            self.answered.set_exception(ConnectionError("connection lost"))

    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        """Writes one request; the future resolves with (status, body)."""
        assert self.transport is not None
        self.answered = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.answered

    def data_received(self, data: bytes) -> None:
        """Parses one response (status line, Content-Length, body)."""
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self._buffer[:end]).lower()
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line.startswith(b"content-length:"):
                length = int(line[15:])
        if len(self._buffer) < end + 4 + length:
            return
        status = int(head[9:12])
        body = bytes(self._buffer[end + 4 : end + 4 + length])
        del self._buffer[: end + 4 + length]
        if self.answered is not None and not self.answered.done():
            self.answered.set_result((status, body))


def _outcome(status: int, body: bytes) -> str:
    """ "accepted", "duplicate", "ignored" for a 200 (its status field), else the HTTP status."""
    if status != 200:
        return str(status)
    _, found, rest = body.partition(b'"status":"')
    if found:  # the compact JSON the bridge writes: skip a full parse
        return rest.partition(b'"')[0].decode()
    return str(json.loads(body).get("status"))


class Recorder:
    """Send and ack times and outcomes of every request."""

    def __init__(self, count: int) -> None:
        """Room for `count` requests."""
        self.sent = array("q", bytes(8 * count))
        self.acked = array("q", bytes(8 * count))
        self.outcomes: Counter[str] = Counter()

    async def run_one(self, connection: Connection, index: int, request: bytes) -> None:
        """Sends request `index` on `connection` and records the outcome."""
        self.sent[index] = time.monotonic_ns()
        try:
            status, body = await connection.send(request)
        except ConnectionError:
            self.outcomes["connection_lost"] += 1
            return
        self.acked[index] = time.monotonic_ns()
        self.outcomes[_outcome(status, body)] += 1


async def _connect(host: str, port: int) -> Connection:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(Connection, host, port)
    return protocol


async def saturate(host: str, port: int, requests: list[bytes], connections: int) -> Recorder:
    """Every request as fast as `connections` concurrent connections allow."""
    recorder = Recorder(len(requests))
    pool = [await _connect(host, port) for _ in range(connections)]
    next_index = iter(range(len(requests)))

    async def worker(connection: Connection) -> None:
        for index in next_index:
            await recorder.run_one(connection, index, requests[index])

    await asyncio.gather(*(worker(connection) for connection in pool))
    for connection in pool:
        if connection.transport is not None:
            connection.transport.close()
    return recorder


async def at_rate(host: str, port: int, requests: list[bytes], rate: float) -> Recorder:
    """Request i leaves at start + i/rate (open loop), on an idle connection or a new one."""
    recorder = Recorder(len(requests))
    idle = [await _connect(host, port) for _ in range(8)]
    tasks: set[asyncio.Task[None]] = set()

    async def one(index: int) -> None:
        while idle and idle[-1].lost:  # closed by the server while idle (keep-alive timeout)
            idle.pop()
        connection = idle.pop() if idle else await _connect(host, port)
        await recorder.run_one(connection, index, requests[index])
        if not connection.lost:
            idle.append(connection)

    start = time.monotonic()
    for index in range(len(requests)):
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(index))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*tasks)
    return recorder


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark load generator (loopback only).")
    parser.add_argument("--target", required=True, help="bridge HOST:PORT on loopback")
    parser.add_argument("--tag", required=True, help="delivery id prefix of this phase")
    parser.add_argument("--count", type=int, required=True, help="requests to send")
    parser.add_argument("--mode", choices=["saturate", "rate"], required=True, help="load shape")
    parser.add_argument("--connections", type=int, default=64, help="saturate: connections")
    parser.add_argument("--rate", type=float, default=500.0, help="rate: requests per second")
    parser.add_argument("--report", help="write the JSON report to this file, not stdout")
    parser.add_argument(
        "--platforms",
        choices=["mixed", "shopify"],
        default="mixed",
        help="mixed: Shopify orders/create and Square inventory alternately; shopify: only those",
    )
    return parser.parse_args()


async def _main(args: argparse.Namespace) -> dict[str, object]:
    host, _, port = args.target.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit("the load generator only targets loopback")
    requests = build_requests(
        args.tag, args.count, args.target, shopify_only=args.platforms == "shopify"
    )
    # Ready: the caller takes its "before" measurements, then says go.
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()
    cpu_before = own_cpu_seconds()
    if args.mode == "saturate":
        recorder = await saturate(host, int(port), requests, args.connections)
    else:
        recorder = await at_rate(host, int(port), requests, args.rate)
    return {
        "sent_ns": list(recorder.sent),
        "acked_ns": list(recorder.acked),
        "outcomes": dict(recorder.outcomes),
        "cpu_s": own_cpu_seconds() - cpu_before,
    }


def main() -> None:
    """Prepares the requests, prints "ready", waits for a line on stdin, runs the phase and
    prints its JSON report on stdout (or to --report)."""
    args = _arguments()
    try:
        import uvloop

        report = uvloop.run(_main(args))
    except ImportError:
        report = asyncio.run(_main(args))
    text = json.dumps(report) + "\n"
    if args.report:  # a file: a report of several hundred KB arrives whole, whatever the pipe does
        temporary = f"{args.report}.tmp"
        with open(temporary, "w") as handle:
            handle.write(text)
        os.replace(temporary, args.report)
        return
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
