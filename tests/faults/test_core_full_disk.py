"""The core on a full disk (SQLite on a small tmpfs): health NOT_SERVING while its store
cannot commit, SERVING again once it can; failures logged once with a count; no sequence
consumed by a rolled-back commit."""

from __future__ import annotations

import logging
from pathlib import Path

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api
from grpc_health.v1 import health_pb2, health_pb2_grpc

from service.server import SERVICE_NAME
from tests.service.events import inventory
from tests.support.core import core_stub, running_core
from tests.support.disk import small_disk
from tests.support.waiting import wait_for

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
FAILING_PUBLISHES = 40


async def _health(address: str) -> int:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        answer = await stub.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=5)
        return int(answer.status)


async def test_full_disk_health_logs_and_dense_sequences(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with small_disk(tmp_path / "disk") as disk:
        async with (
            running_core(disk.path / "core", store_probe_seconds=0.1) as core,
            core_stub(core.address) as stub,
        ):
            first = await stub.PublishEvents(
                api.PublishEventsRequest(events=[inventory("before", "item", "5")])
            )
            assert first.results[0].sequence == 1
            assert await _health(core.address) == SERVING

            disk.fill()
            caplog.clear()
            for number in range(FAILING_PUBLISHES):
                event = inventory(f"full-{number}", "item", str(number))
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await stub.PublishEvents(api.PublishEventsRequest(events=[event]))
                assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
            assert await _health(core.address) == NOT_SERVING

            # 40 failed publishes (and the probes meanwhile): the first failure in full, one
            # line for the health change, no traceback per publish.
            errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
            assert len(errors) <= 3, [r.getMessage() for r in errors]
            assert sum(1 for r in errors if r.exc_info) == 1
            assert any("NOT_SERVING" in r.getMessage() for r in errors)

            disk.free()
            await wait_for(
                lambda: _is(core.address, SERVING), timeout=10, message="health SERVING again"
            )
            assert any("recovered after" in r.getMessage() for r in caplog.records)
            after = await stub.PublishEvents(
                api.PublishEventsRequest(events=[inventory("after", "item", "7")])
            )
            # The failed commits gave their sequences back: the log stays dense.
            assert after.results[0].sequence == 2
            replay = stub.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=0))
            sequences: list[int] = []
            async for response in replay:
                sequences.extend(event.sequence for event in response.events)
                if response.sequence >= 2:
                    break
            replay.cancel()
            assert sequences == [1, 2]


async def _is(address: str, status: int) -> bool:
    return await _health(address) == status
