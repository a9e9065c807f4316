"""Bearer-token authorization of calls: publisher and subscriber roles, constant-time."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from service.errors import PermissionDeniedError, UnauthenticatedError

Role = Literal["publisher", "subscriber"]


@dataclass(frozen=True)
class Authorizer:
    """Checks `authorization: Bearer <token>` metadata against the configured tokens.

    A role whose token is unset is open (the settings allow that on loopback only).
    """

    publisher_token: str | None
    subscriber_token: str | None

    def role_of(self, metadata: Iterable[tuple[str, str | bytes]] | None) -> Role:
        """The role a call's metadata proves; raises UnauthenticatedError otherwise."""
        token = _bearer(metadata)
        if self.publisher_token is None:
            return "publisher"
        if token is not None and _equal(token, self.publisher_token):
            return "publisher"
        if self.subscriber_token is None:
            return "subscriber"
        if token is not None and _equal(token, self.subscriber_token):
            return "subscriber"
        if token is None:
            raise UnauthenticatedError("missing authorization: Bearer token metadata")
        raise UnauthenticatedError("invalid token")

    def check_publish(self, metadata: Iterable[tuple[str, str | bytes]] | None) -> None:
        """Allows the call only with the publisher token."""
        if self.role_of(metadata) != "publisher":
            raise PermissionDeniedError("this token may read and subscribe, not publish")

    def check_read(self, metadata: Iterable[tuple[str, str | bytes]] | None) -> None:
        """Allows the call with either token."""
        self.role_of(metadata)


def _bearer(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    for key, value in metadata or ():
        if key.lower() == "authorization":
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            scheme, _, token = text.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
