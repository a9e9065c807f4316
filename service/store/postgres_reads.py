"""The read side of the PostgreSQL engine: log reads, state reads, log positions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from commercegateway.v1 import events_pb2 as ev

from service.domain import InventoryLevel, Session
from service.store import sql_rows
from service.store.base import LevelPage, StoreInfo
from service.store.postgres_errors import StoreUnavailableError, is_connection_error
from service.store.postgres_sql import run_steps
from service.store.sql_rows import SQL_ROWS


class StoreReader:
    """Reads of PostgresEventStore on pooled connections; a lost database is reported as
    StoreUnavailableError (UNAVAILABLE)."""

    def __init__(self) -> None:
        """No pool until the store opens."""
        self._pool: asyncpg.Pool | None = None

    def _visible_through(self) -> int:
        """The last sequence this replica's listener has been given; log reads stop there.

        So a subscriber's replay never reads past what its live queue was offered (another
        replica's fresh commit reaches the replay and the live queue together).
        """
        raise NotImplementedError

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        if self._pool is None:
            raise RuntimeError("store is closed")
        try:
            async with self._pool.acquire() as conn:
                yield conn
        except Exception as error:
            if is_connection_error(error):
                raise StoreUnavailableError() from error
            raise

    async def _fetch(self, sql: str, *params: Any) -> list[Any]:
        async with self._connection() as conn:
            return list(await conn.fetch(sql, *params))

    async def info(self) -> StoreInfo:
        """The last sequence given to the listener and the newest compacted sequence."""
        async with self._connection() as conn:
            compacted = (await run_steps(sql_rows.positions(), conn)).compacted_through
        return StoreInfo(max(self._visible_through(), compacted), compacted)

    async def read_events(
        self, after: int, limit: int, shop: str = "", kinds: Sequence[int] = ()
    ) -> list[ev.Event]:
        """Stored events after a sequence, in order, filtered; see EventStore."""
        sql = "SELECT data FROM events WHERE sequence > $1 AND sequence <= $2"
        params: list[Any] = [after, self._visible_through()]
        if shop:
            params.append(shop)
            sql += f" AND shop = ${len(params)}"
        if kinds:
            params.append(list(kinds))
            sql += f" AND kind = ANY(${len(params)}::integer[])"
        params.append(limit)
        sql += f" ORDER BY sequence LIMIT ${len(params)}"
        return [ev.Event.FromString(row[0]) for row in await self._fetch(sql, *params)]

    async def _read_items(self, table: str, after: int, limit: int, shop: str) -> list[bytes]:
        sql = f"SELECT data FROM {table} WHERE sequence > $1 AND sequence <= $2"
        params: list[Any] = [after, self._visible_through()]
        if shop:
            params.append(shop)
            sql += f" AND shop = ${len(params)}"
        params.append(limit)
        found = await self._fetch(f"{sql} ORDER BY sequence LIMIT ${len(params)}", *params)
        return [bytes(row[0]) for row in found]

    async def read_alerts(self, after: int, limit: int, shop: str = "") -> list[ev.InventoryAlert]:
        """Stored alerts after a sequence, in order; see EventStore."""
        blobs = await self._read_items("alerts", after, limit, shop)
        return [ev.InventoryAlert.FromString(blob) for blob in blobs]

    async def read_completions(
        self, after: int, limit: int, shop: str = ""
    ) -> list[ev.OrderCompletion]:
        """Stored completions after a sequence, in order; see EventStore."""
        blobs = await self._read_items("completions", after, limit, shop)
        return [ev.OrderCompletion.FromString(blob) for blob in blobs]

    async def get_inventory_level(
        self, shop: str, inventory_item_id: str, location_id: str
    ) -> InventoryLevel | None:
        """One stored level, or None."""
        async with self._connection() as conn:
            return await run_steps(SQL_ROWS.load_level(shop, inventory_item_id, location_id), conn)

    async def list_inventory_levels(
        self, shop: str, after: tuple[str, str, str] | None, limit: int
    ) -> LevelPage:
        """A page of levels after a key, consistent with the returned sequence."""
        async with (
            self._connection() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            return await run_steps(sql_rows.level_page(shop, after, limit), conn)

    async def get_session(self, session_id: str) -> Session | None:
        """One session, or None."""
        async with self._connection() as conn:
            return await run_steps(SQL_ROWS.load_session(session_id), conn)
