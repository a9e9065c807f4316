"""Square signature verification: URL + body HMAC, legacy SHA-1, one test per rejection reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge import WebhookRejected, verify_webhook
from bridge.samples import sample_body
from bridge.signing import signed_headers

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
URL = "https://gateway.example.com/webhooks/square"
KEY = "square-signature-key"


def _delivery(key: str = KEY, url: str = URL) -> tuple[bytes, dict[str, str]]:
    body = sample_body("square", "inventory.count.updated", now=NOW)
    headers = signed_headers("square", body, key, topic="", shop="", now=NOW, notification_url=url)
    return body, headers


def _reason(
    body: bytes, headers: dict[str, str], *, url: str | None = URL, legacy: bool = False
) -> str:
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook(
            "square", body, headers, secrets=[KEY], notification_url=url, legacy_sha1=legacy
        )
    return caught.value.reason


def test_valid_signature_is_accepted() -> None:
    body, headers = _delivery()
    verify_webhook("square", body, headers, secrets=[KEY], notification_url=URL)


def test_square_sdk_published_example_is_accepted() -> None:
    # The example of square/square-python-sdk's webhooks helper tests, signed by Square.
    body = (
        b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification",'
        b'"event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f",'
        b'"created_at":"2022-07-13T20:30:59.037339943Z",'
        b'"data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
    )
    headers = {"x-square-hmacsha256-signature": "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="}
    url = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
    verify_webhook(
        "square", body, headers, secrets=["Ibxx_5AKakO-3qeNVR61Dw"], notification_url=url
    )


def test_old_and_new_key_are_both_accepted_during_rotation() -> None:
    for key in ("old-key", "new-key"):
        body, headers = _delivery(key)
        verify_webhook(
            "square", body, headers, secrets=["new-key", "old-key"], notification_url=URL
        )


@pytest.mark.parametrize(
    "signed_url",
    [
        "https://gateway.example.com/webhooks/square/",
        "http://gateway.example.com/webhooks/square",
        "https://internal:8080/webhooks/square",
    ],
)
def test_wrong_square_url_is_rejected(signed_url: str) -> None:
    body, headers = _delivery(url=signed_url)
    assert _reason(body, headers) == "bad_signature"


def test_wrong_key_is_rejected() -> None:
    body, headers = _delivery("another-key")
    assert _reason(body, headers) == "bad_signature"


def test_tampered_body_is_rejected() -> None:
    body, headers = _delivery()
    tampered = body.replace(b'"0"', b'"99"')
    assert tampered != body
    assert _reason(tampered, headers) == "bad_signature"


def test_missing_signature_header_is_rejected() -> None:
    body, headers = _delivery()
    del headers["x-square-hmacsha256-signature"]
    assert _reason(body, headers) == "missing_header"


def test_legacy_sha1_header_alone_is_rejected_when_not_enabled() -> None:
    body, headers = _delivery()
    del headers["x-square-hmacsha256-signature"]
    assert "x-square-signature" in headers
    assert _reason(body, headers, legacy=False) == "missing_header"


def test_legacy_sha1_header_is_accepted_when_enabled() -> None:
    body, headers = _delivery()
    del headers["x-square-hmacsha256-signature"]
    verify_webhook("square", body, headers, secrets=[KEY], notification_url=URL, legacy_sha1=True)


def test_wrong_legacy_sha1_signature_is_rejected_when_enabled() -> None:
    body, headers = _delivery("another-key")
    del headers["x-square-hmacsha256-signature"]
    assert _reason(body, headers, legacy=True) == "bad_signature"


@pytest.mark.parametrize("signature", ["%%%%", "c2hvcnQ="])
def test_malformed_signature_is_rejected(signature: str) -> None:
    body, headers = _delivery()
    headers["x-square-hmacsha256-signature"] = signature
    assert _reason(body, headers) == "malformed_signature"


@pytest.mark.parametrize("url", [None, ""])
def test_missing_notification_url_is_rejected(url: str | None) -> None:
    body, headers = _delivery()
    assert _reason(body, headers, url=url) == "no_notification_url"


def test_no_key_configured_is_rejected() -> None:
    body, headers = _delivery()
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook("square", body, headers, secrets=[""], notification_url=URL)
    assert caught.value.reason == "no_secret_configured"


def test_empty_body_is_rejected() -> None:
    _, headers = _delivery()
    assert _reason(b"", headers) == "empty_body"
