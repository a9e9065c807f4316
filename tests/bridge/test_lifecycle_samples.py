"""`send`'s built-in samples of the order lifecycle topics are valid deliveries of their topic:
each translates to its canonical event, pure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge.intake import PlatformName, PlatformSecrets, VerificationConfig, parse_delivery
from bridge.samples import sample_body

pytestmark = pytest.mark.unit
CONFIG = VerificationConfig(PlatformSecrets())
LIFECYCLE: list[tuple[PlatformName, str, str]] = [
    ("shopify", "orders/paid", "order_created"),
    ("shopify", "orders/updated", "order_created"),
    ("shopify", "orders/cancelled", "order_cancelled"),
    ("shopify", "refunds/create", "order_refunded"),
    ("shopify", "inventory_items/update", "inventory_item_updated"),
    ("shopify", "inventory_levels/connect", "inventory_level_connected"),
    ("shopify", "inventory_levels/disconnect", "inventory_level_disconnected"),
    ("square", "order.updated", "order_created"),
    ("square", "order.fulfillment.updated", "order_fulfillment_updated"),
    ("square", "payment.updated", "payment_updated"),
]


@pytest.mark.parametrize(("platform", "topic", "kind"), LIFECYCLE)
def test_sample_of_each_lifecycle_topic_becomes_its_canonical_event(
    platform: PlatformName, topic: str, kind: str
) -> None:
    now = datetime.now(UTC)
    body = sample_body(platform, topic, now=now)
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": "example.myshopify.com",
        "X-Shopify-Webhook-Id": "sample",
    }
    parsed = parse_delivery(platform, body, headers, CONFIG, received_at=now)
    assert [event.WhichOneof("payload") for event in parsed.events] == [kind]
    assert parsed.topic == topic


def test_two_samples_of_a_topic_name_different_orders() -> None:
    first, second = (sample_body("shopify", "orders/cancelled") for _ in range(2))
    assert first != second
