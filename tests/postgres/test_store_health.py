"""With PostgreSQL down the core's health is NOT_SERVING, its writer logs the outage once with a
count, and health is SERVING again once the database is back (the probe finds it)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api
from grpc_health.v1 import health_pb2, health_pb2_grpc

from service.server import SERVICE_NAME
from tests.postgres.streams import batch
from tests.support.core import core_stub, running_core
from tests.support.postgres import ThrowawayPostgres
from tests.support.waiting import wait_for

pytestmark = pytest.mark.postgres
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture
def own_server() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL server of this test only, as the test stops and restarts it."""
    server = ThrowawayPostgres()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


async def test_health_follows_the_database(
    tmp_path: Path, own_server: ThrowawayPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    url = await asyncio.to_thread(own_server.create_database, "health")
    async with (
        running_core(tmp_path / "core", store=url, store_probe_seconds=0.1) as core,
        core_stub(core.address) as stub,
        grpc.aio.insecure_channel(core.address) as channel,
    ):
        health = health_pb2_grpc.HealthStub(channel)

        async def status_is(status: int) -> bool:
            request = health_pb2.HealthCheckRequest(service=SERVICE_NAME)
            answer = await health.Check(request, timeout=5)
            return bool(answer.status == status)

        assert await status_is(SERVING)
        await stub.PublishEvents(api.PublishEventsRequest(events=batch("before", 2)))
        await asyncio.to_thread(own_server.stop, "immediate")
        await wait_for(lambda: status_is(NOT_SERVING), timeout=15, message="NOT_SERVING")
        for number in range(20):
            request = api.PublishEventsRequest(events=batch(f"down-{number}", 1))
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.PublishEvents(request)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        writer = [r for r in caplog.records if r.name == "service.store.postgres_writer"]
        assert len(writer) <= 3, [r.getMessage() for r in writer]

        await asyncio.to_thread(own_server.start)
        await wait_for(lambda: status_is(SERVING), timeout=20, message="SERVING again")
        reply = await stub.PublishEvents(api.PublishEventsRequest(events=batch("after", 1)))
        assert reply.results[0].sequence == 3  # no sequence lost to the failed commits
