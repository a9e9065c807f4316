"""From raw delivery to canonical events: secret resolution, authentication, replay, parsing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from commercegateway.v1 import events_pb2

from bridge.platforms import betterdata, shopify, square
from bridge.platforms.common import (
    PayloadRejected,
    PlatformName,
    WebhookRejected,
    as_utc,
    check_input,
    header,
    header_time,
    known_platform,
    normalize_headers,
)
from bridge.platforms.delivery import Translation, mark_future_dated
from bridge.validity import check_events, with_default_shop
from bridge.verify import verify_webhook

__all__ = [
    "HANDLED_TOPICS",
    "ParsedDelivery",
    "PayloadRejected",
    "PlatformName",
    "PlatformSecrets",
    "VerificationConfig",
    "authenticate",
    "detect_platform",
    "parse_delivery",
]

HANDLED_TOPICS: Mapping[PlatformName, tuple[str, ...]] = {
    "shopify": shopify.HANDLED_TOPICS,
    "square": square.HANDLED_TOPICS,
    "betterdata": betterdata.HANDLED_TOPICS,
}
"""The topics (event types) each platform's deliveries are translated for; others are ignored."""

DEFAULT_BETTERDATA_SHOP = "default"
"""The shop of a Better Data body without shop_id (COMMERCE_GATEWAY_BETTERDATA_DEFAULT_SHOP)."""

# Headers carrying the platform's original event time, kept across retries.
_EVENT_TIME_HEADERS: dict[PlatformName, tuple[str, ...]] = {
    "shopify": shopify.TRIGGERED_AT_HEADER,
    "square": (square.INITIAL_DELIVERY_HEADER,),
}
_PARSERS: dict[PlatformName, Callable[[bytes, Mapping[Any, Any], datetime], Translation]] = {
    "shopify": shopify.parse,
    "square": square.parse,
    "betterdata": betterdata.parse,
}
# Platforms whose shop is named inside the signed body: (platform, body) -> shop.
_BODY_SHOP: dict[PlatformName, Callable[[bytes], str | None]] = {
    "square": square.shop_of,
    "betterdata": betterdata.shop_of,
}


@dataclass(frozen=True)
class PlatformSecrets:
    """Every configured secret: the fallback for all platforms, per platform and per shop.

    A per-shop secret is accepted only for deliveries of that shop: Shopify's shop is the
    X-Shopify-Shop-Domain header, Square's the body's merchant_id, Better Data's the body's
    shop_id.
    """

    fallback: tuple[str, ...] = ()
    by_platform: Mapping[PlatformName, tuple[str, ...]] = field(default_factory=dict)
    by_shop: Mapping[str, Mapping[PlatformName, tuple[str, ...]]] = field(default_factory=dict)

    def for_platform(self, platform: PlatformName) -> tuple[str, ...]:
        """The secrets valid for any shop of `platform`: its own, then the fallback."""
        return tuple(self.by_platform.get(platform, ())) + tuple(self.fallback)

    def for_shop(self, platform: PlatformName, shop: str) -> tuple[str, ...]:
        """The secrets valid only for `shop` of `platform`."""
        return tuple(self.by_shop.get(shop, {}).get(platform, ()))

    def shops(self, platform: PlatformName) -> list[str]:
        """The shops that have their own secrets for `platform`."""
        return [shop for shop, by in self.by_shop.items() if by.get(platform)]


@dataclass(frozen=True)
class VerificationConfig:
    """How deliveries are authenticated; defaults are the documented ones.

    `betterdata_default_shop` is the shop of Better Data bodies without `shop_id` (a
    single-shop sender); empty refuses them (422 "invalid_event", the core needs a shop).
    """

    secrets: PlatformSecrets
    square_notification_url: str | None = None
    square_legacy_sha1: bool = False
    replay_window: timedelta = timedelta(hours=72)
    timestamp_tolerance: timedelta = timedelta(minutes=5)
    betterdata_default_shop: str = DEFAULT_BETTERDATA_SHOP


@dataclass(frozen=True)
class ParsedDelivery:
    """An authentic delivery read into canonical events.

    `handled` is False for a topic the bridge does not translate (answer 200 "ignored");
    `events` is then empty. It may also be empty for a handled topic whose payload reports
    nothing available (a Shopify level of an untracked item, Square counts not IN_STOCK).
    """

    platform: PlatformName
    topic: str
    delivery_id: str
    shop: str
    events: tuple[events_pb2.Event, ...]
    handled: bool


def detect_platform(headers: Mapping[str, str]) -> PlatformName | None:
    """The platform whose signature header the delivery carries, for POST /api/webhooks."""
    if not isinstance(headers, Mapping):
        return None
    if header(headers, *shopify.HMAC_HEADER):
        return "shopify"
    if header(headers, square.SIGNATURE_HEADER, square.LEGACY_SIGNATURE_HEADER):
        return "square"
    if header(headers, betterdata.SIGNATURE_HEADER):
        return "betterdata"
    return None


