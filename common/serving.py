"""Serving helpers shared by every server process: a listening socket, its address, the event
loop (uvloop when installed) and stopping on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Callable, Coroutine
from typing import Any

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
