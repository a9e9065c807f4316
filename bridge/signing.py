"""Signing deliveries exactly as each platform does: for `send`, tests and benchmarks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import datetime

from bridge.platforms import betterdata, square
from bridge.platforms.common import PLATFORMS, PlatformName, as_utc, encode_text

SHOPIFY_API_VERSION = "2025-07"
CONTENT_TYPE = "application/json"


def _hmac_base64(key: bytes, message: bytes, algorithm: str = "sha256") -> str:
    digest = hmac.new(key, message, getattr(hashlib, algorithm)).digest()
    return base64.b64encode(digest).decode("ascii")


def rfc3339(moment: datetime, *, nanoseconds: bool = False) -> str:
    """`moment` in UTC as RFC 3339 with a Z suffix (nine fraction digits, as Shopify writes)."""
    utc = as_utc(moment)
    fraction = f"{utc.microsecond:06d}" + ("000" if nanoseconds else "")
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction}Z"


def _shopify(
    body: bytes, secret: str, *, topic: str, shop: str, delivery_id: str, now: datetime
) -> dict[str, str]:
    prefix = "X-Shopify-"
    return {
        "Content-Type": CONTENT_TYPE,
        f"{prefix}Topic": topic,
        f"{prefix}Hmac-Sha256": _hmac_base64(encode_text(secret), body),
        f"{prefix}Shop-Domain": shop,
        f"{prefix}API-Version": SHOPIFY_API_VERSION,
        f"{prefix}Webhook-Id": delivery_id,
        f"{prefix}Triggered-At": rfc3339(now, nanoseconds=True),
        f"{prefix}Event-Id": str(uuid.uuid4()),
    }


def _square(
    body: bytes, secret: str, now: datetime, notification_url: str | None
) -> dict[str, str]:
    if not notification_url:
        raise ValueError("signing as Square needs the notification URL the subscription uses")
    message = encode_text(notification_url) + body
    key = encode_text(secret)
    return {
        "Content-Type": CONTENT_TYPE,
        square.SIGNATURE_HEADER: _hmac_base64(key, message),
        square.LEGACY_SIGNATURE_HEADER: _hmac_base64(key, message, "sha1"),
        "square-environment": "Production",
        square.INITIAL_DELIVERY_HEADER: rfc3339(now),
        "User-Agent": "Square Connect v2",
    }


def _betterdata(body: bytes, secret: str, delivery_id: str, now: datetime) -> dict[str, str]:
    seconds = str(int(as_utc(now).timestamp()))
    content = betterdata.signed_content(delivery_id, seconds, body)
    return {
        "Content-Type": CONTENT_TYPE,
        betterdata.ID_HEADER: delivery_id,
        betterdata.TIMESTAMP_HEADER: seconds,
        betterdata.SIGNATURE_HEADER: "v1," + _hmac_base64(betterdata.secret_key(secret), content),
    }


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
    """Every header `platform` sends with `body`, signed with `secret`.

    Shopify uses `topic`, `shop` and `delivery_id` (X-Shopify-Webhook-Id) as headers; Square
    and Better Data carry the topic and shop in the body, so only Better Data uses
    `delivery_id` (webhook-id). A missing `delivery_id` is a fresh one. Square needs
    `notification_url`.

    Raises:
        ValueError: for an unknown platform, or Square without a notification URL.
    """
    moment = as_utc(now)
    if platform == "shopify":
        delivery = delivery_id or str(uuid.uuid4())
        return _shopify(body, secret, topic=topic, shop=shop, delivery_id=delivery, now=moment)
    if platform == "square":
        return _square(body, secret, moment, notification_url)
    if platform == "betterdata":
        return _betterdata(body, secret, delivery_id or f"msg_{uuid.uuid4().hex}", moment)
    raise ValueError("platform must be one of " + ", ".join(PLATFORMS))


__all__ = ["SHOPIFY_API_VERSION", "rfc3339", "signed_headers"]
