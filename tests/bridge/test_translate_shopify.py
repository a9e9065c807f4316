"""Shopify payloads translate to the right canonical events, big ids and decimals exact."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from commercegateway.v1 import events_pb2

from bridge.intake import ParsedDelivery, PlatformSecrets, VerificationConfig, parse_delivery
from bridge.platforms.shopify import event_key
from tests.support.bridge import FIXTURES

RECEIVED = datetime(2025, 4, 22, 19, 31, tzinfo=UTC)
CONFIG = VerificationConfig(PlatformSecrets())
BIG = 271878346596884015  # beyond 2^53: a float would change it
WEBHOOK_ID = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"


def _parse(topic: str, body: bytes | dict[str, Any], **extra: str) -> ParsedDelivery:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": "shop.myshopify.com",
        "X-Shopify-Webhook-Id": WEBHOOK_ID,
        **extra,
    }
    return parse_delivery("shopify", raw, headers, CONFIG, received_at=RECEIVED)


def test_products_update_fixture_becomes_product_updated() -> None:
    delivery = _parse("products/update", (FIXTURES / "shopify_products_update.json").read_bytes())
    (event,) = delivery.events
    assert event.platform == events_pb2.PLATFORM_SHOPIFY
    assert (event.shop, event.topic, event.delivery_id) == (
        "shop.myshopify.com",
        "products/update",
        WEBHOOK_ID,
    )
    assert event.source_event_id == WEBHOOK_ID
    assert event.id == str(uuid.uuid5(uuid.NAMESPACE_URL, f"shopify:{WEBHOOK_ID}"))
    product = event.product_updated
    assert (product.product_id, product.title, product.status) == (
        "9554194432293",
        "T-Shirt",
        "active",
    )
    (variant,) = product.variants
    assert (variant.variant_id, variant.sku, variant.title) == (
        "123456789",
        "TSHIRT-001",
        "Default Title",
    )
    assert variant.price.amount_decimal == "29.99" and variant.inventory_item_id == ""
    updated = datetime.fromisoformat("2025-04-22T14:30:00-05:00")
    assert product.update_time.ToDatetime(UTC) == updated
    assert event.occur_time.ToDatetime(UTC) == updated
    assert event.receive_time.ToDatetime(UTC) == RECEIVED


def test_products_create_maps_variants_to_inventory_items() -> None:
    payload = {
        "id": BIG,
        "title": "Mug",
        "status": "draft",
        "updated_at": "2025-04-22T19:30:00Z",
        "variants": [{"id": BIG + 1, "sku": None, "price": "5.00", "inventory_item_id": BIG + 2}],
    }
    (event,) = _parse("products/create", payload).events
    (variant,) = event.product_updated.variants
    assert event.product_updated.product_id == str(BIG)
    assert (variant.variant_id, variant.inventory_item_id, variant.sku) == (
        str(BIG + 1),
        str(BIG + 2),
        "",
    )


def test_products_delete_becomes_product_deleted() -> None:
    triggered = "2025-04-22T19:30:27.877041743Z"
    delivery = _parse("products/delete", {"id": BIG}, **{"X-Shopify-Triggered-At": triggered})
    (event,) = delivery.events
    assert event.product_deleted.product_id == str(BIG)
    assert event.occur_time.ToDatetime(UTC) == datetime(2025, 4, 22, 19, 30, 27, 877041, UTC)


def test_inventory_level_becomes_inventory_updated_with_exact_ids() -> None:
    payload = {
        "inventory_item_id": BIG,
        "location_id": 2**63 - 1,
        "available": 0,
        "updated_at": "2025-04-22T15:00:00-04:00",
        "admin_graphql_api_id": "gid://shopify/InventoryLevel/1",
    }
    (event,) = _parse("inventory_levels/update", payload).events
    level = event.inventory_updated
    assert (level.inventory_item_id, level.location_id, level.available) == (
        "271878346596884015",
        "9223372036854775807",
        "0",
    )
    assert level.update_time.ToDatetime(UTC) == datetime(2025, 4, 22, 19, 0, tzinfo=UTC)


def test_untracked_inventory_level_yields_no_event() -> None:
    payload = {"inventory_item_id": 1, "location_id": 2, "available": None}
    delivery = _parse("inventory_levels/update", payload)
    assert delivery.handled and delivery.events == ()


def test_id_beyond_int64_survives_as_text() -> None:
    (event,) = _parse("products/delete", b'{"id": 123456789012345678901234567890}').events
    assert event.product_deleted.product_id == "123456789012345678901234567890"


def _order() -> dict[str, Any]:
    return {
        "id": BIG,
        "name": "#1001",
        "email": "buyer@example.com",
        "created_at": "2025-04-22T19:00:00Z",
        "updated_at": "2025-04-22T19:05:00Z",
        "currency": "USD",
        "total_price": "59.98",
        "financial_status": "paid",
        "line_items": [
            {
                "product_id": BIG + 10,
                "variant_id": BIG + 11,
                "sku": "TSHIRT-001",
                "title": "T-Shirt",
                "quantity": 2,
                "price": "29.99",
            },
            {
                "product_id": None,
                "variant_id": None,
                "title": "Gift wrap",
                "quantity": 1,
                "price": "0.00",
            },
        ],
        "note_attributes": [
            {"name": "gateway_session_id", "value": "sess_42"},
            {"name": "channel", "value": "chat"},
        ],
        "cart_token": "c1d2",
        "checkout_token": "k9z8",
    }


def test_order_becomes_completed_order_created() -> None:
    (event,) = _parse("orders/create", _order()).events
    order = event.order_created
    assert (order.order_id, order.name, order.state) == (
        str(BIG),
        "#1001",
        events_pb2.ORDER_STATE_COMPLETED,
    )
    assert order.total == events_pb2.Money(
        amount_minor=5998, currency_code="USD", amount_decimal="59.98"
    )
    assert dict(order.attributes) == {"gateway_session_id": "sess_42", "channel": "chat"}
    assert (order.cart_token, order.checkout_id, order.session_id) == ("c1d2", "k9z8", "")
    first, wrap = order.line_items
    assert (first.product_id, first.variant_id, first.sku, first.quantity) == (
        str(BIG + 10),
        str(BIG + 11),
        "TSHIRT-001",
        2,
    )
    assert first.price.amount_minor == 2999 and first.price.currency_code == "USD"
    assert (wrap.product_id, wrap.title, wrap.price.amount_minor) == ("", "Gift wrap", 0)
    assert order.update_time.ToDatetime(UTC) == datetime(2025, 4, 22, 19, 5, tzinfo=UTC)


def test_order_in_a_three_decimal_currency_keeps_exact_minor_units() -> None:
    order = _order()
    order["currency"], order["total_price"] = "KWD", "12.345"
    order["line_items"] = []
    (event,) = _parse("orders/create", order).events
    assert event.order_created.total.amount_minor == 12345


def test_order_without_note_attributes_has_no_attributes() -> None:
    order = _order()
    order["note_attributes"] = None
    (event,) = _parse("orders/create", order).events
    assert dict(event.order_created.attributes) == {}


def test_event_id_header_keys_the_event_by_shop_topic_and_event_id() -> None:
    body = (FIXTURES / "shopify_products_update.json").read_bytes()
    delivery = _parse("products/update", body, **{"X-Shopify-Event-Id": "98880550"})
    (event,) = delivery.events
    assert event.delivery_id == WEBHOOK_ID
    assert event.source_event_id == event_key(
        "shop.myshopify.com", "products/update", "98880550", 0
    )
    assert event.source_event_id.startswith("event:") and len(event.source_event_id) == 72
    assert event.id == str(uuid.uuid5(uuid.NAMESPACE_URL, f"shopify:{event.source_event_id}"))
    other = _parse("products/create", body, **{"X-Shopify-Event-Id": "98880550"})
    assert other.events[0].source_event_id != event.source_event_id
