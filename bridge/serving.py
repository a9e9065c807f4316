"""Running the bridge app under uvicorn in the caller's event loop (sockets, the event loop,
signals and the ready file are in `common.serving` and `common.ready_file`)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Generator

import uvicorn
from litestar import Litestar

from bridge.http_limits import HttpLimits
from bridge.http_protocol import LimitedConfig


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
