"""One-line hints for refused deliveries: what to check, naming secret variables, never values."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.console.recorder import Delivery
from bridge.platforms import REGISTRY, Platform
from bridge.platforms.common import PlatformName
from bridge.settings import BridgeSettings

_FALLBACK_VARIABLE = "WEBHOOK_SECRET"

_STATIC_HINTS = {
    "missing_signature": "No platform signature header: post to /webhooks/<platform>, or check "
    "that a proxy does not strip the signature header.",
    "malformed_signature": "The signature header cannot be decoded (not base64, or no v1 entry).",
    "missing_header": "A header the platform always sends is missing: a proxy may strip it.",
    "empty_body": "The body is empty: no platform signs an empty delivery.",
    "malformed_timestamp": "A timestamp header is not a valid time.",
    "stale_timestamp": "The signed timestamp is older than COMMERCE_GATEWAY_TIMESTAMP_TOLERANCE_"
    "SECONDS: check the sender's and this host's clocks, or a replay.",
    "future_timestamp": "The signed timestamp is ahead of this host's clock by more than "
    "COMMERCE_GATEWAY_TIMESTAMP_TOLERANCE_SECONDS: check the clocks.",
    "stale_event": "The event is older than COMMERCE_GATEWAY_REPLAY_WINDOW_HOURS: a replay, "
    "or a delivery retried for too long.",
    "no_notification_url": "Set SQUARE_NOTIFICATION_URL to the URL of the Square subscription.",
    "body_too_large": "The body exceeds COMMERCE_GATEWAY_MAX_BODY_BYTES.",
    "not_json": "The Content-Type must be application/json.",
    "malformed_json": "The body is not valid JSON.",
    "store_unavailable": "Neither the core nor the local outbox stored it: check the core "
    "(COMMERCE_GATEWAY_CORE) and the data directory.",
    "method_not_allowed": "Webhooks are POSTs only.",
}


@dataclass(frozen=True)
class SecretNames:
    """Which secret settings are configured, by name only (never a value)."""

    platform: frozenset[PlatformName]
    fallback: bool
    shops: dict[str, frozenset[PlatformName]]
    notification_url: str

    @classmethod
    def of(cls, settings: BridgeSettings) -> SecretNames:
        """The configured secret names of `settings`."""
        secrets = settings.platform_secrets()
        return cls(
            platform=frozenset(p for p, values in secrets.by_platform.items() if values),
            fallback=bool(secrets.fallback),
            shops={
                shop: frozenset(p for p, values in table.items() if values)
                for shop, table in secrets.by_shop.items()
            },
            notification_url=settings.square_notification_url,
        )

    def tried(self, platform: PlatformName, shop: str) -> list[str]:
        """The names of the secrets a delivery of `platform` (and `shop`) is checked with."""
        names: list[str] = []
        found = REGISTRY.get(platform)
        if found is None or found.shop_headers or found.body_shop is None:
            shops = [shop] if platform in self.shops.get(shop, ()) else []
        else:  # the shop is in the body: every shop's own secrets are tried
            shops = sorted(s for s, platforms in self.shops.items() if platform in platforms)
        names.extend(f'[secrets.shops."{s}"] {platform}' for s in shops)
        if platform in self.platform and found is not None:
            names.append(found.secret_variable)
        if self.fallback:
            names.append(_FALLBACK_VARIABLE)
        return names


def _platform(name: str) -> Platform | None:
    return REGISTRY.get(name)


def hint(entry: Delivery, names: SecretNames) -> str:
    """What an operator should check about `entry`; empty when it was not refused."""
    platform = _platform(entry.platform)
    if entry.reason == "bad_signature" and platform is not None:
        tried = names.tried(platform.name, entry.shop)
        text = f"Tried {', '.join(tried) or 'no secret'}; none matched the signature."
        if platform.bad_signature_hint is not None:
            text += platform.bad_signature_hint(names.notification_url, entry.request_url)
        return text
    if entry.reason == "no_secret_configured" and platform is not None:
        return (
            f"No secret is configured for {platform.name}: set {platform.secret_variable} or "
            f"{_FALLBACK_VARIABLE}."
        )
    if entry.outcome == "quarantined":
        kept = f" as entry {entry.quarantine_id}" if entry.quarantine_id else ""
        return f"The payload does not match its topic's schema; kept in quarantine{kept}."
    return _STATIC_HINTS.get(entry.reason, "")
