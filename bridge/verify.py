"""Webhook signature verification for every platform, over the raw bytes, before any parsing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bridge.platforms import REGISTRY, known
from bridge.platforms.common import (
    REJECT_REASONS,
    PlatformName,
    RejectReason,
    WebhookRejected,
    as_utc,
    check_input,
    normalize_headers,
)
from bridge.platforms.platform import VerifyOptions

PLATFORMS = REGISTRY
"""The registered platforms by name (bridge.platforms.REGISTRY)."""

__all__ = [
    "PLATFORMS",
    "REJECT_REASONS",
    "PlatformName",
    "RejectReason",
    "WebhookRejected",
    "verify_webhook",
]


def _check_input(body: object, headers: object, secrets: object) -> tuple[bytes, list[str]]:
    raw = check_input(body, headers)
    if isinstance(secrets, str) or not isinstance(secrets, Sequence):
        raise WebhookRejected("invalid_input", "secrets must be a sequence of strings")
    return raw, [secret for secret in secrets if isinstance(secret, str)]


def verify_webhook(
    platform: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    secrets: Sequence[str],
    now: datetime | None = None,
    notification_url: str | None = None,
    legacy_sha1: bool = False,
    tolerance: timedelta = timedelta(minutes=5),
) -> None:
    """Checks that `body` was signed by `platform` with one of `secrets`.

    Args:
        platform: the name of a registered platform (bridge.platforms.REGISTRY).
        body: the raw request body, exactly as received.
        headers: the request headers, any mapping; names are matched case-insensitively.
        secrets: every currently valid secret (several during a rotation); tried in constant
            time, all of them.
        now: the current time, for Standard Webhooks' timestamp tolerance (default: now).
        notification_url: for platforms signing URL + body: the subscription's URL.
        legacy_sha1: for those platforms: also accept their legacy HMAC-SHA1 header.
        tolerance: for platforms signing a timestamp: how far it may be from `now`.

    Returns None when the delivery is authentic.

    Raises:
        WebhookRejected: with a `reason` from RejectReason, and never any other exception.
    """
    found = known(platform)
    raw, keys = _check_input(body, headers, secrets)
    options = VerifyOptions(
        now=as_utc(now),
        notification_url=notification_url,
        legacy_sha1=legacy_sha1,
        tolerance=tolerance,
    )
    found.verify(raw, normalize_headers(headers), keys, options)


def reject_reason(error: WebhookRejected) -> RejectReason:
    """The reason of a rejection (a convenience for callers that log or count reasons)."""
    return error.reason
