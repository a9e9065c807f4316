"""Row access of the SQL engines written once, as sans-IO steps over portable SQL.

Each step is a generator that yields Statement values and receives their results (one row or
None, a list of rows, or None); an engine runs it with its driver (sqlite_sql.run_steps on the
writer thread, postgres_sql.run_steps awaited on asyncpg). So the SQL text and the row
conversions exist once. Placeholders are `?`; the PostgreSQL driver numbers them ($1, $2 ...).
SqlRows is the engines' implementation of event_rules.Rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar, cast

from commercegateway.v1 import events_pb2 as ev

from service.convert import event_kind
from service.domain import (
    Binding,
    BindingKind,
    CatalogEntry,
    InventoryLevel,
    OrderRecord,
    Session,
    SessionStateName,
)
from service.store.base import LevelPage, StoreInfo
from service.store.privacy_rows import PrivacySqlRows
from service.store.steps import ALL, COUNT, ONE, RUN, Statement, Step

__all__ = ["ALL", "COUNT", "ONE", "RUN", "SQL_ROWS", "SqlRows", "Statement", "Step"]

T = TypeVar("T")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LEVEL_COLUMNS = (
    "shop, inventory_item_id, location_id, available, update_time_us,"
    " product_id, variant_id, sku, sequence, disconnected"
)
# The log's positions: the highest stored sequence and the newest compacted one (the last
# sequence is the greater: compaction may have emptied the log).
POSITIONS_SQL = (
    "SELECT COALESCE((SELECT MAX(sequence) FROM events), 0),"
    " (SELECT value FROM log_meta WHERE name = 'compacted_through')"
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
        row[0],
        row[1],
        row[2],
        Decimal(row[3]),
        from_us(row[4]),
        row[5],
        row[6],
        row[7],
        row[8],
        bool(row[9]),
    )


def positions() -> Step[StoreInfo]:
    """The last sequence of the log and the newest compacted sequence."""
    row = yield (ONE, POSITIONS_SQL, ())
    compacted = int(row[1] or 0)
    return StoreInfo(max(int(row[0]), compacted), compacted)


def compact(cutoff_us: int | None) -> Step[int]:
    """Deletes the events stored before the cutoff and their items; returns how many."""
    row = yield (
        ONE,
        "SELECT MAX(sequence), COUNT(*) FROM events WHERE stored_at_us < ?",
        (cutoff_us,),
    )
    if row[0] is None:
        return 0
    through = int(row[0])
    for table in ("events", "alerts", "completions"):
        yield (RUN, f"DELETE FROM {table} WHERE sequence <= ?", (through,))
    yield (
        RUN,
        "UPDATE log_meta SET value = ? WHERE name = 'compacted_through' AND value < ?",
        (through, through),
    )
    return int(row[1])


def read_log(
    table: str,
    after: int,
    limit: int,
    *,
    shop: str = "",
    kinds: Sequence[int] = (),
    through: int | None = None,
) -> Step[list[bytes]]:
    """The data of a log table's rows ("events", "alerts", "completions") after a sequence, up
    to `through` when given, in order, optionally of one shop and of some kinds (events)."""
    sql, params = _log_query("data", table, after, limit, shop=shop, kinds=kinds, through=through)
    found = yield (ALL, sql, params)
    return [bytes(row[0]) for row in found]


def read_log_with_sequences(
    table: str,
    after: int,
    limit: int,
    *,
    shop: str = "",
    kinds: Sequence[int] = (),
    through: int | None = None,
) -> Step[list[tuple[int, bytes]]]:
    """Like `read_log`, each row's data with its sequence: (sequence, data) in order."""
    sql, params = _log_query(
        "sequence, data", table, after, limit, shop=shop, kinds=kinds, through=through
    )
    found = yield (ALL, sql, params)
    return [(int(row[0]), bytes(row[1])) for row in found]


def _log_query(
    columns: str,
    table: str,
    after: int,
    limit: int,
    *,
    shop: str,
    kinds: Sequence[int],
    through: int | None,
) -> tuple[str, tuple[Any, ...]]:
    sql = f"SELECT {columns} FROM {table} WHERE sequence > ?"
    params: list[Any] = [after]
    if through is not None:
        sql += " AND sequence <= ?"
        params.append(through)
    if shop:
        sql += " AND shop = ?"
        params.append(shop)
    if kinds:
        sql += f" AND kind IN ({', '.join('?' * len(kinds))})"
        params.extend(kinds)
    sql += " ORDER BY sequence LIMIT ?"
    params.append(limit)
    return sql, tuple(params)


