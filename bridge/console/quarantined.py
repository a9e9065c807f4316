"""Quarantined deliveries for the console: list, show on request, re-drive, drop (async).

The quarantine store's calls block on its own thread; they run here via asyncio.to_thread so
the event loop never waits on disk. Re-driving is the CLI's (bridge.redrive): re-parse, then
publish to the core; an entry the core took is removed.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bridge.quarantine import _SCHEMA, QUARANTINE_FILE, Quarantine, QuarantinedDelivery
from bridge.redrive import RedriveOutcome, _publish, _reparse
from bridge.settings import BridgeSettings
from bridge.sqlite_thread import SqliteThread

MAX_QUARANTINE_SHOWN = 200
"""The console lists at most this many quarantined entries (the newest first)."""
MAX_PAYLOAD_SHOWN = 65_536
"""A payload shown on request is clipped to this many bytes."""
# The newest entries without their bodies (a listing never loads a payload).
_LIST = (
    "SELECT id, platform, topic, delivery_id, reason, errors, headers, x'', received_at "
    "FROM quarantine ORDER BY id DESC LIMIT ?"
)


class QuarantineActions:
    """The console's operations on the bridge's quarantine."""

    def __init__(self, quarantine: Quarantine, settings: BridgeSettings) -> None:
        """Acts on `quarantine`, publishing re-drives to the core `settings` name."""
        self._quarantine = quarantine
        self._settings = settings
        self._reader = SqliteThread(Path(settings.data_dir) / QUARANTINE_FILE, _SCHEMA)

    async def list(self) -> tuple[list[QuarantinedDelivery], int]:
        """Up to MAX_QUARANTINE_SHOWN entries (newest first, bodies left out) and how many
        are kept."""

        def select(connection: sqlite3.Connection) -> tuple[list[tuple[object, ...]], int]:
            rows = connection.execute(_LIST, (MAX_QUARANTINE_SHOWN,)).fetchall()
            total = connection.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0]
            return [tuple(row) for row in rows], int(total)

        rows, total = await self._reader.run(select)
        return [QuarantinedDelivery.from_row(row) for row in rows], total

    def close(self) -> None:
        """Closes the listing's connection."""
        self._reader.close()

    async def get(self, entry_id: int) -> QuarantinedDelivery | None:
        """One entry with its payload, or None."""
        return await asyncio.to_thread(self._quarantine.get, entry_id)

    async def drop(self, entry_id: int) -> RedriveOutcome:
        """Forgets an entry for good."""
        if await self.get(entry_id) is None:
            return RedriveOutcome(entry_id, "missing", "no such entry")
        await asyncio.to_thread(self._quarantine.remove, entry_id)
        return RedriveOutcome(entry_id, "dropped", "entry deleted")

    async def redrive(self, entry_id: int) -> RedriveOutcome:
        """Re-parses an entry and publishes it; removes it when stored, duplicate or ignored."""
        entry = await self.get(entry_id)
        if entry is None:
            return RedriveOutcome(entry_id, "missing", "no such entry")
        parsed = _reparse(entry, self._settings)
        if isinstance(parsed, RedriveOutcome):
            return parsed
        (outcome,) = await _publish(self._settings, [(entry_id, parsed)])
        if outcome.result in {"stored", "duplicate", "ignored"}:
            await asyncio.to_thread(self._quarantine.remove, entry_id)
        return outcome
