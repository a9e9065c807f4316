"""Log-wide SQLite operations: compaction and consistent pages of inventory levels."""

from __future__ import annotations

import sqlite3
from typing import Any

from service.store import sqlite_rows as rows
from service.store.base import LevelPage


def compact_log(conn: sqlite3.Connection, cutoff_us: int | None) -> int:
    """Deletes the events stored before the cutoff and their items; returns how many."""
    row = conn.execute(
        "SELECT MAX(sequence), COUNT(*) FROM events WHERE stored_at_us < ?", (cutoff_us,)
    ).fetchone()
    if not row[0]:
        return 0
    through = int(row[0])
    for table in ("events", "alerts", "completions"):
        conn.execute(f"DELETE FROM {table} WHERE sequence <= ?", (through,))
    conn.execute("UPDATE log_meta SET value = ? WHERE name = 'compacted_through'", (through,))
    return int(row[1])


def level_page(
    conn: sqlite3.Connection, shop: str, after: tuple[str, str, str] | None, limit: int
) -> LevelPage:
    """A page of levels after a key, read in one transaction with the log position."""
    conn.execute("BEGIN")
    try:
        sequence = conn.execute(
            "SELECT MAX(COALESCE((SELECT MAX(sequence) FROM events), 0), value)"
            " FROM log_meta WHERE name = 'compacted_through'"
        ).fetchone()[0]
        sql = f"SELECT {rows.LEVEL_COLUMNS} FROM inventory_levels WHERE 1 = 1"
        params: list[Any] = []
        if shop:
            sql += " AND shop = ?"
            params.append(shop)
        if after is not None:
            sql += " AND (shop, inventory_item_id, location_id) > (?, ?, ?)"
            params.extend(after)
        sql += " ORDER BY shop, inventory_item_id, location_id LIMIT ?"
        params.append(limit + 1)
        found = [rows.level_from_row(row) for row in conn.execute(sql, params)]
    finally:
        conn.execute("COMMIT")
    return LevelPage(found[:limit], int(sequence), more=len(found) > limit)
