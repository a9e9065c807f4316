"""One validity contract: the bridge refuses (4xx) what the core would refuse, before any 2xx.

Through the real bridge and core: a Better Data body without shop_id is stored under the
configured default shop and its order completion reaches a subscriber; a NUL inside an id is a
422 (kept in the quarantine) with nothing stored, in the bridge and in the embeddable handler.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import httpx
import pytest
import pytest_asyncio
from commercegateway.v1 import core_service_pb2, core_service_pb2_grpc, events_pb2

from bridge import create_webhook_handler
from bridge.quarantine import Quarantine
from bridge.signing import rfc3339
from tests.bridge.test_handler import Recorder, serving
from tests.support.bridge import SECRET, Stack, log_before_sentinel, post_signed, running_stack
from tests.support.processes import REPO_ROOT, cli_argv

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """One core and one bridge (default settings) for the module."""
    async with running_stack(tmp_path_factory.mktemp("validity")) as running:
        yield running


def order_body(order_id: str, *, shop_id: str | None = None) -> bytes:
    """A Better Data order.created body; without `shop_id` unless one is given."""
    document: dict[str, object] = {
        "type": "order.created",
        "timestamp": rfc3339(datetime.now(UTC)),
        "data": {"order_id": order_id, "total_minor": 1999, "currency": "USD"},
    }
    if shop_id is not None:
        document["shop_id"] = shop_id
    return json.dumps(document).encode()


async def first_completion(address: str, shop: str, order_id: str) -> events_pb2.OrderCompletion:
    """Follows SubscribeOrderCompletions of `shop` from the start until `order_id` completes."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = core_service_pb2_grpc.CoreServiceStub(channel)
        request = core_service_pb2.SubscribeOrderCompletionsRequest(after_sequence=0, shop=shop)
        call = stub.SubscribeOrderCompletions(request)
        try:
            async with asyncio.timeout(10):
                async for response in call:
                    for completion in response.completions:
                        if completion.order_id == order_id:
                            return completion
        finally:
            call.cancel()
    raise AssertionError("stream ended without the completion")


async def test_betterdata_without_shop_id_completes_an_order_for_a_subscriber(
    stack: Stack,
) -> None:
    order_id = f"bd-{uuid.uuid4()}"
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await post_signed(client, stack.url, "betterdata", order_body(order_id))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted"
    completion = await first_completion(stack.core_address, "default", order_id)
    assert completion.shop == "default"
    assert completion.event_id == response.json()["event_id"]
    assert (completion.total.currency_code, completion.total.amount_minor) == ("USD", 1999)
    assert await stack.bridge.forwarder.outbox.counts() == (0, 0)
    line = await first_tail_line("orders", "--after", "0", "--shop", "default", stack=stack)
    assert line.startswith("#") and f"ORDER_COMPLETED default order {order_id}" in line


async def first_tail_line(*args: str, stack: Stack) -> str:
    """The first line `commerce-gateway tail ARGS` prints against the stack's core."""
    tail = await asyncio.create_subprocess_exec(
        *cli_argv("tail", *args, "--core", stack.core_address),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert tail.stdout is not None
        return (await asyncio.wait_for(tail.stdout.readline(), 15)).decode()
    finally:
        tail.kill()
        await tail.wait()


async def test_nul_in_an_id_is_422_quarantined_and_nothing_is_stored(stack: Stack) -> None:
    order_id = f"nul-{uuid.uuid4()}\u0000tail"
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await post_signed(
            client, stack.url, "betterdata", order_body(order_id, shop_id="shop_1")
        )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["reason"] == "invalid_event"
    assert problem["type"] == "urn:commerce-gateway:problem:schema-mismatch"
    assert any("NUL character" in error for error in problem["errors"])
    assert "quarantine" in problem["detail"]
    assert await stack.bridge.forwarder.outbox.counts() == (0, 0)
    stored = await log_before_sentinel(stack.core_address)
    assert not [e for e in stored if e.order_created.order_id.startswith(order_id[:40])]
    quarantine = Quarantine(stack.data_dir)
    try:
        reasons = [entry.reason for entry in quarantine.summaries()]
    finally:
        quarantine.close()
    assert "invalid_event" in reasons


async def test_an_empty_default_shop_refuses_a_body_without_shop_id(tmp_path: Path) -> None:
    async with (
        running_stack(tmp_path, betterdata_default_shop="") as strict,
        httpx.AsyncClient(timeout=5.0) as client,
    ):
        response = await post_signed(client, strict.url, "betterdata", order_body("o-1"))
        assert response.status_code == 422, response.text
        assert response.json()["reason"] == "invalid_event"
        assert any("shop is required" in error for error in response.json()["errors"])
        assert await strict.bridge.forwarder.outbox.counts() == (0, 0)


async def test_the_embeddable_handler_refuses_a_nul_id_without_calling_back() -> None:
    recorder = Recorder()
    handler = create_webhook_handler(secret=SECRET, on_order_complete=recorder.on_order_complete)
    async with serving(handler) as url, httpx.AsyncClient(timeout=5.0) as client:
        refused = await post_signed(client, url, "betterdata", order_body("a\u0000b"))
        taken = await post_signed(client, url, "betterdata", order_body("plain"))
    assert refused.status_code == 422
    assert refused.json()["reason"] == "invalid_event"
    assert taken.status_code == 200
    assert [(e.shop, e.order_created.order_id) for e in recorder.orders] == [("default", "plain")]
