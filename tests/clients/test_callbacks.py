"""The callback style: each callback fires for its kind of item; errors reach the caller."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from commercegateway import CoreClient, CursorFile, run_callbacks
from commercegateway.v1 import events_pb2

from tests.clients.events import inventory_event, order_event, product_event, publish
from tests.support.waiting import wait_for


async def test_callbacks_fire_for_alerts_completions_and_catalog_changes(
    client: CoreClient, tmp_path: Path
) -> None:
    alerts: list[events_pb2.InventoryAlert] = []
    completions: list[events_pb2.OrderCompletion] = []
    catalog: list[events_pb2.Event] = []

    async def on_order_complete(completion: events_pb2.OrderCompletion) -> None:
        completions.append(completion)

    cursor_dir = tmp_path / "cursors"
    runner = asyncio.create_task(
        run_callbacks(
            client,
            on_inventory_change=alerts.append,  # a plain function
            on_order_complete=on_order_complete,  # a coroutine function
            on_catalog_change=catalog.append,
            after_sequence=0,
            cursor_dir=cursor_dir,
        )
    )
    results = await publish(
        client.target,
        [inventory_event("sold-out", "0"), order_event("1001"), product_event("p-1")],
    )
    await wait_for(lambda: bool(alerts and completions and catalog), message="all callbacks")
    inventory_cursor = CursorFile(cursor_dir / "inventory.cursor")
    catalog_cursor = CursorFile(cursor_dir / "catalog.cursor")
    await wait_for(
        lambda: (
            (inventory_cursor.read() or 0) >= results[0].sequence
            and (catalog_cursor.read() or 0) >= results[2].sequence
        ),
        message="the cursor files to advance past the handled items",
    )
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner

    assert alerts[0].kind == events_pb2.INVENTORY_ALERT_KIND_OUT_OF_STOCK
    assert alerts[0].inventory_item_id == "sold-out"
    assert alerts[0].sequence == results[0].sequence
    assert [c.order_id for c in completions] == ["1001"]
    assert completions[0].total.amount_minor == 2999
    assert [e.product_updated.product_id for e in catalog] == ["p-1"]
    assert (
        not (cursor_dir / "orders.cursor").exists()
        or (CursorFile(cursor_dir / "orders.cursor").read() or 0) <= results[2].sequence
    )


async def test_raising_callback_stops_and_propagates_its_error(client: CoreClient) -> None:
    def on_order_complete(completion: events_pb2.OrderCompletion) -> None:
        raise RuntimeError(f"cannot handle {completion.order_id}")

    await publish(client.target, [order_event("2002")])
    with pytest.raises(RuntimeError, match="cannot handle 2002"):
        await run_callbacks(client, on_order_complete=on_order_complete, after_sequence=0)


async def test_run_callbacks_without_callbacks_raises_value_error(client: CoreClient) -> None:
    with pytest.raises(ValueError, match="at least one"):
        await run_callbacks(client)
