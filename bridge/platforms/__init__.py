"""The platform registry: one `Platform` value per module (verify, parse, sign, samples …).

The bridge reads what it knows of platforms only from `REGISTRY`; `register()` adds one
(the built-in ones are registered at import).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from bridge.platforms import betterdata, shopify, square
from bridge.platforms.common import WebhookRejected
from bridge.platforms.platform import Platform

__all__ = [
    "HANDLED_TOPICS",
    "REGISTRY",
    "Platform",
    "body_fields",
    "detect",
    "header_names",
    "known",
    "named",
    "register",
]

REGISTRY: dict[str, Platform] = {}
"""Every registered platform by name, in registration order."""


class _HandledTopics(Mapping[str, tuple[str, ...]]):
    """A live view: platform name -> the topics its deliveries are translated for."""

    def __getitem__(self, name: str) -> tuple[str, ...]:
        return REGISTRY[name].handled_topics

    def __iter__(self) -> Iterator[str]:
        return iter(list(REGISTRY))

    def __len__(self) -> int:
        return len(REGISTRY)


HANDLED_TOPICS: Mapping[str, tuple[str, ...]] = _HandledTopics()
"""The topics (event types) each platform's deliveries are translated for; others are ignored."""


def register(platform: Platform) -> Platform:
    """Adds (or replaces) `platform` in the registry; returns it."""
    REGISTRY[platform.name] = platform
    return platform


def named(name: str | None) -> Platform | None:
    """The registered platform called `name`, or None."""
    return REGISTRY.get(name) if isinstance(name, str) else None


def known(name: object) -> Platform:
    """The registered platform called `name`; WebhookRejected("unknown_platform") otherwise."""
    platform = REGISTRY.get(name) if isinstance(name, str) else None
    if platform is None:
        raise WebhookRejected("unknown_platform", "platform must be one of " + ", ".join(REGISTRY))
    return platform


def detect(headers: Mapping[str, str]) -> Platform | None:
    """The platform whose signature header normalized `headers` carry (for /api/webhooks)."""
    for platform in REGISTRY.values():
        if any(headers.get(name) for name in platform.signature_headers):
            return platform
    return None


def header_names(attribute: str) -> tuple[str, ...]:
    """Every registered platform's headers of one kind, e.g. "signature_headers" or
    "topic_headers", in registry order without repeats."""
    names: dict[str, None] = {}
    for platform in REGISTRY.values():
        names.update(dict.fromkeys(getattr(platform, attribute)))
    return tuple(names)


def body_fields(attribute: str) -> tuple[str, ...]:
    """Every registered platform's body field of one kind ("topic_field" or
    "delivery_id_field"), in registry order without repeats or blanks."""
    fields = (getattr(platform, attribute) for platform in REGISTRY.values())
    return tuple(dict.fromkeys(field for field in fields if field))


for _builtin in (shopify.PLATFORM, square.PLATFORM, betterdata.PLATFORM):
    register(_builtin)