def level_page(shop: str, after: tuple[str, str, str] | None, limit: int) -> Step[LevelPage]:
    """A page of levels after a key with the log position (run it in one read transaction)."""
    info = yield from positions()
    sql = f"SELECT {LEVEL_COLUMNS} FROM inventory_levels WHERE disconnected = ?"
    params: list[Any] = [False]  # a disconnected level is not stocked there: not listed
    if shop:
        sql += " AND shop = ?"
        params.append(shop)
    if after is not None:
        sql += " AND (shop, inventory_item_id, location_id) > (?, ?, ?)"
        params.extend(after)
    sql += " ORDER BY shop, inventory_item_id, location_id LIMIT ?"
    params.append(limit + 1)
    found = yield (ALL, sql, tuple(params))
    levels = [level_from_row(row) for row in found]
    return LevelPage(levels[:limit], info.last_sequence, more=len(levels) > limit)


class SqlRows(PrivacySqlRows):
    """event_rules.Rows over the SQL tables of service.store.schema."""

    def find_by_source_id(self, platform: int, source_event_id: str) -> Step[tuple[int, str]]:
        """The sequence and id of the stored event with this (platform, source event id)."""
        row = yield (
            ONE,
            "SELECT sequence, event_id FROM events WHERE platform = ? AND source_event_id = ?",
            (platform, source_event_id),
        )
        return int(row[0]), str(row[1])

    def find_by_content_key(self, platform: int, key: str) -> Step[tuple[int, str] | None]:
        """The sequence and id of the stored event with this (platform, content key), or None."""
        row = yield (
            ONE,
            "SELECT sequence, event_id FROM events WHERE platform = ? AND content_key = ?",
            (platform, key),
        )
        return (int(row[0]), str(row[1])) if row is not None else None

    def insert_event(self, event: ev.Event, stored_at_us: int) -> Step[bool]:
        """Stores an event (its sequence set); False when its source event id is taken."""
        inserted = yield (
            COUNT,
            "INSERT INTO events (sequence, platform, source_event_id, event_id, shop, kind,"
            " stored_at_us, data, content_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (platform, source_event_id) DO NOTHING",
            (
                event.sequence,
                event.platform,
                event.source_event_id,
                event.id,
                event.shop,
                event_kind(event),
                stored_at_us,
                event.SerializeToString(),
                event.content_key or None,
            ),
        )
        return bool(inserted)

    def insert_item(self, table: str, sequence: int, shop: str, data: bytes) -> Step[None]:
        """Stores an item an event derived ("alerts" or "completions")."""
        yield (
            RUN,
            f"INSERT INTO {table} (sequence, shop, data) VALUES (?, ?, ?)",
            (sequence, shop, data),
        )

    def load_level(self, shop: str, item: str, location: str) -> Step[InventoryLevel | None]:
        """One stored level, or None."""
        row = yield (
            ONE,
            f"SELECT {LEVEL_COLUMNS} FROM inventory_levels"
            " WHERE shop = ? AND inventory_item_id = ? AND location_id = ?",
            (shop, item, location),
        )
        return level_from_row(row) if row is not None else None

    def save_level(self, level: InventoryLevel) -> Step[None]:
        """Inserts or replaces one level."""
        yield (
            RUN,
            f"INSERT INTO inventory_levels ({LEVEL_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (shop, inventory_item_id, location_id) DO UPDATE SET"
            " available = excluded.available, update_time_us = excluded.update_time_us,"
            " product_id = excluded.product_id, variant_id = excluded.variant_id,"
            " sku = excluded.sku, sequence = excluded.sequence,"
            " disconnected = excluded.disconnected",
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
                level.disconnected,
            ),
        )

    def load_catalog(self, shop: str, item: str) -> Step[CatalogEntry | None]:
        """The catalog entry of an inventory item, or None."""
        row = yield (
            ONE,
            "SELECT product_id, variant_id, sku FROM catalog"
            " WHERE shop = ? AND inventory_item_id = ?",
            (shop, item),
        )
        return CatalogEntry(shop, item, row[0], row[1], row[2]) if row is not None else None

    def replace_product(
        self, shop: str, product_id: str, entries: Sequence[CatalogEntry]
    ) -> Step[None]:
        """Replaces a product's catalog entries and enriches the stored levels of its items."""
        yield (RUN, "DELETE FROM catalog WHERE shop = ? AND product_id = ?", (shop, product_id))
        for entry in entries:
            yield (
                RUN,
                "INSERT INTO catalog (shop, inventory_item_id, product_id, variant_id, sku)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (shop, inventory_item_id) DO UPDATE SET"
                " product_id = excluded.product_id, variant_id = excluded.variant_id,"
                " sku = excluded.sku",
                (shop, entry.inventory_item_id, product_id, entry.variant_id, entry.sku),
            )
            yield (
                RUN,
                "UPDATE inventory_levels SET product_id = ?, variant_id = ?, sku = ?"
                " WHERE shop = ? AND inventory_item_id = ?",
                (product_id, entry.variant_id, entry.sku, shop, entry.inventory_item_id),
            )

    def load_session(self, session_id: str) -> Step[Session | None]:
        """One session with its bindings, or None."""
        row = yield (
            ONE,
            "SELECT shop, state, order_id, complete_time_us, completion_sequence FROM sessions"
            " WHERE session_id = ?",
            (session_id,),
        )
        if row is None:
            return None
        found = yield (
            ALL,
            "SELECT kind, value FROM session_bindings WHERE session_id = ? ORDER BY position",
            (session_id,),
        )
        bindings = tuple(Binding(cast(BindingKind, kind), value) for kind, value in found)
        state = cast(SessionStateName, row[1])
        return Session(session_id, row[0], state, bindings, row[2], from_us(row[3]), row[4])

    def save_session(self, session: Session) -> Step[None]:
        """Inserts or replaces a session and binds its keys to it."""
        yield (
            RUN,
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
            yield (
                RUN,
                "INSERT INTO session_bindings (kind, value, session_id, position)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (kind, value) DO UPDATE SET"
                " session_id = excluded.session_id, position = excluded.position",
                (key.kind, key.value, session.session_id, position),
            )

    def find_bound_session(self, key: Binding) -> Step[str | None]:
        """The id of the session a key is bound to, or None."""
        row = yield (
            ONE,
            "SELECT session_id FROM session_bindings WHERE kind = ? AND value = ?",
            (key.kind, key.value),
        )
        return str(row[0]) if row is not None else None

    def load_order(self, shop: str, order_id: str) -> Step[OrderRecord | None]:
        """What the core remembers of an order, or None."""
        row = yield (
            ONE,
            "SELECT version, completed, session_id, closed FROM orders"
            " WHERE shop = ? AND order_id = ?",
            (shop, order_id),
        )
        if row is None:
            return None
        return OrderRecord(shop, order_id, row[0], bool(row[1]), row[2], bool(row[3]))

    def save_order(self, order: OrderRecord) -> Step[None]:
        """Inserts or replaces what the core remembers of an order."""
        yield (
            RUN,
            "INSERT INTO orders (shop, order_id, version, completed, session_id, closed)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (shop, order_id) DO UPDATE SET"
            " version = excluded.version, completed = excluded.completed,"
            " session_id = excluded.session_id, closed = excluded.closed",
            (
                order.shop,
                order.order_id,
                order.version,
                order.completed,
                order.session_id,
                order.closed,
            ),
        )

    def update_item(self, shop: str, item: str, sku: str) -> Step[None]:
        """Records an inventory item's SKU in the catalog and on the item's stored levels."""
        yield (
            RUN,
            "INSERT INTO catalog (shop, inventory_item_id, product_id, variant_id, sku)"
            " VALUES (?, ?, '', '', ?) ON CONFLICT (shop, inventory_item_id) DO UPDATE SET"
            " sku = excluded.sku",
            (shop, item, sku),
        )
        yield (
            RUN,
            "UPDATE inventory_levels SET sku = ? WHERE shop = ? AND inventory_item_id = ?",
            (sku, shop, item),
        )


SQL_ROWS = SqlRows()
