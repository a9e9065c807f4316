"""Shopify's privacy webhooks and app/uninstalled, from Shopify's published example bodies
(tests/fixtures), translate to their canonical events; relabelled or cross-shop bodies are
refused."""

from __future__ import annotations

import hashlib
import json

import pytest
from commercegateway.v1 import events_pb2

from bridge.intake import ParsedDelivery, PayloadRejected
from bridge.platforms.shopify_privacy import unauthorized
from tests.bridge.test_translate_shopify import _parse
from tests.support.bridge import FIXTURES

SHOP = "shop.myshopify.com"


def _fixture(name: str) -> bytes:
    """A fixture with Shopify's `{shop}` placeholder filled with the shop the headers name."""
    return (FIXTURES / name).read_bytes().replace(b"{shop}.myshopify.com", SHOP.encode())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _one(delivery: ParsedDelivery) -> events_pb2.Event:
    (event,) = delivery.events
    assert delivery.handled and event.shop == SHOP and event.platform == events_pb2.PLATFORM_SHOPIFY
    return event


def test_customers_data_request_fixture_becomes_customer_data_requested() -> None:
    event = _one(_parse("customers/data_request", _fixture("shopify_customers_data_request.json")))
    request = event.customer_data_requested
    assert (request.customer_id, list(request.order_ids), request.data_request_id) == (
        "191167",
        ["299938", "280263", "220458"],
        "9999",
    )
    assert request.email_sha256 == _digest("john@example.com")
    assert request.phone_sha256 == _digest("555-625-1199")
    assert event.customer_id == "191167" and event.topic == "customers/data_request"
    assert b"john@example.com" not in event.SerializeToString()  # never the address itself


def test_customers_redact_fixture_becomes_customer_redacted() -> None:
    event = _one(_parse("customers/redact", _fixture("shopify_customers_redact.json")))
    redact = event.customer_redacted
    assert (redact.customer_id, list(redact.order_ids)) == (
        "191167",
        ["299938", "280263", "220458"],
    )
    assert redact.email_sha256 == _digest("john@example.com")
    assert b"555-625-1199" not in event.SerializeToString()


def test_shop_redact_fixture_becomes_shop_redacted() -> None:
    event = _one(_parse("shop/redact", _fixture("shopify_shop_redact.json")))
    assert event.shop_redacted.shop_id == "954889"


def test_app_uninstalled_fixture_becomes_app_uninstalled() -> None:
    event = _one(_parse("app/uninstalled", _fixture("shopify_app_uninstalled.json")))
    assert event.app_uninstalled.shop_id == "548380009"
    assert b"supertoys" not in event.SerializeToString()


def test_the_graphql_topic_spelling_is_read_too() -> None:
    event = _one(_parse("SHOP_REDACT", _fixture("shopify_shop_redact.json")))
    assert event.topic == "shop/redact" and event.HasField("shop_redacted")


def test_an_order_names_its_customer() -> None:
    body = {
        "id": 1,
        "currency": "USD",
        "total_price": "1.00",
        "line_items": [],
        "customer": {"id": 191167, "email": "john@example.com"},
    }
    event = _one(_parse("orders/create", body))
    assert event.customer_id == "191167"


def test_a_privacy_body_naming_another_shop_is_refused() -> None:
    body = _fixture("shopify_shop_redact.json").replace(SHOP.encode(), b"other.myshopify.com")
    with pytest.raises(PayloadRejected) as raised:
        _parse("shop/redact", body)
    assert raised.value.reason == "schema_mismatch"


@pytest.mark.parametrize(
    ("topic", "body"),
    [
        ("shop/redact", {"id": 1}),  # a products/delete body relabelled
        ("app/uninstalled", {"id": 1}),
        ("app/uninstalled", {"id": 1, "name": "#1001", "myshopify_domain": None, "line_items": []}),
        ("customers/redact", json.loads(_fixture("shopify_customers_data_request.json"))),
    ],
)
def test_a_relabelled_body_is_refused(topic: str, body: dict[str, object]) -> None:
    with pytest.raises(PayloadRejected):
        _parse(topic, body)


@pytest.mark.parametrize(
    ("topic", "strict"),
    [
        ("customers/data_request", True),
        ("CUSTOMERS_REDACT", True),
        ("shop/redact", True),
        ("app/uninstalled", True),
        ("orders/create", False),
        ("", False),
    ],
)
def test_the_privacy_topics_are_the_401_ones(topic: str, strict: bool) -> None:
    assert unauthorized({"x-shopify-topic": topic}, ("x-shopify-topic",)) is strict
