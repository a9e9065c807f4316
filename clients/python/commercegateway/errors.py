"""The one error type callers of the core see, and its translation from gRPC errors."""

from __future__ import annotations

import re
from typing import Literal

import grpc

Reason = Literal[
    "cancelled",
    "unknown",
    "invalid_argument",
    "deadline_exceeded",
    "not_found",
    "already_exists",
    "permission_denied",
    "resource_exhausted",
    "failed_precondition",
    "aborted",
    "out_of_range",
    "unimplemented",
    "internal",
    "unavailable",
    "data_loss",
    "unauthenticated",
]
"""Why a call failed: the gRPC status code's name in lower case."""

_REASONS: dict[grpc.StatusCode, Reason] = {
    grpc.StatusCode.CANCELLED: "cancelled",
    grpc.StatusCode.UNKNOWN: "unknown",
    grpc.StatusCode.INVALID_ARGUMENT: "invalid_argument",
    grpc.StatusCode.DEADLINE_EXCEEDED: "deadline_exceeded",
    grpc.StatusCode.NOT_FOUND: "not_found",
    grpc.StatusCode.ALREADY_EXISTS: "already_exists",
    grpc.StatusCode.PERMISSION_DENIED: "permission_denied",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "resource_exhausted",
    grpc.StatusCode.FAILED_PRECONDITION: "failed_precondition",
    grpc.StatusCode.ABORTED: "aborted",
    grpc.StatusCode.OUT_OF_RANGE: "out_of_range",
    grpc.StatusCode.UNIMPLEMENTED: "unimplemented",
    grpc.StatusCode.INTERNAL: "internal",
    grpc.StatusCode.UNAVAILABLE: "unavailable",
    grpc.StatusCode.DATA_LOSS: "data_loss",
    grpc.StatusCode.UNAUTHENTICATED: "unauthenticated",
}

# The core names the oldest retained sequence in its OUT_OF_RANGE message; prefer the number
# that follows "oldest", fall back to the last number in the message.
_OLDEST = re.compile(r"oldest\D*?(\d+)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+")


class CoreError(Exception):
    """A call to the core failed.

    Attributes:
        status: the gRPC status code the core (or the channel) answered.
        reason: the status code's name in lower case, from a closed set.
        details: the core's short English message.
    """

    def __init__(self, status: grpc.StatusCode, details: str) -> None:
        self.status = status
        self.reason: Reason = _REASONS.get(status, "unknown")
        self.details = details
        super().__init__(f"{self.reason}: {details}" if details else self.reason)


class CursorExpiredError(CoreError):
    """A subscription's cursor is older than the core's retained log (OUT_OF_RANGE).

    The items between the cursor and `oldest_sequence` are gone: resynchronise state from
    `CoreClient.list_inventory_levels` (its `sequence` is a fresh cursor) and subscribe again.

    Attributes:
        oldest_sequence: the oldest sequence the core still holds, when its message names it.
    """

    def __init__(self, details: str, oldest_sequence: int | None) -> None:
        super().__init__(grpc.StatusCode.OUT_OF_RANGE, details)
        self.oldest_sequence = oldest_sequence

    def __str__(self) -> str:
        oldest = "unknown" if self.oldest_sequence is None else str(self.oldest_sequence)
        return (
            f"subscription cursor expired (oldest available sequence: {oldest}); resync from "
            f"ListInventoryLevels and subscribe after its sequence: {self.details}"
        )


def parse_oldest_sequence(details: str) -> int | None:
    """Returns the oldest available sequence named in an OUT_OF_RANGE message, if any."""
    match = _OLDEST.search(details)
    if match:
        return int(match.group(1))
    numbers = _NUMBER.findall(details)
    return int(numbers[-1]) if numbers else None


def from_rpc_error(error: grpc.aio.AioRpcError) -> CoreError:
    """Translates a gRPC error into the matching CoreError (CursorExpiredError for OUT_OF_RANGE)."""
    details = error.details() or ""
    if error.code() == grpc.StatusCode.OUT_OF_RANGE:
        return CursorExpiredError(details, parse_oldest_sequence(details))
    return CoreError(error.code(), details)
