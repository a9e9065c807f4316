"""Test support: canonical events built the way the bridge builds them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from commercegateway.v1 import events_pb2 as ev

SHOP = "demo.myshopify.com"


def event_id(platform: ev.Platform.ValueType, source_event_id: str) -> str:
    """The deterministic event id of the shared contract."""
    names: dict[ev.Platform.ValueType, str] = {ev.PLATFORM_SHOPIFY: "shopify"}
    names.update({ev.PLATFORM_SQUARE: "square", ev.PLATFORM_BETTERDATA: "betterdata"})
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{names[platform]}:{source_event_id}"))


def envelope(
    source_event_id: str, platform: ev.Platform.ValueType = ev.PLATFORM_SHOPIFY, shop: str = SHOP
) -> ev.Event:
    """An event without payload, with its id set as the bridge sets it."""
    return ev.Event(
        id=event_id(platform, source_event_id),
        platform=platform,
        source_event_id=source_event_id,
        shop=shop,
        topic="test",
    )


def inventory(
    source_event_id: str,
    item: str,
    available: str,
    *,
    location: str = "loc-1",
    update_time: datetime | None = None,
    **fields: Any,
) -> ev.Event:
    """An InventoryUpdated event."""
    event = envelope(source_event_id, **fields)
    event.inventory_updated.inventory_item_id = item
    event.inventory_updated.location_id = location
    event.inventory_updated.available = available
    if update_time is not None:
        event.inventory_updated.update_time.FromDatetime(update_time)
    return event


def product(
    source_event_id: str, product_id: str, variants: list[tuple[str, str, str]], **fields: Any
) -> ev.Event:
    """A ProductUpdated event from (variant_id, sku, inventory_item_id) triples."""
    event = envelope(source_event_id, **fields)
    event.product_updated.product_id = product_id
    for variant_id, sku, item in variants:
        event.product_updated.variants.add(variant_id=variant_id, sku=sku, inventory_item_id=item)
    return event


def order(
    source_event_id: str,
    order_id: str,
    *,
    state: ev.OrderState.ValueType = ev.ORDER_STATE_COMPLETED,
    attributes: dict[str, str] | None = None,
    version: int = 0,
    cart_token: str = "",
    **fields: Any,
) -> ev.Event:
    """An OrderCreated event."""
    event = envelope(source_event_id, **fields)
    payload = event.order_created
    payload.order_id = order_id
    payload.state = state
    payload.version = version
    payload.cart_token = cart_token
    payload.attributes.update(attributes or {})
    return event


def checkout(source_event_id: str, session_id: str, order_id: str, **fields: Any) -> ev.Event:
    """A CheckoutCompleted event."""
    event = envelope(source_event_id, platform=ev.PLATFORM_BETTERDATA, **fields)
    event.checkout_completed.session_id = session_id
    event.checkout_completed.order_id = order_id
    return event
