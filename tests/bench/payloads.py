"""Realistic ~2 KB Shopify and Square deliveries, signed, as ready-to-send HTTP/1.1 requests."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from bridge.samples import sample_body
from bridge.signing import signed_headers

SECRET = "bench-webhook-secret"
SQUARE_URL = "https://gateway.example.com/webhooks/square"
SHOP = "bench-store.myshopify.com"
MERCHANT = "BENCHMERCHANT1"
TEMPLATES = 32  # distinct bodies per platform, cycled; every delivery id is still unique
_MARK = "__BENCH_DELIVERY__"


def delivery_id(tag: str, index: int) -> str:
    """The delivery id of request `index` of a phase: the subscribers parse it back."""
    return f"{tag}-{index}"


def parse_delivery_id(value: str) -> tuple[str, int]:
    """(tag, index) of a delivery id made by `delivery_id`."""
    tag, _, index = value.rpartition("-")
    return tag, int(index)


def _address(name: str) -> dict[str, Any]:
    return {
        "first_name": name,
        "last_name": "Buyer",
        "address1": "150 Elgin Street",
        "address2": "Suite 800",
        "city": "Ottawa",
        "province": "Ontario",
        "country": "Canada",
        "zip": "K2P 1L4",
        "phone": "+1 613-555-0100",
        "country_code": "CA",
        "province_code": "ON",
    }


def _shopify_order(now: datetime) -> dict[str, Any]:
    order: dict[str, Any] = json.loads(sample_body("shopify", "orders/create", now=now))
    line = order["line_items"][0]
    order["line_items"] = [
        {
            **line,
            "sku": f"SKU-{n}",
            "variant_title": "M / Blue",
            "vendor": "Bench Co",
            "fulfillment_status": None,
            "requires_shipping": True,
            "taxable": True,
            "grams": 200,
            "variant_id": line["variant_id"] + n,
        }
        for n in range(3)
    ]
    order.update(
        subtotal_price="89.97",
        total_tax="11.70",
        total_discounts="0.00",
        presentment_currency="USD",
        tags="bench, loadtest",
        billing_address=_address("Ada"),
        shipping_address=_address("Ada"),
        customer={
            "id": 2**61 + secrets.randbelow(2**40),
            "email": "buyer@example.com",
            "first_name": "Ada",
            "last_name": "Buyer",
            "orders_count": 3,
            "verified_email": True,
            "tax_exempt": False,
        },
        shipping_lines=[{"code": "standard", "price": "5.00", "title": "Standard"}],
        tax_lines=[{"price": "11.70", "rate": 0.13, "title": "HST"}],
        # Unique per delivery: the bridge deduplicates replays by signed content (content key).
        note=_MARK,
    )
    return order


def _square_inventory(now: datetime) -> dict[str, Any]:
    notification: dict[str, Any] = json.loads(
        sample_body("square", "inventory.count.updated", now=now, shop=MERCHANT)
    )
    counts = notification["data"]["object"]["inventory_counts"]
    # Square reports where units went beside the IN_STOCK count; only IN_STOCK yields an event.
    moved = [
        {**counts[0], "state": state, "quantity": str(n + 1), "location_id": f"LOC{n:08d}"}
        for n, state in enumerate(("SOLD", "WASTE", "RETURNED_BY_CUSTOMER", "IN_TRANSIT_TO"))
        for _ in range(2)
    ]
    counts.extend(moved)
    notification["event_id"] = _MARK
    return notification


def _templates(now: datetime) -> list[tuple[str, bytes]]:
    built: list[tuple[str, bytes]] = []
    for _ in range(TEMPLATES):
        built.append(("shopify", json.dumps(_shopify_order(now)).encode()))
        built.append(("square", json.dumps(_square_inventory(now)).encode()))
    return built


def _request(path: str, host: str, headers: dict[str, str], body: bytes) -> bytes:
    head = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    head.extend(f"{name}: {value}" for name, value in headers.items())
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def build_requests(tag: str, count: int, host: str, *, shopify_only: bool = False) -> list[bytes]:
    """`count` signed requests, alternating Shopify orders/create and Square
    inventory.count.updated (only the Shopify ones when `shopify_only`), with delivery ids
    `delivery_id(tag, index)`."""
    now = datetime.now(UTC)
    templates = _templates(now)
    if shopify_only:
        templates = [template for template in templates if template[0] == "shopify"]
    requests: list[bytes] = []
    for index in range(count):
        platform, template = templates[index % len(templates)]
        ident = delivery_id(tag, index)
        if platform == "shopify":
            body = template.replace(_MARK.encode(), ident.encode())
            headers = signed_headers(
                "shopify",
                body,
                SECRET,
                topic="orders/create",
                shop=SHOP,
                delivery_id=ident,
                now=now,
            )
        else:
            body = template.replace(_MARK.encode(), ident.encode())
            headers = signed_headers(
                "square",
                body,
                SECRET,
                topic="inventory.count.updated",
                shop=MERCHANT,
                now=now,
                notification_url=SQUARE_URL,
            )
        requests.append(_request(f"/webhooks/{platform}", host, headers, body))
    return requests


def body_sizes(requests: list[bytes]) -> tuple[int, int]:
    """(smallest, largest) body size in bytes of prepared requests."""
    sizes = [len(r) - r.index(b"\r\n\r\n") - 4 for r in requests[: 2 * TEMPLATES]]
    return min(sizes), max(sizes)
