"""The pure state rules: alert crossings, staleness, catalog enrichment, sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from service import state
from service.domain import (
    Binding,
    CatalogEntry,
    InventoryLevel,
    InventoryUpdate,
    OrderChange,
    OrderFacts,
    OrderRecord,
    Session,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FIVE = Decimal(5)


def level(available: str, update_time: datetime | None = T0, **fields: str) -> InventoryLevel:
    """A stored level of item i1 at l1."""
    values = {"product_id": "", "variant_id": "", "sku": ""} | fields
    product, variant, sku = values["product_id"], values["variant_id"], values["sku"]
    quantity = Decimal(available)
    return InventoryLevel("s", "i1", "l1", quantity, update_time, product, variant, sku, 1)


def update(available: str, update_time: datetime | None = T0) -> InventoryUpdate:
    """An update of item i1 at l1."""
    return InventoryUpdate("s", "i1", "l1", Decimal(available), update_time)


@pytest.mark.parametrize(
    ("previous", "new", "expected"),
    [
        ("10", "0", "OUT_OF_STOCK"),
        ("10", "-1", "OUT_OF_STOCK"),
        (None, "0", "OUT_OF_STOCK"),
        ("0", "-2", None),
        ("0", "3", "BACK_IN_STOCK"),
        ("-1", "20", "BACK_IN_STOCK"),
        ("10", "5", "LOW_STOCK"),
        ("10", "0.5", "LOW_STOCK"),
        (None, "4", "LOW_STOCK"),
        ("5", "4", None),
        ("4", "10", None),
        (None, "10", None),
        ("10", "6", None),
    ],
)
def test_alert_crossings(previous: str | None, new: str, expected: str | None) -> None:
    before = Decimal(previous) if previous is not None else None
    assert state.alert_for(before, Decimal(new), FIVE) == expected


def test_older_update_changes_nothing() -> None:
    stored = level("10")
    assert (
        state.apply_inventory(stored, update("0", T0 - timedelta(seconds=1)), None, FIVE, 2) is None
    )


def test_update_without_time_applies() -> None:
    change = state.apply_inventory(level("10"), update("0", None), None, FIVE, 2)
    assert change is not None
    assert change.level.available == Decimal(0)
    assert change.alert == "OUT_OF_STOCK"


def test_newer_update_applies_with_previous_quantity() -> None:
    change = state.apply_inventory(level("10"), update("3", T0 + timedelta(1)), None, FIVE, 2)
    assert change is not None
    assert (change.previous, change.level.available, change.alert) == (
        Decimal(10),
        Decimal(3),
        "LOW_STOCK",
    )
    assert change.level.sequence == 2


def test_catalog_names_product_of_item() -> None:
    entry = CatalogEntry("s", "i1", "p1", "v1", "SKU-1")
    change = state.apply_inventory(None, update("0"), entry, FIVE, 1)
    assert change is not None
    assert (change.level.product_id, change.level.variant_id, change.level.sku) == (
        "p1",
        "v1",
        "SKU-1",
    )


def test_catalog_entries_skip_variants_without_item() -> None:
    entries = state.catalog_entries("s", "p1", [("v1", "A", "i1"), ("v2", "B", "")])
    assert entries == (CatalogEntry("s", "i1", "p1", "v1", "A"),)


def test_enrich_sets_product_fields() -> None:
    enriched = state.enrich(level("3"), CatalogEntry("s", "i1", "p1", "v1", "A"))
    assert (enriched.product_id, enriched.sku, enriched.available) == ("p1", "A", Decimal(3))


def facts(completed: bool = True, version: int = 0, session_id: str = "") -> OrderFacts:
    """Facts of order o1."""
    return OrderFacts("s", "o1", completed, version, session_id, (Binding("order_id", "o1"),))


def test_completed_order_completes_its_session_once() -> None:
    session = Session("sess", "s")
    change = state.apply_order(facts(), None, session, 7, T0)
    assert change is not None
    assert change.completion_session_id == "sess"
    assert change.session is not None
    assert (change.session.state, change.session.order_id) == ("completed", "o1")
    assert change.session.completion_sequence == 7
    again = state.apply_order(facts(), change.order, change.session, 8, T0)
    assert again is not None
    assert again.completion_session_id is None


def test_completed_session_gets_no_second_completion_from_another_order() -> None:
    done = Session("sess", "s", state="completed", order_id="o0", completion_sequence=3)
    change = state.apply_order(facts(), None, done, 9, T0)
    assert change is not None
    assert change.completion_session_id is None


def test_order_without_session_completes_once_with_empty_session() -> None:
    change = state.apply_order(facts(), None, None, 1, T0)
    assert change is not None
    assert change.completion_session_id == ""
    assert state.apply_order(facts(), change.order, None, 2, T0) == OrderChange(
        change.order, None, None
    )


def test_older_order_version_changes_nothing() -> None:
    newer = OrderRecord("s", "o1", version=5, completed=False, session_id="")
    assert state.apply_order(facts(version=4), newer, None, 3, T0) is None


def test_open_order_does_not_complete() -> None:
    change = state.apply_order(facts(completed=False), None, Session("sess", "s"), 1, T0)
    assert change is not None
    assert change.completion_session_id is None
    assert change.session is not None
    assert change.session.state == "active"
    assert Binding("order_id", "o1") in change.session.bindings


def test_bind_adds_keys_once() -> None:
    first = state.bind(None, "sess", "s", [Binding("cart_token", "c1")])
    second = state.bind(first, "sess", "s", [Binding("cart_token", "c1"), Binding("order_id", "o")])
    assert second.bindings == (Binding("cart_token", "c1"), Binding("order_id", "o"))
