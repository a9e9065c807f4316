"""Realistic built-in sample bodies, one per handled topic, with fresh ids on every call."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime

from bridge.platforms import HANDLED_TOPICS, REGISTRY
from bridge.platforms.common import PlatformName, as_utc, rfc3339

__all__ = ["DEFAULT_SHOPS", "HANDLED_TOPICS", "sample_body"]


class _SampleShops(Mapping[str, str]):
    """A live view: platform name -> the shop its samples name when none is given."""

    def __getitem__(self, name: str) -> str:
        return REGISTRY[name].sample_shop

    def __iter__(self) -> Iterator[str]:
        return iter(list(REGISTRY))

    def __len__(self) -> int:
        return len(REGISTRY)


DEFAULT_SHOPS: Mapping[str, str] = _SampleShops()
"""The shop a sample names when none is given (Platform.sample_shop)."""


def sample_body(
    platform: PlatformName, topic: str, *, now: datetime | None = None, shop: str | None = None
) -> bytes:
    """A realistic JSON body of `topic` as `platform` sends it, with fresh unique ids.

    Platforms naming the shop in the body name `shop` (default DEFAULT_SHOPS).

    Raises:
        ValueError: for an unknown platform, or a topic it does not handle (naming the valid ones).
    """
    found = REGISTRY.get(platform)
    if found is None:
        raise ValueError("platform must be one of " + ", ".join(REGISTRY))
    if topic not in found.handled_topics:
        valid = ", ".join(found.handled_topics)
        raise ValueError(f"unknown {platform} topic {topic!r}; valid topics: {valid}")
    payload = found.sample(topic, shop or found.sample_shop, rfc3339(as_utc(now)))
    return json.dumps(payload).encode("utf-8")
