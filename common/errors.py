"""The refusals the core and the bridge share: an event or a request field the core refuses.

`DomainError` is the base of every refusal whose message is safe to send to the caller; the
core maps each kind to a gRPC status code (`service.errors.STATUS_BY_ERROR`), the bridge maps
the event checks' refusals to HTTP answers (`bridge.validity`).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of the domain errors (refusals); the message is safe to send to the caller."""


class InvalidArgumentError(DomainError):
    """A request field is missing or malformed."""


class EventTooLargeError(InvalidArgumentError):
    """An event's canonical serialization is larger than the maximum event size."""

    def __init__(self, where: str, event_id: str, size: int, limit: int) -> None:
        """Names the event (its position and id), its size and the limit, in bytes."""
        super().__init__(
            f"{where} (id {event_id[:80]!r}) is {size:,} bytes serialized; the maximum event"
            f" size is {limit:,} bytes"
        )
        self.event_id = event_id
        self.size = size
        self.limit = limit
