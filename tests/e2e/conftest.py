"""Every end-to-end test runs on both store engines (see tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.conftest import Engine


@pytest.fixture(autouse=True)
def _every_engine(engine: Engine) -> Engine:
    """Requests `engine` for each test here: each runs once with SQLite, once with PostgreSQL."""
    return engine
