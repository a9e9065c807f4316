"""The order lifecycle topics (issue 12 section 3) translate to the right canonical events,
from the platforms' published example bodies (tests/fixtures), pure."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from commercegateway.v1 import events_pb2

from bridge.intake import ParsedDelivery, PlatformSecrets, VerificationConfig, parse_delivery
from bridge.platforms.common import PayloadRejected
from tests.support.bridge import FIXTURES

pytestmark = pytest.mark.unit
CONFIG = VerificationConfig(PlatformSecrets())
SHOPIFY_SAMPLE_TIME = datetime(2022, 1, 1, tzinfo=UTC)  # "2021-12-31T19:00:00-05:00"
ORDER_ID = "820982911946154508"  # beyond 2^53: exact only as text


def shopify(topic: str, body: bytes | dict[str, Any]) -> ParsedDelivery:
    """Parses a Shopify delivery of `topic` received ten minutes after Shopify's sample time."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": "shop.myshopify.com",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-API-Version": "2025-07",
    }
    received = SHOPIFY_SAMPLE_TIME + timedelta(minutes=10)
    return parse_delivery("shopify", raw, headers, CONFIG, received_at=received)


def square(body: bytes) -> events_pb2.Event:
    """The one event of a Square delivery received a minute after its own time."""
    created = datetime.fromisoformat(json.loads(body)["created_at"])
    parsed = parse_delivery("square", body, {}, CONFIG, received_at=created + timedelta(minutes=1))
    (event,) = parsed.events
    return event


def fixture(name: str) -> bytes:
    """A fixture's raw bytes."""
    return (FIXTURES / name).read_bytes()


def order_document(**changes: Any) -> dict[str, Any]:
    """Shopify's sample order (tests/fixtures/shopify_orders_cancelled.json) with changes."""
    document: dict[str, Any] = json.loads(fixture("shopify_orders_cancelled.json"))
    return document | changes


def test_orders_cancelled_fixture_becomes_order_cancelled() -> None:
    (event,) = shopify("orders/cancelled", fixture("shopify_orders_cancelled.json")).events
    cancelled = event.order_cancelled
    assert (cancelled.order_id, cancelled.name, cancelled.reason) == (ORDER_ID, "#9999", "customer")
    assert cancelled.cancel_time.ToDatetime(UTC) == SHOPIFY_SAMPLE_TIME
    assert (cancelled.total.amount_minor, cancelled.total.currency_code) == (40495, "USD")
    assert event.topic == "orders/cancelled"


def test_orders_cancelled_names_its_customer_so_a_redaction_finds_it() -> None:
    document = order_document(customer={"id": 115310627314723954, "email": "a@example.com"})
    (event,) = shopify("orders/cancelled", document).events
    assert event.customer_id == "115310627314723954"


def test_orders_cancelled_without_cancelled_at_is_refused() -> None:
    with pytest.raises(PayloadRejected) as refused:
        shopify("orders/cancelled", order_document(cancelled_at=None))
    assert "cancelled_at: required in an orders/cancelled body" in refused.value.errors


@pytest.mark.parametrize(
    ("topic", "changes", "state"),
    [
        ("orders/paid", {"cancelled_at": None, "financial_status": "paid"}, "COMPLETED"),
        ("orders/updated", {"cancelled_at": None, "financial_status": "refunded"}, "REFUNDED"),
        ("orders/updated", {}, "CANCELED"),
    ],
)
def test_order_topics_become_order_created_with_the_order_state(
    topic: str, changes: dict[str, Any], state: str
) -> None:
    (event,) = shopify(topic, order_document(**changes)).events
    order = event.order_created
    assert order.order_id == ORDER_ID
    assert events_pb2.OrderState.Name(order.state) == f"ORDER_STATE_{state}"
    (line,) = order.line_items
    assert (line.sku, line.product_id, line.price.amount_decimal) == (
        "SKU2006-001",
        "788032119674292922",
        "89.99",
    )


def test_refunds_create_fixture_becomes_order_refunded() -> None:
    (event,) = shopify("refunds/create", fixture("shopify_refunds_create.json")).events
    refund = event.order_refunded
    assert (refund.refund_id, refund.order_id, refund.note) == (
        "890088186047892319",
        ORDER_ID,
        "Things were damaged",
    )
    # Shopify's example transaction names no currency: the exact decimal text is kept alone.
    assert (refund.amount.amount_decimal, refund.amount.currency_code) == ("10.00", "")
    (line,) = refund.line_items
    assert (line.quantity, line.sku, line.title) == (1, "SKU2006-001", "Aviator sunglasses")
    assert refund.update_time.ToDatetime(UTC) == SHOPIFY_SAMPLE_TIME


