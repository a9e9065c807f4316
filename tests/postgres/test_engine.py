"""The PostgreSQL engine on its own: selection by URL, migrations, start-up failures."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import asyncpg
import pytest
from commercegateway.v1 import core_service_pb2 as api

from service.errors import InvalidArgumentError
from service.settings import CoreSettings, SettingsError
from service.store.base import CommittedRecord, StoreError, StoreRules
from service.store.factory import create_store
from service.store.postgres import PostgresEventStore
from service.store.postgres_schema import SchemaTooNewError
from service.store.schema import LATEST
from tests.postgres.streams import batch
from tests.service.events import inventory
from tests.support.core import core_stub
from tests.support.postgres import ThrowawayPostgres, free_port
from tests.support.processes import cli_argv, start_process
from tests.support.schema_v1 import POSTGRES_V1

pytestmark = pytest.mark.postgres


def ignore(records: object) -> None:
    """A commit listener that drops what it gets."""


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_urls_select_the_postgres_engine(scheme: str, tmp_path: Path) -> None:
    settings = CoreSettings(data_dir=tmp_path, store=f"{scheme}://u@127.0.0.1:5432/db")
    assert isinstance(create_store(settings), PostgresEventStore)


def test_malformed_url_is_a_setting_error_that_does_not_echo_it(tmp_path: Path) -> None:
    settings = CoreSettings(data_dir=tmp_path, store="postgres://u:sekrit@host:port/db")
    with pytest.raises(SettingsError, match="COMMERCE_GATEWAY_STORE") as raised:
        create_store(settings)
    assert "sekrit" not in str(raised.value)


async def test_replicas_starting_together_apply_each_migration_once(postgres_url: str) -> None:
    stores = [PostgresEventStore(postgres_url, StoreRules()) for _ in range(4)]
    await asyncio.gather(*(store.open(ignore) for store in stores))
    try:
        conn = await asyncpg.connect(postgres_url)
        versions = [row[0] for row in await conn.fetch("SELECT version FROM schema_version")]
        held = await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        await conn.close()
        assert versions == list(range(1, LATEST + 1))
        assert held == 0
    finally:
        await asyncio.gather(*(store.close() for store in stores))


async def test_reopened_store_keeps_its_log_and_numbering(postgres_url: str) -> None:
    delivered: list[int] = []

    def listen(records: Sequence[CommittedRecord]) -> None:
        delivered.extend(record.sequence for record in records)

    first = PostgresEventStore(postgres_url, StoreRules())
    await first.open(ignore)
    await first.publish(batch("a", 3))
    await first.close()
    again = PostgresEventStore(postgres_url, StoreRules())
    await again.open(listen)
    try:
        outcomes = await again.publish([*batch("a", 1), *batch("b", 1)])
        assert [(o.stored, o.sequence) for o in outcomes] == [(False, 1), (True, 4)]
        assert delivered == [4]
        assert [event.sequence for event in await again.read_events(0, 10)] == [1, 2, 3, 4]
    finally:
        await again.close()


async def test_database_of_a_newer_program_is_refused(postgres_url: str) -> None:
    store = PostgresEventStore(postgres_url, StoreRules())
    await store.open(ignore)
    await store.close()
    conn = await asyncpg.connect(postgres_url)
    await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", LATEST + 1)
    await conn.close()
    with pytest.raises(SchemaTooNewError, match="newer than this program"):
        await PostgresEventStore(postgres_url, StoreRules()).open(ignore)


async def test_core_process_serves_from_the_store_named_by_the_flag(
    tmp_path: Path, postgres_url: str
) -> None:
    ready = tmp_path / "ready.json"
    argv = cli_argv(
        "core", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path), "--store", postgres_url,
        "--ready-file", str(ready),
    )  # fmt: skip
    with start_process(argv, ready) as core:
        async with core_stub(core.endpoint("grpc")) as stub:
            reply = await stub.PublishEvents(api.PublishEventsRequest(events=batch("p", 2)))
        assert core.terminate() == 0
    assert [result.sequence for result in reply.results] == [1, 2]
    conn = await asyncpg.connect(postgres_url)
    assert await conn.fetchval("SELECT count(*) FROM events") == 2
    await conn.close()
    assert not (tmp_path / "events.sqlite3").exists()


def test_unreachable_database_fails_at_start_without_echoing_the_url(tmp_path: Path) -> None:
    url = f"postgresql://gateway:sekrit@127.0.0.1:{free_port()}/gateway"
    result = subprocess.run(
        cli_argv("core", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path)),
        env={**os.environ, "COMMERCE_GATEWAY_STORE": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot reach the PostgreSQL store" in result.stderr
    assert "sekrit" not in result.stderr


async def test_text_with_a_nul_character_fails_only_its_own_request(postgres_url: str) -> None:
    store = PostgresEventStore(postgres_url, StoreRules())
    await store.open(ignore)
    try:
        bad = inventory("nul-1", "item\x00", "3")
        outcomes = await asyncio.gather(
            store.publish([bad]), store.publish(batch("good", 2)), return_exceptions=True
        )
        assert isinstance(outcomes[0], InvalidArgumentError)
        assert "NUL character" in str(outcomes[0])
        assert not isinstance(outcomes[1], BaseException)
        assert [outcome.sequence for outcome in outcomes[1]] == [1, 2]
    finally:
        await store.close()


async def test_missing_database_fails_to_open_with_the_servers_reason(
    postgres_server: ThrowawayPostgres,
) -> None:
    url = postgres_server.dsn_for("no_such_database").replace("postgres@", "postgres:sekrit@")
    with pytest.raises(StoreError, match='database "no_such_database" does not exist') as raised:
        await PostgresEventStore(url, StoreRules()).open(ignore)
    assert "sekrit" not in str(raised.value)


async def test_migration_two_thaws_levels_dated_in_the_future(postgres_url: str) -> None:
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        for statement in POSTGRES_V1:
            await conn.execute(statement)
        await conn.execute("INSERT INTO schema_version (version) VALUES (1)")
        now_us = int(await conn.fetchval("SELECT EXTRACT(EPOCH FROM now()) * 1000000"))
        for item, update_us in (("ahead", now_us + 3_600_000_000), ("past", now_us - 1)):
            await conn.execute(
                "INSERT INTO inventory_levels VALUES ('s', $1, 'l', '0', $2, '', '', '', 1)",
                item,
                update_us,
            )
    finally:
        await conn.close()
    store = PostgresEventStore(postgres_url, StoreRules())
    await store.open(ignore)
    await store.close()
    conn = await asyncpg.connect(postgres_url)
    try:
        rows = await conn.fetch("SELECT inventory_item_id, update_time_us FROM inventory_levels")
    finally:
        await conn.close()
    assert {row[0]: row[1] for row in rows} == {"ahead": None, "past": now_us - 1}
