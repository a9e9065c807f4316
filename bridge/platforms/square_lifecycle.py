"""Square's order lifecycle topics order.fulfillment.updated and payment.updated: translation
to canonical events (order.updated is square._order's, with the order's state)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from commercegateway.v1 import events_pb2

from bridge.platforms.delivery import (
    Envelope,
    make_event,
    timestamp,
    translating,
    validate_document,
)
from bridge.platforms.money import money_from_minor
from bridge.platforms.square_lifecycle_schema import (
    OrderFulfillmentUpdated,
    PaymentUpdated,
    SquareMoney,
)

STATES: dict[str, events_pb2.OrderState.ValueType] = {
    "OPEN": events_pb2.ORDER_STATE_OPEN,
    "COMPLETED": events_pb2.ORDER_STATE_COMPLETED,
    "CANCELED": events_pb2.ORDER_STATE_CANCELED,
    "DRAFT": events_pb2.ORDER_STATE_DRAFT,
}
"""Square's order states as canonical ones."""


def _fulfillment(
    envelope: Envelope, document: Any, occur: datetime | None
) -> list[events_pb2.Event]:
    """An OrderFulfillmentUpdated with each fulfillment's old and new state."""
    change = validate_document(OrderFulfillmentUpdated, document).data.object
    order = change.order_fulfillment_updated
    payload = events_pb2.OrderFulfillmentUpdated(
        order_id=order.order_id,
        state=STATES.get(order.state, events_pb2.ORDER_STATE_UNSPECIFIED),
        version=order.version,
        location_id=order.location_id or "",
        changes=[
            events_pb2.FulfillmentChange(
                fulfillment_id=update.fulfillment_uid,
                old_state=update.old_state,
                new_state=update.new_state,
            )
            for update in order.fulfillment_update
        ],
    )
    changed = order.updated_at or order.created_at
    if changed is not None:
        payload.update_time.CopyFrom(timestamp(changed))
    return [make_event(envelope, "order_fulfillment_updated", payload, occur_time=occur)]


def _money(path: str, money: SquareMoney) -> events_pb2.Money:
    return translating(path, money_from_minor, money.amount, money.currency)


def _payment(envelope: Envelope, document: Any, occur: datetime | None) -> list[events_pb2.Event]:
    """A PaymentUpdated; `fully_refunded` when refunded_money reaches the payment's total."""
    payment = validate_document(PaymentUpdated, document).data.object.payment
    payload = events_pb2.PaymentUpdated(
        payment_id=payment.id,
        order_id=payment.order_id or "",
        status=payment.status,
        location_id=payment.location_id or "",
    )
    total = payment.total_money or payment.amount_money
    if total is not None:
        payload.total.CopyFrom(_money("data.object.payment.total_money", total))
    refunded = payment.refunded_money
    if refunded is not None:
        payload.refunded.CopyFrom(_money("data.object.payment.refunded_money", refunded))
        payload.fully_refunded = (
            total is not None
            and total.amount > 0
            and payload.refunded.currency_code == payload.total.currency_code
            and refunded.amount >= total.amount
        )
    changed = payment.updated_at or payment.created_at
    if changed is not None:
        payload.update_time.CopyFrom(timestamp(changed))
    return [make_event(envelope, "payment_updated", payload, occur_time=occur)]


_Handler = Callable[[Envelope, Any, datetime | None], list[events_pb2.Event]]
LIFECYCLE_HANDLERS: dict[str, _Handler] = {
    "order.fulfillment.updated": _fulfillment,
    "payment.updated": _payment,
}
"""The lifecycle topics with their own translation (order.updated is square.HANDLERS')."""
