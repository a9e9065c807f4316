"""Test support: the shape of a store's schema (tables, columns, types, keys, indexes) read
from a live SQLite or PostgreSQL database, and the shape service.store.schema declares, in one
comparable form."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

import asyncpg

from service.store import schema

# Column types as each database reports them, as the logical types of service.store.schema.
_LOGICAL = {"bigint": "BIGINT", "integer": "INTEGER", "text": "TEXT", "boolean": "BOOLEAN"} | {
    "blob": "BYTES",
    "bytea": "BYTES",
}
# Tables that keep the migration's own bookkeeping, not the store's data.
_BOOKKEEPING = frozenset({"schema_version"})
# (kind: "pk", "unique" or the index's name, table, columns, unique, partial)
IndexShape = tuple[str, str, tuple[str, ...], bool, bool]


@dataclass
class Shape:
    """Tables with their (column, logical type, nullable) in order, and their keys and indexes."""

    tables: dict[str, list[tuple[str, str, bool]]] = field(default_factory=dict)
    indexes: set[IndexShape] = field(default_factory=set)


def declared() -> Shape:
    """The shape service.store.schema declares."""
    shape = Shape()
    for table in schema.TABLES:
        shape.tables[table.name] = [(c.name, c.type, c.nullable) for c in table.columns]
        shape.indexes.add(("pk", table.name, table.key, True, False))
        shape.indexes.update(("unique", table.name, cols, True, False) for cols in table.unique)
    shape.indexes.update(
        (i.name, i.table, i.columns, i.unique, bool(i.where)) for i in schema.INDEXES
    )
    return shape


def of_sqlite(conn: sqlite3.Connection) -> Shape:
    """The shape of an SQLite database."""
    shape = Shape()
    names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in sorted(set(names) - _BOOKKEEPING):
        columns = conn.execute(f"PRAGMA table_info({table})").fetchall()
        shape.tables[table] = [
            (name, _LOGICAL[kind.lower()], not (notnull or pk))
            for _, name, kind, notnull, _, pk in columns
        ]
        for _, name, unique, origin, partial in conn.execute(f"PRAGMA index_list({table})"):
            info = conn.execute(f"PRAGMA index_info({name})").fetchall()
            cols = tuple(row[2] for row in sorted(info))
            kind = {"pk": "pk", "u": "unique"}.get(origin, name)
            shape.indexes.add((kind, table, cols, bool(unique), bool(partial)))
    return shape


_PG_INDEXES = """
SELECT i.relname, t.relname, ix.indisunique, ix.indisprimary, ix.indpred IS NOT NULL,
       EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid AND c.contype = 'u'),
       array(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n)
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace ns ON ns.oid = t.relnamespace
WHERE ns.nspname = current_schema()
"""


async def of_postgres(conn: asyncpg.Connection) -> Shape:
    """The shape of a PostgreSQL database (its current schema)."""
    shape = Shape()
    rows = await conn.fetch(
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    )
    for table, column, kind, nullable in rows:
        if table not in _BOOKKEEPING:
            shape.tables.setdefault(table, []).append((column, _LOGICAL[kind], nullable == "YES"))
    for name, table, unique, primary, partial, constraint, cols in await conn.fetch(_PG_INDEXES):
        if table in _BOOKKEEPING:
            continue
        kind = "pk" if primary else "unique" if constraint else name
        shape.indexes.add((kind, table, tuple(cols), unique, partial))
    return shape
