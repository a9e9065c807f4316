"""The staleness rule with future-dated updates: a clock running ahead never wins the order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from service.domain import InventoryUpdate
from service.state import apply_inventory, ordering_time

RECEIVED = datetime(2026, 1, 2, 3, 0, tzinfo=UTC)


def _update(available: str, at: datetime, *, future: bool = False) -> InventoryUpdate:
    return InventoryUpdate(
        shop="s",
        inventory_item_id="i",
        location_id="l",
        available=Decimal(available),
        update_time=at,
        receive_time=RECEIVED,
        future_dated=future,
    )


def test_future_dated_update_is_ordered_by_its_receive_time() -> None:
    update = _update("0", RECEIVED + timedelta(hours=1), future=True)
    assert ordering_time(update) == RECEIVED
    assert ordering_time(_update("0", RECEIVED + timedelta(minutes=1))) == RECEIVED + timedelta(
        minutes=1
    )


def test_correct_update_after_a_future_dated_one_wins_with_its_alert() -> None:
    ahead = apply_inventory(
        None, _update("0", RECEIVED + timedelta(hours=1), future=True), None, Decimal(5), 1
    )
    assert ahead is not None and ahead.level.update_time == RECEIVED
    correct = apply_inventory(
        ahead.level, _update("7", RECEIVED + timedelta(seconds=1)), None, Decimal(5), 2
    )
    assert correct is not None
    assert (correct.level.available, correct.alert) == (Decimal(7), "BACK_IN_STOCK")


def test_older_update_is_still_stale_against_a_future_dated_level() -> None:
    ahead = apply_inventory(
        None, _update("0", RECEIVED + timedelta(hours=1), future=True), None, Decimal(5), 1
    )
    assert ahead is not None
    late = apply_inventory(
        ahead.level, _update("9", RECEIVED - timedelta(minutes=1)), None, Decimal(5), 2
    )
    assert late is None
