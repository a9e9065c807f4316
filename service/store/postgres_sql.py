"""Running sans-IO steps (service.store.sql_rows) on an asyncpg connection."""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any, TypeVar, cast

import asyncpg

from service.store.sql_rows import ALL, COUNT, ONE, Step

T = TypeVar("T")
_PLACEHOLDER = re.compile(r"\?")


@functools.lru_cache(maxsize=256)
def numbered(sql: str) -> str:
    """The statement with its `?` placeholders numbered as PostgreSQL wants them ($1, $2 ...)."""
    counter = itertools.count(1)
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


async def run_steps(steps: Step[T], conn: asyncpg.Connection) -> T:
    """Runs a step's statements on `conn` in order, handing each its result; returns the
    step's value."""
    result: Any = None
    try:
        while True:
            fetch, sql, params = steps.send(result)
            sql = numbered(sql)
            if fetch == ONE:
                result = await conn.fetchrow(sql, *params)
            elif fetch == ALL:
                result = await conn.fetch(sql, *params)
            else:
                status = await conn.execute(sql, *params)
                result = int(status.rpartition(" ")[2]) if fetch == COUNT else None
    except StopIteration as done:
        return cast(T, done.value)
