"""Test support: an in-process core on an ephemeral loopback port, and stubs to talk to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
from commercegateway.v1 import core_service_pb2_grpc

from service.server import RunningCore, start_core
from service.settings import CoreSettings

if TYPE_CHECKING:
    from commercegateway.v1.core_service_pb2_grpc import CoreServiceAsyncStub as CoreStub
else:
    CoreStub = core_service_pb2_grpc.CoreServiceStub

__all__ = [
    "BearerInterceptor",
    "CoreStub",
    "RunningCore",
    "StreamBearerInterceptor",
    "bearer",
    "core_settings",
    "core_stub",
    "running_core",
]


def core_settings(data_dir: Path, **overrides: Any) -> CoreSettings:
    """Settings for a test core: loopback port 0, the given data dir, no tokens by default."""
    values: dict[str, Any] = {"grpc_listen": "127.0.0.1:0", "data_dir": data_dir}
    values.update(overrides)
    return CoreSettings(**values)


@asynccontextmanager
async def running_core(data_dir: Path, **overrides: Any) -> AsyncIterator[RunningCore]:
    """Starts a core in this process (127.0.0.1:0) with CoreSettings overrides; stops it after.

    Example: `async with running_core(tmp_path, publisher_token="p") as core: ...core.address`.
    """
    core = await start_core(core_settings(data_dir, **overrides))
    try:
        yield core
    finally:
        await core.stop(grace=None)


@asynccontextmanager
async def core_stub(address: str, token: str | None = None) -> AsyncIterator[CoreStub]:
    """A CoreService stub over a fresh insecure channel; sends `token` as a bearer token."""
    interceptors: list[Any] = []
    if token is not None:
        interceptors = [BearerInterceptor(token), StreamBearerInterceptor(token)]
    async with grpc.aio.insecure_channel(address, interceptors=interceptors) as channel:
        yield core_service_pb2_grpc.CoreServiceStub(channel)


def bearer(token: str) -> tuple[tuple[str, str]]:
    """Call metadata carrying a bearer token."""
    return (("authorization", f"Bearer {token}"),)


def with_token(details: grpc.aio.ClientCallDetails, token: str) -> grpc.aio.ClientCallDetails:
    """The call details with a bearer token added to the metadata."""
    metadata = list(details.metadata or ()) + list(bearer(token))
    return grpc.aio.ClientCallDetails(
        details.method,
        details.timeout,
        grpc.aio.Metadata(*metadata),
        details.credentials,
        details.wait_for_ready,
    )


class BearerInterceptor(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    """Adds `authorization: Bearer <token>` to every unary call."""

    def __init__(self, token: str) -> None:
        """Sends `token` on every call."""
        self.token = token

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        """Adds the token to a unary call."""
        return await continuation(with_token(details, self.token), request)


class StreamBearerInterceptor(grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[type-arg]
    """Adds `authorization: Bearer <token>` to every server-streaming call (grpc uses an
    interceptor for one call type only, so unary and stream need separate instances)."""

    def __init__(self, token: str) -> None:
        """Sends `token` on every call."""
        self.token = token

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        """Adds the token to a server-streaming call."""
        return await continuation(with_token(details, self.token), request)
