"""Starting the system as users run it: core, bridge, subscriber and load generator processes."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from tests.bench.payloads import SECRET, SQUARE_URL
from tests.support.processes import (
    REPO_ROOT,
    ServerProcess,
    cli_argv,
    start_core_process,
    start_process,
)

BRIDGE_ENV = {"WEBHOOK_SECRET": SECRET, "SQUARE_NOTIFICATION_URL": SQUARE_URL}


class BenchError(RuntimeError):
    """The benchmark cannot go on (a process failed, or an event was lost)."""


def start_core(data_dir: Path) -> ServerProcess:
    """`commerce-gateway core` on SQLite in `data_dir`, on a free loopback port."""
    return start_core_process(data_dir)


def start_bridge(data_dir: Path, core: str, workers: int) -> ServerProcess:
    """`commerce-gateway bridge` (uvicorn) forwarding to `core`, on a free loopback port."""
    data_dir.mkdir(parents=True, exist_ok=True)
    ready = data_dir / "bridge-ready.json"
    argv = cli_argv(
        "bridge",
        "--listen",
        "127.0.0.1:0",
        "--core",
        core,
        "--data-dir",
        str(data_dir),
        "--workers",
        str(workers),
        "--ready-file",
        str(ready),
    )
    return start_process(argv, ready, BRIDGE_ENV)


def start_raw_app(data_dir: Path) -> ServerProcess:
    """The bare ASGI app under uvicorn (the raw limit), on a free loopback port."""
    data_dir.mkdir(parents=True, exist_ok=True)
    ready = data_dir / "raw-ready.json"
    argv = [sys.executable, "-m", "tests.bench.raw_app", "--ready-file", str(ready)]
    return start_process(argv, ready)


def stop(server: ServerProcess) -> None:
    """Stops a server gracefully (SIGTERM), then closes it, which kills whatever is left of
    its process group (uvicorn workers included)."""
    with contextlib.suppress(subprocess.TimeoutExpired, AssertionError):
        server.terminate(timeout=10)
    server.close()


class SubscriberProcess:
    """A `tests.bench.subscriber` process driven by JSON lines on its stdin and stdout."""

    def __init__(self, core: str, subscriptions: int, log_dir: Path, after: int = 0) -> None:
        """Starts the process and waits until its subscriptions are started."""
        self.subscriptions = subscriptions
        log_dir.mkdir(parents=True, exist_ok=True)
        self._stderr = (log_dir / f"subscriber-{id(self)}.stderr").open("wb")
        argv = [
            sys.executable,
            "-m",
            "tests.bench.subscriber",
            "--core",
            core,
            "--subscriptions",
            str(subscriptions),
            "--after",
            str(after),
        ]
        self.process = subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self._read()

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def send(self, command: dict[str, Any]) -> None:
        """Sends one command without waiting for the answer."""
        stdin: IO[bytes] | None = self.process.stdin
        assert stdin is not None
        stdin.write(json.dumps(command).encode() + b"\n")
        stdin.flush()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise BenchError(f"subscriber process exited with {self.process.wait()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def answer(self) -> dict[str, Any]:
        """The answer to the last command sent."""
        return self._read()

    def close(self) -> None:
        """Asks the process to quit, then makes sure it is gone."""
        if self.process.poll() is None:
            try:
                self.send({"cmd": "quit"})
                self.process.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self._stderr.close()


def ask_all(processes: Sequence[SubscriberProcess], command: dict[str, Any]) -> list[Any]:
    """Sends `command` to every process (they work in parallel), then gathers the answers."""
    for process in processes:
        process.send(command)
    return [process.answer() for process in processes]


def run_loadgen(
    target: str,
    tag: str,
    count: int,
    mode: str,
    *,
    on_ready: Callable[[], object] | None = None,
    platforms: str = "mixed",
    **options: float,
) -> dict[str, Any]:
    """Runs one load generator phase in its own process and returns its report; `on_ready`
    runs once the generator has built its requests, just before it starts sending."""
    argv = [sys.executable, "-m", "tests.bench.loadgen", "--target", target, "--tag", tag]
    argv += ["--count", str(count), "--mode", mode, "--platforms", platforms]
    for name, value in options.items():
        argv += [f"--{name}", str(value)]
    with tempfile.TemporaryFile() as errors, tempfile.TemporaryDirectory() as reports:
        report_file = Path(reports) / "report.json"
        argv += ["--report", str(report_file)]
        process = subprocess.Popen(
            argv, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors
        )
        assert process.stdin is not None and process.stdout is not None
        if process.stdout.readline() == b"ready\n" and on_ready is not None:
            on_ready()
        try:
            process.communicate(b"go\n", timeout=240)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise BenchError(f"load generator phase {tag} did not finish in 240 s") from None
        errors.seek(0)
        if process.returncode != 0:
            raise BenchError(
                f"load generator failed: {errors.read()[-2000:].decode(errors='replace')}"
            )
        report: dict[str, Any] = json.loads(report_file.read_text())
    return report
