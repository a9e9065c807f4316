"""The core's status for operators: head sequence and each subscriber stream's lag."""

from __future__ import annotations

from commercegateway.v1 import core_service_pb2 as api

from service.fanout import Broadcaster

MAX_LISTED_SUBSCRIBERS = 1000
"""GetCoreStatus lists at most this many subscriber streams (the most behind first)."""


def core_status(broadcaster: Broadcaster) -> api.GetCoreStatusResponse:
    """The head sequence and every connected subscriber stream with how far behind it is."""
    head = broadcaster.last_sequence
    subscribers: list[api.SubscriberStatus] = []
    for subscription in broadcaster.subscriptions():
        replaying = subscription.replaying
        delivered = 0 if replaying else subscription.delivered_through
        subscribers.append(
            api.SubscriberStatus(
                peer=subscription.peer,
                delivered_sequence=delivered,
                behind=0 if replaying else max(0, head - delivered),
                replaying=replaying,
                queued=subscription.pending,
                capacity=subscription.capacity,
            )
        )
    subscribers.sort(key=lambda item: (not item.replaying, -item.behind, item.peer))
    return api.GetCoreStatusResponse(
        head_sequence=head,
        subscribers=subscribers[:MAX_LISTED_SUBSCRIBERS],
        subscriber_count=len(subscribers),
        slow_subscribers_ended=broadcaster.slow_subscribers,
    )
