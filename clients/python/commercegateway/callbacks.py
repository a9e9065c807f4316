"""The callback style: on_inventory_change, on_order_complete, on_catalog_change."""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from commercegateway.subscriptions import ReconnectHook, Sequenced, Subscription
from commercegateway.v1 import events_pb2

if TYPE_CHECKING:
    from commercegateway.client import CoreClient

T = TypeVar("T")
ItemT = TypeVar("ItemT", bound=Sequenced)
Callback = Callable[[T], Awaitable[None] | None]

CATALOG_KINDS: tuple[events_pb2.EventKind.ValueType, ...] = (
    events_pb2.EVENT_KIND_PRODUCT_UPDATED,
    events_pb2.EVENT_KIND_PRODUCT_DELETED,
    events_pb2.EVENT_KIND_CATALOG_REFRESH,
)
"""The event kinds delivered to `on_catalog_change`."""


async def _drive(subscription: Subscription[ItemT, Any], callback: Callback[ItemT]) -> None:
    async with subscription:
        async for item in subscription:
            result = callback(item)
            if inspect.isawaitable(result):
                await result


def _cursor_path(cursor_dir: str | os.PathLike[str] | None, name: str) -> Path | None:
    return None if cursor_dir is None else Path(cursor_dir) / f"{name}.cursor"


async def run_callbacks(
    client: CoreClient,
    *,
    on_inventory_change: Callback[events_pb2.InventoryAlert] | None = None,
    on_order_complete: Callback[events_pb2.OrderCompletion] | None = None,
    on_catalog_change: Callback[events_pb2.Event] | None = None,
    shop: str = "",
    after_sequence: int | None = None,
    cursor_dir: str | os.PathLike[str] | None = None,
    on_reconnect: ReconnectHook | None = None,
) -> None:
    """Calls the given callbacks for each item as it arrives, until cancelled.

    `on_inventory_change` gets each InventoryAlert (out of stock, back in stock, low stock),
    `on_order_complete` each OrderCompletion, `on_catalog_change` each product-updated,
    product-deleted or catalog-refresh Event. Callbacks may be plain functions or coroutine
    functions; a plain one runs on the event loop, so it should be quick. Each callback runs
    for one item at a time, in sequence order; its stream survives core restarts.

    With `cursor_dir`, each stream keeps its cursor in a file there (inventory.cursor,
    orders.cursor, catalog.cursor) and resumes from it after a restart of this process; an
    item counts as handled once its callback returned. A callback that raises stops every
    stream and the error propagates (its item is delivered again on the next run).

    Raises:
        ValueError: no callback was given.
        CursorExpiredError: a cursor is older than the core's retention.
        CoreError: the core refused a subscription (for example a wrong token).
    """
    if on_inventory_change is None and on_order_complete is None and on_catalog_change is None:
        raise ValueError(
            "give at least one of on_inventory_change, on_order_complete, on_catalog_change"
        )
    common: dict[str, Any] = {
        "after_sequence": after_sequence,
        "shop": shop,
        "on_reconnect": on_reconnect,
    }
    try:
        async with asyncio.TaskGroup() as group:
            if on_inventory_change is not None:
                alerts = client.subscribe_inventory_alerts(
                    cursor_file=_cursor_path(cursor_dir, "inventory"), **common
                )
                group.create_task(_drive(alerts, on_inventory_change))
            if on_order_complete is not None:
                orders = client.subscribe_order_completions(
                    cursor_file=_cursor_path(cursor_dir, "orders"), **common
                )
                group.create_task(_drive(orders, on_order_complete))
            if on_catalog_change is not None:
                catalog = client.subscribe_events(
                    kinds=CATALOG_KINDS, cursor_file=_cursor_path(cursor_dir, "catalog"), **common
                )
                group.create_task(_drive(catalog, on_catalog_change))
    except BaseExceptionGroup as failures:
        # Callers expect the error of the stream that failed, not a group of one.
        raise failures.exceptions[0] from None
