"""Opaque page tokens of ListInventoryLevels: the last returned key, encoded."""

from __future__ import annotations

import base64
import binascii
import json

from service.errors import InvalidArgumentError

PageKey = tuple[str, str, str]


def encode_page_token(key: PageKey) -> str:
    """The token that resumes listing after `key` (shop, item, location)."""
    raw = json.dumps(["v1", *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str) -> PageKey | None:
    """The key a token resumes after (None for an empty token); InvalidArgumentError if bad."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidArgumentError("page_token is not a token this server issued") from None
    if (
        not isinstance(value, list)
        or len(value) != 4
        or value[0] != "v1"
        or not all(isinstance(part, str) for part in value[1:])
    ):
        raise InvalidArgumentError("page_token is not a token this server issued")
    return (value[1], value[2], value[3])
