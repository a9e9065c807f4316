"""The one orchestration of the state rules (service.store.event_rules), run against an
in-memory Rows: pure, no database, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar

from commercegateway.v1 import events_pb2 as ev

from service.domain import Binding, CatalogEntry, InventoryLevel, OrderRecord, Session
from service.store import event_rules
from service.store.base import CommittedRecord, PublishOutcome, StoreRules
from service.store.privacy_rows import ShopRecord
from service.store.sql_rows import Step
from tests.service.events import SHOP, checkout, inventory, order, product
from tests.service.privacy_fake import FakePrivacyRows

T = TypeVar("T")


def done(value: T) -> Step[T]:
    """A step that needs no statement: the fake's answer."""
    yield from ()
    return value


def run(steps: Step[T]) -> T:
    """Runs a step that must not ask for any SQL; returns its value."""
    try:
        statement = next(steps)
    except StopIteration as finished:
        value: T = finished.value
        return value
    raise AssertionError(f"the rules asked the fake for SQL: {statement}")


class FakeRows(FakePrivacyRows):
    """event_rules.Rows over dictionaries."""

    def __init__(self) -> None:
        """Empty tables."""
        self.events: dict[int, ev.Event] = {}
        self.items: list[tuple[str, int, str, bytes]] = []
        self.levels: dict[tuple[str, str, str], InventoryLevel] = {}
        self.catalog: dict[tuple[str, str], CatalogEntry] = {}
        self.sessions: dict[str, Session] = {}
        self.bound: dict[Binding, str] = {}
        self.orders: dict[tuple[str, str], OrderRecord] = {}
        self.shops: dict[str, ShopRecord] = {}

    def _first(self, **match: Any) -> tuple[int, str] | None:
        for sequence, event in sorted(self.events.items()):
            if all(getattr(event, name) == value for name, value in match.items()):
                return sequence, event.id
        return None

    def find_by_source_id(self, platform: int, source_event_id: str) -> Step[tuple[int, str]]:
        """The first event with this source id."""
        found = self._first(platform=platform, source_event_id=source_event_id)
        assert found is not None
        return done(found)

    def find_by_content_key(self, platform: int, key: str) -> Step[tuple[int, str] | None]:
        """The first event with this content key, or None."""
        return done(self._first(platform=platform, content_key=key))

    def insert_event(self, event: ev.Event, stored_at_us: int) -> Step[bool]:
        """Stores the event unless its source id is taken."""
        if self._first(platform=event.platform, source_event_id=event.source_event_id):
            return done(False)
        self.events[event.sequence] = event
        return done(True)

    def insert_item(self, table: str, sequence: int, shop: str, data: bytes) -> Step[None]:
        """Keeps a derived item."""
        self.items.append((table, sequence, shop, data))
        return done(None)

    def load_level(self, shop: str, item: str, location: str) -> Step[InventoryLevel | None]:
        """One level, or None."""
        return done(self.levels.get((shop, item, location)))

    def save_level(self, level: InventoryLevel) -> Step[None]:
        """Keeps a level."""
        self.levels[(level.shop, level.inventory_item_id, level.location_id)] = level
        return done(None)

    def load_catalog(self, shop: str, item: str) -> Step[CatalogEntry | None]:
        """One catalog entry, or None."""
        return done(self.catalog.get((shop, item)))

    def update_item(self, shop: str, item: str, sku: str) -> Step[None]:
        """Records an item's SKU (the SQL engines also set it on the item's levels)."""
        known = self.catalog.get((shop, item)) or CatalogEntry(shop, item, "", "", "")
        self.catalog[(shop, item)] = replace(known, sku=sku)
        return done(None)

    def replace_product(
        self, shop: str, product_id: str, entries: Sequence[CatalogEntry]
    ) -> Step[None]:
        """Replaces a product's entries (the SQL engines also enrich levels; not needed here)."""
        for key, entry in list(self.catalog.items()):
            if (entry.shop, entry.product_id) == (shop, product_id):
                del self.catalog[key]
        self.catalog.update({(shop, entry.inventory_item_id): entry for entry in entries})
        return done(None)

    def load_session(self, session_id: str) -> Step[Session | None]:
        """One session, or None."""
        return done(self.sessions.get(session_id))

    def save_session(self, session: Session) -> Step[None]:
        """Keeps a session and binds its keys."""
        self.sessions[session.session_id] = session
        self.bound.update({key: session.session_id for key in session.bindings})
        return done(None)

    def find_bound_session(self, key: Binding) -> Step[str | None]:
        """The session a key is bound to, or None."""
        return done(self.bound.get(key))

    def load_order(self, shop: str, order_id: str) -> Step[OrderRecord | None]:
        """One order record, or None."""
        return done(self.orders.get((shop, order_id)))

    def save_order(self, order: OrderRecord) -> Step[None]:
        """Keeps an order record."""
        self.orders[(order.shop, order.order_id)] = order
        return done(None)


