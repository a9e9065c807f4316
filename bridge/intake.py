"""The checks every delivery passes, in order: size, content type, authentication, parsing."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from datetime import datetime

from bridge.body_budget import BodyHold
from bridge.pipeline import (
    ParsedDelivery,
    PayloadRejected,
    PlatformName,
    VerificationConfig,
    authenticate,
    detect_platform,
    parse_delivery,
)
from bridge.platforms.common import normalize_headers
from bridge.problems import ProblemError
from bridge.verify import WebhookRejected

PLATFORMS: tuple[PlatformName, ...] = ("shopify", "square", "betterdata")


class ClientDisconnectedError(Exception):
    """The client went away before sending the whole body."""


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


def platform_named(name: str | None) -> PlatformName | None:
    """The platform called `name`, or None."""
    for platform in PLATFORMS:
        if platform == name:
            return platform
    return None


def choose_platform(path_platform: str | None, headers: Mapping[str, str]) -> PlatformName:
    """The platform named by the path, else detected from its signature header (403 if none)."""
    named = platform_named(path_platform)
    if named is not None:
        return named
    detected = detect_platform(headers)
    if detected is None:
        raise ProblemError(
            "authentication",
            "missing_signature",
            "No known platform signature header is present.",
        )
    return detected


def with_request_url(config: VerificationConfig, url: str) -> VerificationConfig:
    """For Square without a configured notification URL: the URL this request was posted to."""
    if config.square_notification_url:
        return config
    return dataclasses.replace(config, square_notification_url=url)


def verify_and_parse(
    platform: PlatformName,
    body: bytes,
    headers: Mapping[str, str],
    config: VerificationConfig,
    now: datetime,
) -> ParsedDelivery:
    """Authenticates (403) then parses (400/422) a delivery whose body is within the limit."""
    headers = normalize_headers(headers)  # once for both steps
    try:
        authenticate(platform, body, headers, config, now=now)
        return parse_delivery(platform, body, headers, config, received_at=now)
    except WebhookRejected as rejected:
        raise ProblemError(
            "authentication",
            rejected.reason,
            f"The {platform} delivery failed authentication: {rejected.detail}.",
            platform=platform,
        ) from None
    except PayloadRejected as rejected:
        raise ProblemError.for_status(
            rejected.status,
            rejected.reason,
            f"The {platform} payload was rejected ({rejected.reason}).",
            errors=rejected.errors,
            platform=platform,
        ) from None
