"""Better Data (Standard Webhooks v1) verification: one test per rejection reason, rotation."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from bridge import WebhookRejected, verify_webhook
from bridge.samples import sample_body
from bridge.signing import signed_headers

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(b"better-data-key-0123456789abcdef").decode()
OTHER = "whsec_" + base64.b64encode(b"another-key-0123456789abcdefghij").decode()


def _delivery(secret: str = SECRET, signed_at: datetime = NOW) -> tuple[bytes, dict[str, str]]:
    body = sample_body("betterdata", "inventory.updated", now=signed_at)
    headers = signed_headers("betterdata", body, secret, topic="", shop="", now=signed_at)
    return body, headers


def _reason(body: bytes, headers: dict[str, str], secrets: list[str] | None = None) -> str:
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook("betterdata", body, headers, secrets=secrets or [SECRET], now=NOW)
    return caught.value.reason


def test_valid_signature_is_accepted() -> None:
    body, headers = _delivery()
    verify_webhook("betterdata", body, headers, secrets=[SECRET], now=NOW)


def test_standard_webhooks_published_example_is_accepted() -> None:
    # The example signature of the Standard Webhooks reference libraries' tests.
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    verify_webhook(
        "betterdata",
        b'{"test": 2432232314}',
        headers,
        secrets=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        now=datetime.fromtimestamp(1614265330, UTC),
    )


def test_secret_without_whsec_prefix_is_accepted() -> None:
    body, headers = _delivery()
    verify_webhook("betterdata", body, headers, secrets=[SECRET.removeprefix("whsec_")], now=NOW)


@pytest.mark.parametrize("key", [b"k" * 32, b"k" * 31, b"k" * 30], ids=["=", "==", "none"])
def test_whsec_secret_without_base64_padding_is_accepted(key: bytes) -> None:
    padded = "whsec_" + base64.b64encode(key).decode()
    body, headers = _delivery(padded)
    verify_webhook("betterdata", body, headers, secrets=[padded.rstrip("=")], now=NOW)
    assert _reason(body, headers, [padded.rstrip("=") + "x"]) == "bad_signature"


def test_unprefixed_secret_is_not_padded_it_is_raw_text() -> None:
    raw = "gatewaysecret1"  # valid base64 once padded, but without whsec_ it is the key's text
    body, headers = _delivery(raw)
    verify_webhook("betterdata", body, headers, secrets=[raw], now=NOW)
    assert _reason(body, headers, ["whsec_" + raw]) == "bad_signature"


def test_old_and_new_secret_are_both_accepted_during_rotation() -> None:
    for secret in (SECRET, OTHER):
        body, headers = _delivery(secret)
        verify_webhook("betterdata", body, headers, secrets=[OTHER, SECRET], now=NOW)


def test_one_valid_entry_among_several_signatures_is_accepted() -> None:
    body, headers = _delivery()
    _, other = _delivery(OTHER)
    valid = headers["webhook-signature"]
    headers["webhook-signature"] = f"v1a,AAAA {other['webhook-signature']} {valid}"
    verify_webhook("betterdata", body, headers, secrets=[SECRET], now=NOW)


def test_signature_of_another_version_only_is_rejected() -> None:
    body, headers = _delivery()
    headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v1a,")
    assert _reason(body, headers) == "malformed_signature"


@pytest.mark.parametrize("signature", ["garbage", "v1,not-base64!!", "v1,c2hvcnQ="])
def test_malformed_signature_is_rejected(signature: str) -> None:
    body, headers = _delivery()
    headers["webhook-signature"] = signature
    assert _reason(body, headers) == "malformed_signature"


def test_wrong_secret_is_rejected() -> None:
    body, headers = _delivery(OTHER)
    assert _reason(body, headers) == "bad_signature"


def test_tampered_body_is_rejected() -> None:
    body, headers = _delivery()
    tampered = body.replace(b'"available": 3', b'"available": 300')
    assert tampered != body
    assert _reason(tampered, headers) == "bad_signature"


def test_other_webhook_id_is_rejected() -> None:
    body, headers = _delivery()
    headers["webhook-id"] = "msg_replayed_under_another_id"
    assert _reason(body, headers) == "bad_signature"


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_rejected(name: str) -> None:
    body, headers = _delivery()
    del headers[name]
    assert _reason(body, headers) == "missing_header"


@pytest.mark.parametrize("value", ["yesterday", "-5", "1.5", "+100", "12345678901234567890"])
def test_malformed_timestamp_is_rejected(value: str) -> None:
    body, headers = _delivery()
    headers["webhook-timestamp"] = value
    assert _reason(body, headers) == "malformed_timestamp"


def test_stale_timestamp_is_rejected() -> None:
    body, headers = _delivery(signed_at=NOW - timedelta(minutes=5, seconds=1))
    assert _reason(body, headers) == "stale_timestamp"


def test_future_timestamp_is_rejected() -> None:
    body, headers = _delivery(signed_at=NOW + timedelta(minutes=5, seconds=1))
    assert _reason(body, headers) == "future_timestamp"


@pytest.mark.parametrize("offset", [timedelta(minutes=-5), timedelta(minutes=5)])
def test_timestamp_at_the_tolerance_edge_is_accepted(offset: timedelta) -> None:
    body, headers = _delivery(signed_at=NOW + offset)
    verify_webhook("betterdata", body, headers, secrets=[SECRET], now=NOW)


def test_tolerance_is_configurable() -> None:
    body, headers = _delivery(signed_at=NOW - timedelta(minutes=30))
    verify_webhook(
        "betterdata", body, headers, secrets=[SECRET], now=NOW, tolerance=timedelta(hours=1)
    )


def test_no_secret_configured_is_rejected() -> None:
    body, headers = _delivery()
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook("betterdata", body, headers, secrets=[], now=NOW)
    assert caught.value.reason == "no_secret_configured"


def test_empty_body_is_rejected() -> None:
    _, headers = _delivery()
    assert _reason(b"", headers) == "empty_body"
