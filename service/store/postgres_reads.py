"""The read side of the PostgreSQL engine: log reads, state reads, log positions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

import asyncpg

from service.store import sql_rows
from service.store.base import LevelPage, StoreInfo
from service.store.postgres_errors import StoreUnavailableError, is_connection_error
from service.store.postgres_sql import run_steps
from service.store.step_reads import StepReads

T = TypeVar("T")


class StoreReader(StepReads):
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

    async def _read_steps(self, steps: sql_rows.Step[T]) -> T:
        async with self._connection() as conn:
            return await run_steps(steps, conn)

    def _log_through(self) -> int:
        return self._visible_through()

    async def info(self) -> StoreInfo:
        """The last sequence given to the listener and the newest compacted sequence."""
        compacted = (await self._read_steps(sql_rows.positions())).compacted_through
        return StoreInfo(max(self._visible_through(), compacted), compacted)

    async def list_inventory_levels(
        self, shop: str, after: tuple[str, str, str] | None, limit: int
    ) -> LevelPage:
        """A page of levels after a key, consistent with the returned sequence."""
        async with (
            self._connection() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            return await run_steps(sql_rows.level_page(shop, after, limit), conn)
