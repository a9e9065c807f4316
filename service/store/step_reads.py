"""The reads both SQL engines answer alike (log pages, levels, sessions), written once over the
engine's way of running a read step (service.store.sql_rows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from commercegateway.v1 import events_pb2 as ev

from service.domain import InventoryLevel, Session
from service.store import sql_rows
from service.store.sql_rows import SQL_ROWS, Step

T = TypeVar("T")


class StepReads:
    """read_events, read_alerts, read_completions, get_inventory_level and get_session of the
    EventStore protocol, for an engine that implements _read_steps (and _log_through)."""

    async def _read_steps(self, steps: Step[T]) -> T:
        """Runs a read step on one of the engine's reading connections."""
        raise NotImplementedError

    def _log_through(self) -> int | None:
        """The last sequence log reads may return (None: every stored one)."""
        return None

    async def _read_log(
        self, table: str, after: int, limit: int, shop: str, kinds: Sequence[int] = ()
    ) -> list[bytes]:
        through = self._log_through()
        steps = sql_rows.read_log(table, after, limit, shop=shop, kinds=kinds, through=through)
        return await self._read_steps(steps)

    async def read_events(
        self, after: int, limit: int, shop: str = "", kinds: Sequence[int] = ()
    ) -> list[ev.Event]:
        """Stored events after a sequence, in order, filtered; see EventStore."""
        blobs = await self._read_log("events", after, limit, shop, kinds)
        return [ev.Event.FromString(blob) for blob in blobs]

    async def read_stored_events(
        self, after: int, limit: int, shop: str = "", kinds: Sequence[int] = ()
    ) -> list[tuple[int, bytes]]:
        """Stored events after a sequence as (sequence, serialized event), in order, filtered;
        see EventStore."""
        through = self._log_through()
        steps = sql_rows.read_log_with_sequences(
            "events", after, limit, shop=shop, kinds=kinds, through=through
        )
        return await self._read_steps(steps)

    async def read_alerts(self, after: int, limit: int, shop: str = "") -> list[ev.InventoryAlert]:
        """Stored alerts after a sequence, in order; see EventStore."""
        blobs = await self._read_log("alerts", after, limit, shop)
        return [ev.InventoryAlert.FromString(blob) for blob in blobs]

    async def read_completions(
        self, after: int, limit: int, shop: str = ""
    ) -> list[ev.OrderCompletion]:
        """Stored completions after a sequence, in order; see EventStore."""
        blobs = await self._read_log("completions", after, limit, shop)
        return [ev.OrderCompletion.FromString(blob) for blob in blobs]

    async def get_inventory_level(
        self, shop: str, inventory_item_id: str, location_id: str
    ) -> InventoryLevel | None:
        """One stored level, or None."""
        return await self._read_steps(SQL_ROWS.load_level(shop, inventory_item_id, location_id))

    async def get_session(self, session_id: str) -> Session | None:
        """One session, or None."""
        return await self._read_steps(SQL_ROWS.load_session(session_id))
