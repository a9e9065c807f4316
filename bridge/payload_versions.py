"""Payload API versions of deliveries: a bounded metric label, the age check against the
oldest version a platform's models were checked against, and the once-per-shop warning."""

from __future__ import annotations

import logging
import re

logger = logging.getLogger("bridge.payload_versions")

_VERSION = re.compile(r"(20\d\d)-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?")
MAX_WARNED_SHOPS = 10_000
"""How many (platform, shop) pairs the warning remembers; the oldest is forgotten beyond it."""


def valid_version(version: str) -> bool:
    """Whether `version` is a dated API version: YYYY-MM or YYYY-MM-DD (years 2000-2099)."""
    return _VERSION.fullmatch(version) is not None


def version_label(version: str) -> str:
    """The metric label of a payload version: its YYYY-MM when dated (so at most 1,200 values
    per platform), "none" when the delivery names none, "other" for anything else (e.g.
    "unstable", or text a sender made up)."""
    if not version:
        return "none"
    match = _VERSION.fullmatch(version)
    return f"{match.group(1)}-{match.group(2)}" if match else "other"


def older_than(version: str, oldest: str) -> bool:
    """Whether dated `version` is older than dated `oldest` (compared on the precision both
    have); False when either is empty or not a dated version (the age is then unknown)."""
    if not (valid_version(version) and valid_version(oldest)):
        return False
    common = min(len(version), len(oldest))
    return version[:common] < oldest[:common]


class OldVersionWarnings:
    """Logs one warning per (platform, shop) whose deliveries use a payload version older than
    the oldest its models were checked against; remembers at most `limit` pairs."""

    def __init__(self, limit: int = MAX_WARNED_SHOPS) -> None:
        """An empty memory of warned pairs, bounded by `limit`."""
        self._limit = limit
        self._warned: dict[tuple[str, str], None] = {}

    def observe(self, platform: str, shop: str, version: str, oldest: str) -> bool:
        """Warns (and returns True) the first time `shop` of `platform` sends a version older
        than `oldest`; False otherwise."""
        if not older_than(version, oldest) or (platform, shop) in self._warned:
            return False
        if len(self._warned) >= self._limit:
            del self._warned[next(iter(self._warned))]
        self._warned[(platform, shop)] = None
        logger.warning(
            "payload version older than the oldest checked",
            extra={
                "platform": platform,
                "shop": shop[:200],
                "payload_version": version,
                "oldest_checked_version": oldest,
            },
        )
        return True
