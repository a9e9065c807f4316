"""Shared vocabulary of the platform modules: names, rejection errors, headers, HMAC and times."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from bridge.problems import PROBLEM_TYPES, ProblemKind

PlatformName = str
"""The lower-case name of a registered commerce platform (see bridge.platforms.REGISTRY)."""

RejectReason = Literal[
    "unknown_platform",  # the platform name is not a registered platform
    "invalid_input",  # the body is not bytes or the headers are not a mapping
    "no_secret_configured",  # no secret is configured for this platform (or shop)
    "no_notification_url",  # a platform signing URL + body has no notification URL
    "missing_header",  # a header the platform always sends is absent or empty
    "empty_body",  # the body is empty: no platform signs an empty delivery
    "malformed_signature",  # the signature header cannot be decoded (not base64, no v1 entry)
    "bad_signature",  # well-formed, but matches no secret valid for this delivery
    "malformed_timestamp",  # a timestamp header is not a valid time
    "stale_timestamp",  # Standard Webhooks: signed timestamp older than the tolerance
    "future_timestamp",  # Standard Webhooks: signed timestamp further ahead than the tolerance
    "stale_event",  # the event is older than the replay window
]
"""Why a delivery failed authentication; every reason maps to HTTP 403 (401 on the topics a
platform answers so: Platform.answers_401)."""

REJECT_REASONS: frozenset[str] = frozenset(get_args(RejectReason))


class WebhookRejected(Exception):
    """A delivery failed authentication; `reason` says why. Never carries secrets or payloads."""

    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        self.reason: RejectReason = reason
        self.detail = detail or reason.replace("_", " ")
        super().__init__(self.detail)


class PayloadRejected(Exception):
    """An authentic delivery whose body is unusable; `kind` is its problem kind.

    Kind "malformed" with `reason` "malformed_json", or "schema" with "schema_mismatch" (the
    payload does not match its topic's model, or holds a value it cannot represent exactly).
    `errors` lists field paths with messages, never payload values.
    """

    def __init__(self, kind: ProblemKind, reason: str, errors: list[str]) -> None:
        self.kind: ProblemKind = kind
        self.reason = reason
        self.errors = errors
        super().__init__(f"{reason}: " + "; ".join(errors))

    @property
    def status(self) -> int:
        """The HTTP status of the kind (bridge.problems.PROBLEM_TYPES)."""
        return PROBLEM_TYPES[self.kind][0]


def check_input(body: object, headers: object) -> bytes:
    """`body` as bytes; WebhookRejected("invalid_input") unless bytes-like with a mapping."""
    if not isinstance(body, bytes | bytearray | memoryview) or not isinstance(headers, Mapping):
        raise WebhookRejected("invalid_input", "body must be bytes and headers a mapping")
    return bytes(body)


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value if isinstance(value, str) else None


class HeaderMap(dict[str, str]):
    """Headers as `normalize_headers` makes them: lower-case names, stripped non-empty values."""


def normalize_headers(headers: Mapping[Any, Any]) -> HeaderMap:
    """Lower-case str names to stripped non-empty values (the first spelling wins); bytes are
    latin-1 decoded, other types skipped. Already normalized headers are returned as they are,
    so the checks of one delivery normalize once."""
    if isinstance(headers, HeaderMap):
        return headers
    found = HeaderMap()
    for raw_key, raw_value in headers.items():
        key, value = _text(raw_key), _text(raw_value)
        if key is not None and value is not None and value.strip():
            found.setdefault(key.lower(), value.strip())
    return found


def header(headers: Mapping[Any, Any], *names: str) -> str | None:
    """Returns the first non-empty value among `names`, matched case-insensitively, else None."""
    found = normalize_headers(headers)
    for name in names:
        value = found.get(name.lower())
        if value is not None:
            return value
    return None


def require_header(headers: Mapping[Any, Any], *names: str) -> str:
    """Like `header`, but raises WebhookRejected("missing_header") naming the header."""
    value = header(headers, *names)
    if value is None:
        raise WebhookRejected("missing_header", f"missing header {names[0]}")
    return value


def decode_base64(text: str) -> bytes | None:
    """Strict base64 decoding; None when `text` is not valid base64."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeError, ValueError):
        return None


def encode_text(text: str) -> bytes:
    """UTF-8 bytes of `text`, never failing (lone surrogates pass through)."""
    return text.encode("utf-8", "surrogatepass")


def any_digest_matches(
    keys: Iterable[bytes], message: bytes, signatures: Iterable[bytes], algorithm: str = "sha256"
) -> bool:
    """True when HMAC(key, message) equals one of `signatures` for one of `keys`.

    Every key is tried against every signature with hmac.compare_digest, with no early exit.
    """
    expected = [hmac.digest(key, message, algorithm) for key in keys]  # one-shot (C) HMAC
    candidates = list(signatures)
    matched = False
    for digest in expected:
        for candidate in candidates:
            matched |= hmac.compare_digest(digest, candidate)
    return matched


def as_utc(moment: datetime | None) -> datetime:
    """`moment` as an aware UTC datetime (naive means UTC); now when None."""
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_time(text: str) -> datetime | None:
    """Parses an RFC 3339 time (nanoseconds allowed, naive means UTC); None when invalid."""
    try:
        parsed = datetime.fromisoformat(text)
        return as_utc(parsed)
    except (ValueError, OverflowError):
        return None


def header_time(headers: Mapping[Any, Any], *names: str) -> datetime | None:
    """The time in the first present header of `names`; WebhookRejected when it is not a time."""
    text = header(headers, *names)
    if text is None:
        return None
    parsed = parse_time(text)
    if parsed is None:
        raise WebhookRejected("malformed_timestamp", f"header {names[0]} is not an RFC 3339 time")
    return parsed


def rfc3339(moment: datetime, *, nanoseconds: bool = False) -> str:
    """`moment` in UTC as RFC 3339 with a Z suffix (nine fraction digits with `nanoseconds`)."""
    utc = as_utc(moment)
    fraction = f"{utc.microsecond:06d}" + ("000" if nanoseconds else "")
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction}Z"


def hmac_base64(key: bytes, message: bytes, algorithm: str = "sha256") -> str:
    """base64(HMAC(key, message)) with `algorithm`, as platforms put it in a header."""
    return base64.b64encode(hmac.digest(key, message, algorithm)).decode("ascii")
