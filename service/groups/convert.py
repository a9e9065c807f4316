"""Consumer-group state (service.store.group_rows) as API messages."""

from __future__ import annotations

from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from service.store.group_admin import GroupView, ParkedRow


def group_message(view: GroupView) -> api.ConsumerGroup:
    """The ConsumerGroup message of a group's view."""
    message = api.ConsumerGroup(
        name=view.name,
        shop=view.shop,
        kinds=[ev.EventKind.ValueType(kind) for kind in view.kinds],
        acked_through_sequence=view.acked_through,
        lag=view.lag,
        in_flight=view.in_flight,
        parked=view.parked,
        max_attempts=view.max_attempts,
        head_sequence=view.head,
    )
    message.create_time.FromMicroseconds(view.create_time_us)
    for member in view.members:
        item = message.members.add(
            peer=member.peer,
            in_flight=member.in_flight,
            max_unacked=member.max_unacked,
            replica=member.replica,
        )
        item.connect_time.FromMicroseconds(member.connect_time_us)
    return message


def parked_message(row: ParkedRow) -> api.ParkedEvent:
    """The ParkedEvent message of a parked row."""
    message = api.ParkedEvent(
        event=ev.Event.FromString(row.data), attempts=row.attempts, last_error=row.last_error
    )
    message.park_time.FromMicroseconds(row.parked_at_us)
    return message
