"""The one schema of the SQL engines: tables and indexes declared once and rendered for SQLite
and PostgreSQL, and the upgrades that bring a database of an older version to it.

A new database gets the rendered schema at once (all versions recorded); an older one runs the
upgrades after its version, each in one transaction, by the engine's migrate (sqlite_sql,
postgres_schema).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Dialect = Literal["sqlite", "postgres"]
DIALECTS: tuple[Dialect, ...] = ("sqlite", "postgres")
# Logical column types as each dialect spells them.
TYPES: dict[Dialect, dict[str, str]] = {
    "sqlite": {"BIGINT": "BIGINT", "INTEGER": "INTEGER", "TEXT": "TEXT", "BOOLEAN": "BOOLEAN"}
    | {"BYTES": "BLOB"},
    "postgres": {"BIGINT": "BIGINT", "INTEGER": "INTEGER", "TEXT": "TEXT", "BOOLEAN": "BOOLEAN"}
    | {"BYTES": "BYTEA"},
}


@dataclass(frozen=True)
class Column:
    """One column: its name, logical type (a key of TYPES) and whether it may be NULL."""

    name: str
    type: str
    nullable: bool = False


@dataclass(frozen=True)
class Table:
    """One table: columns, primary key and unique constraints."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    unique: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Index:
    """One secondary index, optionally unique and partial (`where`)."""

    name: str
    table: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str = ""


def _columns(spec: str) -> tuple[Column, ...]:
    """Columns from "name TYPE, name TYPE NULL, ..." (NOT NULL unless marked NULL)."""
    found = []
    for item in spec.split(","):
        name, kind, *null = item.split()
        found.append(Column(name, kind, nullable=bool(null)))
    return tuple(found)


