"""Pure parts of the consumer-group client: limits, reasons, requests, CLI parsing."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from typing import cast

import grpc
import pytest
from commercegateway import CoreClient, run_callbacks
from commercegateway.callbacks import failure_reason, handle_delivery
from commercegateway.consumer import (
    MAX_REASON_BYTES,
    ConsumeCall,
    Delivery,
    _Link,
    answers_request,
    check_group_name,
    truncate_reason,
    whole_seconds,
)
from commercegateway.groups_cli import parse_seek_target
from commercegateway.tail_group import group_kinds
from commercegateway.v1 import core_service_pb2 as pb
from commercegateway.v1 import events_pb2

from tests.support.waiting import wait_for

pytestmark = pytest.mark.unit  # pure: no core, bridge, database or other process


def test_reason_is_cut_to_1024_utf8_bytes_never_inside_a_character() -> None:
    assert truncate_reason("short") == "short"
    cut = truncate_reason("é" * 600)  # 1,200 bytes
    assert len(cut.encode("utf-8")) == MAX_REASON_BYTES
    assert cut == "é" * 512
    odd = truncate_reason("x" + "é" * 600)  # the 1,024th byte is half a character
    assert len(odd.encode("utf-8")) == MAX_REASON_BYTES - 1
    assert odd.endswith("é")


def test_failure_reason_names_the_exception_type_and_message_within_the_bound() -> None:
    assert failure_reason(RuntimeError("model timed out")) == "RuntimeError: model timed out"
    assert failure_reason(KeyError()) == "KeyError"
    assert len(failure_reason(ValueError("v" * 5000)).encode()) == MAX_REASON_BYTES


def test_whole_seconds_rounds_up_and_enforces_the_bounds() -> None:
    assert whole_seconds(0.2, minimum=1, name="extension") == 1
    assert whole_seconds(timedelta(minutes=2), minimum=1, name="extension") == 120
    assert whole_seconds(0, minimum=0, name="delay") == 0
    for bad in (0, 3601, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="extension must be 1 to 3600 seconds"):
            whole_seconds(bad, minimum=1, name="extension")
    with pytest.raises(ValueError, match="delay"):
        whole_seconds(-1, minimum=0, name="delay")


def test_group_names_follow_the_proto_rule() -> None:
    assert check_group_name("session-finalizer.v2_a") == "session-finalizer.v2_a"
    for bad in ("", "a" * 129, "with space", "slash/name", "ünï"):
        with pytest.raises(ValueError, match="group name"):
            check_group_name(bad)


def test_answers_ready_at_once_go_out_in_one_request() -> None:
    request = answers_request(
        [
            "a1",
            pb.ConsumeNack(ack_id="n1", reason="boom", delay_seconds=3),
            pb.ConsumeExtension(ack_id="e1", seconds=60),
            "a2",
        ]
    )
    assert list(request.ack_ids) == ["a1", "a2"]
    assert [(n.ack_id, n.reason, n.delay_seconds) for n in request.nacks] == [("n1", "boom", 3)]
    assert [(e.ack_id, e.seconds) for e in request.extensions] == [("e1", 60)]
    assert not request.HasField("start")


def test_seek_target_is_a_sequence_or_an_aware_iso_time() -> None:
    assert parse_seek_target("42") == 42
    assert parse_seek_target("2026-01-31T12:00:00Z") == datetime(2026, 1, 31, 12, tzinfo=UTC)
    with pytest.raises(argparse.ArgumentTypeError, match="time zone"):
        parse_seek_target("2026-01-31T12:00:00")
    with pytest.raises(argparse.ArgumentTypeError, match="sequence number or an ISO-8601"):
        parse_seek_target("yesterday")


def test_tail_group_kinds_per_stream() -> None:
    def kinds(stream: str, kind: list[int]) -> tuple[int, ...]:
        return group_kinds(argparse.Namespace(stream=stream, kind=kind))

    assert kinds("orders", []) == (
        events_pb2.EVENT_KIND_ORDER_CREATED,
        events_pb2.EVENT_KIND_CHECKOUT_COMPLETED,
    )
    assert kinds("alerts", []) == (events_pb2.EVENT_KIND_INVENTORY_UPDATED,)
    assert kinds("events", []) == ()
    assert kinds("events", [events_pb2.EVENT_KIND_PRODUCT_UPDATED]) == (
        events_pb2.EVENT_KIND_PRODUCT_UPDATED,
    )


class _Answers:
    """Stands in for a Delivery: records how it was answered."""

    def __init__(self) -> None:
        self.event = events_pb2.Event(sequence=7)
        self.attempt = 1
        self.answers: list[tuple[str, str]] = []

    async def ack(self) -> bool:
        self.answers.append(("ack", ""))
        return True

    async def nack(self, reason: str = "") -> bool:
        self.answers.append(("nack", reason))
        return True


async def test_handle_delivery_acks_on_return_and_nacks_with_the_error_on_raise() -> None:
    returned, raised = _Answers(), _Answers()

    async def fine(event: events_pb2.Event) -> None:
        assert event.sequence == 7

    def broken(event: events_pb2.Event) -> None:
        raise LookupError("x" * 2000)

    await handle_delivery(cast(Delivery, returned), fine)
    await handle_delivery(cast(Delivery, raised), broken)
    assert returned.answers == [("ack", "")]
    ((answer, reason),) = raised.answers
    assert answer == "nack"
    assert reason.startswith("LookupError: xxx")
    assert len(reason.encode()) == MAX_REASON_BYTES


async def test_run_callbacks_with_group_refuses_what_a_group_cannot_serve() -> None:
    async with CoreClient("127.0.0.1:1") as client:  # never connected: refused before
        refusals = {
            "not on_inventory_change": {"on_inventory_change": print},
            "exactly one of on_event": {"on_event": print, "on_catalog_change": print},
            "cursor_dir does not apply": {"on_event": print, "cursor_dir": "cursors"},
            "kinds applies to on_event only": {
                "on_catalog_change": print,
                "kinds": [events_pb2.EVENT_KIND_ORDER_CREATED],
            },
        }
        for message, arguments in refusals.items():
            with pytest.raises(ValueError, match=message):
                await run_callbacks(client, group="g", **arguments)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="group name"):
            client.consume("no spaces")
        with pytest.raises(ValueError, match="max_unacked"):
            client.consume("g", max_unacked=1001)
        with pytest.raises(ValueError, match="ack_deadline"):
            client.consume("g", ack_deadline=timedelta(hours=2))


class _FakeCall:
    """Stands in for a ConsumeEvents call: records each request; a write waits for `gate`."""

    def __init__(self) -> None:
        self.requests: list[pb.ConsumeEventsRequest] = []
        self.gate = asyncio.Event()
        self.writing = asyncio.Event()
        self.failed = False

    def done(self) -> bool:
        return self.failed

    async def write(self, request: pb.ConsumeEventsRequest) -> None:
        self.writing.set()
        await self.gate.wait()
        if self.failed:
            raise asyncio.InvalidStateError("the call ended")
        self.requests.append(request)

    async def done_writing(self) -> None:
        return None

    async def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.OK

    def cancel(self) -> bool:
        self.failed = True
        return True


async def test_answers_made_during_a_write_go_together_in_the_next_request() -> None:
    call = _FakeCall()
    link = _Link(cast(ConsumeCall, call))
    first = asyncio.create_task(link.send("a1"))
    await asyncio.wait_for(call.writing.wait(), 5)  # the first write is in flight
    later = [
        asyncio.create_task(link.send("a2")),
        asyncio.create_task(link.send(pb.ConsumeNack(ack_id="n1", reason="r"))),
        asyncio.create_task(link.send(pb.ConsumeExtension(ack_id="e1", seconds=5))),
    ]
    await wait_for(lambda: len(link._queue) == 3, message="answers queued behind the write")
    call.gate.set()
    assert await asyncio.wait_for(asyncio.gather(first, *later), 5) == [True] * 4
    assert [list(r.ack_ids) for r in call.requests] == [["a1"], ["a2"]]
    assert [n.ack_id for n in call.requests[1].nacks] == ["n1"]
    assert [e.ack_id for e in call.requests[1].extensions] == ["e1"]
    await link.close()
    assert await link.send("a3") is False  # closed: answers do nothing


async def test_answers_on_a_stream_that_ended_return_false() -> None:
    call = _FakeCall()
    link = _Link(cast(ConsumeCall, call))
    call.failed = True
    call.gate.set()
    assert not link.live
    assert await link.send("a1") is False
    await link.close()
