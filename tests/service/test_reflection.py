"""Server reflection under grpc.reflection.v1 (what current grpcurl and Postman ask first) and
v1alpha (older tools), with the same answers."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2 as messages

from service.server import SERVICE_NAME, RunningCore

METHODS = {
    "v1": "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "v1alpha": "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
}


async def _ask(
    address: str, method: str, request: messages.ServerReflectionRequest
) -> messages.ServerReflectionResponse:
    """One request over the raw method path (v1 and v1alpha share every message)."""
    async with grpc.aio.insecure_channel(address) as channel:
        open_call = channel.stream_stream(
            method,
            request_serializer=messages.ServerReflectionRequest.SerializeToString,
            response_deserializer=messages.ServerReflectionResponse.FromString,
        )
        call = open_call()  # type: ignore[call-arg]  # the stubs miss the optional iterator
        await call.write(request)
        reply: messages.ServerReflectionResponse = await call.read()
        await call.done_writing()
        return reply


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
async def test_reflection_lists_and_describes_under_both_versions(
    core_server: RunningCore, version: str
) -> None:
    method = METHODS[version]
    listed = await _ask(
        core_server.address, method, messages.ServerReflectionRequest(list_services="")
    )
    names = {service.name for service in listed.list_services_response.service}
    assert {
        SERVICE_NAME,
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= names
    for symbol in (SERVICE_NAME, "grpc.reflection.v1.ServerReflection"):
        described = await _ask(
            core_server.address,
            method,
            messages.ServerReflectionRequest(file_containing_symbol=symbol),
        )
        assert not described.HasField("error_response"), described.error_response
        protos = described.file_descriptor_response.file_descriptor_proto
        files = [descriptor_pb2.FileDescriptorProto.FromString(blob) for blob in protos]
        package = symbol.rpartition(".")[0]
        assert any(file.package == package for file in files)
