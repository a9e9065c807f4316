"""The order key of an event in a consumer group: events with the same key are delivered one
after another in log order; different keys run in parallel.

Keys: shop + inventory item + location (inventory updates, level connections and
disconnections); shop + order id (orders, and the order lifecycle: cancellations, refunds,
fulfillment updates, payments that name an order); the session id (completed checkouts; shop +
order id when it names none); shop + product id (product updates and deletions); shop + inventory
item (inventory item updates); the shop (catalog refreshes); any other event is its own key
(shop + sequence). The stored key is a fixed-size digest, so ids of any length index alike.
"""

from __future__ import annotations

import hashlib

from commercegateway.v1 import events_pb2 as ev

_ORDER_LIFECYCLE = frozenset(
    {"order_cancelled", "order_refunded", "order_fulfillment_updated", "payment_updated"}
)


def key_text(event: ev.Event) -> str:
    """The readable order key of a stored event (see the module docstring)."""
    case = event.WhichOneof("payload")
    shop = event.shop
    if case == "inventory_updated":
        item = event.inventory_updated
        return f"inventory\x1f{shop}\x1f{item.inventory_item_id}\x1f{item.location_id}"
    if case == "order_created":
        return f"order\x1f{shop}\x1f{event.order_created.order_id}"
    if case == "checkout_completed":
        done = event.checkout_completed
        if done.session_id:
            return f"session\x1f{done.session_id}"
        return f"order\x1f{shop}\x1f{done.order_id}"
    if case == "product_updated":
        return f"product\x1f{shop}\x1f{event.product_updated.product_id}"
    if case == "product_deleted":
        return f"product\x1f{shop}\x1f{event.product_deleted.product_id}"
    if case == "catalog_refresh":
        return f"catalog\x1f{shop}"
    if case in ("inventory_level_connected", "inventory_level_disconnected"):
        link = getattr(event, case)
        return f"inventory\x1f{shop}\x1f{link.inventory_item_id}\x1f{link.location_id}"
    if case == "inventory_item_updated":
        return f"item\x1f{shop}\x1f{event.inventory_item_updated.inventory_item_id}"
    if case in _ORDER_LIFECYCLE and (order_id := getattr(event, case).order_id):
        return f"order\x1f{shop}\x1f{order_id}"
    return f"event\x1f{shop}\x1f{event.sequence}"


def delivery_key(event: ev.Event) -> str:
    """The stored order key: a 32-hex-digit digest of key_text."""
    return hashlib.blake2b(key_text(event).encode(), digest_size=16).hexdigest()
