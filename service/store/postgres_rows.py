"""Row reads and writes of the PostgreSQL state tables (inside the caller's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import asyncpg

from service.domain import (
    Binding,
    BindingKind,
    CatalogEntry,
    InventoryLevel,
    OrderRecord,
    Session,
    SessionStateName,
)
from service.store.sqlite_rows import LEVEL_COLUMNS, from_us, level_from_row, to_us

__all__ = [
    "LEVEL_COLUMNS",
    "find_bound_session",
    "level_from_row",
    "load_catalog",
    "load_level",
    "load_order",
    "load_session",
    "replace_product",
    "save_level",
    "save_order",
    "save_session",
]


async def load_level(
    conn: asyncpg.Connection, shop: str, item: str, location: str
) -> InventoryLevel | None:
    """One stored level, or None."""
    row = await conn.fetchrow(
        f"SELECT {LEVEL_COLUMNS} FROM inventory_levels"
        " WHERE shop = $1 AND inventory_item_id = $2 AND location_id = $3",
        shop,
        item,
        location,
    )
    return level_from_row(tuple(row)) if row else None


async def save_level(conn: asyncpg.Connection, level: InventoryLevel) -> None:
    """Inserts or replaces one level."""
    await conn.execute(
        f"INSERT INTO inventory_levels ({LEVEL_COLUMNS})"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (shop, inventory_item_id, location_id) DO UPDATE SET"
        " available = excluded.available, update_time_us = excluded.update_time_us,"
        " product_id = excluded.product_id, variant_id = excluded.variant_id,"
        " sku = excluded.sku, sequence = excluded.sequence",
        level.shop,
        level.inventory_item_id,
        level.location_id,
        format(level.available, "f"),
        to_us(level.update_time),
        level.product_id,
        level.variant_id,
        level.sku,
        level.sequence,
    )


async def load_catalog(conn: asyncpg.Connection, shop: str, item: str) -> CatalogEntry | None:
    """The catalog entry of an inventory item, or None."""
    row = await conn.fetchrow(
        "SELECT product_id, variant_id, sku FROM catalog"
        " WHERE shop = $1 AND inventory_item_id = $2",
        shop,
        item,
    )
    return CatalogEntry(shop, item, row[0], row[1], row[2]) if row else None


async def replace_product(
    conn: asyncpg.Connection, shop: str, product_id: str, entries: Sequence[CatalogEntry]
) -> None:
    """Replaces a product's catalog entries and enriches the stored levels of its items."""
    await conn.execute("DELETE FROM catalog WHERE shop = $1 AND product_id = $2", shop, product_id)
    for entry in entries:
        await conn.execute(
            "INSERT INTO catalog (shop, inventory_item_id, product_id, variant_id, sku)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (shop, inventory_item_id) DO UPDATE SET"
            " product_id = excluded.product_id, variant_id = excluded.variant_id,"
            " sku = excluded.sku",
            shop,
            entry.inventory_item_id,
            product_id,
            entry.variant_id,
            entry.sku,
        )
        await conn.execute(
            "UPDATE inventory_levels SET product_id = $1, variant_id = $2, sku = $3"
            " WHERE shop = $4 AND inventory_item_id = $5",
            product_id,
            entry.variant_id,
            entry.sku,
            shop,
            entry.inventory_item_id,
        )


async def load_session(conn: asyncpg.Connection, session_id: str) -> Session | None:
    """One session with its bindings, or None."""
    row = await conn.fetchrow(
        "SELECT shop, state, order_id, complete_time_us, completion_sequence FROM sessions"
        " WHERE session_id = $1",
        session_id,
    )
    if row is None:
        return None
    found = await conn.fetch(
        "SELECT kind, value FROM session_bindings WHERE session_id = $1 ORDER BY position",
        session_id,
    )
    bindings = tuple(Binding(cast(BindingKind, kind), value) for kind, value in found)
    state = cast(SessionStateName, row[1])
    return Session(session_id, row[0], state, bindings, row[2], from_us(row[3]), row[4])


async def save_session(conn: asyncpg.Connection, session: Session) -> None:
    """Inserts or replaces a session and binds its keys to it."""
    await conn.execute(
        "INSERT INTO sessions (session_id, shop, state, order_id, complete_time_us,"
        " completion_sequence) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (session_id)"
        " DO UPDATE SET shop = excluded.shop, state = excluded.state,"
        " order_id = excluded.order_id, complete_time_us = excluded.complete_time_us,"
        " completion_sequence = excluded.completion_sequence",
        session.session_id,
        session.shop,
        session.state,
        session.order_id,
        to_us(session.complete_time),
        session.completion_sequence,
    )
    for position, key in enumerate(session.bindings):
        await conn.execute(
            "INSERT INTO session_bindings (kind, value, session_id, position)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (kind, value) DO UPDATE SET"
            " session_id = excluded.session_id, position = excluded.position",
            key.kind,
            key.value,
            session.session_id,
            position,
        )


async def find_bound_session(conn: asyncpg.Connection, key: Binding) -> str | None:
    """The id of the session a key is bound to, or None."""
    found = await conn.fetchval(
        "SELECT session_id FROM session_bindings WHERE kind = $1 AND value = $2",
        key.kind,
        key.value,
    )
    return str(found) if found is not None else None


async def load_order(conn: asyncpg.Connection, shop: str, order_id: str) -> OrderRecord | None:
    """What the core remembers of an order, or None."""
    row = await conn.fetchrow(
        "SELECT version, completed, session_id FROM orders WHERE shop = $1 AND order_id = $2",
        shop,
        order_id,
    )
    return OrderRecord(shop, order_id, row[0], bool(row[1]), row[2]) if row else None


async def save_order(conn: asyncpg.Connection, order: OrderRecord) -> None:
    """Inserts or replaces what the core remembers of an order."""
    await conn.execute(
        "INSERT INTO orders (shop, order_id, version, completed, session_id)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (shop, order_id) DO UPDATE SET"
        " version = excluded.version, completed = excluded.completed,"
        " session_id = excluded.session_id",
        order.shop,
        order.order_id,
        order.version,
        order.completed,
        order.session_id,
    )
