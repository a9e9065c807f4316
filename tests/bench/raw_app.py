"""The machine's raw limit: a bare ASGI app under uvicorn that answers the same POSTs.

It reads the whole body and answers 200 with a small JSON document, nothing else: no
verification, no parsing, no forwarding. Run as `python -m tests.bench.raw_app --ready-file F`.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import uvicorn

from bridge.serving import AppServer
from common.ready_file import write_ready_file
from common.serving import bind_socket, socket_address, stop_on_signals

_BODY = b'{"status":"accepted","event_id":null}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"37")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers every HTTP request 200 after reading its body."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


async def _serve(ready_file: str) -> None:
    sock = bind_socket("127.0.0.1:0")
    address = socket_address(sock)
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
    server = AppServer(config, on_started=lambda: write_ready_file(ready_file, {"http": address}))
    stop_on_signals(server.stop)
    await server.serve(sockets=[sock])


def main() -> None:
    """Serves the bare app on a free loopback port until SIGTERM."""
    parser = argparse.ArgumentParser(description="Bare ASGI app: the raw HTTP limit.")
    parser.add_argument("--ready-file", required=True, help='writes {"http": ADDR} once serving')
    ready_file = parser.parse_args().ready_file
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve(ready_file))
        return
    uvloop.run(_serve(ready_file))


if __name__ == "__main__":
    main()
