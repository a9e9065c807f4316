"""The one authorization table: every CoreService RPC is in it and refused without its role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from commercegateway.v1 import core_service_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from service.auth import (
    CORE_SERVICE,
    METHOD_PERMISSIONS,
    PERMISSIONS,
    AuthorizationInterceptor,
    Authorizer,
    Role,
)
from service.errors import PermissionDeniedError
from service.server import RunningCore
from tests.support.core import bearer, running_core

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on both engines

TOKENS: dict[Role, str] = {
    "publisher": "pub-secret",
    "session": "session-secret",
    "subscriber": "sub-secret",
}
REFUSED = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED}
SERVICE = core_service_pb2.DESCRIPTOR.services_by_name["CoreService"]


@pytest.fixture
async def guarded_core(tmp_path: Path) -> AsyncIterator[RunningCore]:
    """A core with the publisher, session and subscriber tokens set."""
    async with running_core(
        tmp_path,
        publisher_token=TOKENS["publisher"],
        session_token=TOKENS["session"],
        subscriber_token=TOKENS["subscriber"],
    ) as core:
        yield core


async def call_code(address: str, method: str, token: str | None) -> grpc.StatusCode:
    """The status of a call of `method` with an empty request (OK once a stream answers)."""
    metadata = bearer(token) if token is not None else None
    streaming = SERVICE.methods_by_name[method.rsplit("/", 1)[1]].server_streaming
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            if streaming:  # an allowed stream sends its headers at once, a refused one its status
                call: Any = channel.unary_stream(method, None, None)(b"", metadata=metadata)
                await call.initial_metadata()
                code: grpc.StatusCode = await call.code() if call.done() else grpc.StatusCode.OK
                call.cancel()
                return code
            await channel.unary_unary(method, None, None)(b"", metadata=metadata)
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK


@pytest.mark.unit
def test_every_rpc_of_the_service_is_in_the_table() -> None:
    served = {f"/{CORE_SERVICE}/{method.name}" for method in SERVICE.methods}
    assert SERVICE.full_name == CORE_SERVICE
    assert set(METHOD_PERMISSIONS) == served, "add the new RPC to service.auth.METHOD_PERMISSIONS"


@pytest.mark.parametrize(("method", "permission"), sorted(METHOD_PERMISSIONS.items()))
async def test_each_rpc_is_refused_without_its_role(
    guarded_core: RunningCore, method: str, permission: str
) -> None:
    address = guarded_core.address
    assert await call_code(address, method, None) == grpc.StatusCode.UNAUTHENTICATED
    assert await call_code(address, method, "guess") == grpc.StatusCode.UNAUTHENTICATED
    for role, token in TOKENS.items():
        code = await call_code(address, method, token)
        if permission in PERMISSIONS[role]:
            assert code not in REFUSED, f"{role} may call {method}"
        else:
            assert code == grpc.StatusCode.PERMISSION_DENIED, f"{role} may not call {method}"


async def test_health_and_reflection_are_open_and_unknown_methods_unimplemented(
    guarded_core: RunningCore,
) -> None:
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    async with grpc.aio.insecure_channel(guarded_core.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        check = await health.Check(health_pb2.HealthCheckRequest(service=CORE_SERVICE))
        assert check.status == health_pb2.HealthCheckResponse.SERVING
        reflect = reflection_pb2_grpc.ServerReflectionStub(channel)
        call = reflect.ServerReflectionInfo()
        await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
        reply = await call.read()
        await call.done_writing()
        assert CORE_SERVICE in {service.name for service in reply.list_services_response.service}
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await channel.unary_unary(f"/{CORE_SERVICE}/NoSuchMethod", None, None)(b"")
    assert unknown.value.code() == grpc.StatusCode.UNIMPLEMENTED


@dataclass
class _CallDetails:
    """What grpc tells an interceptor about a call."""

    method: str
    invocation_metadata: tuple[tuple[str, str], ...]


class _Aborted(Exception):
    pass


class _Context:
    """Records the status a refusing handler ends its call with."""

    code: grpc.StatusCode | None = None
    details = ""

    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.code, self.details = code, details
        raise _Aborted


@pytest.mark.unit
async def test_a_served_method_missing_from_the_table_is_refused_even_to_the_publisher() -> None:
    async def behaviour(request: bytes, context: Any) -> bytes:
        raise AssertionError("the handler of a method missing from the table ran")

    async def continuation(details: grpc.HandlerCallDetails) -> Any:
        return grpc.unary_unary_rpc_method_handler(behaviour)

    details: Any = _CallDetails(f"/{CORE_SERVICE}/AddedLater", bearer("p"))
    interceptor = AuthorizationInterceptor(Authorizer("p", "s"))
    handler: Any = await interceptor.intercept_service(continuation, details)
    context = _Context()
    with pytest.raises(_Aborted):
        await handler.unary_unary(b"", context)
    assert context.code == grpc.StatusCode.PERMISSION_DENIED
    assert context.details == f"/{CORE_SERVICE}/AddedLater is not in the authorization table"
    with pytest.raises(PermissionDeniedError):
        Authorizer(None, None).check_method("/other.v1.Service/Call", None)
    Authorizer("p", "s").check_method("/grpc.health.v1.Health/Check", None)  # open
