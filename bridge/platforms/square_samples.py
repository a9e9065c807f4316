"""Realistic Square sample bodies, one per handled topic, with fresh ids on every call."""

from __future__ import annotations

import uuid
from typing import Any

from bridge.platforms.square_lifecycle_samples import lifecycle_data


def sample(topic: str, shop: str, now: str) -> dict[str, Any]:
    """A JSON document of `topic` naming `shop`, with fresh ids, at `now` (RFC 3339)."""
    object_id = uuid.uuid4().hex.upper()[:24]
    if (lifecycle := lifecycle_data(topic, object_id, now)) is not None:
        data = lifecycle
    elif topic == "inventory.count.updated":
        count = {
            "catalog_object_id": object_id,
            "catalog_object_type": "ITEM_VARIATION",
            "location_id": "YYQR03DGCTXA4",
            "quantity": "0",  # first sight of a sold-out variation: an OUT_OF_STOCK alert
            "state": "IN_STOCK",
            "calculated_at": now,
        }
        data = {"type": "inventory_counts", "object": {"inventory_counts": [count]}}
    elif topic == "catalog.version.updated":
        data = {"type": "catalog_version", "object": {"catalog_version": {"updated_at": now}}}
    else:
        key = topic.replace(".", "_")
        order = {
            "order_id": object_id,
            "version": 1,
            "location_id": "FPYCBCHYMXFK1",
            "state": "OPEN" if topic == "order.created" else "COMPLETED",
            "created_at": now,
            "updated_at": now,
        }
        data = {"type": key, "object": {key: order}}
    return {
        "merchant_id": shop,
        "type": topic,
        "event_id": str(uuid.uuid4()),
        "created_at": now,
        "data": {"id": object_id, **data},
    }
