"""The quarantine: verified deliveries whose payload did not match their topic's schema."""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bridge.platforms import header_names
from bridge.sqlite_thread import SqliteThread

QUARANTINE_FILE = "quarantine.sqlite3"

# Signatures are not needed to re-drive (re-drive verifies nothing again), so they are not
# kept: every platform's signature headers (Platform.signature_headers) and these.
_DROPPED_CREDENTIALS = frozenset({"authorization", "cookie"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform TEXT NOT NULL,
    topic TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    errors TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    received_at REAL NOT NULL
);
"""


def _add_size_column(connection: sqlite3.Connection) -> None:
    """Adds (once, serialised) the body size column a file of an older version lacks, so that
    listing never reads a body."""
    if "size" in {row[1] for row in connection.execute("PRAGMA table_info(quarantine)")}:
        return  # up to date: no write lock taken
    connection.execute("BEGIN IMMEDIATE")
    try:
        present = {row[1] for row in connection.execute("PRAGMA table_info(quarantine)")}
        if "size" not in present:
            connection.execute("ALTER TABLE quarantine ADD COLUMN size INTEGER")
            connection.execute("UPDATE quarantine SET size = length(body)")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


_COLUMNS = "id, platform, topic, delivery_id, reason, errors, headers, body, received_at"


@dataclass(frozen=True)
class QuarantinedDelivery:
    """One kept delivery: enough to inspect it and to re-parse it later."""

    entry_id: int
    platform: str
    topic: str
    delivery_id: str
    reason: str
    errors: tuple[str, ...]
    headers: Mapping[str, str]
    body: bytes
    received_at: datetime

    @classmethod
    def from_row(cls, row: tuple[object, ...]) -> QuarantinedDelivery:
        """Builds an entry from a database row."""
        entry_id, platform, topic, delivery_id, reason, errors, headers, body, received = row
        return cls(
            entry_id=int(str(entry_id)),
            platform=str(platform),
            topic=str(topic),
            delivery_id=str(delivery_id),
            reason=str(reason),
            errors=tuple(json.loads(str(errors))),
            headers=json.loads(str(headers)),
            body=bytes(body) if isinstance(body, bytes | bytearray | memoryview) else b"",
            received_at=datetime.fromtimestamp(float(str(received)), UTC),
        )


@dataclass(frozen=True)
class QuarantineSummary:
    """A kept delivery's metadata, read without its body (for listing)."""

    entry_id: int
    platform: str
    topic: str
    delivery_id: str
    reason: str
    errors: tuple[str, ...]
    size: int
    received_at: datetime


_SUMMARY = "id, platform, topic, delivery_id, reason, errors, size, received_at"


class Quarantine:
    """SQLite-backed store of quarantined deliveries in the data dir."""

    def __init__(self, data_dir: Path) -> None:
        """Uses `<data_dir>/quarantine.sqlite3`; the file is created on first use."""
        self._db = SqliteThread(Path(data_dir) / QUARANTINE_FILE, _SCHEMA, _add_size_column)

    @property
    def db(self) -> SqliteThread:
        """The file's connection thread (for operator tools)."""
        return self._db

    @staticmethod
    def _insert(connection: sqlite3.Connection, values: tuple[object, ...]) -> int:
        columns = _COLUMNS.removeprefix("id, ") + ", size"
        cursor = connection.execute(
            f"INSERT INTO quarantine ({columns}) VALUES (?,?,?,?,?,?,?,?,?)", values
        )
        return int(cursor.lastrowid or 0)

    async def add(
        self,
        *,
        platform: str,
        topic: str,
        delivery_id: str,
        reason: str,
        errors: Sequence[str],
        headers: Mapping[str, str],
        body: bytes,
        received_at: datetime,
    ) -> int:
        """Keeps a delivery (signature headers dropped) and returns its id."""
        dropped = _DROPPED_CREDENTIALS | set(header_names("signature_headers"))
        kept = {k.lower(): v for k, v in headers.items() if k.lower() not in dropped}
        values = (
            platform,
            topic,
            delivery_id,
            reason,
            json.dumps(list(errors)),
            json.dumps(kept),
            body,
            received_at.timestamp(),
            len(body),
        )
        return await self._db.run(lambda c: self._insert(c, values))

    def list(self) -> list[QuarantinedDelivery]:
        """Every kept delivery, oldest first."""
        rows = self._db.call(
            lambda c: c.execute(f"SELECT {_COLUMNS} FROM quarantine ORDER BY id").fetchall()
        )
        return [QuarantinedDelivery.from_row(tuple(row)) for row in rows]

    def summaries(self) -> builtins.list[QuarantineSummary]:
        """Every kept delivery's metadata, oldest first; no body is read."""
        query = f"SELECT {_SUMMARY} FROM quarantine ORDER BY id"
        rows = self._db.call(lambda c: c.execute(query).fetchall())
        return [
            QuarantineSummary(
                entry_id=int(entry_id),
                platform=str(platform),
                topic=str(topic),
                delivery_id=str(delivery_id),
                reason=str(reason),
                errors=tuple(json.loads(str(errors))),
                size=int(size or 0),
                received_at=datetime.fromtimestamp(float(received), UTC),
            )
            for entry_id, platform, topic, delivery_id, reason, errors, size, received in rows
        ]

    def get(self, entry_id: int) -> QuarantinedDelivery | None:
        """One kept delivery, or None."""
        query = f"SELECT {_COLUMNS} FROM quarantine WHERE id = ?"
        row = self._db.call(lambda c: c.execute(query, (entry_id,)).fetchone())
        return None if row is None else QuarantinedDelivery.from_row(tuple(row))

    def remove(self, entry_id: int) -> None:
        """Forgets a delivery (after it was re-driven)."""
        self._db.call(lambda c: c.execute("DELETE FROM quarantine WHERE id = ?", (entry_id,)))

    def count(self) -> int:
        """How many deliveries are kept."""
        return self._db.call(
            lambda c: int(c.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0])
        )

    def close(self) -> None:
        """Closes the file."""
        self._db.close()
