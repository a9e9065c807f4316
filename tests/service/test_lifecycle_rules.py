"""The order lifecycle's state rules, pure (no engine): retractions after completion, closed
orders, disconnected levels and inventory item SKUs, over the in-memory rows of
test_event_rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from commercegateway.v1 import events_pb2 as ev

from service.domain import Binding
from service.store import event_rules
from tests.service.events import SHOP, envelope, inventory, order
from tests.service.test_event_rules import FakeRows, publish, run

pytestmark = pytest.mark.unit


def cancelled(source_event_id: str, order_id: str) -> ev.Event:
    """An OrderCancelled event."""
    event = envelope(source_event_id)
    event.order_cancelled.order_id = order_id
    return event


def payment(source_event_id: str, order_id: str, *, fully_refunded: bool) -> ev.Event:
    """A Square PaymentUpdated event."""
    event = envelope(source_event_id, platform=ev.PLATFORM_SQUARE)
    event.payment_updated.payment_id = f"pay-{source_event_id}"
    event.payment_updated.order_id = order_id
    event.payment_updated.fully_refunded = fully_refunded
    return event


def link(source_event_id: str, item: str, *, connected: bool, available: str = "") -> ev.Event:
    """An InventoryLevelConnection event at loc-1."""
    event = envelope(source_event_id)
    case = event.inventory_level_connected if connected else event.inventory_level_disconnected
    case.inventory_item_id, case.location_id, case.available = item, "loc-1", available
    return event


def completed_session(rows: FakeRows) -> None:
    """Session sess-1 completed by order ord-1 (sequence 1)."""
    run(event_rules.bind_session(rows, "sess-1", SHOP, [Binding("cart_token", "cart-1")]))
    _, records = publish(rows, [order("o1", "ord-1", cart_token="cart-1")])
    assert [c.retracted for c in records[0].completions] == [False]


def test_a_cancellation_after_completion_retracts_once_and_reopens_the_session() -> None:
    rows = FakeRows()
    completed_session(rows)
    _, records = publish(rows, [cancelled("c1", "ord-1"), cancelled("c2", "ord-1")], last=1)
    (retraction,) = records[0].completions
    assert (retraction.session_id, retraction.order_id, retraction.sequence) == (
        "sess-1",
        "ord-1",
        2,
    )
    assert retraction.retracted
    assert retraction.retraction_reason == ev.RETRACTION_REASON_CANCELLED
    assert records[1].completions == ()
    session = rows.sessions["sess-1"]
    assert (session.state, session.order_id, session.completion_sequence) == ("active", "", 0)
    assert rows.orders[(SHOP, "ord-1")].closed


def test_a_refunded_order_state_retracts_with_reason_refunded() -> None:
    rows = FakeRows()
    completed_session(rows)
    _, records = publish(rows, [order("o2", "ord-1", state=ev.ORDER_STATE_REFUNDED)], last=1)
    (retraction,) = records[0].completions
    assert retraction.retracted
    assert retraction.retraction_reason == ev.RETRACTION_REASON_REFUNDED


def test_only_a_fully_refunded_payment_retracts() -> None:
    rows = FakeRows()
    completed_session(rows)
    _, partial = publish(rows, [payment("p1", "ord-1", fully_refunded=False)], last=1)
    assert partial[0].completions == ()
    _, full = publish(rows, [payment("p2", "ord-1", fully_refunded=True)], last=2)
    assert [c.retraction_reason for c in full[0].completions] == [ev.RETRACTION_REASON_REFUNDED]


def test_a_square_cancel_of_an_older_version_still_retracts() -> None:
    rows = FakeRows()
    publish(rows, [order("o1", "sq-1", version=5)])
    canceled = order("o2", "sq-1", state=ev.ORDER_STATE_CANCELED, version=4)
    _, records = publish(rows, [canceled], last=1)
    assert [c.retracted for c in records[0].completions] == [True]


def test_a_cancellation_before_completion_retracts_nothing_and_blocks_the_completion() -> None:
    rows = FakeRows()
    _, first = publish(rows, [cancelled("c1", "ord-9")])
    _, late = publish(rows, [order("o1", "ord-9")], last=1)
    assert first[0].completions == () and late[0].completions == ()


def test_a_disconnected_level_alerts_nothing_until_reconnected() -> None:
    rows = FakeRows()
    publish(rows, [inventory("e1", "item", "10")])
    _, quiet = publish(
        rows,
        [link("d1", "item", connected=False), inventory("e2", "item", "0")],
        last=1,
    )
    assert [r.alerts for r in quiet] == [(), ()]
    level = rows.levels[(SHOP, "item", "loc-1")]
    assert level.disconnected and level.available == Decimal(10)
    _, resumed = publish(
        rows,
        [link("c1", "item", connected=True, available="0"), inventory("e3", "item", "4")],
        last=3,
    )
    kinds = [[a.kind for a in r.alerts] for r in resumed]
    assert kinds == [
        [ev.INVENTORY_ALERT_KIND_OUT_OF_STOCK],
        [ev.INVENTORY_ALERT_KIND_BACK_IN_STOCK],
    ]
    assert not rows.levels[(SHOP, "item", "loc-1")].disconnected


def test_an_inventory_item_update_sets_the_sku_later_levels_carry() -> None:
    rows = FakeRows()
    item = envelope("i1")
    item.inventory_item_updated.inventory_item_id = "item"
    item.inventory_item_updated.sku = "SKU-NEW"
    publish(rows, [item])
    publish(rows, [inventory("e1", "item", "3")], last=1)
    assert rows.levels[(SHOP, "item", "loc-1")].sku == "SKU-NEW"
