"""Fixtures of the client tests: a real in-process core and a client with a fast backoff."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from commercegateway import BackoffPolicy, CoreClient

from tests.support.core import RunningCore, running_core

FAST = BackoffPolicy(initial=0.02, maximum=0.2)


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[RunningCore]:
    """A core on 127.0.0.1:0 with its own data dir, open (no tokens)."""
    async with running_core(tmp_path / "core") as running:
        yield running


@pytest.fixture
async def client(core: RunningCore) -> AsyncIterator[CoreClient]:
    """A CoreClient of `core` that reconnects quickly."""
    async with CoreClient(core.address, backoff=FAST) as connected:
        yield connected
