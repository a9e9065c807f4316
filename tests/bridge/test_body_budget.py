"""BodyBudget (the cap on request body bytes held across connections) and its setting."""

from __future__ import annotations

import pytest

from bridge.body_budget import BodyBudget
from bridge.problems import ProblemError
from bridge.settings import SettingsError, load_bridge_settings


def test_body_budget_counts_bytes_read_across_holds_and_releases_them() -> None:
    budget = BodyBudget(100)
    with budget.hold() as first:
        first.take(50)
        first.take(20)
        assert budget.held == 70
        with budget.hold() as second:
            second.take(30)
            with pytest.raises(ProblemError) as refused:
                second.take(1)
            assert refused.value.status == 503
            assert refused.value.kind == "overloaded"
            assert budget.held == 100
        assert budget.held == 70
    assert budget.held == 0


def test_buffered_body_cap_below_one_body_fails_at_start() -> None:
    with pytest.raises(SettingsError, match="max_buffered_body_bytes"):
        load_bridge_settings(max_body_bytes=2048, max_buffered_body_bytes=1024)
