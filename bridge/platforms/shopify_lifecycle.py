"""Shopify's order lifecycle and inventory item topics: translation to canonical events.

orders/paid and orders/updated carry the order resource and become OrderCreated with the
order's state (see `order_state`), like orders/create; orders/cancelled becomes OrderCancelled,
refunds/create OrderRefunded, inventory_items/update InventoryItemUpdated, and
inventory_levels/connect and /disconnect an InventoryLevelConnection each.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from commercegateway.v1 import events_pb2

from bridge.platforms.common import PayloadRejected
from bridge.platforms.delivery import (
    Envelope,
    make_event,
    timestamp,
    translating,
    validate_document,
)
from bridge.platforms.money import money_from_decimal, price_without_currency
from bridge.platforms.shopify_lifecycle_schema import (
    InventoryItem,
    LevelDisconnect,
    Refund,
    RefundLine,
    RefundTransaction,
)
from bridge.platforms.shopify_schema import InventoryLevel, Order


def order_state(order: Order) -> events_pb2.OrderState.ValueType:
    """The canonical state of a Shopify order: CANCELED once `cancelled_at` is set, REFUNDED
    when `financial_status` is "refunded" (the whole order refunded), else COMPLETED (an order
    exists once it is placed)."""
    if order.cancelled_at is not None:
        return events_pb2.ORDER_STATE_CANCELED
    if order.financial_status == "refunded":
        return events_pb2.ORDER_STATE_REFUNDED
    return events_pb2.ORDER_STATE_COMPLETED


def _cancelled(envelope: Envelope, document: Any, occur: datetime | None) -> list[events_pb2.Event]:
    order = validate_document(Order, document)
    if order.cancelled_at is None:  # the topic header is not signed: the body must agree
        raise PayloadRejected(
            "schema", "schema_mismatch", ["cancelled_at: required in an orders/cancelled body"]
        )
    payload = events_pb2.OrderCancelled(
        order_id=order.id,
        name=order.name,
        reason=order.cancel_reason,
        total=translating("total_price", money_from_decimal, order.total_price, order.currency),
    )
    payload.cancel_time.CopyFrom(timestamp(order.cancelled_at))
    payload.update_time.CopyFrom(timestamp(order.updated_at or order.cancelled_at))
    event = make_event(envelope, "order_cancelled", payload, occur_time=occur)
    event.customer_id = order.customer.id if order.customer is not None else ""
    return [event]


def _refund_amount(transactions: list[RefundTransaction]) -> events_pb2.Money | None:
    """The sum of the successful refund transactions, in their currency when they name one
    (Shopify's own example names none: the decimal text is then kept without a currency)."""
    moved = [t for t in transactions if t.kind == "refund" and t.status == "success"]
    if not moved:
        return None
    total = format(sum((Decimal(t.amount) for t in moved), Decimal(0)), "f")
    currencies = {t.currency for t in moved}
    if len(currencies) == 1 and (currency := currencies.pop()):
        return translating("transactions", money_from_decimal, total, currency)
    return price_without_currency(total)


def _refund_line(line: RefundLine) -> events_pb2.LineItem:
    item = line.line_item
    result = events_pb2.LineItem(quantity=line.quantity)
    if item is not None:
        result.product_id = item.product_id or ""
        result.variant_id = item.variant_id or ""
        result.sku = item.sku
        result.title = item.title
        if item.price is not None:
            result.price.CopyFrom(price_without_currency(item.price))
    return result


def _refund(envelope: Envelope, document: Any, occur: datetime | None) -> list[events_pb2.Event]:
    refund = validate_document(Refund, document)
    payload = events_pb2.OrderRefunded(
        refund_id=refund.id,
        order_id=refund.order_id,
        note=refund.note,
        line_items=[_refund_line(line) for line in refund.refund_line_items],
    )
    amount = _refund_amount(refund.transactions)
    if amount is not None:
        payload.amount.CopyFrom(amount)
    if refund.created_at is not None:
        payload.update_time.CopyFrom(timestamp(refund.created_at))
    return [make_event(envelope, "order_refunded", payload, occur_time=occur)]


def _item(envelope: Envelope, document: Any, occur: datetime | None) -> list[events_pb2.Event]:
    item = validate_document(InventoryItem, document)
    payload = events_pb2.InventoryItemUpdated(
        inventory_item_id=item.id, sku=item.sku, tracked=item.tracked
    )
    if item.updated_at is not None:
        payload.update_time.CopyFrom(timestamp(item.updated_at))
    return [make_event(envelope, "inventory_item_updated", payload, occur_time=occur)]


def _connect(envelope: Envelope, document: Any, occur: datetime | None) -> list[events_pb2.Event]:
    level = validate_document(InventoryLevel, document)
    payload = events_pb2.InventoryLevelConnection(
        inventory_item_id=level.inventory_item_id,
        location_id=level.location_id,
        available="" if level.available is None else str(level.available),
    )
    if level.updated_at is not None:
        payload.update_time.CopyFrom(timestamp(level.updated_at))
    return [make_event(envelope, "inventory_level_connected", payload, occur_time=occur)]


def _disconnect(
    envelope: Envelope, document: Any, occur: datetime | None
) -> list[events_pb2.Event]:
    level = validate_document(LevelDisconnect, document)
    payload = events_pb2.InventoryLevelConnection(
        inventory_item_id=level.inventory_item_id, location_id=level.location_id
    )
    return [make_event(envelope, "inventory_level_disconnected", payload, occur_time=occur)]


_Handler = Callable[[Envelope, Any, datetime | None], list[events_pb2.Event]]
LIFECYCLE_HANDLERS: dict[str, _Handler] = {
    "orders/cancelled": _cancelled,
    "refunds/create": _refund,
    "inventory_items/update": _item,
    "inventory_levels/connect": _connect,
    "inventory_levels/disconnect": _disconnect,
}
"""The lifecycle topics with their own translation (orders/paid and orders/updated share
orders/create's, in shopify.HANDLERS)."""
