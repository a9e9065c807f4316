"""Parked outbox entries (events the core refused as invalid) for the console: list, re-drive
and drop, through the outbox's own operator functions (bridge.outbox_admin), as the
`commerce-gateway outbox` command does."""

from __future__ import annotations

import grpc

from bridge.core_channel import bearer_metadata, open_core_channel
from bridge.drain import core_stub
from bridge.outbox import Outbox
from bridge.outbox_admin import OutboxOutcome, OutboxSummary, drop, list_entries, parked_count
from bridge.outbox_admin import redrive as redrive_entries

MAX_PARKED_SHOWN = 200
"""The console lists at most this many parked entries (the oldest first)."""


class ParkedOutbox:
    """The parked entries of the bridge's outbox."""

    def __init__(self, outbox: Outbox) -> None:
        """Works on the bridge's own outbox (the one its drain uses)."""
        self._outbox = outbox

    async def list(self) -> tuple[list[OutboxSummary], int]:
        """Up to MAX_PARKED_SHOWN parked entries, oldest first, and how many are parked."""
        entries = await list_entries(self._outbox, parked_only=True, limit=MAX_PARKED_SHOWN)
        return entries, await parked_count(self._outbox) or 0

    async def drop(self, entry_id: int) -> OutboxOutcome:
        """Deletes a parked entry for good (an entry still waiting for the core is refused)."""
        return await drop(self._outbox, entry_id)

    async def redrive(
        self, entry_id: int, core: str, token: str, credentials: grpc.ChannelCredentials | None
    ) -> OutboxOutcome:
        """Publishes one entry to the core again; removed once the core took it, parked again
        with the new reason when the core refuses it."""
        async with open_core_channel(core, credentials) as channel:
            (outcome,) = await redrive_entries(
                self._outbox, core_stub(channel), bearer_metadata(token), entry_id
            )
        return outcome
