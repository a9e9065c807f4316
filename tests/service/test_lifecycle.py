"""Health, shutdown and retention of a running core."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import core_service_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from service.server import SERVICE_NAME, RunningCore, start_core
from tests.service.events import inventory
from tests.support.core import CoreStub, core_settings, core_stub, running_core
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on both engines

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def test_health_is_not_serving_while_a_stream_is_open_at_shutdown(tmp_path: Path) -> None:
    core = await start_core(core_settings(tmp_path, shutdown_drain_seconds=2.0))
    async with grpc.aio.insecure_channel(core.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        check = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
        assert check.status == SERVING
        watch = health.Watch(health_pb2.HealthCheckRequest(service=""))
        assert (await watch.read()).status == SERVING
        stub = core_service_pb2_grpc.CoreServiceStub(channel)
        stream = stub.SubscribeEvents(api.SubscribeEventsRequest())
        await stream.initial_metadata()
        stopping = asyncio.create_task(core.stop())
        assert (await watch.read()).status == NOT_SERVING
        watch.cancel()  # an open health watch would hold the server for its whole grace
        assert not stream.done()
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await stream.read()
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
        await stopping


async def test_reflection_lists_the_core_service(core_server: RunningCore) -> None:
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    address = core_server.address
    async with grpc.aio.insecure_channel(address) as channel:
        reflect = reflection_pb2_grpc.ServerReflectionStub(channel)
        call = reflect.ServerReflectionInfo()
        await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
        reply = await call.read()
        await call.done_writing()
    names = {service.name for service in reply.list_services_response.service}
    assert SERVICE_NAME in names


async def publish(stub: CoreStub, *names: str) -> None:
    """Publishes one inventory event per name."""
    events = [inventory(name, "item", "9") for name in names]
    await stub.PublishEvents(api.PublishEventsRequest(events=events))


async def first_error(stub: CoreStub, after: int) -> grpc.aio.AioRpcError | None:
    """The error a subscription from `after` ends with at once, or None when it streams."""
    call = stub.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=after))
    try:
        await call.read()
    except grpc.aio.AioRpcError as error:
        return error
    finally:
        call.cancel()
    return None


async def test_cursor_older_than_compacted_log_is_out_of_range(tmp_path: Path) -> None:
    async with running_core(tmp_path) as core, core_stub(core.address) as stub:
        await publish(stub, "a", "b")
        deleted = await core.retention.compact_once(datetime.now(UTC) + timedelta(days=8))
        assert deleted == 2
        await publish(stub, "c", "d")
        error = await first_error(stub, 0)
        assert error is not None
        assert error.code() == grpc.StatusCode.OUT_OF_RANGE
        assert "oldest available sequence is 3" in (error.details() or "")
        call = stub.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=2))
        response = await call.read()
        call.cancel()
        assert isinstance(response, api.SubscribeEventsResponse)
        assert [event.sequence for event in response.events] == [3, 4]


async def test_retention_compacts_periodically(tmp_path: Path) -> None:
    async with (
        running_core(tmp_path, retention_hours=1e-7, retention_interval_seconds=0.02) as core,
        core_stub(core.address) as stub,
    ):
        await publish(stub, "a", "b", "c")

        async def compacted() -> bool:
            return await first_error(stub, 0) is not None

        await wait_for(compacted, message="the log to be compacted")
        error = await first_error(stub, 1)
        assert error is not None
        assert error.code() == grpc.StatusCode.OUT_OF_RANGE
