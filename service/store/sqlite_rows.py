"""Row reads and writes of the SQLite state tables (run on the store's threads)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from service.domain import (
    Binding,
    BindingKind,
    CatalogEntry,
    InventoryLevel,
    OrderRecord,
    Session,
    SessionStateName,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LEVEL_COLUMNS = (
    "shop, inventory_item_id, location_id, available, update_time_us,"
    " product_id, variant_id, sku, sequence"
)


def to_us(value: datetime | None) -> int | None:
    """A datetime as integer microseconds since the epoch (None stays None)."""
    if value is None:
        return None
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(value: int | None) -> datetime | None:
    """Integer microseconds since the epoch as an aware UTC datetime."""
    if value is None:
        return None
    return EPOCH + timedelta(microseconds=value)


def level_from_row(row: Sequence[Any]) -> InventoryLevel:
    """An InventoryLevel from a row selected with LEVEL_COLUMNS."""
    return InventoryLevel(
        row[0], row[1], row[2], Decimal(row[3]), from_us(row[4]), row[5], row[6], row[7], row[8]
    )


def load_level(
    conn: sqlite3.Connection, shop: str, item: str, location: str
) -> InventoryLevel | None:
    """One stored level, or None."""
    row = conn.execute(
        f"SELECT {LEVEL_COLUMNS} FROM inventory_levels"
        " WHERE shop = ? AND inventory_item_id = ? AND location_id = ?",
        (shop, item, location),
    ).fetchone()
    return level_from_row(row) if row else None


def save_level(conn: sqlite3.Connection, level: InventoryLevel) -> None:
    """Inserts or replaces one level."""
    conn.execute(
        f"INSERT INTO inventory_levels ({LEVEL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (shop, inventory_item_id, location_id) DO UPDATE SET"
        " available = excluded.available, update_time_us = excluded.update_time_us,"
        " product_id = excluded.product_id, variant_id = excluded.variant_id,"
        " sku = excluded.sku, sequence = excluded.sequence",
        (
            level.shop,
            level.inventory_item_id,
            level.location_id,
            format(level.available, "f"),
            to_us(level.update_time),
            level.product_id,
            level.variant_id,
            level.sku,
            level.sequence,
        ),
    )


def load_catalog(conn: sqlite3.Connection, shop: str, item: str) -> CatalogEntry | None:
    """The catalog entry of an inventory item, or None."""
    row = conn.execute(
        "SELECT product_id, variant_id, sku FROM catalog WHERE shop = ? AND inventory_item_id = ?",
        (shop, item),
    ).fetchone()
    return CatalogEntry(shop, item, row[0], row[1], row[2]) if row else None


def replace_product(
    conn: sqlite3.Connection, shop: str, product_id: str, entries: Sequence[CatalogEntry]
) -> None:
    """Replaces a product's catalog entries and enriches the stored levels of its items."""
    conn.execute("DELETE FROM catalog WHERE shop = ? AND product_id = ?", (shop, product_id))
    for entry in entries:
        conn.execute(
            "INSERT INTO catalog (shop, inventory_item_id, product_id, variant_id, sku)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (shop, inventory_item_id) DO UPDATE SET"
            " product_id = excluded.product_id, variant_id = excluded.variant_id,"
            " sku = excluded.sku",
            (shop, entry.inventory_item_id, product_id, entry.variant_id, entry.sku),
        )
        conn.execute(
            "UPDATE inventory_levels SET product_id = ?, variant_id = ?, sku = ?"
            " WHERE shop = ? AND inventory_item_id = ?",
            (product_id, entry.variant_id, entry.sku, shop, entry.inventory_item_id),
        )


def load_session(conn: sqlite3.Connection, session_id: str) -> Session | None:
    """One session with its bindings, or None."""
    row = conn.execute(
        "SELECT shop, state, order_id, complete_time_us, completion_sequence FROM sessions"
        " WHERE session_id = ?",
        (session_id,),
    ).fetchone()
    if row is None:
        return None
    bindings = tuple(
        Binding(cast(BindingKind, kind), value)
        for kind, value in conn.execute(
            "SELECT kind, value FROM session_bindings WHERE session_id = ? ORDER BY position",
            (session_id,),
        )
    )
    state = cast(SessionStateName, row[1])
    return Session(session_id, row[0], state, bindings, row[2], from_us(row[3]), row[4])


def save_session(conn: sqlite3.Connection, session: Session) -> None:
    """Inserts or replaces a session and binds its keys to it."""
    conn.execute(
        "INSERT INTO sessions (session_id, shop, state, order_id, complete_time_us,"
        " completion_sequence) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE"
        " SET shop = excluded.shop, state = excluded.state, order_id = excluded.order_id,"
        " complete_time_us = excluded.complete_time_us,"
        " completion_sequence = excluded.completion_sequence",
        (
            session.session_id,
            session.shop,
            session.state,
            session.order_id,
            to_us(session.complete_time),
            session.completion_sequence,
        ),
    )
    for position, key in enumerate(session.bindings):
        conn.execute(
            "INSERT INTO session_bindings (kind, value, session_id, position)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (kind, value) DO UPDATE SET"
            " session_id = excluded.session_id, position = excluded.position",
            (key.kind, key.value, session.session_id, position),
        )


def find_bound_session(conn: sqlite3.Connection, key: Binding) -> str | None:
    """The id of the session a key is bound to, or None."""
    row = conn.execute(
        "SELECT session_id FROM session_bindings WHERE kind = ? AND value = ?",
        (key.kind, key.value),
    ).fetchone()
    return str(row[0]) if row else None


def load_order(conn: sqlite3.Connection, shop: str, order_id: str) -> OrderRecord | None:
    """What the core remembers of an order, or None."""
    row = conn.execute(
        "SELECT version, completed, session_id FROM orders WHERE shop = ? AND order_id = ?",
        (shop, order_id),
    ).fetchone()
    return OrderRecord(shop, order_id, row[0], bool(row[1]), row[2]) if row else None


def save_order(conn: sqlite3.Connection, order: OrderRecord) -> None:
    """Inserts or replaces what the core remembers of an order."""
    conn.execute(
        "INSERT INTO orders (shop, order_id, version, completed, session_id)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (shop, order_id) DO UPDATE SET"
        " version = excluded.version, completed = excluded.completed,"
        " session_id = excluded.session_id",
        (order.shop, order.order_id, order.version, int(order.completed), order.session_id),
    )
