"""`commerce-gateway tail` as a real subprocess: JSON lines, text lines, reconnection, Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest
from commercegateway import CoreClient, CursorExpiredError
from commercegateway.v1 import events_pb2
from google.protobuf import json_format

from launcher import cli
from tests.clients.events import SHOP, inventory_event, publish
from tests.clients.test_resume import publish_when_up
from tests.support.core import running_core
from tests.support.processes import cli_argv, start_core_process
from tests.support.waiting import wait_for

LINE_TIMEOUT = 15.0


# Starts a command with SIGINT ignored, as a non-interactive shell starts a background job
# (`cmd &`): exec keeps an ignored disposition.
IGNORING_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


async def start_tail(*args: str, sigint_ignored: bool = False) -> asyncio.subprocess.Process:
    """Starts `commerce-gateway tail ARGS` with piped stdout and stderr (optionally with
    SIGINT ignored, as in a background job)."""
    argv = cli_argv("tail", *args)
    if sigint_ignored:
        argv = [sys.executable, "-c", IGNORING_SIGINT, *argv]
    return await asyncio.create_subprocess_exec(
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def read_line(tail: asyncio.subprocess.Process) -> str:
    """The next line tail prints, failing after LINE_TIMEOUT seconds."""
    assert tail.stdout is not None
    line = await asyncio.wait_for(tail.stdout.readline(), LINE_TIMEOUT)
    assert line, "tail closed its stdout"
    return line.decode()


async def interrupt(
    tail: asyncio.subprocess.Process, signum: int = signal.SIGINT
) -> tuple[int, str]:
    """Sends Ctrl-C (SIGINT) or `signum`; returns the exit code and everything tail wrote
    to stderr."""
    tail.send_signal(signum)
    _, stderr = await asyncio.wait_for(tail.communicate(), LINE_TIMEOUT)
    assert tail.returncode is not None
    return tail.returncode, stderr.decode()


async def test_tail_json_prints_published_events_and_survives_a_core_restart(
    tmp_path: Path,
) -> None:
    published = [inventory_event("t1", "3"), inventory_event("t2", "0")]
    with start_core_process(tmp_path / "core") as core:
        target = core.endpoint("grpc")
        sequences = await publish_when_up(target, published)
        tail = await start_tail("events", "--json", "--after", "0", "--core", target)
        lines = [await read_line(tail) for _ in published]
        core.kill()
        with start_core_process(tmp_path / "core", listen=target):
            later = inventory_event("t3", "7")
            sequences += await publish_when_up(target, [later])
            lines.append(await read_line(tail))
            code, stderr = await interrupt(tail)

    expected = []
    for event, sequence in zip([*published, later], sequences, strict=True):
        stored = events_pb2.Event()
        stored.CopyFrom(event)
        stored.sequence = sequence
        expected.append(stored)
    assert [json_format.Parse(line, events_pb2.Event()) for line in lines] == expected
    assert all(line.count("\n") == 1 and "\n" not in line[:-1] for line in lines)
    assert "reconnecting" in stderr
    assert f"resuming after sequence {sequences[1]}" in stderr
    reconnected = f"tail: reconnected to {target}, resuming after #{sequences[1]}\n"
    assert reconnected in stderr
    assert stderr.index("reconnecting") < stderr.index(reconnected)
    assert code == 0
    assert "Traceback" not in stderr


async def test_tail_alerts_prints_one_readable_line_per_alert(tmp_path: Path) -> None:
    async with running_core(tmp_path) as core:
        results = await publish(core.address, [inventory_event("sku-gone", "0")])
        tail = await start_tail("alerts", "--after", "0", "--core", core.address)
        line = await read_line(tail)
        code, _ = await interrupt(tail)
    assert line == (f"#{results[0].sequence} OUT_OF_STOCK {SHOP} sku-gone at loc-1: ? -> 0\n")
    assert code == 0


@pytest.mark.parametrize(
    ("sigint_ignored", "signum"),
    [(True, signal.SIGINT), (False, signal.SIGTERM)],
    ids=["sigint-while-started-with-sigint-ignored", "sigterm"],
)
async def test_tail_stops_cleanly_on_sigint_in_a_background_job_and_on_sigterm(
    tmp_path: Path, sigint_ignored: bool, signum: int
) -> None:
    async with running_core(tmp_path) as core:
        results = await publish(core.address, [inventory_event("bg-1", "4")])
        tail = await start_tail(
            "events", "--after", "0", "--core", core.address, sigint_ignored=sigint_ignored
        )
        line = await read_line(tail)
        code, stderr = await interrupt(tail, signum)
    assert line.startswith(f"#{results[0].sequence} ")
    assert code == 0
    assert "Traceback" not in stderr


def test_tail_kind_outside_events_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["tail", "alerts", "--kind", "inventory_updated"]) == 2
    assert "--kind applies only to 'tail events'" in capsys.readouterr().err


async def test_tail_with_expired_cursor_exits_1_telling_to_resync(tmp_path: Path) -> None:
    async with running_core(
        tmp_path, retention_hours=1e-6, retention_interval_seconds=0.02
    ) as core:
        await publish(core.address, [inventory_event("gone-1"), inventory_event("gone-2")])

        async def compacted() -> bool:
            async with CoreClient(core.address) as client:
                try:
                    async with client.subscribe_events(after_sequence=0) as stream:
                        await anext(stream)
                except CursorExpiredError:
                    return True
            return False

        await wait_for(compacted, message="compaction")
        tail = await start_tail("events", "--after", "0", "--core", core.address)
        _, stderr = await asyncio.wait_for(tail.communicate(), LINE_TIMEOUT)
    assert tail.returncode == 1
    assert "oldest available sequence: 3" in stderr.decode()
    assert "ListInventoryLevels" in stderr.decode()


async def test_tail_with_wrong_token_exits_1_unauthenticated(tmp_path: Path) -> None:
    async with running_core(tmp_path, subscriber_token="right", publisher_token="p") as core:
        tail = await start_tail("orders", "--core", core.address, "--token", "wrong")
        stdout, stderr = await asyncio.wait_for(tail.communicate(), LINE_TIMEOUT)
    assert tail.returncode == 1
    lines = stderr.decode().splitlines()
    assert lines[0].startswith("tail: following orders on ")
    assert lines[-1].startswith("tail: unauthenticated")
    assert "wrong" not in stderr.decode()
    assert stdout == b""
