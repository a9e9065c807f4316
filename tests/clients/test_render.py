"""tail's human-readable lines: one line per item, naming what changed."""

from __future__ import annotations

import pytest
from commercegateway.render import render_json, render_text
from commercegateway.v1 import events_pb2

from tests.clients.events import SHOP, inventory_event, order_event

pytestmark = pytest.mark.unit  # pure: no core, bridge, database or other process


def test_inventory_event_line_names_item_location_and_quantity() -> None:
    event = inventory_event("item-9", "4")
    event.sequence = 12
    assert (
        render_text(event) == f"#12 inventory_updated shopify {SHOP} item item-9@loc-1 available 4"
    )


def test_order_event_line_names_order_state_and_total() -> None:
    event = order_event("1001")
    event.sequence = 13
    assert render_text(event) == (
        f"#13 order_created shopify {SHOP} order 1001 COMPLETED total 29.99 USD"
    )


def test_completion_line_names_order_session_and_total() -> None:
    completion = events_pb2.OrderCompletion(
        sequence=14,
        order_id="1002",
        shop=SHOP,
        session_id="s-1",
        total=events_pb2.Money(amount_minor=500, currency_code="EUR"),
    )
    assert render_text(completion) == (
        f"#14 ORDER_COMPLETED {SHOP} order 1002 session s-1 total 500 minor EUR"
    )


def test_json_line_is_canonical_json_on_one_line() -> None:
    event = inventory_event("item-9", "4")
    event.sequence = 2**60  # int64 travels as a JSON string, never a lossy float
    line = render_json(event)
    assert "\n" not in line
    assert f'"sequence": "{2**60}"' in line


def test_unknown_message_type_raises_type_error() -> None:
    with pytest.raises(TypeError, match="cannot render"):
        render_text(events_pb2.Money())


def test_a_redacted_event_line_says_so() -> None:
    event = events_pb2.Event(
        sequence=15, platform=events_pb2.PLATFORM_SHOPIFY, shop=SHOP, redacted=True
    )
    assert render_text(event) == f"#15 redacted shopify {SHOP}"
