"""Platform: everything the bridge knows about one commerce platform, in one value.

Each platform module (`bridge.platforms.<name>`) exports one `PLATFORM`; the rest of the
bridge reads platforms only through `bridge.platforms.REGISTRY`, so that adding a platform is
one module and one `register()` call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from commercegateway.v1 import events_pb2

from bridge.platforms.delivery import Translation


@dataclass(frozen=True)
class PlatformSecrets:
    """Every configured secret: the fallback for all platforms, per platform and per shop.

    A per-shop secret is accepted only for deliveries of that shop (the shop as the platform
    names it: `Platform.shop_headers`, else the shop its parsed body names).
    """

    fallback: tuple[str, ...] = ()
    by_platform: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    by_shop: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    def for_platform(self, platform: str) -> tuple[str, ...]:
        """The secrets valid for any shop of `platform`: its own, then the fallback."""
        return tuple(self.by_platform.get(platform, ())) + tuple(self.fallback)

    def for_shop(self, platform: str, shop: str) -> tuple[str, ...]:
        """The secrets valid only for `shop` of `platform`."""
        return tuple(self.by_shop.get(shop, {}).get(platform, ()))

    def shops(self, platform: str) -> list[str]:
        """The shops that have their own secrets for `platform`."""
        return [shop for shop, by in self.by_shop.items() if by.get(platform)]


@dataclass(frozen=True)
class VerificationConfig:
    """How deliveries are authenticated; defaults are the documented ones.

    `notification_url` is the URL signed by platforms that sign URL + body (None: the URL each
    request was posted to); `legacy_sha1` lets them use their legacy SHA-1 header.
    `default_shop` is the shop of bodies without one, for platforms that allow it
    (`Platform.default_shop_allowed`); empty refuses them (422 "invalid_event").
    """

    secrets: PlatformSecrets
    notification_url: str | None = None
    legacy_sha1: bool = False
    replay_window: timedelta = timedelta(hours=72)
    timestamp_tolerance: timedelta = timedelta(minutes=5)
    default_shop: str = "default"


@dataclass(frozen=True)
class VerifyOptions:
    """What a platform's `verify` may need besides the body, headers and secrets."""

    now: datetime
    notification_url: str | None = None
    legacy_sha1: bool = False
    tolerance: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class SignRequest:
    """What a platform's `sign` needs to build the headers it sends with a body."""

    topic: str
    shop: str
    now: datetime
    delivery_id: str | None = None
    notification_url: str | None = None


Verify = Callable[[bytes, Mapping[str, str], Sequence[str], VerifyOptions], None]
Parse = Callable[[bytes, Mapping[str, str], datetime], Translation]
Sign = Callable[[bytes, str, SignRequest], dict[str, str]]
Sample = Callable[[str, str, str], dict[str, Any]]
HeaderDoc = tuple[str, bool, str]


@dataclass(frozen=True)
class Platform:
    """One commerce platform.

    `verify(body, headers, secrets, options)` raises WebhookRejected unless a secret signed the
    body; `parse(body, headers, received_at)` reads an authentic delivery into a Translation
    (PayloadRejected / WebhookRejected); `sign(body, secret, request)` returns every header the
    platform sends; `sample(topic, shop, now_rfc3339)` a realistic JSON document of a handled
    topic. Header tuples hold lower-case names (first found wins). The shop a per-shop secret
    belongs to is `shop_headers` when set, else `body_shop(body)` (the shop an authentic body
    names). `signs_url`: the signature covers the notification URL (`VerifyOptions`);
    `default_shop_allowed`: a body naming no shop gets the configured default shop.
    """

    name: str
    wire: events_pb2.Platform.ValueType
    title: str
    verify: Verify
    parse: Parse
    sign: Sign
    sample: Sample
    handled_topics: tuple[str, ...]
    signature_headers: tuple[str, ...]
    secret_variable: str
    sample_shop: str
    topic_headers: tuple[str, ...] = ()
    delivery_id_headers: tuple[str, ...] = ()
    shop_headers: tuple[str, ...] = ()
    event_time_headers: tuple[str, ...] = ()
    topic_field: str = ""
    delivery_id_field: str = ""
    body_shop: Callable[[bytes], str | None] | None = None
    signs_url: bool = False
    default_shop_allowed: bool = False
    signature_scheme: str = ""
    """How the signature is named in documentation, e.g. its header."""
    header_docs: tuple[HeaderDoc, ...] = ()
    """(header, required on the platform's own path, description) of each header it sends."""
    bad_signature_hint: Callable[[str, str], str] | None = None
    """What to check when no secret matched, given the configured and the request's URL."""
    oldest_checked_version: str = ""
    """The oldest payload API version (YYYY-MM or YYYY-MM-DD) the payload models were checked
    against; older deliveries are logged once per shop. Empty: no age check."""
    answers_401: Callable[[Mapping[str, str]], bool] | None = None
    """Whether a delivery (its normalized headers, read before verification) that fails
    authentication is answered 401 rather than 403 (Shopify's privacy webhooks)."""

    @property
    def path(self) -> str:
        """The endpoint path of this platform's deliveries."""
        return f"/webhooks/{self.name}"
