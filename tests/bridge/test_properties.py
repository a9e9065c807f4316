"""Property tests: no input makes verification or parsing raise anything but our errors, and
every signed sample round-trips through authentication and parsing."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge import WebhookRejected, verify_webhook
from bridge.intake import (
    HANDLED_TOPICS,
    PayloadRejected,
    PlatformName,
    PlatformSecrets,
    VerificationConfig,
    authenticate,
    parse_delivery,
)
from bridge.samples import sample_body
from bridge.signing import signed_headers

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
URL = "https://gateway.example.com/webhooks/square"
PLATFORMS: list[PlatformName] = ["shopify", "square", "betterdata"]
HEADER_NAMES = [
    "X-Shopify-Hmac-Sha256", "shopify-hmac-sha256", "X-Shopify-Topic", "shopify-topic",
    "X-Shopify-Shop-Domain", "X-Shopify-API-Version", "X-Shopify-Webhook-Id",
    "X-Shopify-Triggered-At", "x-square-hmacsha256-signature", "X-Square-Signature",
    "square-initial-delivery-timestamp", "webhook-id", "webhook-timestamp", "webhook-signature",
]  # fmt: skip
HEADER_VALUES = st.one_of(
    st.text(),
    st.sampled_from(
        ["", "v1,", "v1,AAAA", "v1a,AAAA v1,=", "1767323045", "-1", "9" * 40,
         "2026-01-02T03:04:05Z", "0000-00-00T00:00:00Z", "9999-12-31T23:59:59-14:00",
         "orders/create", "PRODUCTS_DELETE", "a.myshopify.com", "c2hvcnQ=",
         "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]
    ),
)  # fmt: skip
HEADERS = st.dictionaries(st.one_of(st.sampled_from(HEADER_NAMES), st.text()), HEADER_VALUES)
SECRETS = st.lists(st.text(max_size=40), max_size=3)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.sampled_from(["10", "2.5", "-1", "2026-01-02T03:04:05Z", "1e400", "USD", "IN_STOCK"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=12), children, max_size=3),
    max_leaves=8,
)  # fmt: skip
TOPICS = [(platform, topic) for platform, topics in HANDLED_TOPICS.items() for topic in topics]


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [path] + [p for k, v in value.items() for p in _leaf_paths(v, (*path, k))]
    if isinstance(value, list):
        return [path] + [p for i, v in enumerate(value) for p in _leaf_paths(v, (*path, i))]
    return [path]


@st.composite
def mutated_samples(draw: st.DrawFn) -> tuple[PlatformName, str, bytes]:
    """A handled-topic sample body with one value anywhere replaced by arbitrary JSON."""
    platform, topic = draw(st.sampled_from(TOPICS))
    document = json.loads(sample_body(platform, topic, now=NOW))
    path = draw(st.sampled_from(_leaf_paths(document)))
    replacement = draw(JSON_VALUES)
    if not path:
        return platform, topic, json.dumps(replacement).encode()
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = replacement
    return platform, topic, json.dumps(document).encode()


def _config(secrets: list[str]) -> VerificationConfig:
    by_shop: dict[str, Mapping[PlatformName, tuple[str, ...]]] = {
        "a.myshopify.com": {"shopify": ("shop",)},
        "6SSW7HV8K2ST5": {"square": ("shop",)},
    }
    return VerificationConfig(
        PlatformSecrets(tuple(secrets), by_shop=by_shop), notification_url=URL
    )


@PROPERTY
@given(
    platform=st.sampled_from([*PLATFORMS, "", "other"]),
    body=st.binary(max_size=300),
    headers=HEADERS,
    secrets=SECRETS,
    legacy=st.booleans(),
)
def test_verify_webhook_raises_only_webhook_rejected(
    platform: str, body: bytes, headers: dict[str, str], secrets: list[str], legacy: bool
) -> None:
    try:
        verify_webhook(
            platform, body, headers, secrets=secrets, now=NOW, notification_url=URL,
            legacy_sha1=legacy,
        )  # fmt: skip
    except WebhookRejected as rejected:
        assert rejected.reason


@PROPERTY
@given(platform=st.sampled_from(PLATFORMS), body=st.binary(max_size=300), headers=HEADERS,
       secrets=SECRETS)  # fmt: skip
def test_authenticate_raises_only_webhook_rejected(
    platform: PlatformName, body: bytes, headers: dict[str, str], secrets: list[str]
) -> None:
    with contextlib.suppress(WebhookRejected):
        authenticate(platform, body, headers, _config(secrets), now=NOW)


@PROPERTY
@given(
    sample=mutated_samples(),
    raw=st.one_of(st.none(), st.binary(max_size=200)),
    headers=HEADERS,
    topic_header=st.booleans(),
)
def test_parse_delivery_raises_only_our_errors(
    sample: tuple[PlatformName, str, bytes],
    raw: bytes | None,
    headers: dict[str, str],
    topic_header: bool,
) -> None:
    platform, topic, body = sample
    if topic_header:
        headers = {**headers, "X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": "w",
                   "X-Shopify-Shop-Domain": "s", "webhook-id": "m"}  # fmt: skip
    with contextlib.suppress(PayloadRejected, WebhookRejected):
        parse_delivery(platform, raw if raw is not None else body, headers, _config([]),
                       received_at=NOW)  # fmt: skip


@PROPERTY
@given(
    topic=st.sampled_from(TOPICS),
    secret=st.text(min_size=1, max_size=40),
    now=st.datetimes(datetime(2001, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
    shop=st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}\.myshopify\.com", fullmatch=True),
    delivery_id=st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True)),
)
def test_signed_headers_round_trip_through_authenticate(
    topic: tuple[PlatformName, str],
    secret: str,
    now: datetime,
    shop: str,
    delivery_id: str | None,
) -> None:
    platform, name = topic
    named = shop if platform == "shopify" else None  # Shopify's privacy bodies name the shop
    body = sample_body(platform, name, now=now - timedelta(seconds=1), shop=named)
    headers = signed_headers(
        platform, body, secret, topic=name, shop=shop, delivery_id=delivery_id, now=now,
        notification_url=URL,
    )  # fmt: skip
    config = VerificationConfig(
        PlatformSecrets(by_platform={platform: ("other", secret)}), notification_url=URL
    )
    authenticate(platform, body, headers, config, now=now + timedelta(seconds=2))
    delivery = parse_delivery(platform, body, headers, config, received_at=now)
    assert delivery.handled and delivery.topic == name
    if delivery_id is not None and platform != "square":
        assert delivery.delivery_id == delivery_id
