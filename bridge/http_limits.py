"""HttpLimits: the bounds every HTTP connection of the bridge is held to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HttpLimits:
    """Per-connection HTTP bounds (defaults as documented in the README).

    `max_header_bytes` bounds the whole request head (request line and header fields, 431),
    `max_header_line_bytes` one header field (431) or the request target (414),
    `max_header_count` the number of header fields (431). `header_timeout` is the time the
    whole head may take from its first byte (from the connection's start for the first
    request), `body_timeout` the time the whole body may take once the head is complete (408).
    After such an answer the connection is closed: the bridge discards what the client still
    sends for at most `linger_seconds` or `linger_bytes`, so that the client can read it.
    """

    max_header_bytes: int = 32_768
    max_header_line_bytes: int = 8_192
    max_header_count: int = 100
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    linger_seconds: float = 2.0
    linger_bytes: int = 1_048_576
