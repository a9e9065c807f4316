"""Options shared by the operator commands over the bridge's local stores (quarantine, outbox)."""

from __future__ import annotations

import argparse


def add_store_options(parser: argparse.ArgumentParser, default: object, file_name: str) -> None:
    """Adds --data-dir (the folder holding `file_name`) and --json to `parser`; with
    default=argparse.SUPPRESS on an action's parser, so they are accepted before or after it."""
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=default,
        help=f"Directory holding {file_name} (env COMMERCE_GATEWAY_DATA_DIR, "
        "default ./.commerce-gateway).",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=default if default is argparse.SUPPRESS else False,
        help="Print JSON instead of text.",
    )
