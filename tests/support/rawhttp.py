"""Test support: a raw TCP client for HTTP requests no ordinary client sends (slow, huge, cut).

It keeps every byte the server sends, even when the server then resets the connection (an
asyncio stream would raise and lose them), so that a test can read the answer to a request it
was still sending.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class RawConnection(asyncio.Protocol):
    """One client connection: `write` what you like, read `received`, wait on `closed`
    (set once the server closed or reset the connection, or we closed it)."""

    def __init__(self) -> None:
        """Not connected yet; use `open_raw`."""
        self.transport: asyncio.Transport | None = None
        self.received = bytearray()
        self.closed = asyncio.Event()
        self._writable = True
        self._changed = asyncio.Event()  # set on any change: writable, data, closed

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keeps the transport."""
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        """Keeps what the server sent."""
        self.received += data
        self._changed.set()

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone (closed or reset by either side)."""
        self.closed.set()
        self._changed.set()

    def pause_writing(self) -> None:
        """The kernel buffer is full."""
        self._writable = False

    def resume_writing(self) -> None:
        """The kernel buffer drained."""
        self._writable = True
        self._changed.set()

    async def write(self, data: bytes) -> bool:
        """Writes `data` once the buffer has room. False, without writing, once the server has
        answered or the connection is gone (a client that reads while it sends stops there)."""
        while not self._done() and not self._writable:
            await self._changed.wait()
            self._changed.clear()
        if self._done() or self.transport is None or self.transport.is_closing():
            return False
        self.transport.write(data)
        return True

    def _done(self) -> bool:
        return self.closed.is_set() or bool(self.received)

    def close(self) -> None:
        """Closes the connection from our side."""
        if self.transport is not None:
            self.transport.close()

    @property
    def answered(self) -> bool:
        """Whether a whole response head arrived."""
        return b"\r\n\r\n" in self.received

    def status(self) -> int | None:
        """The status code of the first response, once its status line arrived."""
        line, found, _ = bytes(self.received).partition(b"\r\n")
        return int(line.split(b" ")[1]) if found else None

    def response(self) -> tuple[int, dict[str, str], Any]:
        """(status, lower-case headers, JSON body) of the first, complete response."""
        head, _, body = bytes(self.received).partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        return int(lines[0].split(" ")[1]), headers, json.loads(body[:length]) if length else None


async def open_raw(address: str) -> RawConnection:
    """A RawConnection to HOST:PORT (loopback in tests)."""
    host, _, port = address.rpartition(":")
    loop = asyncio.get_running_loop()
    _, connection = await loop.create_connection(RawConnection, host, int(port))
    return connection
