"""RefusalLog: the first refusal logged at once, the following ones counted per interval."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bridge.refusal_log import RefusalLog
from tests.support.waiting import wait_for


async def test_first_refusal_is_logged_then_the_rest_as_counts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="test.refusals")
    log = RefusalLog(logging.getLogger("test.refusals"), interval=0.05)
    loop = asyncio.get_running_loop()
    for _ in range(3):
        log.refused(loop, 408, "header_timeout")
    log.refused(loop, 431, "headers_too_large")
    assert [r.getMessage() for r in caplog.records] == ["request refused"]

    def counted() -> bool:
        return len(caplog.records) == 3

    await wait_for(counted, timeout=5, message="the counted lines")
    counts = {(r.status, r.reason): r.count for r in caplog.records[1:]}  # type: ignore[attr-defined]
    assert counts == {(408, "header_timeout"): 2, (431, "headers_too_large"): 1}
