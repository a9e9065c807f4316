"""The one error type callers of the core see, and its translation from gRPC errors."""

from __future__ import annotations

import re
from typing import Literal, cast

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

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

# The core sends the oldest retained sequence of OUT_OF_RANGE as a google.rpc.ErrorInfo in the
# rich status (grpc-status-details-bin): reason CURSOR_EXPIRED, domain commercegateway.v1,
# metadata oldest_sequence. Cores before that detail existed only named it in the message, so
# the message is read as a fallback (prefer the number that follows "oldest", else the last).
DOMAIN = "commercegateway.v1"
CURSOR_EXPIRED = "CURSOR_EXPIRED"
OLDEST_SEQUENCE = "oldest_sequence"
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
    """Returns the oldest available sequence named in an OUT_OF_RANGE message, if any (the
    fallback for cores that send no ErrorInfo)."""
    match = _OLDEST.search(details)
    if match:
        return int(match.group(1))
    numbers = _NUMBER.findall(details)
    return int(numbers[-1]) if numbers else None


def error_infos(error: grpc.aio.AioRpcError) -> list[error_details_pb2.ErrorInfo]:
    """The google.rpc.ErrorInfo details of an error's rich status (none without one)."""
    try:
        # An AioRpcError answers code(), details() and trailing_metadata() like a grpc.Call.
        status: status_pb2.Status | None = rpc_status.from_call(cast(grpc.Call, error))
    except ValueError:  # a rich status that contradicts the call's code or message
        return []
    infos = []
    for detail in status.details if status is not None else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):  # False for a detail of another type
            infos.append(info)
    return infos


def oldest_sequence(error: grpc.aio.AioRpcError) -> int | None:
    """The oldest available sequence of an OUT_OF_RANGE error: its CURSOR_EXPIRED ErrorInfo's
    `oldest_sequence`, else (a core without error details) the number its message names."""
    for info in error_infos(error):
        if info.domain == DOMAIN and info.reason == CURSOR_EXPIRED:
            value = info.metadata.get(OLDEST_SEQUENCE, "")
            if value.isdigit():
                return int(value)
    return parse_oldest_sequence(error.details() or "")


def from_rpc_error(error: grpc.aio.AioRpcError) -> CoreError:
    """Translates a gRPC error into the matching CoreError (CursorExpiredError for OUT_OF_RANGE)."""
    details = error.details() or ""
    if error.code() == grpc.StatusCode.OUT_OF_RANGE:
        return CursorExpiredError(details, oldest_sequence(error))
    return CoreError(error.code(), details)
