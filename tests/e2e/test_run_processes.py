"""`run` as two processes: the core and the bridge are children of one supervising parent."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import uuid
from pathlib import Path

import httpx

from bridge.samples import sample_body
from tests.support.bridge import SECRET, SECRET_ENV, post_signed, wait_for_event
from tests.support.processes import ServerProcess, run_argv, start_process
from tests.support.waiting import wait_for_sync

ENV = {**SECRET_ENV, "WEBHOOK_SECRET": SECRET, "COMMERCE_GATEWAY_PUBLISHER_TOKEN": "run-token"}


def _start_run(data_dir: Path) -> ServerProcess:
    ready = data_dir / "run-ready.json"
    return start_process(run_argv(data_dir, ready), ready, ENV)


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode() for part in raw.split(b"\0") if part]


def _children(parent: int) -> dict[str, int]:
    """The parent's live children by subcommand ("core", "bridge"), read from /proc."""
    found: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) != parent or fields[0] == "Z":
            continue
        argv = _cmdline(int(entry.name))
        for name in ("core", "bridge"):
            if name in argv:
                found[name] = int(entry.name)
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return state[state.rindex(")") + 2] == "Z"


async def test_run_serves_core_and_bridge_as_two_children_and_delivers(tmp_path: Path) -> None:
    with _start_run(tmp_path) as run:
        children = _children(run.pid)
        assert set(children) == {"core", "bridge"}
        assert children["core"] != children["bridge"]
        for pid in children.values():  # secrets travel in the environment, never in argv
            assert "run-token" not in " ".join(_cmdline(pid))
            assert SECRET not in " ".join(_cmdline(pid))
        assert set(run.ready) == {"grpc", "http"}
        body = sample_body("shopify", "orders/create")
        delivery = str(uuid.uuid4())
        async with httpx.AsyncClient(timeout=10) as client:
            response = await post_signed(
                client,
                f"http://{run.endpoint('http')}",
                "shopify",
                body,
                topic="orders/create",
                delivery_id=delivery,
            )
        assert response.status_code == 200, response.text
        event = await wait_for_event(run.endpoint("grpc"), lambda e: e.delivery_id == delivery)
        assert event.topic == "orders/create"
        assert run.terminate() == 0


def test_ready_file_is_written_once_both_children_serve(tmp_path: Path) -> None:
    with _start_run(tmp_path) as run:
        # When the ready file appears, both addresses already accept connections.
        assert httpx.get(f"http://{run.endpoint('http')}/healthz", timeout=5).status_code == 200
        host, _, port = run.endpoint("grpc").rpartition(":")
        with socket.create_connection((host, int(port)), timeout=5):
            pass
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".run-ready")]
        assert leftovers == []
        assert json.loads((tmp_path / "run-ready.json").read_text()) == run.ready


def test_sigkill_of_the_core_stops_run_with_a_clear_line_and_exit_1(tmp_path: Path) -> None:
    with _start_run(tmp_path) as run:
        children = _children(run.pid)
        os.kill(children["core"], signal.SIGKILL)
        assert run.process is not None
        code = run.process.wait(30)
        assert code == 1
        line = f"commerce-gateway run: the core (pid {children['core']}) was killed by SIGKILL"
        assert line + "; stopping the bridge" in run.stderr_tail()
        wait_for_sync(lambda: _gone(children["bridge"]), message="bridge child gone")


def test_sigterm_stops_both_children_and_exits_0(tmp_path: Path) -> None:
    with _start_run(tmp_path) as run:
        children = _children(run.pid)
        assert run.terminate() == 0
        assert all(_gone(pid) for pid in children.values())
        assert "commerce-gateway run:" not in run.stderr_tail()


def test_sigint_stops_run_started_in_the_background_with_sigint_ignored(tmp_path: Path) -> None:
    ready = tmp_path / "run-ready.json"
    # A non-interactive shell starts background jobs with SIGINT ignored; `exec` keeps that.
    command = "trap '' INT; exec " + shlex.join(run_argv(tmp_path, ready))
    with start_process(["sh", "-c", command], ready, ENV) as run:
        children = _children(run.pid)
        assert set(children) == {"core", "bridge"}
        assert run.process is not None
        run.process.send_signal(signal.SIGINT)
        assert run.process.wait(30) == 0
        assert all(_gone(pid) for pid in children.values())
