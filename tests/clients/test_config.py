"""Client configuration: backoff bounds, TLS settings and targets are checked up front."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from commercegateway import BackoffPolicy, CoreClient, TlsConfig
from commercegateway.errors import parse_oldest_sequence

pytestmark = pytest.mark.unit  # pure: no core, bridge, database or other process


def test_backoff_grows_with_jitter_and_stays_capped() -> None:
    policy = BackoffPolicy(initial=0.1, maximum=1.0, multiplier=2.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (500, 1.0)]:
        delays = {policy.delay(attempt, rng) for _ in range(20)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(delays) > 1  # jittered, not a fixed schedule


def test_backoff_with_bad_bounds_raises_value_error() -> None:
    with pytest.raises(ValueError, match="initial <= maximum"):
        BackoffPolicy(initial=2.0, maximum=1.0)


def test_unreadable_root_certificates_raise_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read TLS root certificates"):
        TlsConfig(tmp_path / "missing.pem").credentials()


async def test_target_without_port_raises_value_error() -> None:
    with pytest.raises(ValueError, match="host:port"):
        CoreClient("localhost")


def test_oldest_sequence_is_read_from_the_out_of_range_message() -> None:
    message = "after_sequence 3 is older than the retained log; the oldest available sequence is 10"
    assert parse_oldest_sequence(message) == 10
    assert parse_oldest_sequence("cursor expired, first kept 12") == 12
    assert parse_oldest_sequence("cursor expired") is None
