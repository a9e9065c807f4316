"""Shopify's privacy webhooks through the real bridge and core, on both engines: a customer
redaction and a shop redaction leave no byte of the erased payloads in any file of the data dirs
(SQLite: core store, outbox, quarantine, their WAL; PostgreSQL: every row, and the table files
after VACUUM FULL), the log keeps its sequences as redacted entries, app/uninstalled is visible
through GetShop, an invalid HMAC on a privacy topic is answered 401, and `privacy export`
prints what is held about a customer."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import httpx
import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2

from bridge.quarantine import Quarantine
from tests.conftest import Engine
from tests.support.bridge import (
    SECRET_ENV,
    bridge_settings,
    log_before_sentinel,
    post_signed,
    running_bridge,
    running_stack,
    wait_for_event,
)
from tests.support.core import core_stub, running_core
from tests.support.group_member import GroupMember
from tests.support.postgres import ThrowawayPostgres, free_port
from tests.support.processes import cli_argv
from tests.support.waiting import wait_for

SHOP = "privacy-test.myshopify.com"
OTHER_SHOP = "other-shop.myshopify.com"
PRIVACY_TOPICS = ("customers/data_request", "customers/redact", "shop/redact", "app/uninstalled")
_TABLES = (
    "events",
    "alerts",
    "completions",
    "sessions",
    "session_bindings",
    "orders",
    "inventory_levels",
    "catalog",
    "shops",
    "consumer_groups",
    "group_deliveries",
    "group_members",
)


def order_body(order_id: int, customer_id: int, marker: str, *, currency: str = "USD") -> bytes:
    """An orders/create body whose customer (e-mail, name, address) and order fields (note
    attribute, line title, shipping address) carry `marker`."""
    person = {"first_name": marker, "last_name": "Doe", "address1": f"1 {marker} Street"}
    return json.dumps(
        {
            "id": order_id,
            "name": f"#{order_id} for {marker}",
            "email": f"{marker}@example.com",
            "currency": currency,
            "total_price": "10.00",
            "line_items": [  # the marker all along the stored event, not only at one end
                {"title": f"Gift {line} for {marker}", "quantity": 1, "price": "2.00", "sku": "S"}
                for line in range(5)
            ],
            "note_attributes": [{"name": "gift_note", "value": f"To {marker}"}],
            "customer": {
                "id": customer_id,
                "email": f"{marker}@example.com",
                "phone": "+15555550100",
                "default_address": person,
            },
            "shipping_address": person,
        }
    ).encode()


def redact_body(shop: str, customer_id: int, marker: str, orders: list[int]) -> bytes:
    """A customers/redact body (Shopify's shape) naming the customer and orders."""
    customer = {"id": customer_id, "email": f"{marker}@example.com", "phone": "+15555550100"}
    return json.dumps(
        {"shop_id": 1, "shop_domain": shop, "customer": customer, "orders_to_redact": orders}
    ).encode()


def files_holding(root: Path, needle: str, skip: tuple[str, ...] = ()) -> list[Path]:
    """Every file under `root` (not under a directory named in `skip`) containing `needle`."""
    found = []
    raw = needle.encode()
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in names:
            path = Path(folder) / name
            try:
                if raw in path.read_bytes():
                    found.append(path)
            except OSError:
                continue
    return found


async def post(
    client: httpx.AsyncClient, url: str, topic: str, body: bytes, shop: str = SHOP
) -> httpx.Response:
    """Posts a signed Shopify delivery."""
    return await post_signed(client, url, "shopify", body, topic=topic, shop=shop)


async def rows_holding(url: str, needle: str) -> list[str]:
    """The tables of the PostgreSQL store with a row holding `needle` (as text or bytes)."""
    conn = await asyncpg.connect(url)
    try:
        found = []
        for table in _TABLES:
            for row in await conn.fetch(f"SELECT * FROM {table}"):
                values = [bytes(v) if isinstance(v, bytes | memoryview) else str(v) for v in row]
                if any(
                    needle.encode() in v if isinstance(v, bytes) else needle in v for v in values
                ):
                    found.append(table)
        return found
    finally:
        await conn.close()


async def vacuum_full(url: str) -> None:
    """VACUUM FULL every table of the store, then a CHECKPOINT (writes the new table files)."""
    conn = await asyncpg.connect(url)
    try:
        for table in _TABLES:
            await conn.execute(f"VACUUM FULL {table}")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def assert_erased(
    request: pytest.FixtureRequest, engine: Engine, root: Path, gone: str, kept: str
) -> None:
    """No file under `root` holds `gone` (nor, on PostgreSQL, any row or table file after
    VACUUM FULL; the WAL directory is excluded, see the README), while `kept` is still held."""
    assert files_holding(root, gone) == []
    if engine.name == "sqlite":
        assert files_holding(root, kept), "the scan must see data that was not erased"
        return
    assert await rows_holding(engine.url, gone) == []
    assert await rows_holding(engine.url, kept)
    await vacuum_full(engine.url)
    server: ThrowawayPostgres = request.getfixturevalue("postgres_server")
    assert files_holding(server.datadir / "base", gone) == []
    assert files_holding(server.datadir / "base", kept)


def kept_count(data_dir: Path) -> int:
    """How many deliveries the bridge's quarantine in `data_dir` keeps."""
    quarantine = Quarantine(data_dir)
    try:
        return quarantine.count()
    finally:
        quarantine.close()


async def replay(address: str) -> list[events_pb2.Event]:
    """Every stored event (a sentinel published last bounds the replay)."""
    return [e for e in await log_before_sentinel(address) if e.shop != "sentinel"]


@asynccontextmanager
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the bridge."""
    async with httpx.AsyncClient(timeout=10.0) as http:
        yield http


async def test_a_customer_redaction_erases_core_quarantine_and_outbox_copies(
    tmp_path: Path, engine: Engine, request: pytest.FixtureRequest
) -> None:
    marker, kept = f"gone{uuid.uuid4().hex}", f"kept{uuid.uuid4().hex}"
    listen = f"127.0.0.1:{free_port()}"
    settings = bridge_settings(tmp_path / "bridge", listen, forward_deadline_ms=500)
    async with running_bridge(settings) as bridge, client() as http:
        async with running_core(tmp_path / "core", grpc_listen=listen):
            first = await post(http, bridge.url, "orders/create", order_body(101, 7, marker))
            other = await post(http, bridge.url, "orders/create", order_body(202, 8, kept))
            assert (first.status_code, other.status_code) == (200, 200), first.text
            bad = order_body(103, 7, marker, currency="DOLLARS")
            assert (await post(http, bridge.url, "orders/create", bad)).status_code == 422
            await wait_for_event(listen, lambda e: e.id == other.json()["event_id"])
        # The core is down: the next order waits in the outbox, and the redaction comes.
        waiting = await post(http, bridge.url, "orders/create", order_body(104, 7, marker))
        assert waiting.status_code == 200
        outbox = bridge.forwarder.outbox
        assert await outbox.depth() == 1 and kept_count(tmp_path / "bridge") == 1
        redact = redact_body(SHOP, 7, marker, [101])
        assert (await post(http, bridge.url, "customers/redact", redact)).status_code == 200
        assert kept_count(tmp_path / "bridge") == 0
        assert await outbox.depth() == 1  # the redaction itself, waiting for the core

        async def drained() -> bool:
            return await outbox.depth() == 0

        async with running_core(tmp_path / "core", grpc_listen=listen):
            done = await wait_for_event(listen, lambda e: e.HasField("customer_redacted"))
            await wait_for(drained, message="the outbox drained")
            events = await replay(listen)
            (entry,) = [e for e in events if e.redacted]  # order 101; 104 never left the outbox
            assert entry.WhichOneof("payload") is None and entry.sequence < done.sequence
            assert entry.topic == "orders/create" and entry.customer_id == ""
            assert [e.sequence for e in events] == sorted(e.sequence for e in events)
            survivors = [e for e in events if e.HasField("order_created")]
            assert [e.order_created.order_id for e in survivors] == ["202"]
            assert done.customer_redacted.order_ids == ["101"]
            await assert_erased(request, engine, tmp_path, marker, kept)


async def test_uninstall_is_visible_and_a_shop_redaction_erases_the_shop(
    tmp_path: Path, engine: Engine, request: pytest.FixtureRequest
) -> None:
    marker, kept = f"gone{uuid.uuid4().hex}", f"kept{uuid.uuid4().hex}"
    async with running_stack(tmp_path) as stack, client() as http:
        async with core_stub(stack.core_address) as stub:
            mine = await post(http, stack.url, "orders/create", order_body(301, 9, marker))
            theirs = order_body(302, 9, kept)
            other = await post(http, stack.url, "orders/create", theirs, shop=OTHER_SHOP)
            bad = order_body(303, 9, marker, currency="DOLLARS")
            assert (await post(http, stack.url, "orders/create", bad)).status_code == 422
            assert (mine.status_code, other.status_code) == (200, 200)
            installed = await stub.GetShop(api.GetShopRequest(shop=SHOP))
            assert installed.state == api.SHOP_STATE_INSTALLED
            uninstall = json.dumps({"id": 1, "name": "Shop", "myshopify_domain": SHOP}).encode()
            assert (await post(http, stack.url, "app/uninstalled", uninstall)).status_code == 200
            gone = await stub.GetShop(api.GetShopRequest(shop=SHOP))
            assert gone.state == api.SHOP_STATE_UNINSTALLED and gone.HasField("uninstall_time")
            assert files_holding(tmp_path, marker) or engine.name == "postgres"  # data stays
            body = json.dumps({"shop_id": 1, "shop_domain": SHOP}).encode()
            assert (await post(http, stack.url, "shop/redact", body)).status_code == 200
            redacted = await stub.GetShop(api.GetShopRequest(shop=SHOP))
            assert redacted.state == api.SHOP_STATE_REDACTED
            assert redacted.HasField("uninstall_time") and redacted.HasField("redact_time")
            with pytest.raises(grpc.aio.AioRpcError) as unknown:
                await stub.GetShop(api.GetShopRequest(shop="never.myshopify.com"))
            assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
        events = await replay(stack.core_address)
        mine_now = [e for e in events if e.shop == SHOP and not e.HasField("shop_redacted")]
        assert mine_now and all(e.redacted for e in mine_now)
        assert [e.order_created.order_id for e in events if e.shop == OTHER_SHOP] == ["302"]
        assert kept_count(stack.data_dir) == 0
        await assert_erased(request, engine, tmp_path, marker, kept)


@pytest.mark.parametrize("topic", [*PRIVACY_TOPICS, "CUSTOMERS_REDACT"])
async def test_an_invalid_hmac_on_a_privacy_topic_is_answered_401(
    tmp_path: Path, topic: str
) -> None:
    body = json.dumps({"shop_id": 1, "shop_domain": SHOP}).encode()
    async with running_stack(tmp_path) as stack, client() as http:
        forged = await post_signed(
            http, stack.url, "shopify", body, topic=topic, shop=SHOP, secret="wrong-secret"
        )
        usual = await post_signed(
            http, stack.url, "shopify", body, topic="orders/create", shop=SHOP, secret="wrong"
        )
    assert forged.status_code == 401
    assert forged.headers["content-type"].startswith("application/problem+json")
    problem = forged.json()
    assert (problem["status"], problem["reason"]) == (401, "bad_signature")
    assert problem["type"].endswith("authentication-failed")
    assert usual.status_code == 403


async def test_privacy_export_prints_what_core_and_bridge_hold(tmp_path: Path) -> None:
    marker = f"mark{uuid.uuid4().hex}"
    async with running_stack(tmp_path) as stack, client() as http:
        order = await post(http, stack.url, "orders/create", order_body(401, 11, marker))
        bad = order_body(402, 11, marker, currency="DOLLARS")
        assert (await post(http, stack.url, "orders/create", bad)).status_code == 422
        unrelated = await post(http, stack.url, "orders/create", order_body(403, 12, "someone"))
        request = {
            "shop_id": 1,
            "shop_domain": SHOP,
            "orders_requested": [401],
            "customer": {"id": 11, "email": f"{marker}@example.com", "phone": None},
            "data_request": {"id": 77},
        }
        asked = await post(http, stack.url, "customers/data_request", json.dumps(request).encode())
        assert (order.status_code, unrelated.status_code, asked.status_code) == (200, 200, 200)
        event = await wait_for_event(
            stack.core_address, lambda e: e.HasField("customer_data_requested")
        )
        assert event.customer_data_requested.data_request_id == "77"
        argv = cli_argv(
            "privacy", "export", "--shop", SHOP, "--customer", "11", "--core", stack.core_address
        )
        argv += ["--data-dir", str(stack.data_dir)]
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **SECRET_ENV},
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    document: dict[str, Any] = json.loads(out)
    core_events = document["core"]["events"]
    assert [e["order_created"]["order_id"] for e in core_events if "order_created" in e] == ["401"]
    assert [e["topic"] for e in core_events] == ["orders/create", "customers/data_request"]
    assert document["core"]["order_ids"] == ["401"]
    assert [entry["body"]["id"] for entry in document["quarantine"]] == [402]
    assert document["outbox"] == [] and document["customer_id"] == "11"


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--shop", "", "--customer", "11"], "--shop must name the shop"),
        (["--shop", SHOP, "--customer", ""], "--customer must name the customer id"),
        (["--shop", SHOP, "--customer", "11", "--data-dir", "missing"], "no bridge data dir"),
    ],
)
def test_privacy_export_refuses_bad_input_with_exit_2_and_creates_nothing(
    tmp_path: Path, flags: list[str], says: str
) -> None:
    argv = cli_argv("privacy", "export", *flags, "--core", "127.0.0.1:1")
    if "--data-dir" not in flags:
        (tmp_path / "bridge").mkdir()
        argv += ["--data-dir", str(tmp_path / "bridge")]
    done = subprocess.run(
        argv,
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **SECRET_ENV},
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert says in done.stderr
    assert not (tmp_path / "missing").exists()


async def test_a_redaction_erases_the_copies_consumer_groups_hold(
    tmp_path: Path, engine: Engine, request: pytest.FixtureRequest
) -> None:
    marker, kept = f"gone{uuid.uuid4().hex}", f"kept{uuid.uuid4().hex}"
    async with running_stack(tmp_path) as stack, client() as http:
        async with core_stub(stack.core_address) as stub:
            refuser = GroupMember(stub, "finalizer", lambda _d: "nack", start_after=0, nack_delay=1)
            holder = GroupMember(stub, "indexer", lambda _d: "hold", start_after=0)
            tasks = [asyncio.create_task(member.run()) for member in (refuser, holder)]
            try:
                mine = await post(http, stack.url, "orders/create", order_body(501, 5, marker))
                other = await post(http, stack.url, "orders/create", order_body(502, 6, kept))
                assert (mine.status_code, other.status_code) == (200, 200)

                async def parked_and_held() -> bool:
                    listed = await stub.ListParkedEvents(
                        api.ListParkedEventsRequest(group="finalizer")
                    )
                    return len(listed.events) == 2 and len(holder.held) == 2

                await wait_for(parked_and_held, timeout=60, message="parked and held copies")
                redact = redact_body(SHOP, 5, marker, [501])
                assert (await post(http, stack.url, "customers/redact", redact)).status_code == 200
                await wait_for_event(stack.core_address, lambda e: e.HasField("customer_redacted"))
                parked = await stub.ListParkedEvents(api.ListParkedEventsRequest(group="finalizer"))
                by_order = {p.event.order_created.order_id: p.event.redacted for p in parked.events}
                assert by_order == {"": True, "502": False}
            finally:
                for member in (refuser, holder):
                    member.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        await assert_erased(request, engine, tmp_path, marker, kept)
