"""signed_headers() and sample_body(): what each platform sends, verifiable by the bridge."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bridge import verify_webhook
from bridge.intake import (
    HANDLED_TOPICS,
    PlatformName,
    PlatformSecrets,
    VerificationConfig,
    authenticate,
    parse_delivery,
)
from bridge.samples import sample_body
from bridge.signing import rfc3339, signed_headers

NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
URL = "https://gateway.example.com/webhooks/square"
ALL_TOPICS = [(platform, topic) for platform, topics in HANDLED_TOPICS.items() for topic in topics]


def test_shopify_headers_are_the_ones_shopify_sends() -> None:
    body = sample_body("shopify", "orders/create", now=NOW)
    headers = signed_headers(
        "shopify",
        body,
        "s",
        topic="orders/create",
        shop="a.myshopify.com",
        delivery_id="w1",
        now=NOW,
    )
    assert set(headers) == {
        "Content-Type",
        "X-Shopify-Topic",
        "X-Shopify-Hmac-Sha256",
        "X-Shopify-Shop-Domain",
        "X-Shopify-API-Version",
        "X-Shopify-Webhook-Id",
        "X-Shopify-Triggered-At",
        "X-Shopify-Event-Id",
    }
    assert headers["X-Shopify-Webhook-Id"] == "w1"
    assert headers["X-Shopify-Triggered-At"] == "2026-01-02T03:04:05.678901000Z"
    assert headers["Content-Type"] == "application/json"


def test_square_headers_carry_both_signatures_and_the_delivery_time() -> None:
    body = sample_body("square", "order.created", now=NOW)
    headers = signed_headers("square", body, "k", topic="", shop="", now=NOW, notification_url=URL)
    assert headers["square-initial-delivery-timestamp"] == "2026-01-02T03:04:05.678901Z"
    for legacy in (False, True):
        trimmed = {
            k: v for k, v in headers.items() if legacy != (k == "x-square-hmacsha256-signature")
        }
        verify_webhook(
            "square", body, trimmed, secrets=["k"], notification_url=URL, legacy_sha1=True
        )


def test_square_signing_without_notification_url_is_refused() -> None:
    with pytest.raises(ValueError, match="notification URL"):
        signed_headers("square", b"{}", "k", topic="", shop="")


def test_betterdata_headers_are_standard_webhooks() -> None:
    headers = signed_headers("betterdata", b"{}", "whsec_AAAA", topic="", shop="", now=NOW)
    assert headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert headers["webhook-id"].startswith("msg_")
    assert headers["webhook-signature"].startswith("v1,")


def test_fresh_delivery_ids_when_none_is_given() -> None:
    first = signed_headers("shopify", b"{}", "s", topic="t", shop="x", now=NOW)
    second = signed_headers("shopify", b"{}", "s", topic="t", shop="x", now=NOW)
    assert first["X-Shopify-Webhook-Id"] != second["X-Shopify-Webhook-Id"]


def test_unknown_platform_signing_is_refused() -> None:
    with pytest.raises(ValueError, match="platform must be one of"):
        signed_headers("woo", b"{}", "s", topic="t", shop="x")


def test_rfc3339_is_utc_with_z() -> None:
    assert rfc3339(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000000Z"


@pytest.mark.parametrize(("platform", "topic"), ALL_TOPICS)
def test_signed_sample_round_trips_through_authenticate(platform: PlatformName, topic: str) -> None:
    config = VerificationConfig(PlatformSecrets(("whsec_c2VjcmV0",)), notification_url=URL)
    named = "a.myshopify.com" if platform == "shopify" else None  # the headers' shop
    body = sample_body(platform, topic, now=NOW, shop=named)
    headers = signed_headers(
        platform,
        body,
        "whsec_c2VjcmV0",
        topic=topic,
        shop="a.myshopify.com",
        now=NOW,
        notification_url=URL,
    )
    authenticate(platform, body, headers, config, now=NOW)
    delivery = parse_delivery(platform, body, headers, config, received_at=NOW)
    assert delivery.handled and delivery.topic == topic and len(delivery.events) == 1


@pytest.mark.parametrize(("platform", "topic"), ALL_TOPICS)
def test_samples_have_fresh_ids(platform: PlatformName, topic: str) -> None:
    first, second = sample_body(platform, topic, now=NOW), sample_body(platform, topic, now=NOW)
    assert first != second


def test_shopify_samples_use_ids_beyond_two_to_the_53() -> None:
    body = json.loads(sample_body("shopify", "products/update", now=NOW))
    assert body["id"] > 2**53 and body["variants"][0]["inventory_item_id"] > 2**53


def test_unknown_topic_sample_is_refused_naming_the_valid_topics() -> None:
    with pytest.raises(
        ValueError, match=r"valid topics: inventory\.count\.updated, order\.created"
    ):
        sample_body("square", "payment.created")
