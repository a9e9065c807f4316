"""The privacy rules (service.store.privacy_rules) run against the in-memory Rows: redactions
leave redacted entries at the same sequences, erase state, record uninstalls; pure, no I/O."""

from __future__ import annotations

from commercegateway.v1 import events_pb2 as ev

from common.redaction import Subject
from service.domain import Binding
from service.store import event_rules, privacy_rules
from tests.service.events import SHOP, envelope, inventory, order
from tests.service.test_event_rules import FakeRows, publish, run


def customer_order(
    source: str, order_id: str, customer: str, cart: str = "", shop: str = SHOP
) -> ev.Event:
    """A completed order event naming a customer, with a personal note attribute."""
    note = {"note": f"secret-{source}"}
    event = order(source, order_id, cart_token=cart, attributes=note, shop=shop)
    event.customer_id = customer
    return event


def redaction(source: str, customer: str = "", orders: tuple[str, ...] = ()) -> ev.Event:
    """A CustomerRedacted event."""
    event = envelope(source)
    event.customer_redacted.customer_id = customer
    event.customer_redacted.order_ids.extend(orders)
    return event


def test_a_customer_redaction_replaces_its_events_by_redacted_entries_at_the_same_sequence() -> (
    None
):
    rows = FakeRows()
    run(event_rules.bind_session(rows, "sess-1", SHOP, [Binding("cart_token", "cart-1")]))
    later = order("o3", "ord-1")  # a later event of the customer's order, not naming it
    publish(
        rows,
        [
            customer_order("o1", "ord-1", "cust-1", cart="cart-1"),
            customer_order("o2", "ord-2", "cust-2"),
            inventory("i1", "item", "3"),
            later,
            order("o4", "ord-9"),
        ],
    )
    _, records = publish(rows, [redaction("r1", "cust-1", ("ord-9",))], last=5)
    assert records[0].sequence == 6
    redacted = {seq for seq, event in rows.events.items() if event.redacted}
    assert redacted == {1, 4, 5}
    entry = rows.events[1]
    assert entry.WhichOneof("payload") is None and entry.customer_id == ""
    assert (entry.sequence, entry.source_event_id, entry.shop) == (1, "o1", SHOP)
    assert rows.events[2].order_created.attributes["note"] == "secret-o2"
    assert (SHOP, "ord-1") not in rows.orders and (SHOP, "ord-9") not in rows.orders
    assert (SHOP, "ord-2") in rows.orders
    assert "sess-1" not in rows.sessions
    assert not [item for item in rows.items if item[0] == "completions" and item[1] == 1]


def test_a_shop_redaction_erases_every_event_and_state_of_the_shop_only() -> None:
    rows = FakeRows()
    other = customer_order("x1", "ord-x", "cust-x", shop="other.myshopify.com")
    publish(rows, [customer_order("o1", "ord-1", "cust-1"), inventory("i1", "item", "3"), other])
    uninstall = envelope("u1")
    uninstall.app_uninstalled.shop_id = "42"
    uninstall.receive_time.FromMicroseconds(5_000_000)
    publish(rows, [uninstall], last=3)
    assert run(privacy_rules.shop_state(rows, SHOP)).state == "uninstalled"  # type: ignore[union-attr]
    redact = envelope("s1")
    redact.shop_redacted.shop_id = "42"
    redact.receive_time.FromMicroseconds(9_000_000)
    publish(rows, [redact], last=4)
    assert {seq for seq, event in rows.events.items() if event.redacted} == {1, 2, 4}
    assert not rows.events[3].redacted
    assert list(rows.orders) == [("other.myshopify.com", "ord-x")]
    state = run(privacy_rules.shop_state(rows, SHOP))
    assert state is not None
    assert (state.state, state.uninstalled_us, state.redacted_us, state.state_sequence) == (
        "redacted",
        5_000_000,
        9_000_000,
        5,
    )
    assert run(privacy_rules.shop_state(rows, "other.myshopify.com")).state == "installed"  # type: ignore[union-attr]
    assert run(privacy_rules.shop_state(rows, "unknown.myshopify.com")) is None


def test_an_export_finds_the_customers_events_and_the_orders_they_name() -> None:
    rows = FakeRows()
    publish(
        rows,
        [
            customer_order("o1", "ord-1", "cust-1"),
            order("o2", "ord-1"),
            customer_order("o3", "ord-3", "cust-3"),
        ],
    )
    subject = Subject(ev.PLATFORM_SHOPIFY, SHOP, "cust-1")
    events, orders, _sessions, truncated = run(privacy_rules.export_customer(rows, subject, 99))
    assert [e.source_event_id for e in events] == ["o1", "o2"]
    assert (orders, truncated) == (["ord-1"], False)


def test_a_customer_redaction_erases_the_customers_data_requests_but_keeps_redactions() -> None:
    rows = FakeRows()
    asked = envelope("d1")
    asked.customer_id = "cust-1"
    asked.customer_data_requested.customer_id = "cust-1"
    asked.customer_data_requested.email_sha256 = "ab" * 32
    first = redaction("r0", "cust-1")
    first.customer_id = "cust-1"
    publish(rows, [asked, first])
    publish(rows, [redaction("r1", "cust-1")], last=2)
    assert [rows.events[s].redacted for s in (1, 2, 3)] == [True, False, False]