_ITEM = "sequence BIGINT, shop TEXT, data BYTES"
TABLES: tuple[Table, ...] = (
    Table(
        "events",
        _columns(
            "sequence BIGINT, platform INTEGER, source_event_id TEXT, event_id TEXT, shop TEXT,"
            " kind INTEGER, stored_at_us BIGINT, data BYTES, content_key TEXT NULL"
        ),
        ("sequence",),
        (("platform", "source_event_id"),),
    ),
    Table("alerts", _columns(_ITEM), ("sequence",)),
    Table("completions", _columns(_ITEM), ("sequence",)),
    Table(
        "inventory_levels",
        _columns(
            "shop TEXT, inventory_item_id TEXT, location_id TEXT, available TEXT,"
            " update_time_us BIGINT NULL, product_id TEXT, variant_id TEXT, sku TEXT,"
            " sequence BIGINT, disconnected BOOLEAN"
        ),
        ("shop", "inventory_item_id", "location_id"),
    ),
    Table(
        "catalog",
        _columns("shop TEXT, inventory_item_id TEXT, product_id TEXT, variant_id TEXT, sku TEXT"),
        ("shop", "inventory_item_id"),
    ),
    Table(
        "sessions",
        _columns(
            "session_id TEXT, shop TEXT, state TEXT, order_id TEXT,"
            " complete_time_us BIGINT NULL, completion_sequence BIGINT"
        ),
        ("session_id",),
    ),
    Table(
        "session_bindings",
        _columns("kind TEXT, value TEXT, session_id TEXT, position BIGINT"),
        ("kind", "value"),
    ),
    Table(
        "orders",
        _columns(
            "shop TEXT, order_id TEXT, version BIGINT, completed BOOLEAN, session_id TEXT,"
            " closed BOOLEAN"
        ),
        ("shop", "order_id"),
    ),
    Table("log_meta", _columns("name TEXT, value BIGINT"), ("name",)),
    # Consumer groups (service.groups): a group's filter (kinds as sorted comma-separated
    # numbers), how far the log was scanned into group_deliveries, and when it was created.
    Table(
        "consumer_groups",
        _columns(
            "name TEXT, shop TEXT, kinds TEXT, scanned_through BIGINT, max_attempts INTEGER,"
            " create_time_us BIGINT"
        ),
        ("name",),
    ),
    # A group's unsettled and parked events (an acknowledged one is deleted): the event, its
    # order key, attempts, and the lease of the member holding it (owner, version, deadline).
    Table(
        "group_deliveries",
        _columns(
            "group_name TEXT, sequence BIGINT, delivery_key TEXT, data BYTES, attempts INTEGER,"
            " available_at_us BIGINT, lease_owner TEXT NULL, lease_version BIGINT,"
            " lease_deadline_us BIGINT, last_error TEXT, parked_at_us BIGINT NULL"
        ),
        ("group_name", "sequence"),
    ),
    # The members connected to each group, on every replica (refreshed while connected).
    Table(
        "group_members",
        _columns(
            "group_name TEXT, member_id TEXT, peer TEXT, replica TEXT, max_unacked INTEGER,"
            " connect_time_us BIGINT, seen_us BIGINT"
        ),
        ("group_name", "member_id"),
    ),
    # A shop's installation state as its privacy and uninstall webhooks set it (a shop with no
    # row is installed when the log holds events of it).
    Table(
        "shops",
        _columns(
            "shop TEXT, state TEXT, uninstalled_us BIGINT NULL, redacted_us BIGINT NULL,"
            " state_sequence BIGINT"
        ),
        ("shop",),
    ),
)
INDEXES: tuple[Index, ...] = (
    Index("events_stored_at", "events", ("stored_at_us",)),
    Index("events_shop", "events", ("shop", "sequence")),
    # The second dedup key: the signed content of a body-only-signed delivery (NULL when the
    # event has none), unique per platform for as long as the event is retained.
    Index(
        "events_content_key",
        "events",
        ("platform", "content_key"),
        unique=True,
        where="content_key IS NOT NULL",
    ),
    Index("catalog_product", "catalog", ("shop", "product_id")),
    Index("session_bindings_session", "session_bindings", ("session_id",)),
    Index("group_deliveries_key", "group_deliveries", ("group_name", "delivery_key", "sequence")),
    Index("group_deliveries_owner", "group_deliveries", ("group_name", "lease_owner")),
    Index("group_deliveries_deadline", "group_deliveries", ("group_name", "lease_deadline_us")),
    Index("group_deliveries_ready", "group_deliveries", ("group_name", "available_at_us")),
    Index("group_deliveries_parked", "group_deliveries", ("group_name", "parked_at_us")),
)
SEED = ("INSERT INTO log_meta (name, value) VALUES ('compacted_through', 0)",)


def render_table(table: Table, dialect: Dialect, name: str = "") -> str:
    """CREATE TABLE for one table in a dialect (under `name` when given)."""
    parts = [
        f"{c.name} {TYPES[dialect][c.type]}{'' if c.nullable else ' NOT NULL'}"
        for c in table.columns
    ]
    parts.append(f"PRIMARY KEY ({', '.join(table.key)})")
    parts.extend(f"UNIQUE ({', '.join(columns)})" for columns in table.unique)
    return f"CREATE TABLE {name or table.name} ({', '.join(parts)})"


def render_index(index: Index) -> str:
    """CREATE INDEX for one index (the same text in both dialects)."""
    unique = "UNIQUE " if index.unique else ""
    where = f" WHERE {index.where}" if index.where else ""
    return f"CREATE {unique}INDEX {index.name} ON {index.table} ({', '.join(index.columns)}){where}"


def render(dialect: Dialect) -> list[str]:
    """Every statement creating the current schema in an empty database of a dialect."""
    return (
        [render_table(table, dialect) for table in TABLES]
        + [render_index(index) for index in INDEXES]
        + list(SEED)
    )


