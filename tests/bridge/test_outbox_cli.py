"""Parked outbox entries are visible (metric, /readyz, `commerce-gateway outbox`) and operable.

An entry is forced into the outbox as an older bridge would have written it (the core down),
then the real bridge and core start: the drain delivers the valid event and parks the one the
core refuses.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from commercegateway.v1 import events_pb2

from bridge.outbox import OUTBOX_FILE, Outbox
from bridge.outbox_admin import drop, list_entries
from bridge.quarantine import Quarantine
from tests.support.bridge import SECRET_ENV, log_before_sentinel, running_stack, wait_for_event
from tests.support.core import running_core
from tests.support.processes import REPO_ROOT, cli_argv
from tests.support.waiting import wait_for


def order_event(
    order_id: str, shop: str = "shop_1", topic: str = "order.created"
) -> events_pb2.Event:
    """A Better Data order event as the bridge builds it."""
    source = f"outbox-cli-{uuid.uuid4()}"
    return events_pb2.Event(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"betterdata:{source}")),
        platform=events_pb2.PLATFORM_BETTERDATA,
        source_event_id=source,
        shop=shop,
        topic=topic,
        delivery_id=source,
        order_created=events_pb2.OrderCreated(
            order_id=order_id, state=events_pb2.ORDER_STATE_COMPLETED
        ),
    )


async def cli(data_dir: Path, core: str, *args: str) -> tuple[int, str, str]:
    """Runs `commerce-gateway outbox --data-dir DIR ARGS` as an operator would."""
    process = await asyncio.create_subprocess_exec(
        *cli_argv("outbox", "--data-dir", str(data_dir), *args),
        cwd=REPO_ROOT,
        env={**os.environ, **SECRET_ENV, "COMMERCE_GATEWAY_CORE": core},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_parked_entry_is_visible_and_can_be_redriven_and_dropped(tmp_path: Path) -> None:
    refused = order_event("bad\x00id", shop="shop\x1b[31m", topic="order.created\x9b2J")
    good = order_event("good-1")
    outbox = Outbox(tmp_path / "bridge")
    await outbox.add([refused, good])
    outbox.close()
    async with running_stack(tmp_path) as stack, httpx.AsyncClient(timeout=5.0) as client:
        await wait_for_event(stack.core_address, lambda e: e.id == good.id)
        counts = stack.bridge.forwarder.outbox.counts

        async def parked() -> bool:
            return await counts() == (0, 1)

        await wait_for(parked, message="the refused event parked")
        metrics = await client.get(f"{stack.url}/metrics")
        assert "commerce_gateway_bridge_outbox_parked 1.0" in metrics.text
        assert (await client.get(f"{stack.url}/readyz")).json()["outbox_parked"] == 1

        async def run(*args: str) -> tuple[int, str, str]:
            return await cli(stack.data_dir, stack.core_address, *args)

        code, out, _ = await run("--json", "list")
        assert code == 0
        (entry,) = json.loads(out)
        assert (entry["state"], entry["event_id"], entry["kind"]) == (
            "parked",
            refused.id,
            "order_created",
        )
        assert entry["platform"] == "betterdata" and "NUL character" in entry["parked_reason"]
        code, text, _ = await run("list", "--parked")
        assert code == 0 and "parked: " in text and "NUL character" in text
        assert "\x1b" not in text and "\x9b" not in text and "shop\\x1b[31m" in text

        code, text, _ = await run("show", str(entry["id"]))
        assert code == 0 and "order_created" in text and refused.id in text
        assert "\x1b" not in text and "\x9b" not in text and "\\x9b2J" in text
        code, out, _ = await run("--json", "show", str(entry["id"]))
        assert json.loads(out)["event"]["shop"] == "shop\x1b[31m"

        code, out, _ = await run("redrive", str(entry["id"]))
        assert code == 1 and "rejected" in out and "NUL character" in out
        assert await counts() == (0, 1)

        code, out, _ = await run("drop", str(entry["id"]))
        assert code == 0 and "dropped" in out
        code, out, _ = await run("list")
        assert code == 0 and out.strip() == "outbox is empty"
        metrics = await client.get(f"{stack.url}/metrics")
        assert "commerce_gateway_bridge_outbox_parked 0.0" in metrics.text
        assert (await client.get(f"{stack.url}/readyz")).json()["outbox_parked"] == 0
        log = await log_before_sentinel(stack.core_address)
        assert refused.id not in {event.id for event in log}


async def test_redrive_all_publishes_waiting_and_parked_entries(tmp_path: Path) -> None:
    waiting, parked = order_event("w-1"), order_event("p-1")
    outbox = Outbox(tmp_path / "bridge")
    await outbox.add([waiting, parked])
    entries = await list_entries(outbox)
    await outbox.park(entries[1].entry_id, "refused by an older core")
    async with running_core(tmp_path / "core") as core:
        code, out, err = await cli(tmp_path / "bridge", core.address, "--json", "redrive", "--all")
        assert code == 0, out + err
        assert [o["result"] for o in json.loads(out)] == ["stored", "stored"]
        assert await outbox.counts() == (0, 0)
        stored = {event.id for event in await log_before_sentinel(core.address)}
        assert {waiting.id, parked.id} <= stored
        code, out, _ = await cli(tmp_path / "bridge", core.address, "redrive", "12345")
        assert code == 1 and "missing" in out
    outbox.close()


async def test_drop_keeps_entries_still_waiting_and_reports_missing_ones(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    await outbox.add([order_event("still-waiting")])
    (entry,) = await list_entries(outbox)
    assert (await drop(outbox, entry.entry_id)).result == "refused"
    assert (await drop(outbox, entry.entry_id + 1)).result == "missing"
    assert await outbox.counts() == (1, 0)
    outbox.close()


def _deny_column(table: str, column: str) -> object:
    def authorize(action: int, arg1: str | None, arg2: str | None, *_: object) -> int:
        if action == sqlite3.SQLITE_READ and (arg1, arg2) == (table, column):
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    return authorize


async def test_listing_never_reads_an_event_or_a_body(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    await outbox.add([order_event("o-1"), order_event("o-2")])
    outbox.db.call(lambda c: c.set_authorizer(_deny_column("outbox", "event")))  # type: ignore[arg-type]
    listed = await list_entries(outbox)
    assert [entry.kind for entry in listed] == ["order_created", "order_created"]
    assert all(entry.size > 0 for entry in listed)
    outbox.close()
    quarantine = Quarantine(tmp_path)
    await quarantine.add(
        platform="betterdata",
        topic="order.created",
        delivery_id="d-1",
        reason="schema_mismatch",
        errors=["data.order_id: missing"],
        headers={},
        body=b'{"type": "order.created"}',
        received_at=datetime.now(UTC),
    )
    quarantine.db.call(lambda c: c.set_authorizer(_deny_column("quarantine", "body")))  # type: ignore[arg-type]
    assert [entry.size for entry in quarantine.summaries()] == [25]
    quarantine.close()


async def test_an_outbox_file_of_the_previous_version_is_upgraded(tmp_path: Path) -> None:
    event = order_event("old-1")
    with sqlite3.connect(tmp_path / OUTBOX_FILE) as connection:
        connection.execute(
            "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL,"
            " event BLOB NOT NULL, created_at REAL NOT NULL, parked INTEGER NOT NULL DEFAULT 0)"
        )
        connection.execute(
            "INSERT INTO outbox (event_id, event, created_at, parked) VALUES (?, ?, ?, 1)",
            (event.id, event.SerializeToString(), 1.0),
        )
    connection.close()
    outbox = Outbox(tmp_path)
    (entry,) = await list_entries(outbox)
    assert (entry.state, entry.size, entry.kind) == ("parked", event.ByteSize(), "")
    assert await outbox.counts() == (0, 1)
    assert await outbox.waiting([event.id, "other"]) == {event.id}
    outbox.close()
