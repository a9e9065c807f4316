"""One line of text per streamed item: human-readable, or protobuf's canonical JSON."""

from __future__ import annotations

from google.protobuf import json_format
from google.protobuf.message import Message

from commercegateway.v1 import events_pb2


def render_json(item: Message) -> str:
    """Returns the item in protobuf's canonical JSON mapping, on one line."""
    return json_format.MessageToJson(item, indent=None)


def _money(money: events_pb2.Money) -> str:
    if money.amount_decimal:
        return f"{money.amount_decimal} {money.currency_code}".strip()
    return f"{money.amount_minor} minor {money.currency_code}".strip()


def _enum_suffix(enum_name: str, prefix: str) -> str:
    return enum_name.removeprefix(prefix)


def render_alert(alert: events_pb2.InventoryAlert) -> str:
    """Returns a one-line description of an inventory alert."""
    kind = _enum_suffix(events_pb2.InventoryAlertKind.Name(alert.kind), "INVENTORY_ALERT_KIND_")
    what = alert.sku or alert.variant_id or alert.product_id or alert.inventory_item_id
    where = f" at {alert.location_id}" if alert.location_id else ""
    return (
        f"#{alert.sequence} {kind} {alert.shop} {what}{where}: "
        f"{alert.previous_quantity or '?'} -> {alert.new_quantity}"
    )


def render_completion(completion: events_pb2.OrderCompletion) -> str:
    """Returns a one-line description of an order completion, or of its retraction
    (ORDER_RETRACTED with the reason: the order was cancelled or fully refunded)."""
    session = completion.session_id or "(no session)"
    total = f" total {_money(completion.total)}" if completion.HasField("total") else ""
    what = "ORDER_COMPLETED"
    if completion.retracted:
        reason = events_pb2.RetractionReason.Name(completion.retraction_reason)
        what = f"ORDER_RETRACTED ({_enum_suffix(reason, 'RETRACTION_REASON_').lower()})"
    return (
        f"#{completion.sequence} {what} {completion.shop} order {completion.order_id} "
        f"session {session}{total}"
    )


def _payload_summary(event: events_pb2.Event) -> str:
    case = event.WhichOneof("payload")
    if case == "inventory_updated":
        level = event.inventory_updated
        where = f"@{level.location_id}" if level.location_id else ""
        return f"item {level.inventory_item_id}{where} available {level.available}"
    if case == "order_created":
        order = event.order_created
        state = _enum_suffix(events_pb2.OrderState.Name(order.state), "ORDER_STATE_")
        total = f" total {_money(order.total)}" if order.HasField("total") else ""
        return f"order {order.order_id} {state}{total}"
    if case in ("product_updated", "product_deleted"):
        return f"product {getattr(event, case).product_id}"
    if case == "checkout_completed":
        checkout = event.checkout_completed
        return f"session {checkout.session_id or '-'} order {checkout.order_id or '-'}"
    return _lifecycle_summary(event, case)


def _lifecycle_summary(event: events_pb2.Event, case: str | None) -> str:
    """The summary of an order lifecycle payload (cancellation, refund, item, level link,
    fulfillment, payment)."""
    if case == "order_cancelled":
        reason = f" ({event.order_cancelled.reason})" if event.order_cancelled.reason else ""
        return f"order {event.order_cancelled.order_id} CANCELED{reason}"
    if case == "order_refunded":
        refund = event.order_refunded
        amount = f" amount {_money(refund.amount)}" if refund.HasField("amount") else ""
        return f"order {refund.order_id} refund {refund.refund_id}{amount}"
    if case == "inventory_item_updated":
        item = event.inventory_item_updated
        return f"item {item.inventory_item_id} sku {item.sku or '-'}"
    if case in ("inventory_level_connected", "inventory_level_disconnected"):
        link = getattr(event, case)
        verb = "connected" if case == "inventory_level_connected" else "disconnected"
        return f"item {link.inventory_item_id}@{link.location_id} {verb}"
    if case == "order_fulfillment_updated":
        change = event.order_fulfillment_updated
        steps = ", ".join(f"{c.old_state or '?'}->{c.new_state}" for c in change.changes)
        return f"order {change.order_id} fulfillment {steps or '-'}"
    if case == "payment_updated":
        payment = event.payment_updated
        status = payment.status + (" fully refunded" if payment.fully_refunded else "")
        return f"payment {payment.payment_id} order {payment.order_id or '-'} {status}"
    return ""


def render_event(event: events_pb2.Event) -> str:
    """Returns a one-line description of a canonical event."""
    platform = _enum_suffix(events_pb2.Platform.Name(event.platform), "PLATFORM_").lower()
    payload = "redacted" if event.redacted else (event.WhichOneof("payload") or "empty")
    summary = _payload_summary(event)
    return f"#{event.sequence} {payload} {platform} {event.shop} {summary}".rstrip()


def render_text(item: Message) -> str:
    """Returns the human-readable line of an alert, a completion or an event."""
    if isinstance(item, events_pb2.InventoryAlert):
        return render_alert(item)
    if isinstance(item, events_pb2.OrderCompletion):
        return render_completion(item)
    if isinstance(item, events_pb2.Event):
        return render_event(item)
    raise TypeError(f"cannot render {type(item).__name__}")
