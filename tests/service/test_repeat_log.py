"""RepeatedFailureLog: a run of failures is one traceback, then one line per interval with a
count, then one line when it ends."""

from __future__ import annotations

import logging

import pytest

from common.repeat_log import RepeatedFailureLog


def test_a_run_of_failures_is_logged_once_then_counted(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    log = RepeatedFailureLog(
        logging.getLogger("test.repeat"), "store commit failed", 10.0, lambda: now[0]
    )
    caplog.set_level(logging.INFO, "test.repeat")
    for _ in range(500):  # 500 failures within the interval
        log.failed(OSError("disk full"))
        now[0] += 0.01
    assert len(caplog.records) == 1
    assert caplog.records[0].exc_info is not None
    now[0] = 10.5
    log.failed(OSError("disk full"))  # the interval passed: one line with the count
    assert len(caplog.records) == 2
    assert caplog.records[1].getMessage() == "store commit failed (500 more since the last line)"
    assert caplog.records[1].exc_info is None
    log.failed(OSError("disk full"))
    log.succeeded()
    assert len(caplog.records) == 3
    assert caplog.records[2].getMessage() == "store commit failed: recovered after 502 failures"
    log.succeeded()  # nothing failing: nothing logged
    log.failed(OSError("disk full"))  # a new run starts with a full line again
    assert len(caplog.records) == 4
    assert caplog.records[3].exc_info is not None
