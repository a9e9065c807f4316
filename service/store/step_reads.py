"""The reads both SQL engines answer alike (log pages, levels, sessions), written once over the
engine's way of running a read step (service.store.sql_rows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from commercegateway.v1 import events_pb2 as ev

from common.redaction import Subject
from service.domain import InventoryLevel, Session
from service.store import privacy_rules, sql_rows
from service.store.base import CustomerExport
from service.store.privacy_rows import ShopRecord
from service.store.sql_rows import SQL_ROWS, Step

T = TypeVar("T")


class StepReads:
    """read_events, read_alerts, read_completions, get_inventory_level and get_session of the
    EventStore protocol, for an engine that implements _read_steps (and _log_through)."""

    async def _read_steps(self, steps: Step[T]) -> T:
        """Runs a read step on one of the engine's reading connections."""
        raise NotImplementedError

    async def read_steps(self, steps: Step[T]) -> T:
        """Runs a read-only sans-IO step on a reading connection (see EventStore)."""
        return await self._read_steps(steps)

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
        """One stored level, or None (a disconnected level is not stocked there: None)."""
        found = await self._read_steps(SQL_ROWS.load_level(shop, inventory_item_id, location_id))
        return None if found is None or found.disconnected else found

    async def get_session(self, session_id: str) -> Session | None:
        """One session, or None."""
        return await self._read_steps(SQL_ROWS.load_session(session_id))

    async def get_shop(self, shop: str) -> ShopRecord | None:
        """The shop's installation state, or None when the core holds nothing of it."""
        return await self._read_steps(privacy_rules.shop_state(SQL_ROWS, shop))

    async def export_customer(self, subject: Subject) -> CustomerExport:
        """Everything held about a customer: its events, orders and their sessions."""
        through = self._log_through()
        before = (through + 1) if through is not None else 2**63 - 1
        steps = privacy_rules.export_customer(SQL_ROWS, subject, before)
        events, orders, session_ids, truncated = await self._read_steps(steps)
        sessions = []
        for session_id in session_ids:
            session = await self.get_session(session_id)
            if session is not None:
                sessions.append(session)
        return CustomerExport(events, orders, sessions, truncated)
