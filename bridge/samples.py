"""Realistic built-in sample bodies, one per handled topic, with fresh ids on every call."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bridge.pipeline import HANDLED_TOPICS
from bridge.platforms.common import PlatformName, as_utc
from bridge.signing import rfc3339

__all__ = ["DEFAULT_SHOPS", "HANDLED_TOPICS", "sample_body"]

DEFAULT_SHOPS: dict[PlatformName, str] = {
    "shopify": "example.myshopify.com",
    "square": "6SSW7HV8K2ST5",
    "betterdata": "shop_example",
}
"""The shop a sample names when none is given (Square and Better Data name it in the body)."""

_Builder = Callable[[str, str, str], dict[str, Any]]


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


def _shopify(topic: str, shop: str, now: str) -> dict[str, Any]:
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


def _square(topic: str, shop: str, now: str) -> dict[str, Any]:
    object_id = uuid.uuid4().hex.upper()[:24]
    if topic == "inventory.count.updated":
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


def _betterdata(topic: str, shop: str, now: str) -> dict[str, Any]:
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


_BUILDERS: dict[PlatformName, _Builder] = {
    "shopify": _shopify,
    "square": _square,
    "betterdata": _betterdata,
}


def sample_body(
    platform: PlatformName, topic: str, *, now: datetime | None = None, shop: str | None = None
) -> bytes:
    """A realistic JSON body of `topic` as `platform` sends it, with fresh unique ids.

    Square and Better Data name the shop in the body (`shop`, default DEFAULT_SHOPS).

    Raises:
        ValueError: for an unknown platform, or a topic it does not handle (naming the valid ones).
    """
    if platform not in _BUILDERS:
        raise ValueError("platform must be one of " + ", ".join(_BUILDERS))
    if topic not in HANDLED_TOPICS[platform]:
        valid = ", ".join(HANDLED_TOPICS[platform])
        raise ValueError(f"unknown {platform} topic {topic!r}; valid topics: {valid}")
    payload = _BUILDERS[platform](topic, shop or DEFAULT_SHOPS[platform], rfc3339(as_utc(now)))
    return json.dumps(payload).encode("utf-8")
