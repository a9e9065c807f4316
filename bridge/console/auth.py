"""Who may use the console: open on loopback, else a token login (HttpOnly cookie) and CSRF.

The session cookie is `<expiry>.<nonce>.<HMAC(key, expiry.nonce)>` with a key derived from
COMMERCE_GATEWAY_CONSOLE_TOKEN: stateless (every worker accepts it), never the token itself.
Every POST must carry the `csrf` form field equal to the `cg_console_csrf` cookie (a random
value, SameSite=Strict), and a cross-origin Origin header is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

SESSION_COOKIE = "cg_console_session"
CSRF_COOKIE = "cg_console_csrf"
SESSION_SECONDS = 12 * 3600
"""A console login lasts this long."""
MAX_TOKEN_CHARS = 1024
"""A submitted token longer than this is refused without comparing it."""


def _sign(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


class ConsoleAccess:
    """Checks console logins, sessions and CSRF tokens; `token` empty means open (loopback)."""

    def __init__(self, token: str) -> None:
        """Uses `token` (COMMERCE_GATEWAY_CONSOLE_TOKEN); an empty one needs no login."""
        self._token = token.encode()
        self._key = hashlib.sha256(b"commerce-gateway console session\0" + self._token).digest()

    @property
    def login_required(self) -> bool:
        """Whether a token login is needed."""
        return bool(self._token)

    def token_matches(self, given: str) -> bool:
        """Whether `given` is the console token (constant time)."""
        if not self._token or len(given) > MAX_TOKEN_CHARS:
            return False
        return hmac.compare_digest(given.encode(), self._token)

    def new_session(self, now: float | None = None) -> str:
        """A fresh session cookie value, valid for SESSION_SECONDS."""
        expiry = int((now or time.time()) + SESSION_SECONDS)
        payload = f"{expiry}.{secrets.token_urlsafe(16)}"
        return f"{payload}.{_sign(self._key, payload)}"

    def session_valid(self, value: str | None, now: float | None = None) -> bool:
        """Whether a session cookie value was issued by this token and has not expired."""
        if not self.login_required:
            return True
        if not value or value.count(".") != 2:
            return False
        payload, _, mac = value.rpartition(".")
        expiry = payload.split(".", 1)[0]
        if not expiry.isdigit() or int(expiry) < (now or time.time()):
            return False
        return hmac.compare_digest(mac, _sign(self._key, payload))


def new_csrf_token() -> str:
    """A random CSRF token for the CSRF cookie and the forms."""
    return secrets.token_urlsafe(24)


def csrf_valid(cookie: str | None, submitted: str | None) -> bool:
    """Whether the submitted CSRF token equals the cookie's (constant time)."""
    if not cookie or not submitted or len(submitted) > 100:
        return False
    return hmac.compare_digest(cookie.encode(), submitted.encode())


def same_origin(headers: Mapping[str, str]) -> bool:
    """False when an Origin (or, lacking it, Referer) header names another host than Host."""
    origin = headers.get("origin") or headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == headers.get("host", "")
