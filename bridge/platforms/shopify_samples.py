"""Realistic Shopify sample bodies, one per handled topic, with fresh ids on every call."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from bridge.platforms.shopify_lifecycle_samples import lifecycle_sample


def _big_id() -> int:
    """A fresh Shopify-style id beyond 2^53, so samples exercise exact big integers."""
    return 2**60 + secrets.randbelow(2**62)


def _shopify_order(now: str) -> dict[str, Any]:
    line = {
        "product_id": _big_id(),
        "variant_id": _big_id(),
        "sku": "TSHIRT-001",
        "title": "T-Shirt",
        "quantity": 2,
        "price": "29.99",
    }
    return {
        "id": _big_id(),
        "name": f"#{1000 + secrets.randbelow(9000)}",
        "email": "buyer@example.com",
        "created_at": now,
        "updated_at": now,
        "currency": "USD",
        "total_price": "59.98",
        "financial_status": "paid",
        "line_items": [line],
        "note_attributes": [{"name": "gateway_session_id", "value": f"sess_{uuid.uuid4().hex}"}],
        "cart_token": uuid.uuid4().hex,
        "checkout_token": uuid.uuid4().hex,
    }


def sample(topic: str, shop: str, now: str) -> dict[str, Any]:
    """A JSON document of `topic` naming `shop`, with fresh ids, at `now` (RFC 3339)."""
    if (lifecycle := lifecycle_sample(topic, now)) is not None:
        return lifecycle
    item = _big_id()
    variant = {"id": _big_id(), "title": "Default Title", "price": "29.99", "sku": "TSHIRT-001"}
    if topic == "inventory_levels/update":
        return {
            "inventory_item_id": item,
            "location_id": _big_id(),
            "available": 3,
            "updated_at": now,
        }
    if topic == "orders/create":
        return _shopify_order(now)
    if topic == "products/delete":
        return {"id": _big_id()}
    return {
        "id": _big_id(),
        "title": "T-Shirt",
        "status": "active",
        "updated_at": now,
        "variants": [{**variant, "inventory_item_id": item, "inventory_quantity": 3}],
    }
