"""`core --metrics HOST:PORT`: a Prometheus endpoint of a real core process, over HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import httpx
import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import core_service_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from tests.service.events import inventory
from tests.support.media_type import parse_media_type
from tests.support.processes import ServerProcess, cli_argv, start_process
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on both engines


def start_core_process(data_dir: Path) -> ServerProcess:
    """`commerce-gateway core --metrics 127.0.0.1:0` (its ready file names both addresses)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    ready = data_dir / "core-ready.json"
    argv = cli_argv(
        "core",
        "--listen",
        "127.0.0.1:0",
        "--metrics",
        "127.0.0.1:0",
        "--data-dir",
        str(data_dir),
        "--ready-file",
        str(ready),
    )
    return start_process(argv, ready)


def samples(text: str) -> dict[str, float]:
    """Every sample of an exposition by name (labels ignored), read by the official parser."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name] = found.get(sample.name, 0.0) + sample.value
    return found


async def test_core_metrics_over_http(tmp_path: Path) -> None:
    with start_core_process(tmp_path / "core") as core:
        metrics_url = f"http://{core.endpoint('metrics')}/metrics"
        async with (
            httpx.AsyncClient(timeout=5) as http,
            grpc.aio.insecure_channel(core.endpoint("grpc")) as channel,
        ):
            stub = core_service_pb2_grpc.CoreServiceStub(channel)
            stream = stub.SubscribeEvents(api.SubscribeEventsRequest())
            await stream.initial_metadata()
            events = [inventory(f"metrics-{n}", f"item-{n}", "3") for n in range(3)]
            await stub.PublishEvents(api.PublishEventsRequest(events=events))

            async def scraped() -> dict[str, float]:
                response = await http.get(metrics_url)
                assert response.status_code == 200
                kind, parameters = parse_media_type(response.headers["content-type"])
                assert (kind, parameters) == (
                    "text/plain",
                    {"version": "1.0.0", "charset": "utf-8"},
                )
                return samples(response.text)

            async def one_subscriber() -> bool:
                return (await scraped())["commerce_gateway_core_subscribers"] == 1

            await wait_for(one_subscriber, message="the subscriber counted")
            values = await scraped()
            assert values["commerce_gateway_core_events_stored_total"] >= 3
            assert values["commerce_gateway_core_commit_seconds_count"] >= 1
            assert values["commerce_gateway_core_store_errors_total"] == 0
            assert values["commerce_gateway_core_store_serving"] == 1
            assert values["commerce_gateway_core_last_sequence"] == 3
            assert "commerce_gateway_core_subscriber_lag_max_items" in values
            assert "commerce_gateway_core_subscriber_lag_sum_items" in values
            stream.cancel()

            async def no_subscriber() -> bool:
                return (await scraped())["commerce_gateway_core_subscribers"] == 0

            await wait_for(no_subscriber, message="the subscriber gone")
            assert (await http.get(f"http://{core.endpoint('metrics')}/other")).status_code == 404
            assert (await http.post(metrics_url)).status_code == 405
            assert await oversized_head_status(core.endpoint("metrics")) == 431


async def oversized_head_status(address: str) -> int:
    """The status a request with a 16 KiB header gets (the head is bounded at 8 KiB)."""
    host, _, port = address.rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 16384 + b"\r\n\r\n")
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])
