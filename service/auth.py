"""Bearer-token authorization of calls: publisher, session and subscriber roles, constant-time."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from service.errors import PermissionDeniedError, UnauthenticatedError

Role = Literal["publisher", "session", "subscriber"]
Permission = Literal["read", "publish", "bind_sessions"]

# What each role may do. Reading covers every Get/List call and every subscription;
# binding sessions (BindSession) writes state, so a read-only token may not do it.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    "publisher": frozenset({"read", "publish", "bind_sessions"}),
    "session": frozenset({"read", "bind_sessions"}),
    "subscriber": frozenset({"read"}),
}
_CAN = {
    "publisher": "read, subscribe, publish and bind sessions",
    "session": "read, subscribe and bind sessions",
    "subscriber": "read and subscribe",
}
_NEEDS = {
    "read": "any token",
    "publish": "the publisher token",
    "bind_sessions": "the session or the publisher token",
}


@dataclass(frozen=True)
class Authorizer:
    """Checks `authorization: Bearer <token>` metadata against the configured tokens.

    The publisher or subscriber role whose token is unset is open (the settings allow that
    on loopback only); the session role exists only when its token is set.
    """

    publisher_token: str | None
    subscriber_token: str | None
    session_token: str | None = None

    def role_of(self, metadata: Iterable[tuple[str, str | bytes]] | None) -> Role:
        """The role a call's metadata proves; raises UnauthenticatedError otherwise."""
        token = _bearer(metadata)
        if self.publisher_token is None:
            return "publisher"
        if token is not None and _equal(token, self.publisher_token):
            return "publisher"
        if token is not None and self.session_token and _equal(token, self.session_token):
            return "session"
        if self.subscriber_token is None:
            return "subscriber"
        if token is not None and _equal(token, self.subscriber_token):
            return "subscriber"
        if token is None:
            raise UnauthenticatedError("missing authorization: Bearer token metadata")
        raise UnauthenticatedError("invalid token")

    def check(
        self, metadata: Iterable[tuple[str, str | bytes]] | None, permission: Permission
    ) -> None:
        """Allows the call when the token's role has `permission`; raises
        UnauthenticatedError or PermissionDeniedError otherwise."""
        role = self.role_of(metadata)
        if permission not in PERMISSIONS[role]:
            raise PermissionDeniedError(
                f"this token may {_CAN[role]}; {permission.replace('_', ' ')} needs"
                f" {_NEEDS[permission]}"
            )

    def check_publish(self, metadata: Iterable[tuple[str, str | bytes]] | None) -> None:
        """Allows the call only with the publisher token."""
        self.check(metadata, "publish")

    def check_bind_sessions(self, metadata: Iterable[tuple[str, str | bytes]] | None) -> None:
        """Allows the call with the publisher or the session token."""
        self.check(metadata, "bind_sessions")

    def check_read(self, metadata: Iterable[tuple[str, str | bytes]] | None) -> None:
        """Allows the call with any valid token."""
        self.check(metadata, "read")


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
