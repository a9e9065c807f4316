"""Better Data (Standard Webhooks) asymmetric `v1a` signatures: ed25519, whpk_/whsk_ keys,
rotation with whsec_ secrets, mixed-version headers, malformed keys refused at start.

Vectors: the Standard Webhooks reference repository (standard-webhooks/standard-webhooks at
b2fa7b8, spec/standard-webhooks.md and libraries/*) publishes no v1a vector with its key (the
spec's example `v1a,hnO3…` header names no public key), so the keys below are RFC 8032 §7.1
TEST 1 and TEST 2 (published ed25519 vectors, checked through our key decoding), and the v1a
values are those keys' deterministic signatures of the Standard Webhooks signed content of the
spec's example message and of the reference Python library's test message (whose published v1
value, "g0hM9…", sits beside it in the mixed header).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge import WebhookRejected, verify_webhook
from bridge.platforms.betterdata import secret_key, signed_content
from bridge.platforms.common import hmac_base64
from bridge.platforms.standard_webhooks_keys import public_key, sign_base64
from bridge.samples import sample_body
from bridge.settings import SettingsError, load_bridge_settings
from bridge.signing import signed_headers
from tests.support.bridge import SECRET_ENV

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _b64(hex_text: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_text)).decode()


# RFC 8032 §7.1 TEST 1 (empty message) and TEST 2 (message 0x72).
RFC_1_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC_1_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC_1_SIGNATURE = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555f"
    "b8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
RFC_2_SEED = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"
RFC_2_PUBLIC = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
RFC_2_SIGNATURE = (
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da08"
    "5ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
)
PRIVATE = "whsk_" + _b64(RFC_1_SEED)
PUBLIC = "whpk_" + _b64(RFC_1_PUBLIC)
OTHER_PRIVATE = "whsk_" + _b64(RFC_2_SEED)
OTHER_PUBLIC = "whpk_" + _b64(RFC_2_PUBLIC)
SYMMETRIC = "whsec_" + base64.b64encode(b"better-data-key-0123456789abcdef").decode()

# The spec's example message (spec/standard-webhooks.md, "Signature scheme"), v1a by RFC TEST 1.
SPEC_ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
SPEC_TIMESTAMP = "1674087231"
SPEC_BODY = (
    b'{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z",'
    b'"data":{"id":"1f81eb52-5198-4599-803e-771906343485"}}'
)
SPEC_V1A = (
    "pbpYBMlty2hExn4zt0UTGb6BaP2Vq5AfyzjB9GGV3x/wCJKd8UjOCf8Qhaji6TKY9C5eNMnlF0GG4udaO6B7Ag=="
)
# The reference Python library's test message and its published v1 value (libraries/python
# tests and this repository's test_verify_betterdata.py), with its v1a by RFC TEST 1.
REF_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
REF_TIMESTAMP = "1614265330"
REF_BODY = b'{"test": 2432232314}'
REF_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
REF_V1 = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
REF_V1A = "fldxM4gAKugP6nnt1hdz3sgGfZ6d99nzrMFnZOELIxbzEHoVmAb2ADpkJK7zgPePmPsle0zV9jSeGlHFG2NVAw=="


def _headers(webhook_id: str, seconds: str, signature: str) -> dict[str, str]:
    return {"webhook-id": webhook_id, "webhook-timestamp": seconds, "webhook-signature": signature}


def _check(body: bytes, headers: dict[str, str], secrets: list[str], seconds: str) -> None:
    now = datetime.fromtimestamp(int(seconds), UTC)
    verify_webhook("betterdata", body, headers, secrets=secrets, now=now)


def _delivery(secret: str = PRIVATE) -> tuple[bytes, dict[str, str]]:
    body = sample_body("betterdata", "inventory.updated", now=NOW)
    return body, signed_headers("betterdata", body, secret, topic="", shop="", now=NOW)


def _reason(body: bytes, headers: dict[str, str], secrets: list[str]) -> str:
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook("betterdata", body, headers, secrets=secrets, now=NOW)
    return caught.value.reason


@pytest.mark.parametrize(
    ("seed", "public", "message", "signature"),
    [
        (RFC_1_SEED, RFC_1_PUBLIC, b"", RFC_1_SIGNATURE),
        (RFC_2_SEED, RFC_2_PUBLIC, b"\x72", RFC_2_SIGNATURE),
    ],
    ids=["rfc8032-test-1", "rfc8032-test-2"],
)
def test_whsk_and_whpk_keys_reproduce_rfc8032_vectors(
    seed: str, public: str, message: bytes, signature: str
) -> None:
    assert sign_base64("whsk_" + _b64(seed), message) == _b64(signature)
    public_key("whpk_" + _b64(public)).verify(bytes.fromhex(signature), message)
    libsodium_form = "whsk_" + _b64(seed + public)  # 64-byte seed||public
    assert sign_base64(libsodium_form, message) == _b64(signature)


def test_spec_example_message_signed_v1a_is_accepted() -> None:
    assert signed_content(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY).startswith(b"msg_2KWP")
    headers = _headers(SPEC_ID, SPEC_TIMESTAMP, "v1a," + SPEC_V1A)
    _check(SPEC_BODY, headers, [PUBLIC], SPEC_TIMESTAMP)


def test_reference_message_with_v1_and_v1a_entries_is_accepted_by_either_key() -> None:
    headers = _headers(REF_ID, REF_TIMESTAMP, f"v1,{REF_V1} v1a,{REF_V1A}")
    for secrets in ([REF_SECRET], [PUBLIC], [REF_SECRET, PUBLIC]):
        _check(REF_BODY, headers, secrets, REF_TIMESTAMP)


def test_valid_v1a_signature_is_accepted() -> None:
    body, headers = _delivery()
    assert headers["webhook-signature"].startswith("v1a,")
    verify_webhook("betterdata", body, headers, secrets=[PUBLIC], now=NOW)


def test_unpadded_whpk_key_is_accepted() -> None:
    body, headers = _delivery()
    verify_webhook("betterdata", body, headers, secrets=[PUBLIC.rstrip("=")], now=NOW)


def test_v1a_signature_by_another_key_is_bad_signature() -> None:
    body, headers = _delivery(OTHER_PRIVATE)
    assert _reason(body, headers, [PUBLIC]) == "bad_signature"


def test_v1a_signature_of_another_body_is_bad_signature() -> None:
    body, headers = _delivery()
    assert _reason(body.replace(b"{", b"{ ", 1), headers, [PUBLIC]) == "bad_signature"


def test_v1a_entry_is_not_checked_against_a_whsec_secret() -> None:
    body, headers = _delivery()
    assert _reason(body, headers, [SYMMETRIC]) == "bad_signature"


def test_v1_entry_keyed_with_the_public_key_bytes_is_not_accepted() -> None:
    # A public key is not a secret: an HMAC made with it must never pass as v1.
    body, headers = _delivery()
    content = signed_content(headers["webhook-id"], headers["webhook-timestamp"], body)
    for key in (secret_key(PUBLIC), PUBLIC.encode()):
        headers["webhook-signature"] = "v1," + hmac_base64(key, content)
        assert _reason(body, headers, [PUBLIC]) == "bad_signature"


def test_mixed_header_with_one_valid_entry_is_accepted() -> None:
    body, headers = _delivery()
    valid = headers["webhook-signature"]
    forged_v1 = "v1," + base64.b64encode(b"\x00" * 32).decode()
    forged_v1a = "v1a," + base64.b64encode(b"\x00" * 64).decode()
    for header in (f"{forged_v1} {valid}", f"{valid} {forged_v1}", f"{forged_v1a} {valid}"):
        headers["webhook-signature"] = header
        verify_webhook("betterdata", body, headers, secrets=[SYMMETRIC, PUBLIC], now=NOW)
    headers["webhook-signature"] = f"{forged_v1} {forged_v1a}"
    assert _reason(body, headers, [SYMMETRIC, PUBLIC]) == "bad_signature"


def test_rotation_list_mixing_whsec_secrets_and_whpk_keys() -> None:
    rotation = [SYMMETRIC, OTHER_PUBLIC, PUBLIC]
    for secret in (PRIVATE, OTHER_PRIVATE, SYMMETRIC):
        body, headers = _delivery(secret)
        verify_webhook("betterdata", body, headers, secrets=rotation, now=NOW)
    body, headers = _delivery(PRIVATE)
    assert _reason(body, headers, [SYMMETRIC, OTHER_PUBLIC]) == "bad_signature"


def test_whsk_key_in_the_list_verifies_as_its_public_key() -> None:
    body, headers = _delivery()
    verify_webhook("betterdata", body, headers, secrets=[PRIVATE], now=NOW)


@pytest.mark.parametrize(
    "signature",
    ["v1a,not-base64!", "v1a," + base64.b64encode(b"\x01" * 32).decode(), "v2a,AAAA"],
    ids=["not-base64", "wrong-length", "unknown-version"],
)
def test_undecodable_v1a_entry_alone_is_malformed_signature(signature: str) -> None:
    body, headers = _delivery()
    headers["webhook-signature"] = signature
    assert _reason(body, headers, [PUBLIC]) == "malformed_signature"


def test_more_than_eight_v1a_entries_is_malformed_signature() -> None:
    body, headers = _delivery()
    forged = "v1a," + base64.b64encode(b"\x00" * 64).decode()
    headers["webhook-signature"] = " ".join([forged] * 7 + [headers["webhook-signature"]])
    verify_webhook("betterdata", body, headers, secrets=[PUBLIC], now=NOW)  # 8: the bound
    headers["webhook-signature"] = forged + " " + headers["webhook-signature"]
    assert _reason(body, headers, [PUBLIC]) == "malformed_signature"


def test_v1a_timestamp_is_still_checked() -> None:
    body, headers = _delivery()
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook(
            "betterdata", body, headers, secrets=[PUBLIC], now=NOW.replace(year=NOW.year + 1)
        )
    assert caught.value.reason == "stale_timestamp"


def test_a_public_key_cannot_sign() -> None:
    with pytest.raises(ValueError, match="whpk_ public key cannot sign"):
        signed_headers("betterdata", b"{}", PUBLIC, topic="", shop="", now=NOW)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BETTERDATA_WEBHOOK_SECRET", f"{SYMMETRIC}, whpk_AAAA"),
        ("BETTERDATA_WEBHOOK_SECRET", f"{SYMMETRIC}, whpk_{'!' * 43}"),
        ("BETTERDATA_WEBHOOK_SECRET", f"{SYMMETRIC},whsk_" + _b64(RFC_1_SEED + RFC_2_PUBLIC)),
    ],
    ids=["short", "not-base64", "whsk-mismatched-halves"],
)
def test_malformed_key_is_a_settings_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    for name, empty in SECRET_ENV.items():
        monkeypatch.setenv(name, empty)
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_bridge_settings()
    message = str(raised.value)
    assert message.startswith(f"{variable}: entry 2: a ")
    assert "whpk_" in message or "whsk_" in message
    assert value.split(",")[1].strip() not in message
    assert SYMMETRIC not in message


@pytest.mark.parametrize(
    "variable", ["WEBHOOK_SECRET", "SHOPIFY_WEBHOOK_SECRET", "SQUARE_SIGNATURE_KEY"]
)
@pytest.mark.parametrize("key", [PUBLIC, PRIVATE], ids=["whpk", "whsk"])
def test_ed25519_key_outside_better_data_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, key: str
) -> None:
    # As a fallback or another platform's secret it would be an HMAC key anyone could use.
    for name, empty in SECRET_ENV.items():
        monkeypatch.setenv(name, empty)
    monkeypatch.setenv(variable, f"{SYMMETRIC},{key}")
    with pytest.raises(SettingsError) as raised:
        load_bridge_settings()
    message = str(raised.value)
    assert message.startswith(f"{variable}: entry 2: a whpk_/whsk_ key is valid only in ")
    assert key not in message


def test_ed25519_key_in_a_shop_table_is_refused_except_for_betterdata(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, empty in SECRET_ENV.items():
        monkeypatch.setenv(name, empty)
    config = tmp_path / "gateway.toml"
    monkeypatch.setenv("COMMERCE_GATEWAY_CONFIG", str(config))
    config.write_text(f'[secrets.shops."shop_1"]\nbetterdata = ["{PUBLIC}"]\n')
    assert load_bridge_settings().platform_secrets().for_shop("betterdata", "shop_1") == (PUBLIC,)
    config.write_text(f'[secrets.shops."shop_1"]\nsquare = ["{PUBLIC}"]\n')
    with pytest.raises(SettingsError, match=r"\[secrets.shops.'shop_1'\] square: entry 1: a whpk_"):
        load_bridge_settings()
    config.write_text('[secrets.shops."shop_1"]\nbetterdata = ["whpk_AAAA"]\n')
    with pytest.raises(SettingsError, match=r"\[secrets.shops.'shop_1'\] betterdata: entry 1: "):
        load_bridge_settings()


def test_well_formed_keys_are_accepted_by_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, empty in SECRET_ENV.items():
        monkeypatch.setenv(name, empty)
    monkeypatch.setenv("BETTERDATA_WEBHOOK_SECRET", f"{SYMMETRIC},{PUBLIC},{OTHER_PRIVATE}")
    secrets = load_bridge_settings().platform_secrets().for_platform("betterdata")
    assert secrets == (SYMMETRIC, PUBLIC, OTHER_PRIVATE)
