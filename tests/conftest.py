"""Shared fixtures: an in-process core, a stub connected to it, and the store engines.

The core and end-to-end suites run against both engines: every test under tests/service or
tests/e2e that starts a core runs once with SQLite and once with a fresh database on the
session's throwaway PostgreSQL server (selected through COMMERCE_GATEWAY_STORE, which
in-process cores and core processes alike read).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from service.server import RunningCore
from tests.support.core import CoreStub, core_stub, running_core
from tests.support.postgres import ThrowawayPostgres

TESTS = Path(__file__).parent
STORE_ENV = "COMMERCE_GATEWAY_STORE"
ENGINE_SUITES = frozenset({"service", "e2e"})
# A test starts a core when it uses one of these fixtures or its module one of these names.
CORE_FIXTURES = frozenset({"core_server", "stub"})
CORE_STARTERS = frozenset(
    {"running_core", "start_core", "core_settings", "start_core_process", "start_process"}
)
# Tests about the SQLite file itself rather than the store's behaviour.
SQLITE_ONLY = frozenset({"test_unusable_data_dir_fails_with_one_line"})
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
_databases = itertools.count(1)


def starts_a_core(metafunc: pytest.Metafunc) -> bool:
    """True for a core or end-to-end test that starts a core (in-process or a process)."""
    parts = metafunc.definition.path.relative_to(TESTS).parts
    if len(parts) < 2 or parts[0] not in ENGINE_SUITES:
        return False
    if metafunc.definition.originalname in SQLITE_ONLY:
        return False
    if CORE_FIXTURES & set(metafunc.fixturenames):
        return True
    return bool(CORE_STARTERS & set(vars(metafunc.module)))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Runs each test that starts a core once per store engine."""
    if "store_url" in metafunc.fixturenames and starts_a_core(metafunc):
        metafunc.parametrize("store_url", ENGINES, indirect=True)


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
def store_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The store of the cores this test starts: "" (SQLite in their data dir) unless the test
    is parametrised with "postgres", which gives it a fresh PostgreSQL database."""
    if getattr(request, "param", "sqlite") != "postgres":
        monkeypatch.delenv(STORE_ENV, raising=False)
        return ""
    url: str = request.getfixturevalue("postgres_url")
    monkeypatch.setenv(STORE_ENV, url)
    return url


@pytest.fixture
async def core_server(tmp_path: Path) -> AsyncIterator[RunningCore]:
    """A core with default settings (no tokens) on 127.0.0.1:0, a fresh data dir and the
    test's store engine."""
    async with running_core(tmp_path / "core") as core:
        yield core


@pytest.fixture
async def stub(core_server: RunningCore) -> AsyncIterator[CoreStub]:
    """A CoreService stub connected to `core_server`."""
    async with core_stub(core_server.address) as connected:
        yield connected
