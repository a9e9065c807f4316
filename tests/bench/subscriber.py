"""A subscriber process: K gateway subscriptions through the Python client, one channel each.

Every subscription follows SubscribeEvents and notes, per phase tag (from the delivery id),
which requests it received, when, whether twice, and whether sequences ever went backwards.
Commands arrive as JSON lines on stdin; answers are JSON lines on stdout:
  {"cmd": "wait", "tag": T, "count": N, "times": bool, "timeout": s}  -> report of phase T
  {"cmd": "catchup", "through": S, "timeout": s}  -> a fresh subscription replays 1..S
  {"cmd": "quit"}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import defaultdict
from typing import Any

from commercegateway import CoreClient

from tests.bench.payloads import parse_delivery_id


class Tally:
    """What one subscription received, per phase tag."""

    def __init__(self) -> None:
        """Empty."""
        self.received: defaultdict[str, dict[int, int]] = defaultdict(dict)
        self.duplicates: defaultdict[str, int] = defaultdict(int)
        self.out_of_order = 0
        self.last_sequence = 0

    def note(self, delivery_id: str, sequence: int, now: int) -> int:
        """Records one event; returns how many of its phase this subscription has."""
        if sequence <= self.last_sequence:
            self.out_of_order += 1
        self.last_sequence = sequence
        tag, index = parse_delivery_id(delivery_id)
        seen = self.received[tag]
        if index in seen:
            self.duplicates[tag] += 1
        else:
            seen[index] = now
        return len(seen)

    def report(self, tag: str, count: int, times: bool) -> dict[str, Any]:
        """The phase's figures for this subscription (and forgets the phase)."""
        seen = self.received.pop(tag, {})
        report: dict[str, Any] = {
            "received": len(seen),
            "missing": sum(1 for index in range(count) if index not in seen),
            "duplicates": self.duplicates.pop(tag, 0),
            "out_of_order": self.out_of_order,
            "last_ns": max(seen.values(), default=0),
        }
        if times:
            report["times"] = sorted(seen.items())
        return report


class Subscribers:
    """K subscriptions and the bookkeeping to wait for a phase to be fully received."""

    def __init__(self, core: str, count: int, after: int) -> None:
        """Prepares `count` subscriptions of `core` after sequence `after`."""
        self.core = core
        self.clients = [CoreClient(core) for _ in range(count)]
        self.tallies = [Tally() for _ in range(count)]
        self.after = after
        self._target: tuple[str, int] | None = None
        self._complete = 0
        self._done = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Starts one consuming task per subscription."""
        self.tasks = [asyncio.create_task(self._consume(i)) for i in range(len(self.clients))]

    async def _consume(self, number: int) -> None:
        tally = self.tallies[number]
        subscription = self.clients[number].subscribe_events(after_sequence=self.after)
        async for event in subscription:
            have = tally.note(event.delivery_id, event.sequence, time.monotonic_ns())
            target = self._target
            if target is not None and have == target[1] and event.delivery_id.startswith(target[0]):
                self._complete += 1
                if self._complete == len(self.tallies):
                    self._done.set()

    async def wait(self, tag: str, count: int, times: bool, timeout: float) -> dict[str, Any]:
        """Waits until every subscription has `count` events of phase `tag`, then reports."""
        self._done.clear()
        self._complete = sum(1 for t in self.tallies if len(t.received.get(tag, ())) >= count)
        self._target = (tag + "-", count)
        if self._complete < len(self.tallies):
            try:
                async with asyncio.timeout(timeout):
                    await self._done.wait()
            except TimeoutError:
                pass  # the report shows what is missing
        self._target = None
        reports = [tally.report(tag, count, times) for tally in self.tallies]
        return {"subscriptions": reports}

    async def catchup(self, through: int, timeout: float) -> dict[str, Any]:
        """A fresh subscription replays from the start; rate and gaps of sequences 1..through."""
        gaps = received = 0
        expected = 1
        async with CoreClient(self.core) as client, asyncio.timeout(timeout):
            started = time.monotonic_ns()
            async for event in client.subscribe_events(after_sequence=0):
                received += 1
                gaps += event.sequence != expected
                expected = event.sequence + 1
                if event.sequence >= through:
                    break
            elapsed = (time.monotonic_ns() - started) / 1e9
        return {"received": received, "gaps": gaps, "seconds": elapsed}

    async def close(self) -> None:
        """Cancels the subscriptions and closes the channels."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.gather(*(client.close() for client in self.clients))


async def _commands(subscribers: Subscribers) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        if command["cmd"] == "quit":
            return
        if command["cmd"] == "wait":
            answer = await subscribers.wait(
                command["tag"], command["count"], command["times"], command["timeout"]
            )
        else:
            answer = await subscribers.catchup(command["through"], command["timeout"])
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


async def _main(args: argparse.Namespace) -> None:
    subscribers = Subscribers(args.core, args.subscriptions, args.after)
    subscribers.start()
    sys.stdout.write('{"ready": true}\n')
    sys.stdout.flush()
    try:
        await _commands(subscribers)
    finally:
        await subscribers.close()


def main() -> None:
    """Runs the subscriptions until stdin says quit or closes."""
    parser = argparse.ArgumentParser(description="Benchmark subscriber process.")
    parser.add_argument("--core", required=True, help="core HOST:PORT")
    parser.add_argument("--subscriptions", type=int, default=1, help="subscriptions (K)")
    parser.add_argument("--after", type=int, default=0, help="subscribe after this sequence")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(_main(args))
    except ImportError:
        asyncio.run(_main(args))


if __name__ == "__main__":
    main()
