"""Signing deliveries exactly as each platform does: for `send`, tests and benchmarks."""

from __future__ import annotations

from datetime import datetime

from bridge.platforms import REGISTRY
from bridge.platforms.common import PlatformName, as_utc, rfc3339
from bridge.platforms.platform import SignRequest

CONTENT_TYPE = "application/json"


def signed_headers(
    platform: PlatformName,
    body: bytes,
    secret: str,
    *,
    topic: str,
    shop: str,
    delivery_id: str | None = None,
    now: datetime | None = None,
    notification_url: str | None = None,
) -> dict[str, str]:
    """Every header `platform` sends with `body`, signed with `secret` (its `Platform.sign`).

    Platforms naming the topic, shop or delivery id in headers use `topic`, `shop` and
    `delivery_id`; the others carry them in the body. A missing `delivery_id` is a fresh one.
    Platforms signing their notification URL need `notification_url`.

    Raises:
        ValueError: for an unknown platform, or a platform missing what it needs to sign.
    """
    found = REGISTRY.get(platform)
    if found is None:
        raise ValueError("platform must be one of " + ", ".join(REGISTRY))
    request = SignRequest(
        topic=topic,
        shop=shop,
        now=as_utc(now),
        delivery_id=delivery_id,
        notification_url=notification_url,
    )
    return found.sign(body, secret, request)


__all__ = ["CONTENT_TYPE", "rfc3339", "signed_headers"]