def _rebuilt_sqlite(table_name: str, later: tuple[str, ...] = ()) -> list[str]:
    """Statements giving an SQLite table its declared column types (SQLite cannot alter a
    column's type): a copy with the declared definition replaces it, without the columns a
    `later` version adds."""
    (declared,) = (t for t in TABLES if t.name == table_name)
    kept = tuple(column for column in declared.columns if column.name not in later)
    table = replace(declared, columns=kept)
    columns = ", ".join(c.name for c in table.columns)
    return [
        render_table(table, "sqlite", f"{table.name}_rebuilt"),
        f"INSERT INTO {table.name}_rebuilt ({columns}) SELECT {columns} FROM {table.name}",
        f"DROP TABLE {table.name}",
        f"ALTER TABLE {table.name}_rebuilt RENAME TO {table.name}",
    ]


_CONTENT_KEY = [
    "ALTER TABLE events ADD COLUMN content_key TEXT",
    render_index(next(index for index in INDEXES if index.name == "events_content_key")),
]
# Thaws levels frozen by a future-dated update stored before future_dated existed: an update
# time beyond now + 5 min becomes unknown, so the next update wins.
_THAW = (
    "UPDATE inventory_levels SET update_time_us = NULL WHERE update_time_us > {now_us} + 300000000"
)
_LIFECYCLE = [
    "ALTER TABLE orders ADD COLUMN closed BOOLEAN NOT NULL DEFAULT FALSE",
    "ALTER TABLE inventory_levels ADD COLUMN disconnected BOOLEAN NOT NULL DEFAULT FALSE",
]
# The statements taking a database from version N - 1 to N, per dialect (version 1 is the
# first schema; a new database gets render() instead of replaying these).
UPGRADES: dict[int, dict[Dialect, list[str]]] = {
    2: {
        "sqlite": [
            *_CONTENT_KEY,
            _THAW.format(now_us="CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)"),
        ],
        "postgres": [
            *_CONTENT_KEY,
            _THAW.format(now_us="(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT"),
        ],
    },
    # The drift of the two engines' first schemas removed: SQLite gets the events_shop index
    # and orders.completed as BOOLEAN, which PostgreSQL had from the start.
    3: {
        "sqlite": [
            render_index(next(index for index in INDEXES if index.name == "events_shop")),
            *_rebuilt_sqlite("orders", later=("closed",)),
        ],
        "postgres": [],
    },
}

_GROUP_TABLES = ("consumer_groups", "group_deliveries", "group_members")
_GROUP_INDEXES = tuple(i.name for i in INDEXES if i.table == "group_deliveries")


def _groups(dialect: Dialect) -> list[str]:
    """The statements adding the consumer-group tables and indexes (version 4)."""
    return [render_table(t, dialect) for t in TABLES if t.name in _GROUP_TABLES] + [
        render_index(i) for i in INDEXES if i.name in _GROUP_INDEXES
    ]


# Version 4: consumer groups (service.groups).
UPGRADES[4] = {dialect: _groups(dialect) for dialect in DIALECTS}
# Version 5: privacy (issue 12 section 1), the shops table of installation states.
UPGRADES[5] = {
    dialect: [render_table(next(t for t in TABLES if t.name == "shops"), dialect)]
    for dialect in DIALECTS
}
# Version 6: the order lifecycle (issue 12 section 3), a closed (cancelled or fully refunded)
# order, and a level whose item is disconnected from its location.
UPGRADES[6] = dict.fromkeys(DIALECTS, _LIFECYCLE)
LATEST = 6


def plan(current: int, dialect: Dialect) -> list[tuple[list[int], list[str]]]:
    """The transactions bringing a database at version `current` (0 = empty) to LATEST: each
    is (the versions it records, its statements)."""
    if current == 0:
        return [(list(range(1, LATEST + 1)), render(dialect))]
    return [([version], UPGRADES[version][dialect]) for version in range(current + 1, LATEST + 1)]


def too_new(current: int) -> str:
    """The error text for a database migrated by a newer program, or "" when it is not."""
    if current > LATEST:
        return f"database schema version {current} is newer than this program supports"
    return ""
