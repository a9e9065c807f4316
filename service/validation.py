"""Checks of incoming requests; each failure is an InvalidArgumentError with a clear message.

The checks of one event (shared with the bridge) are in `common.event_validation`."""

from __future__ import annotations

from collections.abc import Sequence

from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from common.event_validation import MAX_EVENT_BYTES, validate_event
from service.convert import BINDING_KINDS
from service.domain import Binding
from service.errors import InvalidArgumentError

__all__ = [
    "MAX_BATCH",
    "MAX_EVENT_BYTES",
    "MAX_PAGE",
    "check_batch",
    "check_bindings",
    "check_cursor",
    "page_size",
]

MAX_BATCH = 1000
MAX_PAGE = 1000


def check_batch(events: Sequence[ev.Event], max_event_bytes: int = MAX_EVENT_BYTES) -> None:
    """Requires 1 to 1,000 valid events, each at most `max_event_bytes` serialized."""
    if not events:
        raise InvalidArgumentError("events is empty: publish at least one event")
    if len(events) > MAX_BATCH:
        raise InvalidArgumentError(
            f"too many events in one request: {len(events)} (at most {MAX_BATCH})"
        )
    for index, event in enumerate(events):
        validate_event(event, index, max_event_bytes)


def check_cursor(after: int | None) -> None:
    """Requires a non-negative cursor."""
    if after is not None and after < 0:
        raise InvalidArgumentError("after_sequence must be >= 0")


def page_size(requested: int) -> int:
    """The effective page size: 0 means 100; negative is refused; capped at 1,000."""
    if requested < 0:
        raise InvalidArgumentError("page_size must be >= 0")
    return min(requested or 100, MAX_PAGE)


def check_bindings(request: api.BindSessionRequest) -> list[Binding]:
    """Requires a session id, a shop and at least one well-formed binding."""
    if not request.session_id:
        raise InvalidArgumentError("session_id is required")
    if not request.shop:
        raise InvalidArgumentError("shop is required")
    if not request.bindings:
        raise InvalidArgumentError("bindings is empty: bind at least one key")
    bindings = []
    for index, binding in enumerate(request.bindings):
        if binding.kind not in BINDING_KINDS:
            raise InvalidArgumentError(f"bindings[{index}].kind is required")
        if not binding.value:
            raise InvalidArgumentError(f"bindings[{index}].value is required")
        bindings.append(Binding(BINDING_KINDS[binding.kind], binding.value))
    return bindings
