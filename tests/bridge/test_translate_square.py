"""Square payloads (the official example bodies) translate to the right canonical events."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from commercegateway.v1 import events_pb2

from bridge.intake import ParsedDelivery, PlatformSecrets, VerificationConfig, parse_delivery
from tests.support.bridge import FIXTURES

CONFIG = VerificationConfig(PlatformSecrets())


def _fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def _parse(payload: dict[str, Any] | bytes) -> ParsedDelivery:
    """Parses as received one minute after the payload's own time (inside the replay window)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    created = datetime.fromisoformat(json.loads(body)["created_at"])
    return parse_delivery("square", body, {}, CONFIG, received_at=created + timedelta(minutes=1))


def _seconds(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def test_inventory_count_fixture_becomes_inventory_updated() -> None:
    delivery = _parse((FIXTURES / "square_inventory_count_updated.json").read_bytes())
    (event,) = delivery.events
    assert (delivery.shop, delivery.delivery_id) == (
        "6SSW7HV8K2ST5",
        "df5f3813-a913-45a1-94e9-fdc3f7d5e3b6",
    )
    assert event.platform == events_pb2.PLATFORM_SQUARE
    assert event.source_event_id == "df5f3813-a913-45a1-94e9-fdc3f7d5e3b6"
    expected_id = uuid.uuid5(uuid.NAMESPACE_URL, "square:df5f3813-a913-45a1-94e9-fdc3f7d5e3b6")
    assert event.id == str(expected_id)
    assert event.topic == "inventory.count.updated"
    assert event.occur_time.seconds == _seconds("2019-10-29T18:38:45Z")
    assert event.occur_time.nanos == 455006000
    assert event.receive_time.ToDatetime(UTC) == datetime(2019, 10, 29, 18, 39, 45, 455006, UTC)
    level = event.inventory_updated
    assert (level.inventory_item_id, level.location_id, level.available) == (
        "FGQ5JJWT2PYTHF35CKZ2DSKP",
        "YYQR03DGCTXA4",
        "10",
    )
    assert level.update_time.seconds == _seconds("2019-10-29T18:38:45Z")


def test_inventory_count_of_zero_is_available_zero() -> None:
    payload = _fixture("square_inventory_count_updated")
    payload["data"]["object"]["inventory_counts"][0]["quantity"] = "0"
    (event,) = _parse(payload).events
    assert event.inventory_updated.available == "0"


def test_decimal_quantity_survives_exactly() -> None:
    payload = _fixture("square_inventory_count_updated")
    payload["data"]["object"]["inventory_counts"][0]["quantity"] = "2.50000000000000001"
    (event,) = _parse(payload).events
    assert event.inventory_updated.available == "2.50000000000000001"


def test_several_counts_get_indexed_source_ids_and_only_in_stock_counts_count() -> None:
    payload = _fixture("square_inventory_count_updated")
    in_stock = payload["data"]["object"]["inventory_counts"][0]
    sold = {**in_stock, "state": "SOLD", "quantity": "4"}
    other = {**in_stock, "catalog_object_id": "OTHERVARIATION", "quantity": "7"}
    payload["data"]["object"]["inventory_counts"] = [in_stock, sold, other]
    events = _parse(payload).events
    delivery_id = payload["event_id"]
    assert [event.source_event_id for event in events] == [f"{delivery_id}/0", f"{delivery_id}/2"]
    assert [event.inventory_updated.available for event in events] == ["10", "7"]
    assert len({event.id for event in events}) == 2


def test_only_non_available_counts_yield_no_event() -> None:
    payload = _fixture("square_inventory_count_updated")
    payload["data"]["object"]["inventory_counts"][0]["state"] = "WASTE"
    delivery = _parse(payload)
    assert delivery.handled and delivery.events == ()


@pytest.mark.parametrize(
    ("fixture", "key", "version"),
    [("square_order_created", "order_created", 1), ("square_order_updated", "order_updated", 2)],
)
def test_order_fixtures_become_order_created_with_state_and_version(
    fixture: str, key: str, version: int
) -> None:
    payload = _fixture(fixture)
    (event,) = _parse(payload).events
    order = event.order_created
    assert order.order_id == "eA3vssLHKJrv9H0IdJCM3gNqfdcZY"
    assert (order.state, order.version) == (events_pb2.ORDER_STATE_OPEN, version)
    assert order.location_id == "FPYCBCHYMXFK1"
    assert not order.HasField("total") and len(order.line_items) == 0
    change = payload["data"]["object"][key]
    assert order.update_time.ToDatetime(UTC) == datetime.fromisoformat(
        change.get("updated_at", change["created_at"])
    )
    assert event.shop == "5S9MXCS9Y99KK" and event.source_event_id == payload["event_id"]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("COMPLETED", events_pb2.ORDER_STATE_COMPLETED),
        ("CANCELED", events_pb2.ORDER_STATE_CANCELED),
        ("DRAFT", events_pb2.ORDER_STATE_DRAFT),
        ("SOMETHING_NEW", events_pb2.ORDER_STATE_UNSPECIFIED),
    ],
)
def test_order_state_is_mapped(state: str, expected: int) -> None:
    payload = _fixture("square_order_updated")
    payload["data"]["object"]["order_updated"]["state"] = state
    (event,) = _parse(payload).events
    assert event.order_created.state == expected


def test_order_event_without_its_order_object_is_rejected_with_422() -> None:
    from bridge.intake import PayloadRejected

    payload = _fixture("square_order_created")
    payload["data"]["object"] = {}
    with pytest.raises(PayloadRejected) as caught:
        _parse(payload)
    assert caught.value.status == 422


def test_catalog_version_fixture_becomes_catalog_refresh() -> None:
    delivery = _parse((FIXTURES / "square_catalog_version_updated.json").read_bytes())
    (event,) = delivery.events
    assert event.WhichOneof("payload") == "catalog_refresh"
    refresh_time = event.catalog_refresh.catalog_update_time
    assert (refresh_time.seconds, refresh_time.nanos) == (
        _seconds("2019-10-29T17:26:16Z"),
        530000000,
    )
    assert event.shop == "6SSW7HV8K2ST5"


def test_translation_is_deterministic() -> None:
    body = (FIXTURES / "square_order_created.json").read_bytes()
    assert _parse(body).events == _parse(body).events
