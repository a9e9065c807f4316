"""The one schema of the SQL engines: both dialects rendered alike, and an SQLite database,
new or upgraded from version 1, shaped exactly as declared."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from service.store import schema
from service.store.sqlite_sql import migrate
from tests.support.schema_shape import declared, of_sqlite
from tests.support.schema_v1 import SQLITE_V1


def test_both_dialects_render_the_same_tables_columns_and_indexes() -> None:
    sqlite, postgres = schema.render("sqlite"), schema.render("postgres")
    assert [statement.replace("BYTEA", "BLOB") for statement in postgres] == sqlite
    assert sum("BLOB" in s for s in sqlite) == sum("BYTEA" in s for s in postgres) == 4
    assert len(sqlite) == len(schema.TABLES) + len(schema.INDEXES) + len(schema.SEED)


def test_a_new_sqlite_database_has_the_declared_shape(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "new.db", isolation_level=None)
    assert migrate(conn) == schema.LATEST
    versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
    assert versions == list(range(1, schema.LATEST + 1))
    assert of_sqlite(conn) == declared()
    conn.close()


def test_a_version_one_sqlite_database_is_upgraded_to_the_declared_shape(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for statement in SQLITE_V1:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version (version) VALUES (1)")
    conn.execute("INSERT INTO orders VALUES ('s', 'done', 2, 1, 'sess'), ('s', 'open', 1, 0, '')")
    before = of_sqlite(conn)
    assert "events_shop" not in {index[0] for index in before.indexes}
    assert migrate(conn) == schema.LATEST
    assert of_sqlite(conn) == declared()
    kept = conn.execute("SELECT order_id, version, completed, session_id FROM orders ORDER BY 1")
    assert kept.fetchall() == [("done", 2, 1, "sess"), ("open", 1, 0, "")]
    conn.close()
