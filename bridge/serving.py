"""Running the bridge app under uvicorn in the caller's event loop, and the ready file."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import tempfile
from collections.abc import Callable, Coroutine, Generator
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar

from bridge.http_limits import HttpLimits
from bridge.http_protocol import LimitedConfig
from common.config_values import split_host_port


def bind_socket(listen: str) -> socket.socket:
    """A listening TCP socket on HOST:PORT (port 0 picks a free one)."""
    host, port = split_host_port(listen)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only when
    # the listening socket names it, and without it every response waits ~40 ms (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def socket_address(sock: socket.socket) -> str:
    """The bound address as HOST:PORT."""
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def write_ready_file(path: str | os.PathLike[str], content: dict[str, str]) -> None:
    """Writes the JSON object atomically (temporary file in the same directory, then rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".ready-")
    with os.fdopen(descriptor, "w") as handle:
        json.dump(content, handle)
    os.replace(temporary, target)


def uvicorn_config(
    app: Litestar | str,
    *,
    factory: bool = False,
    workers: int | None = None,
    limits: HttpLimits | None = None,
) -> uvicorn.Config:
    """uvicorn settings shared by every way of serving the bridge (logging is ours, JSON).

    The bridge app is served behind its webhook fast path (see bridge.fastpath). Connections
    are held to `limits`, else to those the bridge app names, else to the defaults."""
    from bridge.fastpath import HTTP_LIMITS_STATE_KEY, with_fast_path

    if limits is None and isinstance(app, Litestar):
        limits = app.state.get(HTTP_LIMITS_STATE_KEY)
    return LimitedConfig(
        with_fast_path(app) if isinstance(app, Litestar) else app,
        http_limits=limits or HttpLimits(),
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
        factory=factory,
        workers=workers,
    )


class AppServer(uvicorn.Server):
    """uvicorn.Server that leaves signals to its owner and reports when it serves."""

    def __init__(
        self, config: uvicorn.Config, on_started: Callable[[], None] | None = None
    ) -> None:
        """Wraps the config; `on_started` runs once the app has started and sockets listen."""
        super().__init__(config)
        self._on_started = on_started

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Signals are handled by the owner (see `stop_on_signals`), not by uvicorn."""
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Starts the app and the listeners, then calls `on_started`."""
        await super().startup(sockets=sockets)
        if self.started and self._on_started is not None:
            self._on_started()

    def stop(self) -> None:
        """Asks the server to finish (graceful)."""
        self.should_exit = True


def run_event_loop(main: Coroutine[Any, Any, None]) -> None:
    """Runs `main` on uvloop when installed (faster), else on asyncio's default loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)


def stop_on_signals(stop: Callable[[], None]) -> None:
    """Calls `stop` on SIGINT or SIGTERM (in the running loop)."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop)
