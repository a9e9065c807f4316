"""Shared fixtures: the store engine, an in-process core and a stub connected to it.

Tests say what they parametrise. A test that requests `engine` runs once per store engine:
SQLite, and a fresh database on the session's throwaway PostgreSQL server (marked `postgres`).
It requests it directly, through `core_server`/`stub`/`store_url`, or for a whole module with
`pytestmark = pytest.mark.usefixtures("engine")`; every test under tests/e2e does (see
tests/e2e/conftest.py). The engine reaches the cores the test starts, in-process or as processes,
through COMMERCE_GATEWAY_STORE, which every other test runs without.

A pure unit test (no core, bridge, database or other process) carries the `unit` marker
(`pytest -m unit` runs only those, in seconds) and is never parametrised over engines.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from service.server import RunningCore
from tests.support.core import CoreStub, core_stub, running_core
from tests.support.postgres import ThrowawayPostgres

TESTS = Path(__file__).parent
STORE_ENV = "COMMERCE_GATEWAY_STORE"
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# Fixtures that start a core or a database: a `unit` test may not use them.
PROCESS_FIXTURES = frozenset(
    {"core_server", "stub", "store_url", "postgres_url", "postgres_server", "core", "client"}
)
_databases = itertools.count(1)


@dataclass(frozen=True)
class Engine:
    """The store engine a test's cores use: its name and COMMERCE_GATEWAY_STORE ("" for SQLite
    in the core's data dir)."""

    name: str
    url: str


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Runs each test that requests `engine` once per store engine, unless it is a unit test."""
    if "engine" in metafunc.fixturenames and not metafunc.definition.get_closest_marker("unit"):
        metafunc.parametrize("engine", ENGINES, indirect=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fails the run when a `unit` test uses a fixture that starts a core or a database."""
    for item in items:
        used = PROCESS_FIXTURES & set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("unit") and used:
            raise pytest.UsageError(f"{item.nodeid} is marked unit but uses {sorted(used)}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL server started for the test session (on first use), removed at its end."""
    server = ThrowawayPostgres()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def postgres_url(postgres_server: ThrowawayPostgres) -> str:
    """The URL of a new empty database on the session's server."""
    return postgres_server.create_database(f"test_{next(_databases)}")


@pytest.fixture(autouse=True)
def _no_inherited_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test inherits COMMERCE_GATEWAY_STORE from the environment: cores use SQLite unless
    the test requests `engine`."""
    monkeypatch.delenv(STORE_ENV, raising=False)


@pytest.fixture
def engine(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, _no_inherited_store: None
) -> Engine:
    """The store engine of the cores this test starts ("sqlite" or "postgres", parametrised);
    a PostgreSQL test gets a fresh database, set as COMMERCE_GATEWAY_STORE."""
    name: str = getattr(request, "param", "sqlite")
    if name != "postgres":
        return Engine(name, "")
    url: str = request.getfixturevalue("postgres_url")
    monkeypatch.setenv(STORE_ENV, url)
    return Engine(name, url)


@pytest.fixture
def store_url(engine: Engine) -> str:
    """The test's engine as COMMERCE_GATEWAY_STORE ("" for SQLite)."""
    return engine.url


@pytest.fixture
async def core_server(tmp_path: Path, engine: Engine) -> AsyncIterator[RunningCore]:
    """A core with default settings (no tokens) on 127.0.0.1:0, a fresh data dir and the
    test's store engine."""
    async with running_core(tmp_path / "core") as core:
        yield core


@pytest.fixture
async def stub(core_server: RunningCore) -> AsyncIterator[CoreStub]:
    """A CoreService stub connected to `core_server`."""
    async with core_stub(core_server.address) as connected:
        yield connected
