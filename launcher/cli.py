"""The `commerce-gateway` console script: one subcommand per part of the system."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Protocol, cast


class SubcommandModule(Protocol):
    """What a module behind a subcommand provides."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declares the subcommand's flags on its parser."""

    def main(self, args: argparse.Namespace) -> int:
        """Runs the subcommand and returns the process exit code."""


# name -> (module implementing it, one-line help). Modules are imported only when used.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("launcher.run_command", "Start core and bridge together (the embedded default)."),
    "core": ("service.core_command", "Start the core gRPC service."),
    "bridge": ("bridge.cli", "Start the HTTP bridge that platforms post webhooks to."),
    "send": ("bridge.send", "Sign a sample or given payload as a platform would and post it."),
    "tail": ("commercegateway.tail", "Subscribe to the core and print items as they arrive."),
    "groups": (
        "commercegateway.groups_cli",
        "List, show, re-drive, seek and delete consumer groups on the core.",
    ),
    "quarantine": ("bridge.quarantine_cli", "List, show and re-drive quarantined deliveries."),
    "outbox": ("bridge.outbox_cli", "List, show, re-drive and drop outbox entries (parked ones)."),
}
# Shopify's privacy webhooks: answering a customers/data_request.
SUBCOMMANDS["privacy"] = (
    "bridge.privacy_cli",
    "Export everything held about one customer as JSON (Shopify customers/data_request).",
)


def _load(name: str) -> SubcommandModule:
    return cast(SubcommandModule, importlib.import_module(SUBCOMMANDS[name][0]))


def build_parser(selected: str | None) -> argparse.ArgumentParser:
    """Builds the top-level parser; only the selected subcommand's module is imported."""
    parser = argparse.ArgumentParser(
        prog="commerce-gateway",
        description="Verified commerce webhooks, canonical events, streamed to LLM gateways.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, help_text) in SUBCOMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == selected:
            _load(name).add_arguments(sub)
    return parser


def interruptible() -> None:
    """Makes SIGINT (Ctrl-C, `kill -INT`) stop the command even when it was started with
    SIGINT ignored, as a non-interactive shell does for background jobs (`cmd &`)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Parses the command line and runs the chosen subcommand."""
    interruptible()
    args_list = list(sys.argv[1:] if argv is None else argv)
    selected = next((a for a in args_list if a in SUBCOMMANDS), None)
    args = build_parser(selected).parse_args(args_list)
    try:
        return _load(args.command).main(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
