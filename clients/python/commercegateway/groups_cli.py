"""`commerce-gateway groups list|show|parked|redrive|seek|delete`: manage consumer groups."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from commercegateway.client import CoreClient
from commercegateway.config import TlsConfig
from commercegateway.consumer import check_group_name
from commercegateway.errors import CoreError
from commercegateway.render import render_event
from commercegateway.tail import DEFAULT_CORE
from commercegateway.v1 import core_service_pb2 as pb
from commercegateway.v1 import events_pb2

MAX_PAGE = 1000
"""The most parked events one `groups parked` prints (the core's page ceiling)."""
MAX_REDRIVE_IDS = 1000
"""The most `--id` flags one `groups redrive` takes (the core's ceiling)."""


def _group(text: str) -> str:
    try:
        return check_group_name(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _page_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= value <= MAX_PAGE:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_PAGE}")
    return value


def _sequence(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a sequence number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("a sequence number is 0 or more")
    return value


def parse_seek_target(text: str) -> int | datetime:
    """A `--to` value: a sequence number, or an ISO-8601 time with a zone ("Z" is UTC)."""
    if text.strip().isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--to takes a sequence number or an ISO-8601 time, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"give the time zone of {text!r} (for example 2026-01-31T12:00:00Z)"
        )
    return moment


def _add_connection_options(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--core",
        metavar="HOST:PORT",
        default=default,
        help=f"the core's gRPC address (env COMMERCE_GATEWAY_CORE; default {DEFAULT_CORE})",
    )
    parser.add_argument(
        "--token",
        default=default,
        help="bearer token for the core (env COMMERCE_GATEWAY_TOKEN); list, show and parked "
        "take any token, redrive, seek and delete the publisher token",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=default,
        help="print JSON (protobuf's JSON mapping, field names as in the proto)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        default=default,
        help="connect with TLS, trusting the system's roots",
    )
    parser.add_argument(
        "--tls-ca",
        type=Path,
        metavar="PEM",
        default=default,
        help="connect with TLS, trusting these CAs",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares the `groups` actions and their flags."""
    _add_connection_options(parser, None)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list",
        help="List every group: lag, in-flight, parked, members.",
        description="List every consumer group with its position and health.",
    )
    show = actions.add_parser(
        "show",
        help="Show one group: filter, position, lag, members.",
        description="Show one consumer group, with its connected members.",
    )
    parked = actions.add_parser(
        "parked",
        help="List a group's parked events (oldest first).",
        description="List the events a group parked after its maximum number of attempts.",
    )
    parked.add_argument(
        "--limit",
        type=_page_size,
        default=100,
        metavar="N",
        help=f"at most N events (default 100, at most {MAX_PAGE})",
    )
    parked.add_argument(
        "--page-token", default="", metavar="TOKEN", help="continue after a previous page"
    )
    redrive = actions.add_parser(
        "redrive",
        help="Put parked events back into the group (all, or --id SEQUENCE ...).",
        description="Put parked events back into the group: they are delivered again.",
    )
    redrive.add_argument(
        "--id",
        dest="ids",
        type=_sequence,
        action="append",
        default=[],
        metavar="SEQUENCE",
        help="a parked event's sequence (see parked); repeatable; default: every parked event",
    )
    seek = actions.add_parser(
        "seek",
        help="Move a group to a sequence or a time.",
        description="Move a group: events after --to are delivered next (earlier ones are "
        "skipped, later acknowledged ones delivered again).",
    )
    seek.add_argument(
        "--to",
        required=True,
        type=parse_seek_target,
        metavar="SEQUENCE|TIME",
        help="a sequence number, or an ISO-8601 time with a zone (events received after it)",
    )
    delete = actions.add_parser(
        "delete",
        help="Delete a group, its position and its parked events (needs --yes).",
        description="Delete a consumer group for good (its members' streams end).",
    )
    delete.add_argument("--yes", action="store_true", help="confirm the deletion")
    for action in (show, parked, redrive, seek, delete):
        action.add_argument("group", type=_group, metavar="GROUP", help="the group's name")
    for action in (listing, show, parked, redrive, seek, delete):
        _add_connection_options(action, argparse.SUPPRESS)


def _document(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def _printable(text: str) -> str:
    """The text with control characters escaped, so core-held text cannot drive the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _kinds(kinds: Sequence[int]) -> str:
    names = [
        events_pb2.EventKind.Name(k).removeprefix("EVENT_KIND_").lower()  # type: ignore[arg-type]
        for k in kinds
    ]
    return ",".join(names) or "*"


def _time(stamp: Timestamp) -> str:
    return stamp.ToDatetime().isoformat() + "Z" if stamp.seconds or stamp.nanos else "-"


def group_line(group: pb.ConsumerGroup) -> str:
    """One line of `groups list`."""
    return _printable(
        f"{group.name:<24} lag {group.lag:<6} in-flight {group.in_flight:<5} "
        f"parked {group.parked:<5} members {len(group.members):<3} "
        f"acked-through #{group.acked_through_sequence}  "
        f"shop={group.shop or '*'} kinds={_kinds(group.kinds)}"
    )


def group_text(group: pb.ConsumerGroup) -> list[str]:
    """The lines of `groups show`."""
    lines = [
        f"group: {group.name}",
        f"filter: shop={group.shop or '*'} kinds={_kinds(group.kinds)}",
        f"acked through: #{group.acked_through_sequence} (head #{group.head_sequence})",
        f"lag: {group.lag}",
        f"in flight: {group.in_flight}",
        f"parked: {group.parked} (after {group.max_attempts} attempts)",
        f"created: {_time(group.create_time)}",
        f"members: {len(group.members)}",
    ]
    lines += [
        f"  {m.peer}  in flight {m.in_flight}/{m.max_unacked}  since {_time(m.connect_time)}  "
        f"replica {m.replica or '-'}"
        for m in group.members
    ]
    return [_printable(line) for line in lines]


def parked_line(parked: pb.ParkedEvent) -> str:
    """One line of `groups parked`: the event, its attempts, when and why it was parked."""
    return _printable(
        f"{render_event(parked.event)}  attempts {parked.attempts}  parked "
        f"{_time(parked.park_time)}: {parked.last_error or '-'}"
    )


def _emit(args: argparse.Namespace, document: Any, lines: list[str]) -> None:
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        for line in lines:
            print(line)


async def _run(client: CoreClient, args: argparse.Namespace) -> int:
    if args.action == "list":
        groups = await client.list_groups()
        lines = [group_line(g) for g in groups] or ["no groups"]
        _emit(args, [_document(g) for g in groups], lines)
    elif args.action == "show":
        group = await client.get_group(args.group)
        _emit(args, _document(group), group_text(group))
    elif args.action == "parked":
        page = await client.list_parked_events(
            args.group, page_size=args.limit, page_token=args.page_token
        )
        lines = [parked_line(p) for p in page.events] or ["no parked events"]
        if page.next_page_token:
            lines.append(f"(more: --page-token {page.next_page_token})")
        _emit(args, _document(page), lines)
    elif args.action == "redrive":
        count = await client.redrive_parked_events(args.group, args.ids)
        _emit(args, {"redriven": count}, [f"redriven: {count}"])
    elif args.action == "seek":
        target = args.to
        if isinstance(target, datetime):
            group = await client.seek_group(args.group, time=target)
        else:
            group = await client.seek_group(args.group, sequence=target)
        where = f"group {group.name} now at #{group.acked_through_sequence} (lag {group.lag})"
        _emit(args, _document(group), [_printable(where)])
    else:
        await client.delete_group(args.group)
        _emit(args, {"deleted": args.group}, [f"deleted group {args.group}"])
    return 0


async def _connect_and_run(args: argparse.Namespace) -> int:
    target = args.core or os.environ.get("COMMERCE_GATEWAY_CORE") or DEFAULT_CORE
    token = args.token or os.environ.get("COMMERCE_GATEWAY_TOKEN") or None
    tls = TlsConfig(args.tls_ca) if args.tls_ca else bool(args.tls)
    async with CoreClient(target, token=token, tls=tls) as client:
        return await _run(client, args)


def main(args: argparse.Namespace) -> int:
    """Runs the chosen action; 0 on success, 1 when the core refused or failed, 2 on bad input."""
    if args.action == "delete" and not args.yes:
        print(
            "groups: delete drops the group's position and parked events; add --yes",
            file=sys.stderr,
        )
        return 2
    if args.action == "redrive" and len(args.ids) > MAX_REDRIVE_IDS:
        print(f"groups: at most {MAX_REDRIVE_IDS} --id at once", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_connect_and_run(args))
    except CoreError as error:
        print(f"groups: {error}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"groups: {error}", file=sys.stderr)
        return 2


def cli(argv: Sequence[str] | None = None) -> int:
    """The standalone `commerce-gateway-groups` script of the client-only distribution."""
    parser = argparse.ArgumentParser(
        prog="commerce-gateway-groups",
        description="List, show, re-drive, seek and delete consumer groups on the core.",
    )
    add_arguments(parser)
    return main(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
