"""The core's state rules as pure functions: inventory alerts, catalog map, sessions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from service.domain import (
    AlertKind,
    Binding,
    CatalogEntry,
    InventoryChange,
    InventoryLevel,
    InventoryUpdate,
    OrderChange,
    OrderFacts,
    OrderRecord,
    Session,
)

ZERO = Decimal(0)


def alert_for(previous: Decimal | None, new: Decimal, threshold: Decimal) -> AlertKind | None:
    """The alert a change from `previous` (None = unknown) to `new` crosses, if any."""
    if new <= ZERO:
        return "OUT_OF_STOCK" if previous is None or previous > ZERO else None
    if previous is not None and previous <= ZERO:
        return "BACK_IN_STOCK"
    if new <= threshold and (previous is None or previous > threshold):
        return "LOW_STOCK"
    return None


def ordering_time(update: InventoryUpdate) -> datetime | None:
    """The time an update is ordered by: its platform time, except for a future-dated event
    (platform time beyond receive time plus the bridge's tolerance), which is ordered by its
    receive time so that a clock running ahead never wins over later correct updates."""
    if update.future_dated:
        return update.receive_time
    return update.update_time


def is_stale(previous: InventoryLevel | None, update: InventoryUpdate) -> bool:
    """True when the update's ordering time is older than the stored level's."""
    moment = ordering_time(update)
    if previous is None or previous.update_time is None or moment is None:
        return False
    return moment < previous.update_time


def apply_inventory(
    previous: InventoryLevel | None,
    update: InventoryUpdate,
    catalog: CatalogEntry | None,
    threshold: Decimal,
    sequence: int,
    *,
    reconnect: bool = False,
) -> InventoryChange | None:
    """The new level and alert of an inventory update; None when the update is stale. The
    stored level keeps the update's ordering time (see `ordering_time`).

    A disconnected level ignores updates (None) until a `reconnect`, which starts it afresh:
    its old quantity and time are forgotten, so the reconnection's quantity alerts as a first
    sight does."""
    if previous is not None and previous.disconnected:
        if not reconnect:
            return None
        previous = None
    if is_stale(previous, update):
        return None
    known = catalog or previous
    level = InventoryLevel(
        shop=update.shop,
        inventory_item_id=update.inventory_item_id,
        location_id=update.location_id,
        available=update.available,
        update_time=ordering_time(update),
        product_id=update.product_id or (known.product_id if known else ""),
        variant_id=update.variant_id or (known.variant_id if known else ""),
        sku=update.sku or (known.sku if known else ""),
        sequence=sequence,
    )
    before = previous.available if previous else None
    return InventoryChange(level, before, alert_for(before, update.available, threshold))


def disconnect(
    previous: InventoryLevel | None, shop: str, item: str, location: str, sequence: int
) -> InventoryLevel:
    """The level marked disconnected (a level never seen is recorded at zero, disconnected)."""
    if previous is not None:
        return replace(previous, disconnected=True, sequence=sequence)
    return InventoryLevel(shop, item, location, ZERO, None, "", "", "", sequence, True)


def catalog_entries(
    shop: str, product_id: str, variants: Iterable[tuple[str, str, str]]
) -> tuple[CatalogEntry, ...]:
    """Catalog entries of a product from its (variant_id, sku, inventory_item_id) triples."""
    return tuple(
        CatalogEntry(shop, item_id, product_id, variant_id, sku)
        for variant_id, sku, item_id in variants
        if item_id
    )


def enrich(level: InventoryLevel, entry: CatalogEntry) -> InventoryLevel:
    """The level with the product, variant and SKU the catalog knows for its item."""
    return replace(level, product_id=entry.product_id, variant_id=entry.variant_id, sku=entry.sku)


def session_keys(order: OrderFacts) -> tuple[Binding, ...]:
    """Binding keys to look a session up by, in priority order, when none is named."""
    return tuple(key for key in order.keys if key.value)


def bind(session: Session | None, session_id: str, shop: str, keys: Iterable[Binding]) -> Session:
    """The session with the keys added (created when new); existing keys are kept once."""
    current = session or Session(session_id=session_id, shop=shop)
    merged = list(current.bindings)
    merged.extend(key for key in keys if key.value and key not in merged)
    return replace(current, bindings=tuple(merged), shop=current.shop or shop)


def apply_order(
    order: OrderFacts,
    previous: OrderRecord | None,
    session: Session | None,
    sequence: int,
    occur_time: datetime | None,
) -> OrderChange | None:
    """The order's new record, session and completion or retraction; None when the event is
    an old version.

    `session` is the session the order resolved to (named, bound, or remembered), or None.
    A completion is produced once per order and never twice for one session. An order closed
    (cancelled or fully refunded, `order.closed`) after its completion derives one retraction
    and reopens the session it completed; a closed order never completes (a completion
    delivered after the cancellation derives nothing). A closing event is applied whatever
    its version: cancellation and full refund are final.
    """
    if previous is not None and order.version < previous.version and order.closed is None:
        return None
    was_completed = previous is not None and previous.completed
    was_closed = previous is not None and previous.closed
    completes = order.completed and not was_completed and not was_closed
    session_id = session.session_id if session else (previous.session_id if previous else "")
    record = OrderRecord(
        shop=order.shop,
        order_id=order.order_id,
        version=max(order.version, previous.version if previous else 0),
        completed=was_completed or completes,
        session_id=session_id,
        closed=was_closed or order.closed is not None,
    )
    new_session = None
    if session is not None:
        own_key = (Binding("order_id", order.order_id),) if order.order_id else ()
        new_session = bind(session, session.session_id, order.shop, own_key)
    if order.closed is not None and was_completed and not was_closed:
        return OrderChange(record, _reopened(new_session, order.order_id), session_id, order.closed)
    completion: str | None = None
    if completes:
        if new_session is None:
            completion = ""
        elif new_session.state == "active":
            completion = new_session.session_id
            new_session = replace(
                new_session,
                state="completed",
                order_id=order.order_id,
                complete_time=occur_time,
                completion_sequence=sequence,
            )
    return OrderChange(record, new_session, completion)


def _reopened(session: Session | None, order_id: str) -> Session | None:
    """The session active again when the retracted order is the one that completed it."""
    if session is None or session.state != "completed" or session.order_id != order_id:
        return session
    return replace(session, state="active", order_id="", complete_time=None, completion_sequence=0)
