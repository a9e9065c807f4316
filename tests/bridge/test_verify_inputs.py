"""verify_webhook() on inputs of the wrong kind: still only WebhookRejected."""

from __future__ import annotations

from typing import Any

import pytest

from bridge import WebhookRejected, verify_webhook
from bridge.verify import REJECT_REASONS


@pytest.mark.parametrize(
    ("body", "headers"),
    [("text body", {}), (None, {}), (b"{}", None), (b"{}", [("a", "b")])],
)
def test_body_or_headers_of_the_wrong_type_are_rejected(body: Any, headers: Any) -> None:
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook("shopify", body, headers, secrets=["s"])
    assert caught.value.reason == "invalid_input"


def test_a_single_string_as_secrets_is_rejected() -> None:
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook("shopify", b"{}", {}, secrets="s")
    assert caught.value.reason == "invalid_input"


def test_bytes_header_names_and_values_are_read() -> None:
    headers: Any = {b"X-Shopify-Hmac-Sha256": b"!!"}
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook("shopify", b"{}", headers, secrets=["s"])
    assert caught.value.reason == "missing_header"  # found the hmac, then needs the topic
    assert "x-shopify-topic" in str(caught.value)


def test_reason_set_is_closed_and_documented() -> None:
    assert sorted(REJECT_REASONS) == sorted([
        "unknown_platform", "invalid_input", "no_secret_configured", "no_notification_url",
        "missing_header", "empty_body", "malformed_signature", "bad_signature",
        "malformed_timestamp", "stale_timestamp", "future_timestamp", "stale_event",
    ])  # fmt: skip
