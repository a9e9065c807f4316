"""The bridge's gRPC channel to the core: target, TLS and the publisher's bearer token."""

from __future__ import annotations

from pathlib import Path

import grpc

CHANNEL_OPTIONS = (
    # The core may be down for a while: reconnect quickly once it is back.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
)


def core_credentials(tls: bool, ca_file: Path | None) -> grpc.ChannelCredentials | None:
    """TLS credentials for the core (a CA file, else the system roots when `tls`), or None."""
    if ca_file is not None:
        return grpc.ssl_channel_credentials(root_certificates=ca_file.read_bytes())
    return grpc.ssl_channel_credentials() if tls else None


def open_core_channel(
    target: str, credentials: grpc.ChannelCredentials | None = None
) -> grpc.aio.Channel:
    """An asyncio channel to the core, with TLS when credentials are given."""
    if credentials is None:
        return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)
    return grpc.aio.secure_channel(target, credentials, options=CHANNEL_OPTIONS)


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    """The call metadata carrying the publisher token (none when the token is empty)."""
    return (("authorization", f"Bearer {token}"),) if token else ()
