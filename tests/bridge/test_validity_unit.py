"""The bridge maps the core's own refusals: 413 for an event too large, 422 for the rest;
terminal output of operator commands escapes control characters."""

from __future__ import annotations

import pytest
from commercegateway.v1 import events_pb2

from bridge.platforms.common import PayloadRejected
from bridge.settings import SettingsError, load_bridge_settings
from bridge.terminal import printable
from bridge.validity import check_events
from common.errors import EventTooLargeError
from tests.service.events import inventory


def test_an_event_too_large_for_the_core_maps_to_413(monkeypatch: pytest.MonkeyPatch) -> None:
    def too_large(event: events_pb2.Event, index: int = 0) -> None:
        raise EventTooLargeError(f"events[{index}]", event.id, 2_000_000, 1_048_576)

    monkeypatch.setattr("bridge.validity.validate_event", too_large)
    with pytest.raises(PayloadRejected) as rejected:
        check_events([inventory("e", "item", "1")])
    assert (rejected.value.status, rejected.value.reason) == (413, "event_too_large")


def test_any_other_core_refusal_maps_to_422() -> None:
    with pytest.raises(PayloadRejected) as rejected:
        check_events([inventory("ok", "item", "1"), inventory("bad", "item", "ten")])
    assert (rejected.value.status, rejected.value.reason) == (422, "invalid_event")
    assert "events[1].inventory_updated.available" in rejected.value.errors[0]


def test_printable_escapes_terminal_controls_and_keeps_plain_text() -> None:
    assert printable("shop_1 café ✓") == "shop_1 café ✓"
    assert printable("\x1b[2Jred\x9b31m\u202e\r") == "\\x1b[2Jred\\x9b31m\\u202e\\x0d"
    assert printable("a\nb\tc") == "a\\x0ab\\x09c"
    assert printable("a\nb\tc\x1b", multiline=True) == "a\nb\tc\\x1b"


def test_default_shop_setting_is_read_and_a_nul_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMMERCE_GATEWAY_CONFIG", raising=False)
    monkeypatch.setenv("COMMERCE_GATEWAY_BETTERDATA_DEFAULT_SHOP", "solo-shop")
    assert load_bridge_settings().verification_config().betterdata_default_shop == "solo-shop"
    with pytest.raises(SettingsError, match=r"betterdata[-_]default[-_]shop: .*NUL"):
        load_bridge_settings(betterdata_default_shop="a\x00b")
