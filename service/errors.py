"""Domain errors of the core and the single table mapping them to gRPC status codes.

The base `DomainError` and the event checks' errors live in `common.errors` (the bridge raises
them too); they are re-exported here with the core-only ones.
"""

from __future__ import annotations

import grpc

from common.errors import DomainError, EventTooLargeError, InvalidArgumentError

__all__ = [
    "STATUS_BY_ERROR",
    "CursorOutOfRangeError",
    "DomainError",
    "EventTooLargeError",
    "FailedPreconditionError",
    "InvalidArgumentError",
    "NotFoundError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "ShuttingDownError",
    "StoreUnavailableError",
    "SubscriberTooSlowError",
    "UnauthenticatedError",
    "status_of",
]


class NotFoundError(DomainError):
    """The requested item does not exist."""


class UnauthenticatedError(DomainError):
    """The call carries no token or a wrong one."""


class PermissionDeniedError(DomainError):
    """The caller's token does not allow this call."""


class CursorOutOfRangeError(DomainError):
    """The cursor is older than the retained log."""

    def __init__(self, cursor: int, oldest: int) -> None:
        """Names the refused cursor and the oldest sequence still available."""
        super().__init__(
            f"after_sequence {cursor} is older than the retained log; the oldest available"
            f" sequence is {oldest} (resume with after_sequence >= {oldest - 1})"
        )
        self.oldest = oldest


class SubscriberTooSlowError(DomainError):
    """The subscriber fell too far behind the live stream."""

    def __init__(self, what: str = "subscriber") -> None:
        """A fixed message telling the caller to resume from its cursor."""
        super().__init__(f"{what} fell too far behind; resume from the last received sequence")


class ShuttingDownError(DomainError):
    """The core is stopping."""

    def __init__(self) -> None:
        """A fixed message telling the caller to resume from its cursor elsewhere or later."""
        super().__init__("core is shutting down; resume from the last received sequence")


class StoreUnavailableError(DomainError):
    """The event store cannot be reached right now (e.g. the database connection is lost)."""

    def __init__(self) -> None:
        """A fixed message: no address, credentials or driver details reach the caller."""
        super().__init__("the event store is unavailable; retry later")


class FailedPreconditionError(DomainError):
    """The request conflicts with stored state (e.g. a consumer group's filter)."""


class ResourceExhaustedError(DomainError):
    """A documented limit was reached (e.g. the number of consumer groups or members)."""


STATUS_BY_ERROR: dict[type[DomainError], grpc.StatusCode] = {
    InvalidArgumentError: grpc.StatusCode.INVALID_ARGUMENT,
    NotFoundError: grpc.StatusCode.NOT_FOUND,
    UnauthenticatedError: grpc.StatusCode.UNAUTHENTICATED,
    PermissionDeniedError: grpc.StatusCode.PERMISSION_DENIED,
    CursorOutOfRangeError: grpc.StatusCode.OUT_OF_RANGE,
    SubscriberTooSlowError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ShuttingDownError: grpc.StatusCode.UNAVAILABLE,
    StoreUnavailableError: grpc.StatusCode.UNAVAILABLE,
    FailedPreconditionError: grpc.StatusCode.FAILED_PRECONDITION,
    ResourceExhaustedError: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


def status_of(error: DomainError) -> grpc.StatusCode:
    """The gRPC status code of a domain error."""
    for kind in type(error).__mro__:
        if kind in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[kind]
    return grpc.StatusCode.INTERNAL
