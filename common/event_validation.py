"""The checks every canonical event passes before it is stored: the core runs them at
PublishEvents and the bridge on each translated event before answering, so both refuse the same
events with the same message. Each failure is an InvalidArgumentError (EventTooLargeError for an
event over the maximum size) naming the event's position and field."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from commercegateway.v1 import events_pb2 as ev

from common.errors import EventTooLargeError, InvalidArgumentError

# The default maximum size of one event: its canonical protobuf serialization, in bytes. Stream
# responses are split at about 1 MiB, so an event of this size always fits one response well
# below gRPC's 4 MiB default receive limit.
MAX_EVENT_BYTES = 1024 * 1024
MAX_QUANTITY_CHARS = 64
MAX_QUANTITY_DIGITS = 40
MAX_CONTENT_KEY_CHARS = 128  # a hex SHA-256 (64) plus ":" and an index, with room to spare
PLATFORM_NAMES: dict[ev.Platform.ValueType, str] = {
    ev.PLATFORM_SHOPIFY: "shopify",
    ev.PLATFORM_SQUARE: "square",
    ev.PLATFORM_BETTERDATA: "betterdata",
}


def event_id_for(platform: ev.Platform.ValueType, source_event_id: str) -> str:
    """The deterministic event id the bridge assigns (uuid5 over platform and source id)."""
    name = f"{PLATFORM_NAMES[platform]}:{source_event_id}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def check_quantity(text: str, where: str) -> None:
    """Requires an exact, finite decimal string of sane size (at most 40 digits each side)."""
    if len(text) > MAX_QUANTITY_CHARS:
        raise InvalidArgumentError(f"{where} is too long (at most {MAX_QUANTITY_CHARS} characters)")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidArgumentError(f"{where} must be a decimal string, got {text[:40]!r}") from None
    if not value.is_finite():
        raise InvalidArgumentError(f"{where} must be a finite decimal")
    if abs(value.adjusted()) > MAX_QUANTITY_DIGITS:
        raise InvalidArgumentError(f"{where} is out of range")


def _identifiers(event: ev.Event) -> Iterator[str]:
    """The event's strings that stores keep as indexed text (ids, SKUs, tokens, attributes)."""
    yield from (event.id, event.source_event_id, event.shop)
    case = event.WhichOneof("payload")
    if case == "inventory_updated":
        level = event.inventory_updated
        yield from (level.inventory_item_id, level.location_id, level.product_id)
        yield from (level.variant_id, level.sku)
    elif case == "order_created":
        order = event.order_created
        yield from (order.order_id, order.session_id, order.cart_token, order.checkout_id)
        yield from order.attributes.values()
    elif case == "product_updated":
        yield event.product_updated.product_id
        for variant in event.product_updated.variants:
            yield from (variant.variant_id, variant.sku, variant.inventory_item_id)
    elif case == "product_deleted":
        yield event.product_deleted.product_id
    elif case == "checkout_completed":
        yield from (event.checkout_completed.session_id, event.checkout_completed.order_id)


def _check_payload(event: ev.Event, where: str) -> None:
    case = event.WhichOneof("payload")
    if case is None:
        raise InvalidArgumentError(f"{where}.payload is required (exactly one event kind)")
    required: dict[str, tuple[str, str]] = {
        "inventory_updated": ("inventory_item_id", event.inventory_updated.inventory_item_id),
        "order_created": ("order_id", event.order_created.order_id),
        "product_updated": ("product_id", event.product_updated.product_id),
        "product_deleted": ("product_id", event.product_deleted.product_id),
    }
    if case in required and not required[case][1]:
        raise InvalidArgumentError(f"{where}.{case}.{required[case][0]} is required")
    if case == "inventory_updated":
        check_quantity(event.inventory_updated.available, f"{where}.inventory_updated.available")
    if case == "checkout_completed":
        checkout = event.checkout_completed
        if not checkout.session_id and not checkout.order_id:
            raise InvalidArgumentError(
                f"{where}.checkout_completed needs a session_id or an order_id"
            )


def check_event(event: ev.Event, index: int) -> None:
    """Requires what every stored event needs; fills a missing id deterministically."""
    where = f"events[{index}]"
    if event.platform not in PLATFORM_NAMES:
        raise InvalidArgumentError(f"{where}.platform is required (a known platform)")
    if not event.source_event_id:
        raise InvalidArgumentError(f"{where}.source_event_id is required")
    if not event.shop:
        raise InvalidArgumentError(f"{where}.shop is required")
    if len(event.content_key) > MAX_CONTENT_KEY_CHARS or "\x00" in event.content_key:
        raise InvalidArgumentError(
            f"{where}.content_key must be at most {MAX_CONTENT_KEY_CHARS} characters, no NUL"
        )
    _check_payload(event, where)
    if any("\x00" in text for text in _identifiers(event)):
        raise InvalidArgumentError(f"{where} has a NUL character in an identifier")
    if not event.id:
        event.id = event_id_for(event.platform, event.source_event_id)


def check_event_size(event: ev.Event, where: str = "event", limit: int = MAX_EVENT_BYTES) -> int:
    """Requires the event's canonical serialization to be at most `limit` bytes (raises
    EventTooLargeError naming the event and the limit); returns its size."""
    size = event.ByteSize()
    if size > limit:
        raise EventTooLargeError(where, event.id or event.source_event_id, size, limit)
    return size


def validate_event(event: ev.Event, index: int = 0, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
    """Every check the core makes on one event before storing it; the bridge calls it on each
    translated event before answering, so both refuse the same events with the same code.

    Raises:
        InvalidArgumentError: (or a subclass, e.g. EventTooLargeError) naming `events[index]`.
    """
    check_event(event, index)
    check_event_size(event, f"events[{index}]", max_event_bytes)
