"""`commerce-gateway quarantine list|show ID|redrive ID|--all`: inspect and re-drive."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bridge.operator_options import add_store_options
from bridge.quarantine import Quarantine, QuarantinedDelivery, QuarantineSummary
from bridge.redrive import RedriveOutcome, redrive
from bridge.settings import SettingsError, load_bridge_settings
from bridge.terminal import printable

_DONE = frozenset({"stored", "duplicate", "ignored"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares the `quarantine` actions and flags."""
    add_store_options(parser, None, "quarantine.sqlite3")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list", help="List quarantined deliveries.", description="List quarantined deliveries."
    )
    show = actions.add_parser(
        "show", help="Show one delivery: reason, errors, headers, body.", description="Show one."
    )
    show.add_argument("id", type=int, metavar="ID", help="The entry id (see list).")
    again = actions.add_parser(
        "redrive",
        help="Re-parse and forward to the core (no re-verification); removes it when taken.",
        description="Re-parse entries with the current schemas and publish them to the core.",
    )
    again.add_argument("id", type=int, nargs="?", metavar="ID", help="The entry id (see list).")
    again.add_argument("--all", action="store_true", help="Re-drive every entry.")
    again.add_argument(
        "--core", metavar="HOST:PORT", help="Core gRPC target (env COMMERCE_GATEWAY_CORE)."
    )
    for action in (listing, show, again):
        add_store_options(action, argparse.SUPPRESS, "quarantine.sqlite3")


def _summary(entry: QuarantineSummary) -> dict[str, Any]:
    return {
        "id": entry.entry_id,
        "platform": entry.platform,
        "topic": entry.topic,
        "delivery_id": entry.delivery_id,
        "reason": entry.reason,
        "errors": list(entry.errors),
        "received_at": entry.received_at.isoformat(),
        "size": entry.size,
    }


def _list(quarantine: Quarantine, as_json: bool) -> int:
    entries = [_summary(entry) for entry in quarantine.summaries()]
    if as_json:
        print(json.dumps(entries, indent=2))
        return 0
    if not entries:
        print("quarantine is empty")
    for e in entries:
        print(
            printable(
                f"{e['id']:>5}  {e['received_at']}  {e['platform']:<10} {e['topic'] or '-':<28} "
                f"{e['reason']}  ({len(e['errors'])} errors, {e['size']} bytes)"
            )
        )
    return 0


def _show(quarantine: Quarantine, entry_id: int, as_json: bool) -> int:
    entry = quarantine.get(entry_id)
    if entry is None:
        print(f"commerce-gateway quarantine: no entry {entry_id}", file=sys.stderr)
        return 1
    document = _summary(_metadata(entry)) | {
        "headers": dict(entry.headers),
        "body": entry.body.decode("utf-8", "replace"),
    }
    if as_json:
        print(json.dumps(document, indent=2))
        return 0
    for key in ("id", "platform", "topic", "delivery_id", "reason", "received_at"):
        print(printable(f"{key}: {document[key]}"))
    print("errors:", *(printable(f"  - {error}") for error in entry.errors), sep="\n")
    print("headers:", *(printable(f"  {k}: {v}") for k, v in entry.headers.items()), sep="\n")
    print("body:", printable(document["body"], multiline=True), sep="\n")
    return 0


def _metadata(entry: QuarantinedDelivery) -> QuarantineSummary:
    return QuarantineSummary(
        entry_id=entry.entry_id,
        platform=entry.platform,
        topic=entry.topic,
        delivery_id=entry.delivery_id,
        reason=entry.reason,
        errors=entry.errors,
        size=len(entry.body),
        received_at=entry.received_at,
    )


def _print_outcomes(outcomes: list[RedriveOutcome], as_json: bool) -> None:
    if as_json:
        print(json.dumps([vars(outcome) for outcome in outcomes], indent=2))
        return
    if not outcomes:
        print("nothing to re-drive")
    for o in outcomes:
        print(printable(f"{o.id:>5}  {o.result}: {o.detail}"))


def main(args: argparse.Namespace) -> int:
    """Runs the chosen action; 0 when it fully succeeded, 1 otherwise, 2 on bad input."""
    try:
        settings = load_bridge_settings(data_dir=args.data_dir, core=getattr(args, "core", None))
        if args.action == "redrive" and (args.id is None) == (not args.all):
            raise SettingsError("redrive needs exactly one of ID or --all")
    except SettingsError as error:
        print(f"commerce-gateway quarantine: {error}", file=sys.stderr)
        return 2
    quarantine = Quarantine(settings.data_dir)
    try:
        if args.action == "list":
            return _list(quarantine, args.json)
        if args.action == "show":
            return _show(quarantine, args.id, args.json)
        outcomes = redrive(quarantine, settings, None if args.all else args.id)
        _print_outcomes(outcomes, args.json)
        return 0 if all(o.result in _DONE for o in outcomes) else 1
    finally:
        quarantine.close()
