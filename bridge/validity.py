"""One validity contract: each translated event passes the core's own checks before any answer.

The bridge runs `common.event_validation.validate_event`, the very function PublishEvents runs, on
every event of a delivery, so that a delivery the core would refuse is answered 4xx (and kept in
the quarantine) instead of 200 and then parked in the outbox where the platform never retries.
"""

from __future__ import annotations

from collections.abc import Sequence

from commercegateway.v1 import events_pb2

from bridge.platforms.common import PayloadRejected
from common.errors import EventTooLargeError, InvalidArgumentError
from common.event_validation import validate_event

INVALID_EVENT = "invalid_event"
"""422 reason: the delivery translates to an event the core refuses (e.g. NUL in an id)."""
EVENT_TOO_LARGE = "event_too_large"
"""413 reason: the delivery translates to an event over the core's maximum event size."""


def with_default_shop(
    events: Sequence[events_pb2.Event], shop: str
) -> tuple[events_pb2.Event, ...]:
    """The events, each naming `shop` when it names none (a single-shop sender's events)."""
    if shop:
        for event in events:
            if not event.shop:
                event.shop = shop
    return tuple(events)


def check_events(events: Sequence[events_pb2.Event]) -> None:
    """Requires every event to pass the core's checks.

    Raises:
        PayloadRejected: 413 "event_too_large" for an event over the maximum event size,
            422 "invalid_event" for any other check the core fails; `errors` holds the core's
            message (it names the event's index and field).
    """
    for index, event in enumerate(events):
        try:
            validate_event(event, index)
        except EventTooLargeError as error:
            raise PayloadRejected(413, EVENT_TOO_LARGE, [str(error)]) from None
        except InvalidArgumentError as error:
            raise PayloadRejected(422, INVALID_EVENT, [str(error)]) from None
