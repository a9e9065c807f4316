"""PostgreSQL fixtures: one throwaway server per test session, a fresh database per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.postgres.server import ForkSafePostgres
from tests.support.postgres import ThrowawayPostgres

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL server started for the test session, removed at its end."""
    server = ForkSafePostgres()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def postgres_url(postgres_server: ThrowawayPostgres) -> str:
    """The URL of a new empty database on the session's server."""
    return postgres_server.create_database(f"test_{next(_numbers)}")
