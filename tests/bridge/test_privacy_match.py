"""Which kept raw bodies a redaction matches on the bridge (bridge.privacy.mentions): pure."""

from __future__ import annotations

import pytest
from commercegateway.v1 import events_pb2

from bridge.privacy import Redaction, mentions
from common.redaction import Subject

pytestmark = pytest.mark.unit

REDACTION = Redaction(
    Subject(events_pb2.PLATFORM_SHOPIFY, "s.myshopify.com", "191167", frozenset({"299938"})),
    "shopify",
    email="John@Example.com",
    phone="555-625-1199",
)


@pytest.mark.parametrize(
    ("topic", "body", "matched"),
    [
        ("orders/create", {"id": 1, "customer": {"id": 191167}}, True),
        ("orders/create", {"id": 299938, "customer": {"id": 5}}, True),
        ("refunds/create", {"id": 9, "order_id": 299938}, True),
        ("orders/create", {"id": 1, "contact_email": " john@example.COM "}, True),
        ("orders/create", {"id": 1, "billing_address": {"phone": "555-625-1199"}}, True),
        ("orders/create", {"id": 1, "customer": {"id": 5, "email": "x@example.com"}}, False),
        ("products/update", {"id": 299938, "title": "a product with the order's number"}, False),
    ],
)
def test_a_kept_body_matches_by_customer_id_order_email_or_phone(
    topic: str, body: dict[str, object], matched: bool
) -> None:
    assert mentions(body, topic, REDACTION) is matched
