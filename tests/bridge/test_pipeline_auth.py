"""authenticate(): secrets (fallback, per platform, per shop), replay window, detection."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from bridge import WebhookRejected
from bridge.intake import (
    PlatformName,
    PlatformSecrets,
    VerificationConfig,
    authenticate,
    detect_platform,
)
from bridge.samples import sample_body
from bridge.signing import signed_headers

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
URL = "https://gateway.example.com/webhooks/square"
SHOP_A, SHOP_B = "a.myshopify.com", "b.myshopify.com"
SHOP_SECRET = "secret-of-shop-a"
BD_SHOP_SECRET = "whsec_" + base64.b64encode(b"secret-of-better-data-shop-a----").decode()


def _config(secrets: PlatformSecrets) -> VerificationConfig:
    return VerificationConfig(secrets=secrets, notification_url=URL)


def _signed(
    platform: PlatformName, secret: str, *, shop: str, signed_at: datetime = NOW
) -> tuple[bytes, dict[str, str]]:
    topic = {"shopify": "products/update", "square": "order.created"}.get(
        platform, "product.updated"
    )
    body = sample_body(platform, topic, now=signed_at, shop=shop)
    headers = signed_headers(
        platform, body, secret, topic=topic, shop=shop, now=signed_at, notification_url=URL
    )
    return body, headers


def _reason(
    platform: PlatformName, body: bytes, headers: dict[str, str], config: VerificationConfig
) -> str:
    with pytest.raises(WebhookRejected) as caught:
        authenticate(platform, body, headers, config, now=NOW)
    return caught.value.reason


@pytest.mark.parametrize("platform", ["shopify", "square", "betterdata"])
def test_fallback_webhook_secret_is_accepted_for_every_platform(platform: PlatformName) -> None:
    body, headers = _signed(platform, "shared-secret", shop=SHOP_A)
    authenticate(platform, body, headers, _config(PlatformSecrets(("shared-secret",))), now=NOW)


@pytest.mark.parametrize("platform", ["shopify", "square", "betterdata"])
def test_platform_secret_of_another_platform_is_rejected(platform: PlatformName) -> None:
    other: PlatformName = "square" if platform != "square" else "shopify"
    body, headers = _signed(platform, "platform-secret", shop=SHOP_A)
    config = _config(PlatformSecrets(by_platform={other: ("platform-secret",)}))
    assert _reason(platform, body, headers, config) == "no_secret_configured"


@pytest.mark.parametrize("platform", ["shopify", "square", "betterdata"])
def test_platform_secret_and_fallback_are_both_accepted(platform: PlatformName) -> None:
    config = _config(PlatformSecrets(("fallback",), by_platform={platform: ("own",)}))
    for secret in ("own", "fallback"):
        body, headers = _signed(platform, secret, shop=SHOP_A)
        authenticate(platform, body, headers, config, now=NOW)


@pytest.mark.parametrize(
    ("platform", "secret"),
    [("shopify", SHOP_SECRET), ("square", SHOP_SECRET), ("betterdata", BD_SHOP_SECRET)],
)
def test_per_shop_secret_is_accepted_for_its_shop_only(platform: PlatformName, secret: str) -> None:
    config = _config(PlatformSecrets(("fallback",), by_shop={SHOP_A: {platform: (secret,)}}))
    body, headers = _signed(platform, secret, shop=SHOP_A)
    authenticate(platform, body, headers, config, now=NOW)
    body, headers = _signed(platform, secret, shop=SHOP_B)
    assert _reason(platform, body, headers, config) == "bad_signature"


def test_per_shop_secret_alone_is_enough_for_square() -> None:
    config = _config(PlatformSecrets(by_shop={SHOP_A: {"square": (SHOP_SECRET,)}}))
    body, headers = _signed("square", SHOP_SECRET, shop=SHOP_A)
    authenticate("square", body, headers, config, now=NOW)


def test_shopify_shop_header_cannot_borrow_another_shops_secret() -> None:
    config = _config(PlatformSecrets(by_shop={SHOP_A: {"shopify": (SHOP_SECRET,)}}))
    body, headers = _signed("shopify", SHOP_SECRET, shop=SHOP_A)
    headers["X-Shopify-Shop-Domain"] = SHOP_B
    assert _reason("shopify", body, headers, config) == "no_secret_configured"


@pytest.mark.parametrize("platform", ["shopify", "square", "betterdata"])
def test_no_secret_at_all_is_rejected(platform: PlatformName) -> None:
    body, headers = _signed(platform, "anything", shop=SHOP_A)
    assert _reason(platform, body, headers, _config(PlatformSecrets())) == "no_secret_configured"


@pytest.mark.parametrize("platform", ["shopify", "square"])
def test_event_older_than_the_replay_window_is_rejected(platform: PlatformName) -> None:
    body, headers = _signed(platform, "s", shop=SHOP_A, signed_at=NOW - timedelta(hours=73))
    assert _reason(platform, body, headers, _config(PlatformSecrets(("s",)))) == "stale_event"


@pytest.mark.parametrize("platform", ["shopify", "square"])
def test_retry_within_the_replay_window_is_accepted(platform: PlatformName) -> None:
    body, headers = _signed(platform, "s", shop=SHOP_A, signed_at=NOW - timedelta(hours=71))
    authenticate(platform, body, headers, _config(PlatformSecrets(("s",))), now=NOW)


def test_replay_window_is_configurable() -> None:
    body, headers = _signed("shopify", "s", shop=SHOP_A, signed_at=NOW - timedelta(hours=2))
    config = VerificationConfig(PlatformSecrets(("s",)), replay_window=timedelta(hours=1))
    assert _reason("shopify", body, headers, config) == "stale_event"


def test_malformed_triggered_at_is_rejected() -> None:
    body, headers = _signed("shopify", "s", shop=SHOP_A)
    headers["X-Shopify-Triggered-At"] = "last tuesday"
    assert _reason("shopify", body, headers, _config(PlatformSecrets(("s",)))) == (
        "malformed_timestamp"
    )


def test_stale_standard_webhooks_timestamp_is_rejected() -> None:
    body, headers = _signed("betterdata", "s", shop=SHOP_A, signed_at=NOW - timedelta(minutes=6))
    assert _reason("betterdata", body, headers, _config(PlatformSecrets(("s",)))) == (
        "stale_timestamp"
    )


def test_unknown_platform_is_rejected() -> None:
    body, headers = _signed("shopify", "s", shop=SHOP_A)
    config = _config(PlatformSecrets(("s",)))
    assert _reason("woo", body, headers, config) == "unknown_platform"


@pytest.mark.parametrize("platform", ["shopify", "square", "betterdata"])
def test_platform_is_detected_from_its_signature_header(platform: PlatformName) -> None:
    _, headers = _signed(platform, "s", shop=SHOP_A)
    assert detect_platform(headers) == platform
    assert detect_platform({k.upper(): v for k, v in headers.items()}) == platform


def test_unprefixed_shopify_signature_header_is_detected() -> None:
    assert detect_platform({"shopify-hmac-sha256": "x"}) == "shopify"


def test_no_signature_header_detects_nothing() -> None:
    assert detect_platform({"content-type": "application/json"}) is None
