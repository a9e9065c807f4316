"""Process supervision for `commerce-gateway run`: the core and the bridge as two children.

The parent starts `commerce-gateway core`, waits for its ready file, starts
`commerce-gateway bridge` against the core's address, waits for its ready file, then writes the
one ready file of `run`. SIGINT or SIGTERM to the parent stops the bridge first (it finishes
what it holds), then the core. A child that exits on its own takes the other down, and the
parent exits 1 with one line naming it. Children log to the parent's stderr; they get the
parent's environment (tokens and secrets travel there, never on a command line) and the
resolved listen addresses and data directory as flags.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger("launcher.supervisor")

# The console script's module: children run as `python -m CLI_MODULE core|bridge ...`.
CLI_MODULE = "launcher.cli"
START_TIMEOUT_SECONDS = 60.0  # bound on each child's start (until its ready file appears)
STOP_TIMEOUT_SECONDS = 30.0  # bound on each child's graceful stop before SIGKILL
POLL_SECONDS = 0.05  # how often a ready file is looked for while a child starts
_PR_SET_PDEATHSIG = 1


class ChildFailed(RuntimeError):
    """A child exited, or did not become ready in time; the message names it."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        """Keeps the exit code `run` should end with."""
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class ChildPlan:
    """What `run` starts: the core's and the bridge's flags (no secret among them)."""

    core_flags: Sequence[str]
    bridge_flags: Sequence[str]


def exit_description(code: int) -> str:
    """How a child ended, for a person: "exited with code N" or "was killed by SIGNAME"."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with code {code}"


def _child_setup() -> None:
    """In the child before exec: a process group of its own (a terminal's Ctrl-C reaches the
    parent only, which stops the children in order), and SIGTERM when the parent dies."""
    os.setpgid(0, 0)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """One child process (`core` or `bridge`) with its own ready file."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, ready_file: Path) -> None:
        """Wraps a started process."""
        self.name = name
        self.process = process
        self.ready_file = ready_file

    @classmethod
    async def start(cls, name: str, flags: Sequence[str], workdir: Path) -> Child:
        """Starts `commerce-gateway NAME FLAGS --ready-file ...` with the parent's env."""
        ready_file = workdir / f"{name}-ready.json"
        argv = [sys.executable, "-m", CLI_MODULE, name, *flags, "--ready-file", str(ready_file)]
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, preexec_fn=_child_setup
        )
        logger.info("started %s", name, extra={"pid": process.pid})
        return cls(name, process, ready_file)

    async def ready(self, stopping: asyncio.Event) -> dict[str, str] | None:
        """The child's ready file content once it serves; None when a stop was asked first.
        Raises ChildFailed when the child exits or takes longer than START_TIMEOUT_SECONDS."""
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_SECONDS
        while not self.ready_file.exists():
            if self.process.returncode is not None:
                raise ChildFailed(
                    f"the {self.name} {exit_description(self.process.returncode)} before serving",
                    self.process.returncode if self.process.returncode > 0 else 1,
                )
            if stopping.is_set():
                return None
            if asyncio.get_running_loop().time() > deadline:
                raise ChildFailed(
                    f"the {self.name} did not start within {START_TIMEOUT_SECONDS:.0f} s"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), POLL_SECONDS)
        content: dict[str, str] = json.loads(self.ready_file.read_text())
        return content

    async def stop(self) -> bool:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT_SECONDS; True when it stopped cleanly."""
        if self.process.returncode is not None:
            return True
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            logger.error(
                "the %s did not stop in %.0f s: killing it", self.name, STOP_TIMEOUT_SECONDS
            )
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()
            return False
        return code == 0


def write_ready_file(path: Path, content: dict[str, str]) -> None:
    """Writes JSON to `path` atomically (temporary file, then rename)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(content))
    temporary.replace(path)


async def _first_exit(children: Sequence[Child], stopping: asyncio.Event) -> Child | None:
    """The first child to exit, or None when a stop was asked first."""
    waits = {asyncio.ensure_future(child.process.wait()): child for child in children}
    stop = asyncio.ensure_future(stopping.wait())
    try:
        done, _ = await asyncio.wait([stop, *waits], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (stop, *waits):
            task.cancel()
    exited = [child for task, child in waits.items() if task in done]
    return exited[0] if exited and not stop.done() else None


async def _serve(plan: ChildPlan, ready_file: Path | None, workdir: Path) -> int:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    children: list[Child] = []
    code = 0
    try:
        core = await Child.start("core", plan.core_flags, workdir)
        children.append(core)
        core_ready = await core.ready(stopping)
        if core_ready is None:
            return 0
        bridge_flags = [*plan.bridge_flags, "--core", core_ready["grpc"]]
        bridge = await Child.start("bridge", bridge_flags, workdir)
        children.append(bridge)
        bridge_ready = await bridge.ready(stopping)
        if bridge_ready is None:
            return 0
        content = {"grpc": core_ready["grpc"], "http": bridge_ready["http"]}
        if "metrics" in core_ready:
            content["metrics"] = core_ready["metrics"]
        logger.info("commerce-gateway serving", extra=content)
        if ready_file is not None:
            write_ready_file(ready_file, content)
        exited = await _first_exit(children, stopping)
        if exited is not None:
            assert exited.process.returncode is not None
            others = " and ".join(c.name for c in children if c is not exited) or "nothing"
            raise ChildFailed(
                f"the {exited.name} (pid {exited.process.pid})"
                f" {exit_description(exited.process.returncode)}; stopping the {others}"
            )
    except ChildFailed as error:
        print(f"commerce-gateway run: {error}", file=sys.stderr, flush=True)
        code = error.exit_code
    finally:
        for child in reversed(children):  # the bridge first: it forwards to the core
            if not await child.stop() and code == 0:
                code = 1
        logger.info("commerce-gateway stopped")
    return code


def supervise(plan: ChildPlan, ready_file: Path | None) -> int:
    """Runs core and bridge as children until a signal or a child's exit; the exit code."""
    with tempfile.TemporaryDirectory(prefix="commerce-gateway-run-") as workdir:
        return asyncio.run(_serve(plan, ready_file, Path(workdir)))
