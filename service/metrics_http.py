"""MetricsServer: a minimal asyncio HTTP/1.1 endpoint serving `GET /metrics` (Prometheus)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable

from common.config_values import split_host_port

logger = logging.getLogger(__name__)

MAX_REQUEST_HEAD_BYTES = 8192  # request line and headers; more is answered 431
REQUEST_TIMEOUT_SECONDS = 5.0  # to receive the request head; then the connection is closed
MAX_CONNECTIONS = 16  # served at once; more are answered 503 at once
# After answering, unread request bytes are read and dropped (at most this many, this long)
# before closing, so the answer is not lost to a TCP reset ("lingering close").
LINGER_BYTES = 65536
LINGER_SECONDS = 1.0
_REASONS = {
    200: "OK",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


async def _drop_unread(reader: asyncio.StreamReader) -> None:
    left = LINGER_BYTES
    try:
        async with asyncio.timeout(LINGER_SECONDS):
            while left > 0:
                chunk = await reader.read(min(left, 8192))
                if not chunk:
                    return
                left -= len(chunk)
    except TimeoutError:
        return


def _response(status: int, body: bytes, content_type: str, head_only: bool = False) -> bytes:
    headers = [
        f"HTTP/1.1 {status} {_REASONS[status]}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    if status == 405:
        headers.append("Allow: GET, HEAD")
    head = ("\r\n".join(headers) + "\r\n\r\n").encode("ascii")
    return head if head_only else head + body


class MetricsServer:
    """Serves `render()` with `content_type` at /metrics on one address; anything else 404."""

    def __init__(self, render: Callable[[], bytes], content_type: str) -> None:
        """Prepares the server; start() binds it."""
        self._render = render
        self._content_type = content_type
        self._server: asyncio.Server | None = None
        self._active = 0
        self.address = ""

    async def start(self, listen: str) -> str:
        """Listens on HOST:PORT (port 0 picks one); returns the bound HOST:PORT."""
        host, port = split_host_port(listen)
        try:
            self._server = await asyncio.start_server(
                self._serve, host, port, reuse_address=True, limit=MAX_REQUEST_HEAD_BYTES
            )
        except OSError as error:
            raise OSError(f"cannot listen on {listen} (metrics): {error.strerror}") from None
        sock: socket.socket = self._server.sockets[0]
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.address = f"{shown}:{bound_port}"
        logger.info("core metrics serving", extra={"address": self.address})
        return self.address

    async def stop(self) -> None:
        """Stops listening and closes open connections."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._active += 1
        try:
            if self._active > MAX_CONNECTIONS:
                writer.write(_response(503, b"too many connections\n", "text/plain"))
            else:
                writer.write(await self._answer(reader))
            await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
            await _drop_unread(reader)
        except (ConnectionError, OSError):
            pass
        finally:
            self._active -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader) -> bytes:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            return _response(408, b"request head not received in time\n", "text/plain")
        except asyncio.LimitOverrunError:
            return _response(431, b"request head too large\n", "text/plain")
        except asyncio.IncompleteReadError:
            return b""
        method, _, rest = head.decode("latin-1").partition(" ")
        target = rest.partition(" ")[0].partition("?")[0]
        if target != "/metrics":
            return _response(404, b"not found: only /metrics is served here\n", "text/plain")
        if method not in ("GET", "HEAD"):
            return _response(405, b"only GET and HEAD\n", "text/plain")
        return _response(200, self._render(), self._content_type, head_only=method == "HEAD")
