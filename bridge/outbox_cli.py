"""`commerce-gateway outbox list|show ID|redrive ID|--all|drop ID`: inspect the local outbox."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from google.protobuf import json_format

from bridge.core_channel import bearer_metadata, open_core_channel
from bridge.drain import core_stub
from bridge.operator_options import add_store_options
from bridge.outbox import Outbox
from bridge.outbox_admin import (
    MAX_LIST,
    OutboxDetail,
    OutboxOutcome,
    OutboxSummary,
    drop,
    get_entry,
    list_entries,
    redrive,
)
from bridge.settings import BridgeSettings, SettingsError, load_bridge_settings
from bridge.terminal import printable

_DONE = frozenset({"stored", "duplicate", "dropped"})


def _limit(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_LIST:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_LIST}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares the `outbox` actions and flags."""
    add_store_options(parser, None, "outbox.sqlite3")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list",
        help="List entries (waiting and parked), oldest first, from metadata only.",
        description="List outbox entries: events waiting for the core, and parked ones the "
        "core refused.",
    )
    listing.add_argument("--parked", action="store_true", help="Only parked entries.")
    listing.add_argument(
        "--after", type=int, default=0, metavar="ID", help="Start after this entry id (paging)."
    )
    listing.add_argument(
        "--limit",
        type=_limit,
        default=100,
        metavar="N",
        help=f"At most N entries (default 100, at most {MAX_LIST}).",
    )
    show = actions.add_parser(
        "show", help="Show one entry: state, reason, event.", description="Show one entry."
    )
    show.add_argument("id", type=int, metavar="ID", help="The entry id (see list).")
    again = actions.add_parser(
        "redrive",
        help="Publish to the core now; removes the entries it takes, parks those it refuses.",
        description="Publish entries to the core now (waiting or parked).",
    )
    again.add_argument("id", type=int, nargs="?", metavar="ID", help="The entry id (see list).")
    again.add_argument("--all", action="store_true", help="Re-drive every entry.")
    again.add_argument(
        "--core", metavar="HOST:PORT", help="Core gRPC target (env COMMERCE_GATEWAY_CORE)."
    )
    gone = actions.add_parser(
        "drop",
        help="Delete a parked entry (entries still waiting for the core are kept).",
        description="Delete a parked entry for good.",
    )
    gone.add_argument("id", type=int, metavar="ID", help="The entry id (see list).")
    for action in (listing, show, again, gone):
        add_store_options(action, argparse.SUPPRESS, "outbox.sqlite3")


def _line(entry: OutboxSummary) -> str:
    state = entry.state + (f": {entry.parked_reason}" if entry.parked_reason else "")
    return printable(
        f"{entry.entry_id:>5}  {entry.created_at.isoformat()}  {entry.platform or '-':<10} "
        f"{entry.topic or '-':<28} {entry.kind or '-':<18} {entry.shop or '-'}  "
        f"({entry.size} bytes)  {state}"
    )


async def _list(outbox: Outbox, args: argparse.Namespace) -> int:
    entries = await list_entries(
        outbox, parked_only=args.parked, after=args.after, limit=args.limit
    )
    if args.json:
        print(json.dumps([entry.as_dict() for entry in entries], indent=2))
        return 0
    if not entries:
        print("outbox is empty" if not (args.parked or args.after) else "no entries")
    for entry in entries:
        print(_line(entry))
    if len(entries) == args.limit:
        print(f"(more may follow: --after {entries[-1].entry_id})")
    return 0


def _document(found: OutboxDetail) -> dict[str, Any]:
    event = json_format.MessageToDict(found.event, preserving_proto_field_name=True)
    return found.summary.as_dict() | {"event": event}


async def _show(outbox: Outbox, entry_id: int, as_json: bool) -> int:
    found = await get_entry(outbox, entry_id)
    if found is None:
        print(f"commerce-gateway outbox: no entry {entry_id}", file=sys.stderr)
        return 1
    document = _document(found)
    if as_json:
        print(json.dumps(document, indent=2))
        return 0
    for key, value in document.items():
        if key != "event":
            print(printable(f"{key}: {'-' if value in ('', None) else value}"))
    event_text = json.dumps(document["event"], indent=2, ensure_ascii=False)
    print("event:", printable(event_text, multiline=True), sep="\n")
    return 0


async def _redrive(
    outbox: Outbox, settings: BridgeSettings, entry_id: int | None
) -> list[OutboxOutcome]:
    metadata = bearer_metadata(settings.publisher_token)
    async with open_core_channel(settings.core, settings.core_credentials()) as channel:
        return await redrive(outbox, core_stub(channel), metadata, entry_id)


def _print_outcomes(outcomes: list[OutboxOutcome], as_json: bool, empty: str) -> None:
    if as_json:
        print(json.dumps([vars(outcome) for outcome in outcomes], indent=2))
        return
    if not outcomes:
        print(empty)
    for o in outcomes:
        print(printable(f"{o.id:>5}  {o.result}: {o.detail}"))


async def _run(outbox: Outbox, settings: BridgeSettings, args: argparse.Namespace) -> int:
    if args.action == "list":
        return await _list(outbox, args)
    if args.action == "show":
        return await _show(outbox, args.id, args.json)
    if args.action == "drop":
        outcomes = [await drop(outbox, args.id)]
    else:
        outcomes = await _redrive(outbox, settings, None if args.all else args.id)
    _print_outcomes(outcomes, args.json, "nothing to re-drive")
    return 0 if all(o.result in _DONE for o in outcomes) else 1


def main(args: argparse.Namespace) -> int:
    """Runs the chosen action; 0 when it fully succeeded, 1 otherwise, 2 on bad input."""
    try:
        settings = load_bridge_settings(data_dir=args.data_dir, core=getattr(args, "core", None))
        if args.action == "redrive" and (args.id is None) == (not args.all):
            raise SettingsError("redrive needs exactly one of ID or --all")
    except SettingsError as error:
        print(f"commerce-gateway outbox: {error}", file=sys.stderr)
        return 2
    outbox = Outbox(settings.data_dir)
    try:
        return asyncio.run(_run(outbox, settings, args))
    finally:
        outbox.close()
