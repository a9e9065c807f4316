"""Parked outbox entries (events the core refused as invalid): list, re-drive, drop.

Works on the outbox table directly (its `parked` column) through a connection of its own, so
it can later be pointed at the outbox's own admin operations without changing the console.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import grpc
from commercegateway.v1 import core_service_pb2, events_pb2

from bridge.core_channel import bearer_metadata, open_core_channel
from bridge.drain import core_stub, publish_batch
from bridge.outbox import _SCHEMA, OUTBOX_FILE
from bridge.platforms import REGISTRY
from bridge.sqlite_thread import SqliteThread, write_transaction

MAX_PARKED_SHOWN = 200
"""The console lists at most this many parked entries (the oldest first)."""


def _platform_name(wire: int) -> str:
    """The name of the first registered platform with this wire value, else "unknown"."""
    return next((p.name for p in REGISTRY.values() if p.wire == wire), "unknown")


@dataclass(frozen=True)
class ParkedEntry:
    """One parked outbox entry, described without its payload."""

    entry_id: int
    event_id: str
    platform: str
    topic: str
    shop: str
    delivery_id: str
    created_at: datetime


@dataclass(frozen=True)
class ParkedOutcome:
    """What a re-drive or drop did: stored, duplicate, refused, failed, dropped or missing."""

    entry_id: int
    result: str
    detail: str


class ParkedOutbox:
    """The parked rows of `<data_dir>/outbox.sqlite3`."""

    def __init__(self, data_dir: Path) -> None:
        """Uses the outbox file of `data_dir` (created on first use, same schema)."""
        self._db = SqliteThread(Path(data_dir) / OUTBOX_FILE, _SCHEMA)

    async def list(self) -> tuple[list[ParkedEntry], int]:
        """Up to MAX_PARKED_SHOWN parked entries, oldest first, and how many are parked."""

        def select(connection: sqlite3.Connection) -> tuple[list[tuple[int, bytes, float]], int]:
            query = "SELECT id, event, created_at FROM outbox WHERE parked = 1 ORDER BY id LIMIT ?"
            rows = connection.execute(query, (MAX_PARKED_SHOWN,)).fetchall()
            total = connection.execute("SELECT COUNT(*) FROM outbox WHERE parked = 1").fetchone()
            return list(rows), int(total[0])

        rows, total = await self._db.run(select)
        return [_describe(row_id, blob, created) for row_id, blob, created in rows], total

    async def _event(self, entry_id: int) -> events_pb2.Event | None:
        query = "SELECT event FROM outbox WHERE id = ? AND parked = 1"
        row = await self._db.run(lambda c: c.execute(query, (entry_id,)).fetchone())
        return None if row is None else events_pb2.Event.FromString(row[0])

    async def drop(self, entry_id: int) -> ParkedOutcome:
        """Deletes a parked entry for good."""
        statement = "DELETE FROM outbox WHERE id = ? AND parked = 1"

        def delete(connection: sqlite3.Connection) -> int:
            before = connection.total_changes
            write_transaction(connection, statement, [(entry_id,)])
            return connection.total_changes - before

        if await self._db.run(delete):
            return ParkedOutcome(entry_id, "dropped", "entry deleted")
        return ParkedOutcome(entry_id, "missing", "no such parked entry")

    async def redrive(
        self, entry_id: int, core: str, token: str, credentials: grpc.ChannelCredentials | None
    ) -> ParkedOutcome:
        """Publishes a parked entry to the core again; removes it once the core took it."""
        event = await self._event(entry_id)
        if event is None:
            return ParkedOutcome(entry_id, "missing", "no such parked entry")
        try:
            async with open_core_channel(core, credentials) as channel:
                (answer,) = await publish_batch(core_stub(channel), [event], bearer_metadata(token))
        except grpc.aio.AioRpcError as error:
            result = "refused" if error.code() == grpc.StatusCode.INVALID_ARGUMENT else "failed"
            detail = f"core answered {error.code().name}: {error.details() or ''}"[:300]
            return ParkedOutcome(entry_id, result, detail + "; entry kept")
        stored = answer.outcome == core_service_pb2.PUBLISH_OUTCOME_STORED
        statement = "DELETE FROM outbox WHERE id = ?"
        await self._db.run(lambda c: write_transaction(c, statement, [(entry_id,)]))
        return ParkedOutcome(
            entry_id, "stored" if stored else "duplicate", f"sequence {answer.sequence}"
        )

    def close(self) -> None:
        """Closes the file."""
        self._db.close()


def _describe(entry_id: int, blob: bytes, created_at: float) -> ParkedEntry:
    event = events_pb2.Event.FromString(blob)
    return ParkedEntry(
        entry_id=entry_id,
        event_id=event.id,
        platform=_platform_name(event.platform),
        topic=event.topic,
        shop=event.shop,
        delivery_id=event.delivery_id,
        created_at=datetime.fromtimestamp(created_at, UTC),
    )
