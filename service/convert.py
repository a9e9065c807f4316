"""Conversions between protobuf messages and the core's domain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev
from google.protobuf.timestamp_pb2 import Timestamp

from service.domain import (
    Binding,
    BindingKind,
    InventoryChange,
    InventoryLevel,
    OrderFacts,
    RetractionName,
    Session,
)

KIND_BY_PAYLOAD: dict[str, ev.EventKind.ValueType] = {
    "inventory_updated": ev.EVENT_KIND_INVENTORY_UPDATED,
    "order_created": ev.EVENT_KIND_ORDER_CREATED,
    "product_updated": ev.EVENT_KIND_PRODUCT_UPDATED,
    "product_deleted": ev.EVENT_KIND_PRODUCT_DELETED,
    "catalog_refresh": ev.EVENT_KIND_CATALOG_REFRESH,
    "checkout_completed": ev.EVENT_KIND_CHECKOUT_COMPLETED,
    # Shopify's privacy webhooks and app/uninstalled.
    "customer_data_requested": ev.EVENT_KIND_CUSTOMER_DATA_REQUESTED,
    "customer_redacted": ev.EVENT_KIND_CUSTOMER_REDACTED,
    "shop_redacted": ev.EVENT_KIND_SHOP_REDACTED,
    "app_uninstalled": ev.EVENT_KIND_APP_UNINSTALLED,
    # The order lifecycle.
    "order_cancelled": ev.EVENT_KIND_ORDER_CANCELLED,
    "order_refunded": ev.EVENT_KIND_ORDER_REFUNDED,
    "inventory_item_updated": ev.EVENT_KIND_INVENTORY_ITEM_UPDATED,
    "inventory_level_connected": ev.EVENT_KIND_INVENTORY_LEVEL_CONNECTED,
    "inventory_level_disconnected": ev.EVENT_KIND_INVENTORY_LEVEL_DISCONNECTED,
    "order_fulfillment_updated": ev.EVENT_KIND_ORDER_FULFILLMENT_UPDATED,
    "payment_updated": ev.EVENT_KIND_PAYMENT_UPDATED,
}
BINDING_KINDS: dict[api.SessionBindingKind.ValueType, BindingKind] = {
    api.SESSION_BINDING_KIND_CART_TOKEN: "cart_token",
    api.SESSION_BINDING_KIND_CHECKOUT_ID: "checkout_id",
    api.SESSION_BINDING_KIND_ORDER_ID: "order_id",
}
BINDING_PROTO = {name: number for number, name in BINDING_KINDS.items()}
CLOSING_STATES: dict[ev.OrderState.ValueType, RetractionName] = {
    ev.ORDER_STATE_CANCELED: "cancelled",
    ev.ORDER_STATE_REFUNDED: "refunded",
}
RETRACTION_PROTO: dict[RetractionName, ev.RetractionReason.ValueType] = {
    "cancelled": ev.RETRACTION_REASON_CANCELLED,
    "refunded": ev.RETRACTION_REASON_REFUNDED,
}
ALERT_PROTO: dict[str, ev.InventoryAlertKind.ValueType] = {
    "OUT_OF_STOCK": ev.INVENTORY_ALERT_KIND_OUT_OF_STOCK,
    "BACK_IN_STOCK": ev.INVENTORY_ALERT_KIND_BACK_IN_STOCK,
    "LOW_STOCK": ev.INVENTORY_ALERT_KIND_LOW_STOCK,
}


def event_kind(event: ev.Event) -> ev.EventKind.ValueType:
    """The EventKind of an event's payload (EVENT_KIND_UNSPECIFIED when none is set)."""
    case = event.WhichOneof("payload")
    return KIND_BY_PAYLOAD.get(case or "", ev.EVENT_KIND_UNSPECIFIED)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799  # Timestamp's valid range


def to_datetime(stamp: Timestamp, present: bool) -> datetime | None:
    """A Timestamp as an aware UTC datetime, or None when the field is unset (ValueError for
    one out of Timestamp's range, as Timestamp.ToDatetime)."""
    if not present:
        return None
    seconds, nanos = stamp.seconds, stamp.nanos
    if not (_MIN_SECONDS <= seconds <= _MAX_SECONDS and 0 <= nanos < 1_000_000_000):
        return stamp.ToDatetime(tzinfo=UTC)  # raises its own ValueError
    # What ToDatetime computes (nanoseconds cut to microseconds), without its checks and
    # time-zone conversion: this runs for several times of every stored event.
    return _EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)


def set_timestamp(target: Timestamp, value: datetime | None) -> None:
    """Writes a datetime into a Timestamp field; leaves it unset for None."""
    if value is not None:
        target.FromDatetime(value)


def decimal_text(value: Decimal | None) -> str:
    """A quantity as the exact decimal string the API carries ("" for unknown)."""
    return "" if value is None else format(value, "f")


