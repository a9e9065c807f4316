"""Recognising a lost PostgreSQL connection and reporting it to callers as UNAVAILABLE."""

from __future__ import annotations

import asyncpg

from service.errors import InvalidArgumentError, StoreUnavailableError

__all__ = ["StoreUnavailableError", "as_request_error", "is_connection_error"]


# Lost sockets, refused connections, server shutting down or starting up, connect timeouts.
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
)


def is_connection_error(error: BaseException) -> bool:
    """True when `error` means the database (or the way to it) is gone, not a bad query."""
    return isinstance(error, _CONNECTION_ERRORS)


def as_request_error(error: Exception) -> Exception:
    """The error a failed write reports to its caller: text PostgreSQL cannot store (a NUL
    character) is the request's fault (INVALID_ARGUMENT), anything else stays as it is."""
    if isinstance(error, asyncpg.exceptions.CharacterNotInRepertoireError):
        return InvalidArgumentError(
            "a text field contains a NUL character, which the PostgreSQL store cannot keep"
        )
    return error
