"""Replays with rewritten unsigned headers, at the parsing level: content keys, the body's own
time against the replay window, topic shapes, and future-dated events (issue 9, items 6-7)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from commercegateway.v1 import events_pb2

from bridge import WebhookRejected
from bridge.intake import (
    PayloadRejected,
    PlatformSecrets,
    VerificationConfig,
    parse_delivery,
)
from bridge.platforms.delivery import content_key, mark_future_dated
from bridge.platforms.shopify import SHAPES
from bridge.samples import sample_body
from bridge.signing import rfc3339

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CONFIG = VerificationConfig(PlatformSecrets(("s",)), notification_url="https://x/")


def _shopify_headers(topic: str, webhook_id: str = "w-1", at: datetime = NOW) -> dict[str, str]:
    return {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": "a.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Triggered-At": rfc3339(at, nanoseconds=True),
    }


def _parse_shopify(topic: str, body: bytes, **header_args: object) -> tuple[events_pb2.Event, ...]:
    headers = _shopify_headers(topic, **header_args)  # type: ignore[arg-type]
    return parse_delivery("shopify", body, headers, CONFIG, received_at=NOW).events


def test_content_key_is_the_same_whatever_the_webhook_id_says() -> None:
    body = sample_body("shopify", "orders/create", now=NOW)
    (first,) = _parse_shopify("orders/create", body, webhook_id="w-1")
    (second,) = _parse_shopify("orders/create", body, webhook_id="w-2")
    assert first.source_event_id != second.source_event_id
    expected = hashlib.sha256(b"shopify\n" + body).hexdigest() + ":0"
    assert first.content_key == second.content_key == expected


def test_content_key_differs_per_platform_and_per_event_index() -> None:
    assert content_key("shopify", b"{}", 0) != content_key("square", b"{}", 0)
    assert content_key("square", b"{}", 0) != content_key("square", b"{}", 1)


def test_each_event_of_a_multi_event_square_body_gets_its_own_content_key() -> None:
    document = json.loads(sample_body("square", "inventory.count.updated", now=NOW))
    count = document["data"]["object"]["inventory_counts"][0]
    document["data"]["object"]["inventory_counts"] = [
        count,
        {**count, "catalog_object_id": "OTHER"},
    ]
    body = json.dumps(document).encode()
    events = parse_delivery("square", body, {}, CONFIG, received_at=NOW).events
    digest = hashlib.sha256(b"square\n" + body).hexdigest()
    assert [event.content_key for event in events] == [f"{digest}:0", f"{digest}:1"]


@pytest.mark.parametrize("topic", ["orders/create", "inventory_levels/update", "products/create"])
def test_old_body_with_a_fresh_header_is_stale(topic: str) -> None:
    body = sample_body("shopify", topic, now=NOW - timedelta(hours=80))
    if topic == "products/create":
        document = json.loads(body)
        document["created_at"] = rfc3339(NOW - timedelta(hours=80))
        body = json.dumps(document).encode()
    with pytest.raises(WebhookRejected) as caught:
        _parse_shopify(topic, body, at=NOW)
    assert caught.value.reason == "stale_event"


def test_old_square_body_with_a_fresh_initial_delivery_header_is_stale() -> None:
    body = sample_body("square", "inventory.count.updated", now=NOW - timedelta(hours=80))
    headers = {"square-initial-delivery-timestamp": rfc3339(NOW)}
    with pytest.raises(WebhookRejected) as caught:
        parse_delivery("square", body, headers, CONFIG, received_at=NOW)
    assert caught.value.reason == "stale_event"


def test_body_within_the_window_passes() -> None:
    body = sample_body("shopify", "orders/create", now=NOW - timedelta(hours=71))
    assert len(_parse_shopify("orders/create", body)) == 1


@pytest.mark.parametrize(
    ("body_topic", "header_topic"),
    [
        ("products/update", "products/delete"),
        ("orders/create", "products/update"),
        ("products/update", "orders/create"),
        ("inventory_levels/update", "products/delete"),
        ("products/delete", "products/update"),
        ("orders/create", "inventory_levels/update"),
    ],
)
def test_body_of_another_topic_is_refused_with_422(body_topic: str, header_topic: str) -> None:
    body = sample_body("shopify", body_topic, now=NOW)
    with pytest.raises(PayloadRejected) as caught:
        _parse_shopify(header_topic, body)
    assert (caught.value.status, caught.value.reason) == (422, "schema_mismatch")


def test_topic_mismatch_names_the_keys_not_the_values() -> None:
    body = sample_body("shopify", "products/update", now=NOW)
    with pytest.raises(PayloadRejected) as caught:
        _parse_shopify("products/delete", body)
    assert "title: not part of a products/delete body" in caught.value.errors
    assert "T-Shirt" not in " ".join(caught.value.errors)


@pytest.mark.parametrize("topic", sorted(SHAPES))
def test_every_topic_accepts_its_own_shape(topic: str) -> None:
    body = sample_body("shopify", topic, now=NOW, shop="a.myshopify.com")  # the headers' shop
    assert len(_parse_shopify(topic, body)) == 1


def test_platform_time_beyond_the_tolerance_is_flagged_future_dated() -> None:
    ahead = sample_body("shopify", "inventory_levels/update", now=NOW + timedelta(hours=1))
    (event,) = _parse_shopify("inventory_levels/update", ahead)
    assert event.future_dated
    within = sample_body("shopify", "inventory_levels/update", now=NOW + timedelta(minutes=4))
    (event,) = _parse_shopify("inventory_levels/update", within)
    assert not event.future_dated


def test_future_update_time_alone_is_flagged() -> None:
    event = events_pb2.Event(inventory_updated=events_pb2.InventoryUpdated(available="1"))
    event.occur_time.FromDatetime(NOW)
    event.inventory_updated.update_time.FromDatetime(NOW + timedelta(minutes=6))
    mark_future_dated([event], NOW, timedelta(minutes=5))
    assert event.future_dated


def test_square_count_calculated_an_hour_ahead_is_flagged_future_dated() -> None:
    document = json.loads(sample_body("square", "inventory.count.updated", now=NOW))
    count = document["data"]["object"]["inventory_counts"][0]
    count["calculated_at"] = rfc3339(NOW + timedelta(hours=1))
    body = json.dumps(document).encode()
    (event,) = parse_delivery("square", body, {}, CONFIG, received_at=NOW).events
    assert event.future_dated