def _verify(
    platform: PlatformName,
    body: bytes,
    headers: Mapping[str, str],
    secrets: tuple[str, ...],
    *,
    config: VerificationConfig,
    now: datetime,
) -> None:
    verify_webhook(
        platform,
        body,
        headers,
        secrets=secrets,
        now=now,
        notification_url=config.square_notification_url,
        legacy_sha1=config.square_legacy_sha1,
        tolerance=config.timestamp_tolerance,
    )


def _verify_by_body_shop(
    platform: PlatformName,
    body: bytes,
    headers: Mapping[str, str],
    config: VerificationConfig,
    now: datetime,
) -> None:
    """Tries the secrets valid for every shop, then each shop's own secrets; a shop's secret
    counts only when the (then authentic) body names that shop."""
    shared = config.secrets.for_platform(platform)
    shops = config.secrets.shops(platform)
    if not shared and not shops:
        raise WebhookRejected("no_secret_configured")
    mismatch = WebhookRejected("bad_signature", "signature does not match any configured secret")
    for shop in [None, *shops]:
        secrets = shared if shop is None else config.secrets.for_shop(platform, shop)
        if not secrets:
            continue
        try:
            _verify(platform, body, headers, secrets, config=config, now=now)
        except WebhookRejected as rejected:
            if rejected.reason != "bad_signature":
                raise
            continue
        if shop is None or _BODY_SHOP[platform](body) == shop:
            return
    raise mismatch


def authenticate(
    platform: PlatformName,
    body: bytes,
    headers: Mapping[str, str],
    config: VerificationConfig,
    *,
    now: datetime,
) -> None:
    """Verifies the signature with every secret valid for the delivery's shop, then refuses
    an event whose header time (Shopify X-Shopify-Triggered-At, Square
    square-initial-delivery-timestamp) is older than the replay window.

    Raises:
        WebhookRejected: for any authentication failure, and never any other exception.
    """
    known = known_platform(platform)
    raw = check_input(body, headers)
    headers = normalize_headers(headers)  # once for every check of this delivery
    moment = as_utc(now)
    if known == "shopify":
        shop = shopify.shop_of(headers) or ""
        secrets = config.secrets.for_shop(known, shop) + config.secrets.for_platform(known)
        _verify(known, raw, headers, secrets, config=config, now=moment)
    else:
        _verify_by_body_shop(known, raw, headers, config, moment)
    names = _EVENT_TIME_HEADERS.get(known)
    sent = header_time(headers, *names) if names else None
    if sent is not None and moment - sent > config.replay_window:
        raise WebhookRejected("stale_event", "the event is older than the replay window")


def parse_delivery(
    platform: PlatformName,
    body: bytes,
    headers: Mapping[str, str],
    config: VerificationConfig,
    *,
    received_at: datetime,
) -> ParsedDelivery:
    """Reads an authenticated delivery into canonical events, each passing the core's checks.

    When no header carried the event time, the payload's own time must be within the replay
    window; a body time that is the event's own time (Translation.body_time) always must be.
    Events with a platform time beyond the receive time plus the tolerance are flagged
    `future_dated`. A Better Data body without
    `shop_id` gets `config.betterdata_default_shop`.

    Raises:
        PayloadRejected: 400 for malformed JSON, 422 for a payload not matching its topic
            ("schema_mismatch") or an event the core would refuse ("invalid_event"), 413 for
            an event over the core's maximum size ("event_too_large").
        WebhookRejected: "stale_event" for a payload older than the replay window;
            "missing_header" / "malformed_timestamp" for a broken header the platform always
            sends (authenticate refuses those first).
    """
    known = known_platform(platform)
    raw = check_input(body, headers)
    headers = normalize_headers(headers)  # once for every check of this delivery
    received = as_utc(received_at)
    translation = _PARSERS[known](raw, headers, received)
    names = _EVENT_TIME_HEADERS.get(known)
    dated_by_header = names is not None and header(headers, *names) is not None
    stamp = translation.payload_time
    if not dated_by_header and stamp is not None and received - stamp > config.replay_window:
        raise WebhookRejected("stale_event", "the event is older than the replay window")
    body_time = translation.body_time  # signed, unlike the headers: checked whatever they say
    if body_time is not None and received - body_time > config.replay_window:
        raise WebhookRejected("stale_event", "the body's own time is older than the replay window")
    mark_future_dated(translation.events, received, config.timestamp_tolerance)
    envelope = translation.envelope
    shop = envelope.shop or (config.betterdata_default_shop if known == "betterdata" else "")
    events = with_default_shop(translation.events, shop)
    check_events(events)
    return ParsedDelivery(
        platform=known,
        topic=envelope.topic,
        delivery_id=envelope.delivery_id,
        shop=shop,
        events=events,
        handled=translation.handled,
    )
