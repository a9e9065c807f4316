"""Better Data payloads translate to canonical events; the published JSON Schema matches."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from commercegateway.v1 import events_pb2
from pydantic import TypeAdapter

from bridge.intake import (
    ParsedDelivery,
    PayloadRejected,
    PlatformSecrets,
    VerificationConfig,
    parse_delivery,
)
from bridge.platforms import betterdata_schema
from bridge.samples import sample_body

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "bridge" / "schemas" / "betterdata.schema.json"
TIME = "2026-01-02T03:04:05.123Z"
RECEIVED = datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC)
CONFIG = VerificationConfig(PlatformSecrets())


def _parse(kind: str, data: dict[str, Any], **extra: Any) -> ParsedDelivery:
    body = json.dumps({"type": kind, "timestamp": TIME, "data": data, **extra}).encode()
    headers = {"webhook-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"}
    return parse_delivery("betterdata", body, headers, CONFIG, received_at=RECEIVED)


def _reject(kind: str, data: dict[str, Any]) -> PayloadRejected:
    with pytest.raises(PayloadRejected) as caught:
        _parse(kind, data)
    assert caught.value.status == 422
    return caught.value


def test_inventory_updated_names_product_variant_and_sku() -> None:
    data = {
        "product_id": "p1",
        "variant_id": "v1",
        "sku": "S-1",
        "location_id": "l1",
        "available": 4,
    }
    delivery = _parse("inventory.updated", data, shop_id="shop_9")
    (event,) = delivery.events
    level = event.inventory_updated
    assert (level.inventory_item_id, level.product_id, level.variant_id, level.sku) == (
        "v1",
        "p1",
        "v1",
        "S-1",
    )
    assert (level.location_id, level.available) == ("l1", "4")
    assert event.platform == events_pb2.PLATFORM_BETTERDATA
    assert (event.shop, delivery.shop) == ("shop_9", "shop_9")
    assert event.source_event_id == "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    assert event.occur_time.ToDatetime(UTC) == datetime(2026, 1, 2, 3, 4, 5, 123000, UTC)


def test_inventory_of_a_product_without_variant_uses_the_product_as_item() -> None:
    (event,) = _parse("inventory.updated", {"product_id": "p1", "available": "2.5"}).events
    assert (event.inventory_updated.inventory_item_id, event.inventory_updated.available) == (
        "p1",
        "2.5",
    )
    assert event.shop == "default"  # COMMERCE_GATEWAY_BETTERDATA_DEFAULT_SHOP


def test_order_created_carries_session_and_minor_unit_total() -> None:
    data = {"order_id": "o1", "session_id": "s1", "total_minor": 1500, "currency": "JPY"}
    (event,) = _parse("order.created", data).events
    order = event.order_created
    assert (order.order_id, order.session_id, order.state) == (
        "o1",
        "s1",
        events_pb2.ORDER_STATE_COMPLETED,
    )
    assert order.total == events_pb2.Money(amount_minor=1500, currency_code="JPY")


def test_product_updated_becomes_product_updated() -> None:
    (event,) = _parse("product.updated", {"product_id": "p1", "title": "Mug"}).events
    assert (event.product_updated.product_id, event.product_updated.title) == ("p1", "Mug")


def test_product_updated_with_deleted_true_becomes_product_deleted() -> None:
    (event,) = _parse("product.updated", {"product_id": "p1", "deleted": True}).events
    assert event.WhichOneof("payload") == "product_deleted"
    assert event.product_deleted.product_id == "p1"


def test_checkout_completed_becomes_checkout_completed() -> None:
    data = {"session_id": "s1", "order_id": "o1", "total_minor": 2999, "currency": "EUR"}
    (event,) = _parse("checkout.completed", data).events
    checkout = event.checkout_completed
    assert (checkout.session_id, checkout.order_id, checkout.total.amount_minor) == (
        "s1",
        "o1",
        2999,
    )


def test_checkout_completed_without_total_has_no_total() -> None:
    (event,) = _parse("checkout.completed", {"session_id": "s1", "order_id": "o1"}).events
    assert not event.checkout_completed.HasField("total")


def test_checkout_total_without_currency_is_rejected() -> None:
    rejected = _reject(
        "checkout.completed", {"session_id": "s1", "order_id": "o1", "total_minor": 5}
    )
    assert rejected.errors == ["data: Value error, total_minor and currency must be given together"]


def test_order_with_lower_case_currency_is_rejected() -> None:
    rejected = _reject("order.created", {"order_id": "o", "total_minor": 1, "currency": "usd"})
    assert [error.split(":")[0] for error in rejected.errors] == ["data.currency"]


def test_inventory_with_float_available_is_rejected() -> None:
    rejected = _reject("inventory.updated", {"product_id": "p", "available": 1.5})
    assert [error.split(":")[0] for error in rejected.errors] == ["data.available"]


def test_missing_timestamp_is_rejected() -> None:
    body = b'{"type": "product.updated", "data": {"product_id": "p"}}'
    with pytest.raises(PayloadRejected) as caught:
        parse_delivery("betterdata", body, {"webhook-id": "m"}, CONFIG, received_at=RECEIVED)
    assert caught.value.errors == ["timestamp: Field required"]


def test_published_json_schema_matches_the_models() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == betterdata_schema.render(), (
        "run: python -m bridge.platforms.betterdata_schema"
    )
    document = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    kinds = {ref["$ref"].rsplit("/", 1)[1] for ref in document["oneOf"]}
    assert kinds == {"InventoryUpdated", "OrderCreated", "ProductUpdated", "CheckoutCompleted"}
    assert set(document["discriminator"]["mapping"]) == {
        "inventory.updated",
        "order.created",
        "product.updated",
        "checkout.completed",
    }


@pytest.mark.parametrize(
    "kind", ["inventory.updated", "order.created", "product.updated", "checkout.completed"]
)
def test_built_in_samples_match_the_published_models(kind: str) -> None:
    body = sample_body("betterdata", kind)
    parsed = TypeAdapter(betterdata_schema.Webhook).validate_json(body)
    assert parsed.type == kind
