"""Test support: real server processes started like users start them, via a ready file."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from tests.support.waiting import wait_for_sync

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
_LIVE: set[ServerProcess] = set()


@atexit.register
def _kill_leftovers() -> None:
    """Never leave a server behind, even when a test forgot to close one."""
    for process in tuple(_LIVE):
        process.close()


class ServerProcess:
    """A server subprocess that writes a JSON ready file once serving.

    `endpoint(key)` reads an address from the ready file ("grpc", "http"); `kill()` sends
    SIGKILL, `terminate()` SIGTERM and waits, `restart()` starts the same command again.
    stderr goes to `stderr_path` for debugging. Use as a context manager to always clean up.
    """

    def __init__(
        self, argv: Sequence[str], ready_file: Path, env: Mapping[str, str] | None = None
    ) -> None:
        """Prepares (does not start) the process; see start()."""
        self.argv = list(argv)
        self.ready_file = ready_file
        self.env = dict(env) if env is not None else None
        handle, name = tempfile.mkstemp(prefix="server-", suffix=".stderr")
        os.close(handle)
        self.stderr_path = Path(name)
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self.ready: dict[str, Any] = {}

    def start(self, timeout: float = START_TIMEOUT) -> ServerProcess:
        """Starts the process and waits until its ready file appears."""
        self.ready_file.unlink(missing_ok=True)
        env = {**os.environ, **(self.env or {})}
        self._stderr = self.stderr_path.open("ab")
        # A session of its own, so kill() reaches worker processes too (uvicorn --workers).
        self.process = subprocess.Popen(
            self.argv,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            start_new_session=True,
        )
        process = self.process
        _LIVE.add(self)

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{self.argv} exited with {process.returncode}: {self.stderr_tail()}"
                )
            return self.ready_file.exists()

        wait_for_sync(ready, timeout=timeout, message=f"ready file {self.ready_file}")
        self.ready = json.loads(self.ready_file.read_text())
        return self

    def endpoint(self, key: str) -> str:
        """The address the ready file names under `key`, for example "grpc" or "http"."""
        return str(self.ready[key])

    @property
    def pid(self) -> int:
        """The running process id."""
        assert self.process is not None, "process not started"
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL to the process and its workers: they die at once, as in a crash."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._close_stderr()

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait for a graceful exit; returns the exit code."""
        assert self.process is not None, "process not started"
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise
        self._close_stderr()
        return self.process.returncode

    def restart(self) -> ServerProcess:
        """Stops the process if running (SIGTERM), then starts the same command again."""
        if self.process is not None and self.process.poll() is None:
            self.terminate()
        return self.start()

    def stderr_tail(self, limit: int = 4000) -> str:
        """The end of the captured stderr, for failure messages."""
        try:
            return self.stderr_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def _close_stderr(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def close(self) -> None:
        """Kills the process if still running and removes the stderr file."""
        self.kill()
        self.stderr_path.unlink(missing_ok=True)
        _LIVE.discard(self)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_process(
    argv: Sequence[str], ready_file: Path, env: Mapping[str, str] | None = None
) -> ServerProcess:
    """Starts any server command that accepts --ready-file (already in argv) and waits."""
    return ServerProcess(argv, ready_file, env).start()


def cli_argv(*args: str) -> list[str]:
    """The argv of `commerce-gateway ARGS...` run with this interpreter."""
    return [sys.executable, "-m", "launcher.cli", *args]


def run_argv(data_dir: Path, ready_file: Path, *extra: str) -> list[str]:
    """The argv of `commerce-gateway run` on free loopback ports, with `data_dir` and
    `ready_file`, then `extra` flags."""
    return cli_argv(
        "run",
        "--http",
        "127.0.0.1:0",
        "--grpc",
        "127.0.0.1:0",
        "--data-dir",
        str(data_dir),
        "--ready-file",
        str(ready_file),
        *extra,
    )


def start_core_process(
    data_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    listen: str = "127.0.0.1:0",
) -> ServerProcess:
    """Starts `commerce-gateway core` on `listen` with `data_dir`; endpoint("grpc") is its
    address. The port is kept on restart() only when `listen` names one explicitly."""
    data_dir.mkdir(parents=True, exist_ok=True)
    ready = data_dir / "core-ready.json"
    argv = cli_argv(
        "core", "--listen", listen, "--data-dir", str(data_dir), "--ready-file", str(ready)
    )
    return start_process(argv, ready, env)
