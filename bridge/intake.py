"""The one intake: read, check, verify, parse, validate and translate a delivery.

Both the HTTP endpoint (bridge.webhook_endpoint) and `create_webhook_handler` (bridge.handler)
call `read_limited_body` then `Intake.accept`; they differ only in where the events go. Each
step runs once per delivery: the headers are normalized once, the body is read once, and every
rejection leaves as a ProblemError whose kind the edge maps to an HTTP status
(bridge.problems.PROBLEM_TYPES).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from commercegateway.v1 import events_pb2

from bridge.body_budget import BodyHold
from bridge.platforms import HANDLED_TOPICS, Platform, detect, known, named
from bridge.platforms.common import (
    PayloadRejected,
    PlatformName,
    WebhookRejected,
    as_utc,
    check_input,
    header,
    header_time,
    normalize_headers,
)
from bridge.platforms.delivery import mark_future_dated
from bridge.platforms.platform import (
    PlatformSecrets,
    VerificationConfig,
    VerifyOptions,
)
from bridge.problems import ProblemError
from bridge.validity import check_events, with_default_shop

__all__ = [
    "HANDLED_TOPICS",
    "ClientDisconnectedError",
    "Intake",
    "ParsedDelivery",
    "PayloadRejected",
    "PlatformName",
    "PlatformSecrets",
    "VerificationConfig",
    "authenticate",
    "detect_platform",
    "parse_delivery",
    "read_limited_body",
    "require_json",
]


class ClientDisconnectedError(Exception):
    """The client went away before sending the whole body."""


@dataclass(frozen=True)
class ParsedDelivery:
    """An authentic delivery read into canonical events.

    `handled` is False for a topic the bridge does not translate (answer 200 "ignored");
    `events` is then empty. It may also be empty for a handled topic whose payload reports
    nothing available (e.g. a level of an untracked item, or only counts not in stock).
    """

    platform: PlatformName
    topic: str
    delivery_id: str
    shop: str
    events: tuple[events_pb2.Event, ...]
    handled: bool
    payload_version: str = ""


async def read_limited_body(
    chunks: AsyncIterator[bytes],
    limit: int,
    content_length: str | None,
    hold: BodyHold | None = None,
) -> bytes:
    """Reads the body; 413 as soon as it exceeds `limit`, whatever Content-Length says.
    With a `hold`, the bytes read count against its budget (503 when spent)."""
    if content_length is not None and content_length.isdigit() and int(content_length) > limit:
        raise _too_large(limit)
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        if hold is not None:
            hold.take(len(chunk))
        parts.append(chunk)
    return b"".join(parts)


def _too_large(limit: int) -> ProblemError:
    return ProblemError("too_large", "body_too_large", f"The body exceeds {limit} bytes.")


def require_json(content_type: str | None) -> None:
    """Raises 415 unless the content type is application/json or application/*+json."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    ):
        return
    shown = media[:80] if media else "none"
    raise ProblemError("media_type", "not_json", f"Content type {shown!r} is not JSON.")


class Intake:
    """The delivery flow from a read body to validated canonical events."""

    def __init__(self, config: VerificationConfig) -> None:
        """Verifies and translates with `config`."""
        self.config = config

    def accept(
        self,
        path_platform: str | None,
        headers: Mapping[str, str],
        body: bytes,
        request_url: Callable[[], str],
        now: datetime,
    ) -> ParsedDelivery:
        """Checks the content type (415), picks the platform named by the path or by its
        signature header (403 when none), authenticates (403; 401 for the topics the platform
        answers so, Platform.answers_401), parses (400/422), validates
        (413/422) and translates `body`. `request_url` gives the URL the delivery was posted
        to, for platforms signing their notification URL when none is configured.

        Raises:
            ProblemError: for every rejection, with its kind and reason.
        """
        require_json(headers.get("content-type"))
        normalized = normalize_headers(headers)  # once for every step of this delivery
        platform = named(path_platform) or detect(normalized)
        if platform is None:
            raise ProblemError(
                "authentication",
                "missing_signature",
                "No known platform signature header is present.",
            )
        config = self.config
        if platform.signs_url and not config.notification_url:
            config = dataclasses.replace(config, notification_url=request_url())
        moment = as_utc(now)
        try:
            _authenticate(platform, body, normalized, config, moment)
            return _translate(platform, body, normalized, config, moment)
        except WebhookRejected as rejected:
            strict = platform.answers_401 is not None and platform.answers_401(normalized)
            raise ProblemError(
                "unauthorized" if strict else "authentication",
                rejected.reason,
                f"The {platform.name} delivery failed authentication: {rejected.detail}.",
                platform=platform.name,
            ) from None
        except PayloadRejected as rejected:
            raise ProblemError(
                rejected.kind,
                rejected.reason,
                f"The {platform.name} payload was rejected ({rejected.reason}).",
                errors=rejected.errors,
                platform=platform.name,
            ) from None


def _verify(
    platform: Platform,
    body: bytes,
    headers: Mapping[str, str],
    secrets: tuple[str, ...],
    *,
    config: VerificationConfig,
    now: datetime,
) -> None:
    options = VerifyOptions(
        now=now,
        notification_url=config.notification_url,
        legacy_sha1=config.legacy_sha1,
        tolerance=config.timestamp_tolerance,
    )
    platform.verify(body, headers, secrets, options)


def _verify_by_body_shop(
    platform: Platform,
    body: bytes,
    headers: Mapping[str, str],
    config: VerificationConfig,
    now: datetime,
) -> None:
    """Tries the secrets valid for every shop, then each shop's own secrets; a shop's secret
    counts only when the (then authentic) body names that shop."""
    shared = config.secrets.for_platform(platform.name)
    shops = config.secrets.shops(platform.name)
    if not shared and not shops:
        raise WebhookRejected("no_secret_configured")
    mismatch = WebhookRejected("bad_signature", "signature does not match any configured secret")
    for shop in [None, *shops]:
        secrets = shared if shop is None else config.secrets.for_shop(platform.name, shop)
        if not secrets:
            continue
        try:
            _verify(platform, body, headers, secrets, config=config, now=now)
        except WebhookRejected as rejected:
            if rejected.reason != "bad_signature":
                raise
            continue
        if shop is None or (platform.body_shop is not None and platform.body_shop(body) == shop):
            return
    raise mismatch


def _authenticate(
    platform: Platform,
    body: bytes,
    headers: Mapping[str, str],
    config: VerificationConfig,
    now: datetime,
) -> None:
    """Verifies the signature with every secret valid for the delivery's shop, then refuses
    an event whose header time is older than the replay window (normalized headers, UTC now)."""
    if platform.shop_headers or platform.body_shop is None:
        shop = (header(headers, *platform.shop_headers) or "") if platform.shop_headers else ""
        secrets = config.secrets.for_shop(platform.name, shop) + config.secrets.for_platform(
            platform.name
        )
        _verify(platform, body, headers, secrets, config=config, now=now)
    else:
        _verify_by_body_shop(platform, body, headers, config, now)
    names = platform.event_time_headers
    sent = header_time(headers, *names) if names else None
    if sent is not None and now - sent > config.replay_window:
        raise WebhookRejected("stale_event", "the event is older than the replay window")


def _translate(
    platform: Platform,
    body: bytes,
    headers: Mapping[str, str],
    config: VerificationConfig,
    received: datetime,
) -> ParsedDelivery:
    """Parses an authenticated delivery (normalized headers, UTC time), holds its times to the
    replay window, flags future-dated events and runs the core's checks on every event."""
    translation = platform.parse(body, headers, received)
    names = platform.event_time_headers
    dated_by_header = bool(names) and header(headers, *names) is not None
    stamp = translation.payload_time
    if not dated_by_header and stamp is not None and received - stamp > config.replay_window:
        raise WebhookRejected("stale_event", "the event is older than the replay window")
    body_time = translation.body_time  # signed, unlike the headers: checked whatever they say
    if body_time is not None and received - body_time > config.replay_window:
        raise WebhookRejected("stale_event", "the body's own time is older than the replay window")
    mark_future_dated(translation.events, received, config.timestamp_tolerance)
    envelope = translation.envelope
    default = config.default_shop if platform.default_shop_allowed else ""
    shop = envelope.shop or default
    events = with_default_shop(translation.events, shop)
    check_events(events)
    return ParsedDelivery(
        platform=platform.name,
        topic=envelope.topic,
        delivery_id=envelope.delivery_id,
        shop=shop,
        events=events,
        handled=translation.handled,
        payload_version=envelope.payload_version,
    )


def detect_platform(headers: Mapping[str, str]) -> PlatformName | None:
    """The platform whose signature header the delivery carries, for POST /api/webhooks."""
    if not isinstance(headers, Mapping):
        return None
    found = detect(normalize_headers(headers))
    return None if found is None else found.name


def authenticate(
    platform: PlatformName,
    body: bytes,
    headers: Mapping[str, str],
    config: VerificationConfig,
    *,
    now: datetime,
) -> None:
    """Verifies the signature with every secret valid for the delivery's shop, then refuses
    an event whose header time (Platform.event_time_headers) is older than the replay window.

    Raises:
        WebhookRejected: for any authentication failure, and never any other exception.
    """
    found = known(platform)
    raw = check_input(body, headers)
    _authenticate(found, raw, normalize_headers(headers), config, as_utc(now))


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
    `future_dated`. A body without a shop gets `config.default_shop` where the
    platform allows it.

    Raises:
        PayloadRejected: kind "malformed" (400) for malformed JSON, "schema" (422) for a
            payload not matching its topic ("schema_mismatch") or an event the core would
            refuse ("invalid_event"), "too_large" (413) for an event over the core's maximum
            size ("event_too_large").
        WebhookRejected: "stale_event" for a payload older than the replay window;
            "missing_header" / "malformed_timestamp" for a broken header the platform always
            sends (authenticate refuses those first).
    """
    found = known(platform)
    raw = check_input(body, headers)
    return _translate(found, raw, normalize_headers(headers), config, as_utc(received_at))
