"""The callback style: on_inventory_change, on_order_complete, on_catalog_change, on_event,
from broadcast subscriptions or, with `group=`, as a member of a consumer group."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from commercegateway.consumer import Delivery, GroupConsumer, truncate_reason
from commercegateway.subscriptions import ReconnectHook, Sequenced, Subscription
from commercegateway.v1 import events_pb2

if TYPE_CHECKING:
    from commercegateway.client import CoreClient

logger = logging.getLogger("commercegateway")
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


def failure_reason(error: BaseException) -> str:
    """The nack reason of a callback that raised: its type and message, at most 1,024 bytes."""
    message = str(error)
    return truncate_reason(
        f"{type(error).__name__}: {message}" if message else type(error).__name__
    )


async def handle_delivery(delivery: Delivery, callback: Callback[events_pb2.Event]) -> None:
    """Calls `callback` with the delivery's event; acks when it returns, nacks (with the
    error's type and message as the reason) when it raises an Exception."""
    try:
        result = callback(delivery.event)
        if inspect.isawaitable(result):
            await result
    except Exception as error:
        logger.warning(
            "group callback raised; event nacked",
            extra={"sequence": delivery.event.sequence, "attempt": delivery.attempt},
            exc_info=True,
        )
        await delivery.nack(failure_reason(error))
        return
    await delivery.ack()


async def _drive_group(consumer: GroupConsumer, callback: Callback[events_pb2.Event]) -> None:
    try:
        async with consumer, asyncio.TaskGroup() as handling:
            async for delivery in consumer:
                # The core hands out at most max_unacked deliveries, and the next event of a key
                # only once the previous one is settled: handling them at once keeps key order.
                handling.create_task(handle_delivery(delivery, callback))
    except BaseExceptionGroup as failures:
        # Callers expect the consumer's error (CoreError), not a group of one.
        raise failures.exceptions[0] from None


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
    on_event: Callback[events_pb2.Event] | None = None,
    kinds: Iterable[events_pb2.EventKind.ValueType] = (),
    group: str | None = None,
) -> None:
    """Calls the given callbacks for each item as it arrives, until cancelled.

    `on_inventory_change` gets each InventoryAlert (out of stock, back in stock, low stock),
    `on_order_complete` each OrderCompletion, `on_catalog_change` each product-updated,
    product-deleted or catalog-refresh Event, `on_event` each Event of `kinds` (empty: every
    kind). Callbacks may be plain functions or coroutine
    functions; a plain one runs on the event loop, so it should be quick. Each callback runs
    for one item at a time, in sequence order; its stream survives core restarts.

    With `cursor_dir`, each stream keeps its cursor in a file there (inventory.cursor,
    orders.cursor, catalog.cursor, events.cursor) and resumes from it after a restart of this
    process; an item counts as handled once its callback returned. A callback that raises
    stops every stream and the error propagates (its item is delivered again on the next run).

    With `group="name"`, this process is a member of that consumer group (see
    `CoreClient.consume`; `after_sequence` is where a new group starts): each matching event
    goes to one member of the fleet. Give exactly one of `on_catalog_change` or `on_event`
    (a group delivers canonical events; inventory alerts and order completions are derived
    by the core per subscriber, so `on_inventory_change` and `on_order_complete` are refused).
    A delivery is acknowledged when its callback returns and nacked when it raises (the
    reason is the exception's type and message, cut to 1,024 bytes; the core delivers it
    again with backoff and parks it after the group's maximum attempts); the error is logged
    and the other deliveries flow on. Deliveries are handled concurrently, at most 100 at
    once (the member's max_unacked); events with the same key never at once.

    Raises:
        ValueError: no callback was given, or a combination `group` does not allow.
        CursorExpiredError: a cursor is older than the core's retention.
        CoreError: the core refused a subscription (for example a wrong token).
    """
    if group is not None:
        await _run_group(
            client,
            group,
            on_event=on_event,
            on_catalog_change=on_catalog_change,
            refused=on_inventory_change is not None or on_order_complete is not None,
            common={
                "kinds": kinds,
                "shop": shop,
                "start_after": after_sequence,
                "on_reconnect": on_reconnect,
            },
            cursor_dir=cursor_dir,
        )
        return
    callbacks = (on_inventory_change, on_order_complete, on_catalog_change, on_event)
    if all(callback is None for callback in callbacks):
        raise ValueError(
            "give at least one of on_inventory_change, on_order_complete, on_catalog_change, "
            "on_event"
        )
    common: dict[str, Any] = {
        "after_sequence": after_sequence,
        "shop": shop,
        "on_reconnect": on_reconnect,
    }
    try:
        async with asyncio.TaskGroup() as streams:
            if on_inventory_change is not None:
                alerts = client.subscribe_inventory_alerts(
                    cursor_file=_cursor_path(cursor_dir, "inventory"), **common
                )
                streams.create_task(_drive(alerts, on_inventory_change))
            if on_order_complete is not None:
                orders = client.subscribe_order_completions(
                    cursor_file=_cursor_path(cursor_dir, "orders"), **common
                )
                streams.create_task(_drive(orders, on_order_complete))
            if on_catalog_change is not None:
                catalog = client.subscribe_events(
                    kinds=CATALOG_KINDS, cursor_file=_cursor_path(cursor_dir, "catalog"), **common
                )
                streams.create_task(_drive(catalog, on_catalog_change))
            if on_event is not None:
                events = client.subscribe_events(
                    kinds=kinds, cursor_file=_cursor_path(cursor_dir, "events"), **common
                )
                streams.create_task(_drive(events, on_event))
    except BaseExceptionGroup as failures:
        # Callers expect the error of the stream that failed, not a group of one.
        raise failures.exceptions[0] from None


async def _run_group(
    client: CoreClient,
    group: str,
    *,
    on_event: Callback[events_pb2.Event] | None,
    on_catalog_change: Callback[events_pb2.Event] | None,
    refused: bool,
    common: dict[str, Any],
    cursor_dir: str | os.PathLike[str] | None,
) -> None:
    if refused:
        raise ValueError(
            "group= delivers canonical events: use on_event (with kinds) or on_catalog_change, "
            "not on_inventory_change or on_order_complete"
        )
    if cursor_dir is not None:
        raise ValueError("cursor_dir does not apply with group= (the core keeps its position)")
    if (on_event is None) == (on_catalog_change is None):
        raise ValueError("with group=, give exactly one of on_event or on_catalog_change")
    if on_catalog_change is not None:
        if tuple(common["kinds"]):
            raise ValueError("kinds applies to on_event only")
        common["kinds"] = CATALOG_KINDS
    callback = on_event or on_catalog_change
    assert callback is not None
    await _drive_group(client.consume(group, **common), callback)
