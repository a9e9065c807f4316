"""Domain errors of the core and the single table mapping them to gRPC status codes."""

from __future__ import annotations

import grpc


class CoreError(Exception):
    """Base of the core's domain errors; the message is safe to send to the caller."""


class InvalidArgumentError(CoreError):
    """A request field is missing or malformed."""


class EventTooLargeError(InvalidArgumentError):
    """An event is larger than the documented maximum event size."""


class NotFoundError(CoreError):
    """The requested item does not exist."""


class UnauthenticatedError(CoreError):
    """The call carries no token or a wrong one."""


class PermissionDeniedError(CoreError):
    """The caller's token does not allow this call."""


class CursorOutOfRangeError(CoreError):
    """The cursor is older than the retained log."""

    def __init__(self, cursor: int, oldest: int) -> None:
        """Names the refused cursor and the oldest sequence still available."""
        super().__init__(
            f"after_sequence {cursor} is older than the retained log; the oldest available"
            f" sequence is {oldest} (resume with after_sequence >= {oldest - 1})"
        )
        self.oldest = oldest


class SubscriberTooSlowError(CoreError):
    """The subscriber fell too far behind the live stream."""

    def __init__(self, what: str = "subscriber") -> None:
        """A fixed message telling the caller to resume from its cursor."""
        super().__init__(f"{what} fell too far behind; resume from the last received sequence")


class ShuttingDownError(CoreError):
    """The core is stopping."""

    def __init__(self) -> None:
        """A fixed message telling the caller to resume from its cursor elsewhere or later."""
        super().__init__("core is shutting down; resume from the last received sequence")


class StoreUnavailableError(CoreError):
    """The event store cannot be reached right now (e.g. the database connection is lost)."""

    def __init__(self) -> None:
        """A fixed message: no address, credentials or driver details reach the caller."""
        super().__init__("the event store is unavailable; retry later")


STATUS_BY_ERROR: dict[type[CoreError], grpc.StatusCode] = {
    InvalidArgumentError: grpc.StatusCode.INVALID_ARGUMENT,
    NotFoundError: grpc.StatusCode.NOT_FOUND,
    UnauthenticatedError: grpc.StatusCode.UNAUTHENTICATED,
    PermissionDeniedError: grpc.StatusCode.PERMISSION_DENIED,
    CursorOutOfRangeError: grpc.StatusCode.OUT_OF_RANGE,
    SubscriberTooSlowError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ShuttingDownError: grpc.StatusCode.UNAVAILABLE,
    StoreUnavailableError: grpc.StatusCode.UNAVAILABLE,
}


def status_of(error: CoreError) -> grpc.StatusCode:
    """The gRPC status code of a domain error."""
    for kind in type(error).__mro__:
        if kind in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[kind]
    return grpc.StatusCode.INTERNAL
