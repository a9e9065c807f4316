"""Test support: a consumer-group member on the raw generated grpc.aio stubs (not the client
package), recording what it receives and answering each delivery as its policy says.

Run as a module it is a member process (`python -m tests.support.group_member ADDRESS GROUP
OUT_FILE [ACK_DEADLINE [START_AFTER]]`): it joins (a new group starts after START_AFTER, 0 by
default: the log's beginning), holds every
delivery without answering and appends one line "sequence attempt" per delivery to OUT_FILE, so
a test can SIGKILL it while it holds them.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import grpc
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import core_service_pb2_grpc

Answer = Literal["ack", "nack", "hold"]
# Decides what a member does with a delivery.
Policy = Callable[[api.ConsumerDelivery], Answer]


def always_ack(_delivery: api.ConsumerDelivery) -> Answer:
    """The policy of a healthy member."""
    return "ack"


@dataclass(frozen=True)
class Received:
    """One delivery as a member saw it, with when it arrived and when it was answered."""

    sequence: int
    attempt: int
    ack_id: str
    event_key: str
    received: float
    answered: float | None = None


@dataclass
class GroupMember:
    """One member stream: start options, policy, and what it received."""

    stub: Any
    group: str
    policy: Policy = always_ack
    kinds: Sequence[int] = ()
    shop: str = ""
    start_after: int | None = None
    max_unacked: int = 0
    ack_deadline: int = 0
    nack_delay: int = 0
    name: str = "member"
    metadata: Sequence[tuple[str, str]] = ()
    received: list[Received] = field(default_factory=list)
    acked: list[int] = field(default_factory=list)
    nacked: list[int] = field(default_factory=list)
    held: dict[int, str] = field(default_factory=dict)
    call: Any = None
    error: grpc.aio.AioRpcError | None = None

    def start_request(self) -> api.ConsumeEventsRequest:
        """The first request of the stream."""
        start = api.ConsumeStart(
            group=self.group,
            shop=self.shop,
            kinds=list(self.kinds),  # type: ignore[arg-type]
            max_unacked=self.max_unacked,
            ack_deadline_seconds=self.ack_deadline,
        )
        if self.start_after is not None:
            start.start_after_sequence = self.start_after
        return api.ConsumeEventsRequest(start=start)

    async def run(self) -> None:
        """Consumes until the stream ends or the task is cancelled; a stream ending with an
        error status is kept in `error`."""
        self.call = self.stub.ConsumeEvents(metadata=tuple(self.metadata) or None)
        await self.call.write(self.start_request())
        try:
            async for response in self.call:
                await self._answer(response.deliveries)
        except grpc.aio.AioRpcError as error:
            self.error = error

    async def _answer(self, deliveries: Sequence[api.ConsumerDelivery]) -> None:
        acks: list[str] = []
        nacks: list[api.ConsumeNack] = []
        now = time.monotonic()
        for delivery in deliveries:
            sequence = delivery.event.sequence
            answer = self.policy(delivery)
            self.received.append(
                Received(
                    sequence,
                    delivery.attempt,
                    delivery.ack_id,
                    key_of(delivery),
                    now,
                    None if answer == "hold" else now,
                )
            )
            if answer == "ack":
                acks.append(delivery.ack_id)
                self.acked.append(sequence)
            elif answer == "nack":
                reason = f"{self.name} says no"
                nacks.append(
                    api.ConsumeNack(
                        ack_id=delivery.ack_id, reason=reason, delay_seconds=self.nack_delay
                    )
                )
                self.nacked.append(sequence)
            else:
                self.held[sequence] = delivery.ack_id
        if acks or nacks:
            await self.call.write(api.ConsumeEventsRequest(ack_ids=acks, nacks=nacks))

    async def ack_held(self) -> None:
        """Acknowledges every delivery held so far."""
        ids = list(self.held.values())
        self.acked.extend(self.held)
        self.held.clear()
        for start in range(0, len(ids), 1000):
            await self.call.write(api.ConsumeEventsRequest(ack_ids=ids[start : start + 1000]))

    def cancel(self) -> None:
        """Ends the stream from the member's side."""
        if self.call is not None:
            self.call.cancel()


def key_of(delivery: api.ConsumerDelivery) -> str:
    """The order key the tests give their events: an inventory event's item and location."""
    item = delivery.event.inventory_updated
    return f"{item.inventory_item_id}@{item.location_id}"


async def _hold_forever(address: str, group: str, out: str, deadline: int, start: int) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = core_service_pb2_grpc.CoreServiceStub(channel)
        member = GroupMember(
            stub, group, lambda _d: "hold", start_after=start, ack_deadline=deadline
        )
        call = stub.ConsumeEvents()  # type: ignore[call-arg]  # reader-writer API
        member.call = call
        await call.write(member.start_request())
        with open(out, "a", encoding="utf-8") as sink:  # noqa: ASYNC230 - a test helper process
            async for response in call:
                for delivery in response.deliveries:
                    sink.write(f"{delivery.event.sequence} {delivery.attempt}\n")
                sink.flush()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            _hold_forever(
                sys.argv[1],
                sys.argv[2],
                sys.argv[3],
                int(sys.argv[4]) if len(sys.argv) > 4 else 0,
                int(sys.argv[5]) if len(sys.argv) > 5 else 0,
            )
        )
