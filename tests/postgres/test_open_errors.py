"""PostgreSQL errors at start name the server's host and port, never the password."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from service.store.base import StoreError, StoreRules
from service.store.postgres import PostgresEventStore, server_address
from tests.support.postgres import ThrowawayPostgres, free_port
from tests.support.processes import cli_argv


def _ignore(_records: object) -> None:
    """A commit listener that drops everything."""


async def test_unreachable_server_is_named_by_host_and_port() -> None:
    port = free_port()
    store = PostgresEventStore(
        f"postgres://gateway:s3cret-pw@127.0.0.1:{port}/events", StoreRules()
    )
    with pytest.raises(StoreError) as refused:
        await store.open(_ignore)
    message = str(refused.value)
    assert f"127.0.0.1:{port}" in message
    assert "s3cret-pw" not in message and "gateway" not in message


async def test_wrong_password_names_the_server_not_the_password(
    postgres_server: ThrowawayPostgres,
) -> None:
    url = postgres_server.create_database("open_errors")
    server_and_database = url.partition("://")[2].rpartition("@")[2]
    wrong = f"postgres://nobody:wr0ng-pw@{server_and_database}"
    with pytest.raises(StoreError) as refused:
        await PostgresEventStore(wrong, StoreRules()).open(_ignore)
    message = str(refused.value)
    assert server_address(wrong) in message
    assert "wr0ng-pw" not in message


def test_core_process_says_where_it_could_not_connect(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgresql://gateway:s3cret-pw@localhost:{port}/events"
    argv = cli_argv("core", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path), "--store", url)
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert f"localhost:{port}" in result.stderr
    assert "s3cret-pw" not in result.stderr


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("postgres://u:p@db.example:6543/x", "db.example:6543"),
        ("postgres://u:p@db.example/x", "db.example:5432"),
        ("postgresql://u:p@[::1]:5433/x", "[::1]:5433"),
        ("postgres:///x?host=/run/postgresql&port=5999", "/run/postgresql:5999"),
        ("postgres://u:p@h1:5432,h2:5433/x", "h1:5432,h2:5433"),
    ],
)
def test_server_address_keeps_only_host_and_port(url: str, address: str) -> None:
    assert server_address(url) == address
