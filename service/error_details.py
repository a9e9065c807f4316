"""The gRPC status of a domain error with its machine-readable `google.rpc` details.

A refusal that carries data a client acts on (today: the oldest sequence of an expired cursor)
sends it as a `google.rpc.ErrorInfo` in the rich status (`grpc-status-details-bin` trailer),
next to the English message, so that clients read a field instead of parsing prose.
"""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from service.errors import CursorOutOfRangeError, DomainError, status_of

DOMAIN = "commercegateway.v1"
"""The `ErrorInfo.domain` of every detail the core sends."""
CURSOR_EXPIRED = "CURSOR_EXPIRED"
"""The `ErrorInfo.reason` of OUT_OF_RANGE: the cursor is older than the retained log."""
OLDEST_SEQUENCE = "oldest_sequence"
"""The `ErrorInfo.metadata` key of CURSOR_EXPIRED: the oldest available sequence, in decimal."""


def error_info(error: DomainError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo describing `error`, for the errors that carry data; None otherwise."""
    if isinstance(error, CursorOutOfRangeError):
        return error_details_pb2.ErrorInfo(
            reason=CURSOR_EXPIRED, domain=DOMAIN, metadata={OLDEST_SEQUENCE: str(error.oldest)}
        )
    return None


def grpc_status(error: DomainError) -> grpc.Status | None:
    """The rich status (code, message and ErrorInfo) of an error that carries data; None for
    the others, which a plain code and message describe fully."""
    info = error_info(error)
    if info is None:
        return None
    status = status_pb2.Status(code=status_of(error).value[0], message=str(error))
    status.details.add().Pack(info)
    result: grpc.Status = rpc_status.to_status(status)
    return result