def test_refund_amount_sums_successful_refund_transactions_only() -> None:
    document = json.loads(fixture("shopify_refunds_create.json"))
    base = {"kind": "refund", "status": "success", "currency": "USD"}
    document["transactions"] = [
        base | {"amount": "10.00"},
        base | {"amount": "5.50"},
        base | {"amount": "99.00", "status": "failure"},
        base | {"amount": "1.00", "kind": "sale"},
    ]
    (event,) = shopify("refunds/create", document).events
    amount = event.order_refunded.amount
    assert (amount.amount_minor, amount.currency_code, amount.amount_decimal) == (
        1550,
        "USD",
        "15.50",
    )


def test_inventory_items_update_fixture_becomes_inventory_item_updated() -> None:
    (event,) = shopify(
        "inventory_items/update", fixture("shopify_inventory_items_update.json")
    ).events
    item = event.inventory_item_updated
    assert (item.inventory_item_id, item.sku, item.tracked) == (
        "271878346596884015",
        "example-sku",
        True,
    )


def test_inventory_levels_connect_fixture_becomes_inventory_level_connected() -> None:
    body = fixture("shopify_inventory_levels_connect.json")
    (event,) = shopify("inventory_levels/connect", body).events
    link = event.inventory_level_connected
    assert (link.inventory_item_id, link.location_id, link.available) == (
        "271878346596884015",
        "24826418",
        "10",
    )
    assert link.update_time.ToDatetime(UTC) == SHOPIFY_SAMPLE_TIME


def test_inventory_levels_disconnect_fixture_becomes_inventory_level_disconnected() -> None:
    body = fixture("shopify_inventory_levels_disconnect.json")
    (event,) = shopify("inventory_levels/disconnect", body).events
    link = event.inventory_level_disconnected
    assert (link.inventory_item_id, link.location_id, link.available) == (
        "271878346596884015",
        "24826418",
        "",
    )


def test_an_update_body_rewritten_as_a_disconnect_is_refused() -> None:
    with pytest.raises(PayloadRejected) as refused:
        shopify("inventory_levels/disconnect", fixture("shopify_inventory_levels_connect.json"))
    assert "available: not part of a inventory_levels/disconnect body" in refused.value.errors


def test_square_order_updated_to_canceled_becomes_a_canceled_order() -> None:
    document = json.loads(fixture("square_order_updated.json"))
    document["data"]["object"]["order_updated"].update(state="CANCELED", version=3)
    event = square(json.dumps(document).encode())
    assert event.order_created.state == events_pb2.ORDER_STATE_CANCELED
    assert event.order_created.version == 3


def test_square_order_fulfillment_updated_fixture_becomes_order_fulfillment_updated() -> None:
    event = square(fixture("square_order_fulfillment_updated.json"))
    change = event.order_fulfillment_updated
    assert (change.order_id, change.version, change.location_id) == (
        "eA3vssLHKJrv9H0IdJCM3gNqfdcZY",
        6,
        "FPYCBCHYMXFK1",
    )
    assert change.state == events_pb2.ORDER_STATE_OPEN
    (step,) = change.changes
    assert (step.fulfillment_id, step.old_state, step.new_state) == (
        "VWJ1N9leLqjSDLvF2hvYjD",
        "PROPOSED",
        "RESERVED",
    )
    assert event.shop == "5S9MXCS9Y99KK"


def test_square_payment_updated_fixture_becomes_payment_updated() -> None:
    event = square(fixture("square_payment_updated.json"))
    payment = event.payment_updated
    assert (payment.payment_id, payment.order_id, payment.status, payment.location_id) == (
        "hYy9pRFVxpDsO1FB05SunFWUe9JZY",
        "03O3USaPaAaFnI6kkwB1JxGgBsUZY",
        "COMPLETED",
        "S8GWD5R9QB376",
    )
    assert (payment.total.amount_minor, payment.total.currency_code) == (100, "USD")
    assert not payment.HasField("refunded") and not payment.fully_refunded


@pytest.mark.parametrize(("refunded", "full"), [(40, False), (100, True)])
def test_square_payment_is_fully_refunded_only_when_the_refund_reaches_its_total(
    refunded: int, full: bool
) -> None:
    document = json.loads(fixture("square_payment_updated.json"))
    document["data"]["object"]["payment"]["refunded_money"] = {
        "amount": refunded,
        "currency": "USD",
    }
    payment = square(json.dumps(document).encode()).payment_updated
    assert (payment.refunded.amount_minor, payment.fully_refunded) == (refunded, full)
