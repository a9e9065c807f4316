"""Commit order: a lower sequence still in flight is never skipped by a subscriber, and a
commit nobody notified about still reaches subscribers (the periodic poll)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from commercegateway.v1 import core_service_pb2 as api

from service.server import RunningCore
from service.store import event_rules, sql_rows
from service.store.base import CommittedRecord, StoreRules
from service.store.postgres_schema import LOG_LOCK
from service.store.postgres_sql import run_steps
from tests.postgres.streams import batch, collect, publish
from tests.service.events import inventory
from tests.support.core import CoreStub, core_stub, running_core
from tests.support.waiting import wait_for

pytestmark = pytest.mark.postgres


@pytest.fixture
async def core(tmp_path: Path, postgres_url: str) -> AsyncIterator[RunningCore]:
    """One core replica on a fresh database."""
    async with running_core(tmp_path / "core", store=postgres_url) as running:
        yield running


@pytest.fixture
async def stub(core: RunningCore) -> AsyncIterator[CoreStub]:
    """A stub connected to `core`."""
    async with core_stub(core.address) as connected:
        yield connected


@pytest.fixture
async def other_replica(postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A raw connection standing for another replica in the middle of a write transaction."""
    conn = await asyncpg.connect(postgres_url)
    try:
        yield conn
    finally:
        await conn.close()


async def begin_write(conn: asyncpg.Connection, source_event_id: str) -> int:
    """Starts a write transaction as a replica does and stores one event without committing
    (and without NOTIFY); returns the sequence it took."""
    await conn.execute("BEGIN")
    await conn.execute("SELECT pg_advisory_xact_lock($1)", LOG_LOCK)
    sequence = (await run_steps(sql_rows.positions(), conn)).last_sequence + 1
    event = inventory(source_event_id, "held", "3")
    steps = event_rules.store_event(
        sql_rows.SQL_ROWS, event, sequence, StoreRules(), time.time_ns() // 1000
    )
    stored = await run_steps(steps, conn)
    assert isinstance(stored, CommittedRecord)
    return sequence


async def waiting_for_the_log_lock(conn: asyncpg.Connection) -> bool:
    """True when some transaction waits for the log lock another one holds."""
    waiting = await conn.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    )
    return int(waiting) > 0


async def test_a_lower_sequence_committing_late_is_not_skipped(
    stub: CoreStub, other_replica: asyncpg.Connection, postgres_url: str
) -> None:
    await publish(stub, batch("first", 3))
    live = stub.SubscribeEvents(api.SubscribeEventsRequest())
    await live.initial_metadata()
    held = await begin_write(other_replica, "held-1")
    assert held == 4
    later = stub.PublishEvents(api.PublishEventsRequest(events=batch("later", 2)), timeout=30)
    probe = await asyncpg.connect(postgres_url)
    try:
        await wait_for(lambda: waiting_for_the_log_lock(probe), message="a blocked publish")
        replay = stub.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=0))
        first_page = await replay.read()
        replay.cancel()
        assert isinstance(first_page, api.SubscribeEventsResponse)
        assert [event.sequence for event in first_page.events] == [1, 2, 3]
        assert first_page.sequence == 3  # the in-flight 4 bounds what a reader can see
    finally:
        await probe.close()
    await other_replica.execute("COMMIT")
    reply = await later
    assert [result.sequence for result in reply.results] == [5, 6]
    assert await collect(live, 6) == [4, 5, 6]
    resumed = stub.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=3))
    assert await collect(resumed, 6) == [4, 5, 6]


async def test_a_commit_without_notification_reaches_subscribers(
    core: RunningCore, stub: CoreStub, other_replica: asyncpg.Connection
) -> None:
    await publish(stub, batch("first", 2))
    live = stub.SubscribeEvents(api.SubscribeEventsRequest())
    await live.initial_metadata()
    assert await begin_write(other_replica, "silent-1") == 3
    await other_replica.execute("COMMIT")
    assert await collect(live, 3) == [3]
    assert core.broadcaster.last_sequence == 3
