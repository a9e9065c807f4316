"""Shopify signature verification: one test per rejection reason, rotation, header spellings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge import WebhookRejected, verify_webhook
from bridge.samples import sample_body
from bridge.signing import signed_headers

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SECRET = "shpss_current"
OLD_SECRET = "shpss_previous"
TOPIC = "orders/create"


def _delivery(secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = sample_body("shopify", TOPIC, now=NOW)
    headers = signed_headers("shopify", body, secret, topic=TOPIC, shop="a.myshopify.com", now=NOW)
    return body, headers


def _reason(body: bytes, headers: dict[str, str], secrets: list[str]) -> str:
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook("shopify", body, headers, secrets=secrets)
    return caught.value.reason


def test_valid_signature_is_accepted() -> None:
    body, headers = _delivery()
    verify_webhook("shopify", body, headers, secrets=[SECRET])


def test_lower_case_header_names_are_accepted() -> None:
    body, headers = _delivery()
    lowered = {name.lower(): value for name, value in headers.items()}
    verify_webhook("shopify", body, lowered, secrets=[SECRET])


def test_unprefixed_shopify_headers_are_accepted() -> None:
    body, headers = _delivery()
    events_style = {name.removeprefix("X-"): value for name, value in headers.items()}
    assert "Shopify-Hmac-Sha256" in events_style
    verify_webhook("shopify", body, events_style, secrets=[SECRET])


def test_old_and_new_secret_are_both_accepted_during_rotation() -> None:
    for secret in (SECRET, OLD_SECRET):
        body, headers = _delivery(secret)
        verify_webhook("shopify", body, headers, secrets=[SECRET, OLD_SECRET])


def test_missing_hmac_header_is_rejected() -> None:
    body, headers = _delivery()
    del headers["X-Shopify-Hmac-Sha256"]
    assert _reason(body, headers, [SECRET]) == "missing_header"


@pytest.mark.parametrize(
    "name",
    [
        "X-Shopify-Topic",
        "X-Shopify-Shop-Domain",
        "X-Shopify-API-Version",
        "X-Shopify-Webhook-Id",
    ],
)
def test_missing_required_header_is_rejected(name: str) -> None:
    body, headers = _delivery()
    del headers[name]
    assert _reason(body, headers, [SECRET]) == "missing_header"


def test_wrong_secret_is_rejected() -> None:
    body, headers = _delivery("not-the-secret")
    assert _reason(body, headers, [SECRET]) == "bad_signature"


def test_tampered_body_is_rejected() -> None:
    body, headers = _delivery()
    tampered = body.replace(b'"59.98"', b'"0.01"')
    assert tampered != body
    assert _reason(tampered, headers, [SECRET]) == "bad_signature"


@pytest.mark.parametrize("signature", ["not base64!", "c2hvcnQ=", ""])
def test_malformed_signature_is_rejected(signature: str) -> None:
    body, headers = _delivery()
    headers["X-Shopify-Hmac-Sha256"] = signature
    expected = "missing_header" if not signature else "malformed_signature"
    assert _reason(body, headers, [SECRET]) == expected


def test_no_secret_configured_is_rejected() -> None:
    body, headers = _delivery()
    assert _reason(body, headers, []) == "no_secret_configured"


def test_empty_body_is_rejected() -> None:
    _, headers = _delivery()
    assert _reason(b"", headers, [SECRET]) == "empty_body"


def test_unknown_platform_is_rejected() -> None:
    body, headers = _delivery()
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook("woocommerce", body, headers, secrets=[SECRET])
    assert caught.value.reason == "unknown_platform"


def test_rejection_never_echoes_the_signature_or_secret() -> None:
    body, headers = _delivery("not-the-secret")
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook("shopify", body, headers, secrets=[SECRET])
    text = str(caught.value)
    assert headers["X-Shopify-Hmac-Sha256"] not in text
    assert SECRET not in text