def publish(
    rows: FakeRows, events: list[ev.Event], last: int = 0
) -> tuple[list[PublishOutcome], list[CommittedRecord]]:
    """Publishes through the rules after sequence `last`."""
    return run(event_rules.publish(rows, events, last, StoreRules(), 1_000))


def test_an_inventory_update_is_stored_with_its_level_and_alert() -> None:
    rows = FakeRows()
    publish(rows, [inventory("e1", "item", "10")])
    outcomes, records = publish(rows, [inventory("e2", "item", "0")], last=1)
    assert outcomes == [PublishOutcome(True, 2, records[0].event.id)]
    assert rows.levels[(SHOP, "item", "loc-1")].available == Decimal(0)
    assert [a.kind for a in records[0].alerts] == [ev.INVENTORY_ALERT_KIND_OUT_OF_STOCK]
    assert [(table, sequence) for table, sequence, _, _ in rows.items] == [("alerts", 2)]
    assert rows.events[2].sequence == 2


def test_duplicates_take_no_sequence_and_change_no_state() -> None:
    rows = FakeRows()
    first = inventory("e1", "item", "10")
    outcomes, records = publish(
        rows, [first, inventory("e1", "item", "0"), inventory("e2", "x", "3")]
    )
    assert [(o.stored, o.sequence) for o in outcomes] == [(True, 1), (False, 1), (True, 2)]
    assert outcomes[1].event_id == first.id
    assert [record.sequence for record in records] == [1, 2]
    assert rows.levels[(SHOP, "item", "loc-1")].available == Decimal(10)


def test_the_content_key_dedups_a_delivery_with_another_source_id() -> None:
    rows = FakeRows()
    first = inventory("e1", "item", "10")
    first.content_key = "signed-body"
    again = inventory("e9", "item", "0")
    again.content_key = "signed-body"
    outcomes, records = publish(rows, [first, again])
    assert [(o.stored, o.sequence, o.event_id) for o in outcomes] == [
        (True, 1, first.id),
        (False, 1, first.id),
    ]
    assert len(records) == 1 and len(rows.events) == 1


def test_a_product_enriches_later_levels_of_its_items() -> None:
    rows = FakeRows()
    publish(rows, [product("p1", "prod-1", [("var-1", "SKU-1", "item")])])
    publish(rows, [inventory("e1", "item", "7")], last=1)
    level = rows.levels[(SHOP, "item", "loc-1")]
    assert (level.product_id, level.variant_id, level.sku) == ("prod-1", "var-1", "SKU-1")


def test_a_completed_order_completes_the_session_bound_to_its_cart_once() -> None:
    rows = FakeRows()
    run(event_rules.bind_session(rows, "sess-1", SHOP, [Binding("cart_token", "cart-1")]))
    _, records = publish(rows, [order("o1", "ord-1", cart_token="cart-1")])
    (completion,) = records[0].completions
    assert (completion.session_id, completion.order_id) == ("sess-1", "ord-1")
    assert rows.sessions["sess-1"].state == "completed"
    assert rows.orders[(SHOP, "ord-1")].completed
    _, again = publish(rows, [checkout("c1", "sess-1", "ord-1")], last=1)
    assert again[0].completions == ()
    assert [table for table, *_ in rows.items] == ["completions"]
