"""Small raw-ASGI helpers: header map, body chunks, JSON and problem responses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

import orjson

from bridge.body_budget import RETRY_AFTER_SECONDS
from bridge.intake import ClientDisconnectedError
from bridge.problems import PROBLEM_CONTENT_TYPE, ProblemError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def header_map(scope: Scope) -> dict[str, str]:
    """The request headers with lower-case names (latin-1 decoded, as HTTP defines)."""
    return {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
    }


async def body_chunks(receive: Receive) -> AsyncIterator[bytes]:
    """Yields the request body as it arrives."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnectedError
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def request_url(scope: Scope, headers: Mapping[str, str]) -> str:
    """The URL the client posted to, as far as the request shows it."""
    scheme = scope.get("scheme", "http")
    host = headers.get("host")
    if not host and scope.get("server"):
        server_host, server_port = scope["server"]
        host = f"{server_host}:{server_port}"
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scheme}://{host}{scope['path']}" + (f"?{query}" if query else "")


async def send_body(
    send: Send,
    status: int,
    body: bytes,
    content_type: str,
    extra_headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """Sends a complete response."""
    headers = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode("latin-1")),
        *extra_headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, document: object) -> None:
    """Sends a JSON response."""
    await send_body(send, status, orjson.dumps(document), "application/json")


async def send_problem(send: Send, problem: ProblemError, path: str) -> None:
    """Sends a problem+json response (with Allow on 405, Retry-After when overloaded)."""
    extra = [(b"allow", b"POST")] if problem.status == 405 else []
    if problem.kind == "overloaded":
        extra.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode("latin-1")))
    await send_body(send, problem.status, problem.body(path), PROBLEM_CONTENT_TYPE, extra)
