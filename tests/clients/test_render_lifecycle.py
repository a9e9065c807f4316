"""tail's lines for the order lifecycle: a retraction says so with its reason, and each new
event kind names what changed."""

from __future__ import annotations

import pytest
from commercegateway.render import render_text
from commercegateway.v1 import events_pb2

from tests.clients.events import SHOP

pytestmark = pytest.mark.unit  # pure: no core, bridge, database or other process


def test_retraction_line_names_the_reason_and_the_reopened_session() -> None:
    retraction = events_pb2.OrderCompletion(
        sequence=21,
        order_id="1002",
        shop=SHOP,
        session_id="s-1",
        retracted=True,
        retraction_reason=events_pb2.RETRACTION_REASON_CANCELLED,
    )
    assert (
        render_text(retraction) == f"#21 ORDER_RETRACTED (cancelled) {SHOP} order 1002 session s-1"
    )


def test_lifecycle_event_lines_name_what_changed() -> None:
    cancelled = events_pb2.Event(
        sequence=3,
        platform=events_pb2.PLATFORM_SHOPIFY,
        shop=SHOP,
        order_cancelled=events_pb2.OrderCancelled(order_id="1003", reason="customer"),
    )
    assert (
        render_text(cancelled)
        == f"#3 order_cancelled shopify {SHOP} order 1003 CANCELED (customer)"
    )
    payment = events_pb2.Event(
        sequence=4,
        platform=events_pb2.PLATFORM_SQUARE,
        shop="M1",
        payment_updated=events_pb2.PaymentUpdated(
            payment_id="p1", order_id="o1", status="COMPLETED", fully_refunded=True
        ),
    )
    assert (
        render_text(payment)
        == "#4 payment_updated square M1 payment p1 order o1 COMPLETED fully refunded"
    )
    level = events_pb2.Event(
        sequence=5,
        platform=events_pb2.PLATFORM_SHOPIFY,
        shop=SHOP,
        inventory_level_disconnected=events_pb2.InventoryLevelConnection(
            inventory_item_id="i1", location_id="l1"
        ),
    )
    assert render_text(level).endswith("item i1@l1 disconnected")
