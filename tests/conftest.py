"""Shared fixtures: an in-process core and a stub connected to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from service.server import RunningCore
from tests.support.core import CoreStub, core_stub, running_core


@pytest.fixture
async def core_server(tmp_path: Path) -> AsyncIterator[RunningCore]:
    """A core with default settings (no tokens) on 127.0.0.1:0 and a fresh data dir."""
    async with running_core(tmp_path / "core") as core:
        yield core


@pytest.fixture
async def stub(core_server: RunningCore) -> AsyncIterator[CoreStub]:
    """A CoreService stub connected to `core_server`."""
    async with core_stub(core_server.address) as connected:
        yield connected
