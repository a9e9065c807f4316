"""parse_delivery(): routing, ignored topics, 400/422 rejections, replay window by payload time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bridge import WebhookRejected
from bridge.intake import (
    HANDLED_TOPICS,
    PayloadRejected,
    PlatformName,
    PlatformSecrets,
    VerificationConfig,
    parse_delivery,
)
from bridge.samples import sample_body
from bridge.signing import signed_headers

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CONFIG = VerificationConfig(PlatformSecrets(("s",)), notification_url="https://x/")
SHOPIFY_HEADERS = {
    "X-Shopify-Topic": "orders/create",
    "X-Shopify-Shop-Domain": "a.myshopify.com",
    "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
}


def _parse(platform: PlatformName, body: bytes, headers: dict[str, str] | None = None) -> object:
    return parse_delivery(platform, body, headers or {}, CONFIG, received_at=NOW)


def _headers(platform: PlatformName, body: bytes, topic: str) -> dict[str, str]:
    return signed_headers(
        platform, body, "s", topic=topic, shop="a.myshopify.com", now=NOW, notification_url="u"
    )


@pytest.mark.parametrize(
    ("platform", "topic"),
    [(platform, topic) for platform, topics in HANDLED_TOPICS.items() for topic in topics],
)
def test_every_handled_topic_yields_events(platform: PlatformName, topic: str) -> None:
    # The shop the headers name (Shopify's privacy bodies must name the same shop).
    shop = "a.myshopify.com" if platform == "shopify" else None
    body = sample_body(platform, topic, now=NOW, shop=shop)
    delivery = parse_delivery(
        platform, body, _headers(platform, body, topic), CONFIG, received_at=NOW
    )
    assert delivery.handled and delivery.topic == topic and delivery.platform == platform
    assert len(delivery.events) == 1
    assert delivery.events[0].delivery_id == delivery.delivery_id != ""


def test_unknown_shopify_topic_is_ignored() -> None:
    headers = {**SHOPIFY_HEADERS, "X-Shopify-Topic": "customers/create"}
    delivery = parse_delivery("shopify", b'{"id": 1}', headers, CONFIG, received_at=NOW)
    assert not delivery.handled and delivery.events == ()
    assert delivery.topic == "customers/create" and delivery.shop == "a.myshopify.com"


def test_unknown_square_type_is_ignored() -> None:
    body = json.dumps(
        {"merchant_id": "M1", "type": "payment.created", "event_id": "e1", "data": {}}
    ).encode()
    delivery = parse_delivery("square", body, {}, CONFIG, received_at=NOW)
    assert (delivery.handled, delivery.topic, delivery.shop, delivery.delivery_id) == (
        False,
        "payment.created",
        "M1",
        "e1",
    )


def test_unknown_betterdata_type_is_ignored() -> None:
    body = b'{"type": "customer.created", "data": {}}'
    delivery = parse_delivery("betterdata", body, {"webhook-id": "msg_1"}, CONFIG, received_at=NOW)
    assert not delivery.handled and delivery.delivery_id == "msg_1"


def test_graphql_topic_spelling_is_routed() -> None:
    body = sample_body("shopify", "products/delete", now=NOW)
    headers = {**SHOPIFY_HEADERS, "X-Shopify-Topic": "PRODUCTS_DELETE"}
    delivery = parse_delivery("shopify", body, headers, CONFIG, received_at=NOW)
    assert delivery.handled and delivery.topic == "products/delete"


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b'{"id": 1'])
def test_malformed_json_is_rejected_with_400(body: bytes) -> None:
    with pytest.raises(PayloadRejected) as caught:
        _parse("shopify", body, SHOPIFY_HEADERS)
    assert (caught.value.status, caught.value.reason) == (400, "malformed_json")


def test_schema_mismatch_is_rejected_with_422_naming_paths_not_values() -> None:
    order = json.loads(sample_body("shopify", "orders/create", now=NOW))
    order["line_items"][0]["quantity"] = "many-secret-value"
    del order["currency"]
    with pytest.raises(PayloadRejected) as caught:
        _parse("shopify", json.dumps(order).encode(), SHOPIFY_HEADERS)
    rejected = caught.value
    assert (rejected.status, rejected.reason) == (422, "schema_mismatch")
    assert any(error.startswith("line_items[0].quantity:") for error in rejected.errors)
    assert any(error.startswith("currency:") for error in rejected.errors)
    assert "many-secret-value" not in str(rejected) + " ".join(rejected.errors)


def test_json_that_is_not_an_object_is_rejected_with_422() -> None:
    with pytest.raises(PayloadRejected) as caught:
        _parse("square", b"[1, 2]")
    assert caught.value.status == 422


def test_float_id_is_rejected_with_422() -> None:
    with pytest.raises(PayloadRejected) as caught:
        _parse(
            "shopify", b'{"id": 1.5e20}', {**SHOPIFY_HEADERS, "X-Shopify-Topic": "products/delete"}
        )
    assert caught.value.errors == ["id: Value error, expected an id (string or integer)"]


def test_amount_finer_than_the_currency_is_rejected_with_422() -> None:
    order = json.loads(sample_body("shopify", "orders/create", now=NOW))
    order["currency"], order["total_price"] = "JPY", "100.5"
    with pytest.raises(PayloadRejected) as caught:
        _parse("shopify", json.dumps(order).encode(), SHOPIFY_HEADERS)
    assert caught.value.errors == ["total_price: amount has more decimal places than JPY allows"]


@pytest.mark.parametrize(
    ("platform", "topic", "headers"),
    [
        ("shopify", "orders/create", SHOPIFY_HEADERS),
        ("square", "order.updated", {}),
        ("betterdata", "checkout.completed", {"webhook-id": "msg_1"}),
    ],
)
def test_payload_older_than_the_replay_window_is_rejected(
    platform: PlatformName, topic: str, headers: dict[str, str]
) -> None:
    body = sample_body(platform, topic, now=NOW - timedelta(hours=73))
    with pytest.raises(WebhookRejected) as caught:
        _parse(platform, body, headers)
    assert caught.value.reason == "stale_event"


def test_product_updated_at_is_not_checked_when_a_header_dated_the_event() -> None:
    # A product's updated_at may be legitimately old (products/update fires for inventory and
    # publication changes), so only the header dates it; see tests/bridge/test_replay_parse.py.
    body = sample_body("shopify", "products/update", now=NOW - timedelta(hours=73))
    headers = {
        **SHOPIFY_HEADERS,
        "X-Shopify-Topic": "products/update",
        "X-Shopify-Triggered-At": "2026-01-02T02:00:00.123456789Z",
    }
    delivery = parse_delivery("shopify", body, headers, CONFIG, received_at=NOW)
    assert delivery.handled


def test_missing_shopify_webhook_id_is_rejected() -> None:
    headers = {k: v for k, v in SHOPIFY_HEADERS.items() if k != "X-Shopify-Webhook-Id"}
    with pytest.raises(WebhookRejected) as caught:
        _parse("shopify", sample_body("shopify", "orders/create", now=NOW), headers)
    assert caught.value.reason == "missing_header"
