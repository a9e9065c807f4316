"""Checks of consumer-group requests; each failure is an InvalidArgumentError with a clear
message (the bounds are in service.groups.limits)."""

from __future__ import annotations

from dataclasses import dataclass

from commercegateway.v1 import core_service_pb2 as api

from service.errors import InvalidArgumentError
from service.groups import limits
from service.store.group_rows import Settle

MAX_SHOP_CHARS = 1_024
MAX_KINDS = 64


@dataclass(frozen=True, slots=True)
class ConsumeOptions:
    """A checked ConsumeStart: group, filter, start position and this member's limits."""

    group: str
    shop: str
    kinds: tuple[int, ...]
    start_after: int | None
    max_unacked: int
    ack_deadline_seconds: int


def check_group_name(name: str) -> str:
    """Requires 1 to 128 letters, digits, ".", "_" and "-"."""
    if not limits.GROUP_NAME.fullmatch(name):
        raise InvalidArgumentError(
            f"group name {name[:140]!r} is invalid: use 1 to 128 letters, digits, '.', '_' and '-'"
        )
    return name


def check_start(request: api.ConsumeEventsRequest) -> ConsumeOptions:
    """The options of a stream's first request; it must carry `start` and nothing else."""
    if not request.HasField("start"):
        raise InvalidArgumentError(
            "the first ConsumeEvents request must set start (the group to consume)"
        )
    if request.ack_ids or request.nacks or request.extensions:
        raise InvalidArgumentError("the first ConsumeEvents request carries start only")
    start = request.start
    check_group_name(start.group)
    if len(start.shop) > MAX_SHOP_CHARS:
        raise InvalidArgumentError(f"shop is longer than {MAX_SHOP_CHARS} characters")
    kinds = tuple(sorted({int(kind) for kind in start.kinds if kind}))
    if len(kinds) > MAX_KINDS:
        raise InvalidArgumentError(f"too many kinds: at most {MAX_KINDS}")
    if not 0 <= start.max_unacked <= limits.MAX_UNACKED:
        raise InvalidArgumentError(
            f"max_unacked must be 0 (default {limits.DEFAULT_MAX_UNACKED}) to {limits.MAX_UNACKED}"
        )
    if not 0 <= start.ack_deadline_seconds <= limits.MAX_SECONDS:
        raise InvalidArgumentError(
            f"ack_deadline_seconds must be 0 (default {limits.DEFAULT_ACK_DEADLINE}) to"
            f" {limits.MAX_SECONDS}"
        )
    start_after = None
    if start.HasField("start_after_sequence"):
        if start.start_after_sequence < 0:
            raise InvalidArgumentError("start_after_sequence must not be negative")
        start_after = start.start_after_sequence
    return ConsumeOptions(
        group=start.group,
        shop=start.shop,
        kinds=kinds,
        start_after=start_after,
        max_unacked=start.max_unacked or limits.DEFAULT_MAX_UNACKED,
        ack_deadline_seconds=start.ack_deadline_seconds or limits.DEFAULT_ACK_DEADLINE,
    )


def parse_ack_id(ack_id: str) -> tuple[int, int]:
    """The (sequence, lease version) an ack_id names; InvalidArgumentError when malformed."""
    sequence, dot, version = ack_id.partition(".")
    if not dot or not sequence.isdigit() or not version.isdigit() or len(ack_id) > 40:
        raise InvalidArgumentError(f"ack_id {ack_id[:48]!r} is not one this core delivered")
    return int(sequence), int(version)


def ack_id(sequence: int, version: int) -> str:
    """The ack_id of a delivery: the event's sequence and the lease version it was handed
    out with (any later hand-out changes the version, so a stale ack_id changes nothing)."""
    return f"{sequence}.{version}"


def check_answers(request: api.ConsumeEventsRequest) -> Settle:
    """A later request's acks, nacks and extensions, checked (at most MAX_ANSWERS together)."""
    if request.HasField("start"):
        raise InvalidArgumentError("start is allowed in the first ConsumeEvents request only")
    total = len(request.ack_ids) + len(request.nacks) + len(request.extensions)
    if total > limits.MAX_ANSWERS:
        raise InvalidArgumentError(
            f"too many ack_ids in one request: {total} (at most {limits.MAX_ANSWERS} acks,"
            " nacks and extensions together)"
        )
    acks = [parse_ack_id(item) for item in request.ack_ids]
    nacks = []
    for nack in request.nacks:
        if len(nack.reason.encode()) > limits.MAX_REASON_BYTES:
            raise InvalidArgumentError(
                f"a nack reason is longer than {limits.MAX_REASON_BYTES} bytes"
            )
        if not 0 <= nack.delay_seconds <= limits.MAX_SECONDS:
            raise InvalidArgumentError(
                f"nack delay_seconds must be 0 (the backoff) to {limits.MAX_SECONDS}"
            )
        nacks.append((*parse_ack_id(nack.ack_id), nack.reason, nack.delay_seconds))
    extensions = []
    for extension in request.extensions:
        if not 1 <= extension.seconds <= limits.MAX_SECONDS:
            raise InvalidArgumentError(f"extension seconds must be 1 to {limits.MAX_SECONDS}")
        extensions.append((*parse_ack_id(extension.ack_id), extension.seconds))
    return Settle(acks, nacks, extensions)
