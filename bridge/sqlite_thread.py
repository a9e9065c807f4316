"""A SQLite connection owned by one dedicated thread, so the event loop never blocks on disk."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=5000",
    # Deleted content is overwritten with zeros, so an erased delivery leaves no bytes in free
    # pages or cells (Shopify's privacy redactions: bridge.privacy).
    "PRAGMA secure_delete=ON",
)
CHECKPOINT_ATTEMPTS = 5
"""How many times truncate_wal tries while another connection holds an old snapshot."""


class SqliteThread:
    """Runs functions against one SQLite file (WAL, synchronous=FULL) on its own thread."""

    def __init__(
        self,
        path: Path,
        schema: str,
        upgrade: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """Remembers the file, the schema script and an optional `upgrade` run after it on
        first use (e.g. columns added to a file an older version created)."""
        self.path = path
        self._schema = schema
        self._upgrade = upgrade
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite-{path.stem}")
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            for pragma in _PRAGMAS:
                connection.execute(pragma)
            connection.executescript(self._schema)
            if self._upgrade is not None:
                self._upgrade(connection)
            self._connection = connection
        return self._connection

    def call(self, function: Callable[[sqlite3.Connection], T]) -> T:
        """Runs `function(connection)` on the dedicated thread and waits (for CLIs and threads)."""
        return self._executor.submit(lambda: function(self._connect())).result()

    async def run(self, function: Callable[[sqlite3.Connection], T]) -> T:
        """Runs `function(connection)` on the dedicated thread without blocking the loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: function(self._connect()))

    def close(self) -> None:
        """Closes the connection and stops the thread."""

        def _close() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        self._executor.submit(_close).result()
        self._executor.shutdown(wait=True)


def write_transaction(
    connection: sqlite3.Connection, statement: str, rows: list[tuple[object, ...]]
) -> None:
    """Executes one statement for many rows in a single committed IMMEDIATE transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.executemany(statement, rows)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def truncate_wal(connection: sqlite3.Connection) -> bool:
    """Copies every WAL frame into the file and truncates the WAL to zero bytes (outside a
    transaction), so no older page image stays in it; each attempt waits up to the busy
    timeout. False when another connection kept it from completing every attempt."""
    for _ in range(CHECKPOINT_ATTEMPTS):
        busy, _log, _done = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return True
    return False