def order_facts(event: ev.Event, session_attribute: str) -> OrderFacts:
    """What an OrderCreated event says for the session rules."""
    order = event.order_created
    named = order.session_id or order.attributes.get(session_attribute, "")
    keys = (
        Binding("order_id", order.order_id),
        Binding("checkout_id", order.checkout_id),
        Binding("cart_token", order.cart_token),
    )
    completed = order.state == ev.ORDER_STATE_COMPLETED
    closed = CLOSING_STATES.get(order.state)
    return OrderFacts(event.shop, order.order_id, completed, order.version, named, keys, closed)


def cancellation_facts(event: ev.Event) -> OrderFacts:
    """What an OrderCancelled event says for the session rules."""
    order_id = event.order_cancelled.order_id
    keys = (Binding("order_id", order_id),)
    return OrderFacts(event.shop, order_id, False, 0, "", keys, "cancelled")


def payment_facts(event: ev.Event) -> OrderFacts | None:
    """What a PaymentUpdated event says for the session rules: a fully refunded payment of a
    known order refunds that order; any other payment change says nothing (None)."""
    payment = event.payment_updated
    if not payment.fully_refunded or not payment.order_id:
        return None
    keys = (Binding("order_id", payment.order_id),)
    return OrderFacts(event.shop, payment.order_id, False, 0, "", keys, "refunded")


def checkout_facts(event: ev.Event) -> OrderFacts:
    """What a CheckoutCompleted event says for the session rules."""
    checkout = event.checkout_completed
    keys = (Binding("order_id", checkout.order_id),)
    return OrderFacts(event.shop, checkout.order_id, True, 0, checkout.session_id, keys)


def alert_message(event: ev.Event, change: InventoryChange) -> ev.InventoryAlert:
    """The InventoryAlert an applied inventory change derives."""
    level = change.level
    alert = ev.InventoryAlert(
        sequence=event.sequence,
        kind=ALERT_PROTO[change.alert] if change.alert else ev.INVENTORY_ALERT_KIND_UNSPECIFIED,
        shop=level.shop,
        product_id=level.product_id,
        variant_id=level.variant_id,
        sku=level.sku,
        inventory_item_id=level.inventory_item_id,
        location_id=level.location_id,
        previous_quantity=decimal_text(change.previous),
        new_quantity=decimal_text(level.available),
        platform=event.platform,
        event_id=event.id,
    )
    if event.HasField("occur_time"):
        alert.occur_time.CopyFrom(event.occur_time)
    return alert


def completion_message(event: ev.Event, session_id: str, order_id: str) -> ev.OrderCompletion:
    """The OrderCompletion an order or checkout event derives."""
    completion = ev.OrderCompletion(
        sequence=event.sequence,
        session_id=session_id,
        order_id=order_id,
        shop=event.shop,
        platform=event.platform,
        event_id=event.id,
    )
    payload = event.order_created if event.HasField("order_created") else None
    total = payload.total if payload else event.checkout_completed.total
    if (payload or event.checkout_completed).HasField("total"):
        completion.total.CopyFrom(total)
    if event.HasField("occur_time"):
        completion.occur_time.CopyFrom(event.occur_time)
    return completion


def retraction_message(
    event: ev.Event, session_id: str, order_id: str, reason: RetractionName
) -> ev.OrderCompletion:
    """The OrderCompletion retracting an order's completion, derived by a closing event."""
    retraction = ev.OrderCompletion(
        sequence=event.sequence,
        session_id=session_id,
        order_id=order_id,
        shop=event.shop,
        platform=event.platform,
        event_id=event.id,
        retracted=True,
        retraction_reason=RETRACTION_PROTO[reason],
    )
    if event.HasField("occur_time"):
        retraction.occur_time.CopyFrom(event.occur_time)
    return retraction


def level_message(level: InventoryLevel) -> api.InventoryLevel:
    """The API message of a stored inventory level."""
    message = api.InventoryLevel(
        shop=level.shop,
        inventory_item_id=level.inventory_item_id,
        location_id=level.location_id,
        available=decimal_text(level.available),
        product_id=level.product_id,
        variant_id=level.variant_id,
        sku=level.sku,
        sequence=level.sequence,
    )
    set_timestamp(message.update_time, level.update_time)
    return message


def session_message(session: Session) -> api.Session:
    """The API message of a session."""
    message = api.Session(
        session_id=session.session_id,
        shop=session.shop,
        state=(
            api.SESSION_STATE_COMPLETED
            if session.state == "completed"
            else api.SESSION_STATE_ACTIVE
        ),
        bindings=[
            api.SessionBinding(kind=BINDING_PROTO[b.kind], value=b.value) for b in session.bindings
        ],
        order_id=session.order_id,
        completion_sequence=session.completion_sequence,
    )
    set_timestamp(message.complete_time, session.complete_time)
    return message
