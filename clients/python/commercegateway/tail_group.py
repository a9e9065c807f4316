"""`commerce-gateway tail … --group GROUP`: consume as a group member, print, then acknowledge."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from google.protobuf.message import Message

from commercegateway.client import CoreClient
from commercegateway.subscriptions import ReconnectedInfo, ReconnectInfo
from commercegateway.v1 import events_pb2

# What `tail orders|alerts --group` consume: a group delivers canonical events, and order
# completions and inventory alerts are derived from these by the core per subscriber.
GROUP_KINDS: dict[str, tuple[events_pb2.EventKind.ValueType, ...]] = {
    "orders": (events_pb2.EVENT_KIND_ORDER_CREATED, events_pb2.EVENT_KIND_CHECKOUT_COMPLETED),
    "alerts": (events_pb2.EVENT_KIND_INVENTORY_UPDATED,),
}


def group_kinds(args: argparse.Namespace) -> tuple[events_pb2.EventKind.ValueType, ...]:
    """The kinds `tail STREAM --group` consumes: --kind for events, else the stream's kinds."""
    return GROUP_KINDS.get(args.stream, tuple(args.kind))


def _report_reconnect(info: ReconnectInfo) -> None:
    why = f"{info.error.reason}: {info.error.details}" if info.error else "stream closed"
    lead = "stream ended" if info.attempt == 1 else "core still unreachable"
    print(
        f"tail: {lead} ({why}); rejoining {info.stream} in {info.delay:.1f}s "
        f"(attempt {info.attempt}); unacknowledged events come again",
        file=sys.stderr,
        flush=True,
    )


def _reconnected_reporter(target: str) -> Callable[[ReconnectedInfo], None]:
    def report(info: ReconnectedInfo) -> None:
        print(f"tail: reconnected to {target}, rejoined {info.stream}", file=sys.stderr, flush=True)

    return report


async def follow_group(
    client: CoreClient,
    args: argparse.Namespace,
    target: str,
    render: Callable[[Message], str],
) -> int:
    """Consumes group `args.group` until cancelled: prints each event (with its attempt when
    it is a redelivery, in text) and acknowledges it once printed; returns the exit code 0."""
    consumer = client.consume(
        args.group,
        kinds=group_kinds(args),
        shop=args.shop,
        start_after=args.after,
        on_reconnect=_report_reconnect,
    )
    consumer.on_reconnected = _reconnected_reporter(target)
    print(
        f"tail: consuming {args.stream} as a member of group {args.group} on {target}; "
        "each event is acknowledged once printed; Ctrl-C to stop",
        file=sys.stderr,
        flush=True,
    )
    async with consumer:
        async for delivery in consumer:
            line = render(delivery.event)
            if delivery.attempt > 1 and not args.json:
                line += f" (attempt {delivery.attempt})"
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
            await delivery.ack()
    return 0
