"""Realistic Better Data sample bodies, one per handled topic, with fresh ids on every call."""

from __future__ import annotations

import uuid
from typing import Any


def sample(topic: str, shop: str, now: str) -> dict[str, Any]:
    """A JSON document of `topic` naming `shop`, with fresh ids, at `now` (RFC 3339)."""
    order_id, session_id = f"ord_{uuid.uuid4().hex[:12]}", f"sess_{uuid.uuid4().hex[:12]}"
    product_id, variant_id = f"prod_{uuid.uuid4().hex[:12]}", f"var_{uuid.uuid4().hex[:12]}"
    data: dict[str, Any] = {
        "inventory.updated": {
            "product_id": product_id,
            "variant_id": variant_id,
            "sku": "TSHIRT-001",
            "location_id": "loc_1",
            "available": 3,
        },
        "order.created": {
            "order_id": order_id,
            "session_id": session_id,
            "total_minor": 5998,
            "currency": "USD",
        },
        "product.updated": {"product_id": product_id, "title": "T-Shirt", "deleted": False},
        "checkout.completed": {
            "session_id": session_id,
            "order_id": order_id,
            "total_minor": 5998,
            "currency": "USD",
        },
    }[topic]
    return {"type": topic, "timestamp": now, "shop_id": shop, "data": data}
