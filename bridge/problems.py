"""RFC 9457 problem details: one stable type URI and title per kind of error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import orjson

ProblemKind = Literal[
    "authentication",
    "too_large",
    "media_type",
    "malformed",
    "schema",
    "unavailable",
    "method",
    "internal",
    "not_found",
    "timeout",
    "uri_too_long",
    "headers_too_large",
    "bad_request",
    "overloaded",
    "unauthorized",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"
_BASE = "urn:commerce-gateway:problem:"

# kind -> (HTTP status, type URI, title): stable, documented, never per request. The one
# place a rejection's kind becomes an HTTP status.
PROBLEM_TYPES: dict[ProblemKind, tuple[int, str, str]] = {
    "authentication": (403, _BASE + "authentication-failed", "Webhook authentication failed"),
    "too_large": (413, _BASE + "payload-too-large", "Request body too large"),
    "media_type": (415, _BASE + "unsupported-media-type", "Request body is not JSON"),
    "malformed": (400, _BASE + "malformed-payload", "Malformed request body"),
    "schema": (422, _BASE + "schema-mismatch", "Payload does not match the topic's schema"),
    "unavailable": (503, _BASE + "unavailable", "Delivery could not be stored, retry later"),
    "method": (405, _BASE + "method-not-allowed", "Method not allowed"),
    "internal": (500, _BASE + "callback-failed", "The webhook handler failed, retry later"),
    "not_found": (404, _BASE + "not-found", "No such resource"),
    "timeout": (408, _BASE + "request-timeout", "The request did not arrive in time"),
    "uri_too_long": (414, _BASE + "uri-too-long", "Request target too long"),
    "headers_too_large": (431, _BASE + "headers-too-large", "Request header fields too large"),
    "bad_request": (400, _BASE + "bad-request", "Malformed HTTP request"),
    "overloaded": (503, _BASE + "overloaded", "The bridge is busy, retry later"),
    # A failed authentication on a topic the platform wants answered 401 (Shopify's privacy
    # webhooks; Platform.answers_401): the same problem type as "authentication".
    "unauthorized": (401, _BASE + "authentication-failed", "Webhook authentication failed"),
}


class ProblemError(Exception):
    """An error answered as application/problem+json.

    `detail` is per request and must never contain a secret, a signature or the payload.
    """

    def __init__(
        self,
        kind: ProblemKind,
        reason: str,
        detail: str,
        *,
        errors: Sequence[str] = (),
        platform: str | None = None,
    ) -> None:
        """Builds the problem; `reason` is a stable machine-readable code."""
        super().__init__(detail)
        self.kind = kind
        self.reason = reason
        self.detail = detail
        self.errors = tuple(errors)
        self.platform = platform
        self.quarantine_entry: int | None = None  # set when the delivery was kept in quarantine

    @property
    def status(self) -> int:
        """The HTTP status code."""
        return PROBLEM_TYPES[self.kind][0]

    def body(self, instance: str | None = None) -> bytes:
        """The JSON document."""
        _, type_uri, title = PROBLEM_TYPES[self.kind]
        document: dict[str, Any] = {
            "type": type_uri,
            "title": title,
            "status": self.status,
            "detail": self.detail,
            "reason": self.reason,
        }
        if instance:
            document["instance"] = instance
        if self.errors:
            document["errors"] = list(self.errors)
        return orjson.dumps(document)
