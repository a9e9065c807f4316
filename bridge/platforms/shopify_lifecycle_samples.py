"""Realistic Shopify sample bodies of the order lifecycle and inventory item topics, with fresh
ids on every call (the `send` command's built-in samples)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any


def _big_id() -> int:
    """A fresh Shopify-style id beyond 2^53, so samples exercise exact big integers."""
    return 2**60 + secrets.randbelow(2**62)


def _order(now: str, **changes: Any) -> dict[str, Any]:
    line = {
        "id": _big_id(),
        "product_id": _big_id(),
        "variant_id": _big_id(),
        "sku": "TSHIRT-001",
        "title": "T-Shirt",
        "quantity": 2,
        "price": "29.99",
    }
    order = {
        "id": _big_id(),
        "name": f"#{1000 + secrets.randbelow(9000)}",
        "created_at": now,
        "updated_at": now,
        "currency": "USD",
        "total_price": "59.98",
        "financial_status": "paid",
        "cancelled_at": None,
        "cancel_reason": None,
        "line_items": [line],
        "note_attributes": [],
        "cart_token": secrets.token_hex(16),
        "checkout_token": secrets.token_hex(16),
    }
    return order | changes


def _refund(now: str) -> dict[str, Any]:
    line = {"id": _big_id(), "sku": "TSHIRT-001", "title": "T-Shirt", "price": "29.99"}
    return {
        "id": _big_id(),
        "order_id": _big_id(),
        "created_at": now,
        "processed_at": now,
        "note": "Damaged in transit",
        "restock": False,
        "refund_line_items": [
            {"id": _big_id(), "quantity": 1, "line_item_id": line["id"], "line_item": line}
        ],
        "transactions": [
            {
                "id": _big_id(),
                "kind": "refund",
                "status": "success",
                "amount": "29.99",
                "currency": "USD",
                "created_at": now,
            }
        ],
    }


def _item(now: str) -> dict[str, Any]:
    item = _big_id()
    return {
        "id": item,
        "sku": "TSHIRT-001",
        "created_at": now,
        "updated_at": now,
        "requires_shipping": True,
        "cost": "12.00",
        "tracked": True,
        "admin_graphql_api_id": f"gid://shopify/InventoryItem/{item}",
    }


def _level(now: str, *, connect: bool) -> dict[str, Any]:
    level: dict[str, Any] = {"inventory_item_id": _big_id(), "location_id": _big_id()}
    if connect:
        level |= {"available": 3, "updated_at": now}
    return level


_SAMPLES: dict[str, Callable[[str], dict[str, Any]]] = {
    "orders/paid": _order,
    "orders/updated": lambda now: _order(now, note="Gift wrap, please"),
    "orders/cancelled": lambda now: _order(
        now, cancelled_at=now, cancel_reason="customer", financial_status="voided"
    ),
    "refunds/create": _refund,
    "inventory_items/update": _item,
    "inventory_levels/connect": lambda now: _level(now, connect=True),
    "inventory_levels/disconnect": lambda now: _level(now, connect=False),
}


def lifecycle_sample(topic: str, now: str) -> dict[str, Any] | None:
    """A JSON document of a lifecycle `topic` at `now` (RFC 3339), or None for another topic."""
    build = _SAMPLES.get(topic)
    return None if build is None else build(now)
