"""`commerce-gateway tail`: subscribe to the core and print each item as it arrives."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from commercegateway.client import CoreClient
from commercegateway.config import TlsConfig
from commercegateway.consumer import check_group_name
from commercegateway.cursor import CursorFileError
from commercegateway.errors import CoreError
from commercegateway.render import render_json, render_text
from commercegateway.subscriptions import ReconnectedInfo, ReconnectInfo, Subscription
from commercegateway.tail_group import follow_group
from commercegateway.v1 import events_pb2

DEFAULT_CORE = "127.0.0.1:50051"
KIND_NAMES = [
    value.name.removeprefix("EVENT_KIND_").lower()
    for value in events_pb2.EventKind.DESCRIPTOR.values
    if value.number != events_pb2.EVENT_KIND_UNSPECIFIED
]


def _sequence(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a sequence number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("a sequence number is 0 or more")
    return value


def _kind(text: str) -> events_pb2.EventKind.ValueType:
    name = text.strip().lower().replace(".", "_").removeprefix("event_kind_")
    if name not in KIND_NAMES:
        raise argparse.ArgumentTypeError(f"unknown kind {text!r}; one of {', '.join(KIND_NAMES)}")
    return events_pb2.EventKind.Value(f"EVENT_KIND_{name.upper()}")


def _group(text: str) -> str:
    try:
        return check_group_name(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares the flags of `commerce-gateway tail`."""
    parser.add_argument(
        "stream",
        choices=("alerts", "orders", "events"),
        help="what to follow: inventory alerts, order completions or canonical events",
    )
    parser.add_argument(
        "--core",
        metavar="HOST:PORT",
        help=f"the core's gRPC address (env COMMERCE_GATEWAY_CORE; default {DEFAULT_CORE})",
    )
    parser.add_argument(
        "--token", help="bearer token for the core (env COMMERCE_GATEWAY_TOKEN; default none)"
    )
    parser.add_argument(
        "--after",
        type=_sequence,
        metavar="N",
        help="replay items after sequence N, then follow live (default: live from now)",
    )
    parser.add_argument("--shop", default="", help="only items of this shop (default: every shop)")
    parser.add_argument(
        "--kind",
        action="append",
        type=_kind,
        default=[],
        help=f"events only, repeatable: only events of this kind ({', '.join(KIND_NAMES)})",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per line (protobuf's canonical JSON mapping)",
    )
    parser.add_argument(
        "--cursor-file",
        type=Path,
        help="resume from and keep the cursor in this file across runs (overrides --after)",
    )
    parser.add_argument(
        "--group",
        type=_group,
        metavar="GROUP",
        help="consume as a member of this consumer group: print each event, then acknowledge "
        "it (orders and alerts print the group's order and inventory events; --after is "
        "where a new group starts)",
    )
    parser.add_argument(
        "--tls", action="store_true", help="connect with TLS, trusting the system's roots"
    )
    parser.add_argument(
        "--tls-ca", type=Path, metavar="PEM", help="connect with TLS, trusting these CAs"
    )


def _report_reconnect(info: ReconnectInfo) -> None:
    why = f"{info.error.reason}: {info.error.details}" if info.error else "stream closed"
    resume = "live" if info.cursor is None else f"after sequence {info.cursor}"
    lead = "stream ended" if info.attempt == 1 else "core still unreachable"
    print(
        f"tail: {lead} ({why}); reconnecting in {info.delay:.1f}s, resuming {resume} "
        f"(attempt {info.attempt})",
        file=sys.stderr,
        flush=True,
    )


def _reconnected_reporter(target: str) -> Callable[[ReconnectedInfo], None]:
    def report(info: ReconnectedInfo) -> None:
        resume = "live from now" if info.cursor is None else f"after #{info.cursor}"
        print(f"tail: reconnected to {target}, resuming {resume}", file=sys.stderr, flush=True)

    return report


def _stop_on_sigterm() -> Callable[[], bool]:
    """SIGTERM ends tail as Ctrl-C does (cancels the running task); returns "was it SIGTERM?"."""
    task = asyncio.current_task()
    received: list[int] = []
    if task is None:
        return lambda: False

    def stop() -> None:
        received.append(signal.SIGTERM)
        task.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals on Windows
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop)
    return lambda: bool(received)


def _subscribe(client: CoreClient, args: argparse.Namespace) -> Subscription[Any, Any]:
    common: dict[str, Any] = {
        "after_sequence": args.after,
        "shop": args.shop,
        "cursor_file": args.cursor_file,
        "on_reconnect": _report_reconnect,
    }
    if args.stream == "alerts":
        return client.subscribe_inventory_alerts(**common)
    if args.stream == "orders":
        return client.subscribe_order_completions(**common)
    return client.subscribe_events(kinds=args.kind, **common)


async def _tail(args: argparse.Namespace, target: str, token: str | None) -> int:
    terminated = _stop_on_sigterm()
    try:
        return await _follow(args, target, token)
    except asyncio.CancelledError:
        if not terminated():
            raise
        return 0


async def _follow(args: argparse.Namespace, target: str, token: str | None) -> int:
    tls = TlsConfig(args.tls_ca) if args.tls_ca else bool(args.tls)
    render = render_json if args.json else render_text
    async with CoreClient(target, token=token, tls=tls) as client:
        if args.group is not None:
            return await follow_group(client, args, target, render)
        subscription = _subscribe(client, args)
        subscription.on_reconnected = _reconnected_reporter(target)
        start = "live from now" if args.after is None else f"after sequence {args.after}"
        if args.cursor_file is not None:
            start = f"from the cursor in {args.cursor_file}"
        print(
            f"tail: following {args.stream} on {target} ({start}); Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        async with subscription:
            async for item in subscription:
                sys.stdout.write(render(item) + "\n")
                sys.stdout.flush()
    return 0


def _interruptible() -> None:
    """Ctrl-C (SIGINT) stops tail even when started with SIGINT ignored (a background job)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(args: argparse.Namespace) -> int:
    """Runs `commerce-gateway tail` until interrupted (Ctrl-C or SIGTERM, exit code 0);
    returns the exit code."""
    _interruptible()
    if args.kind and args.stream != "events":
        print("tail: --kind applies only to 'tail events'", file=sys.stderr)
        return 2
    if args.group is not None and args.cursor_file is not None:
        print(
            "tail: --cursor-file does not apply with --group (the core keeps its position)",
            file=sys.stderr,
        )
        return 2
    target = args.core or os.environ.get("COMMERCE_GATEWAY_CORE") or DEFAULT_CORE
    token = args.token or os.environ.get("COMMERCE_GATEWAY_TOKEN") or None
    try:
        return asyncio.run(_tail(args, target, token))
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:
        # The reader went away (`tail ... | head`): stop quietly, without a second error at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (CoreError, CursorFileError) as error:
        print(f"tail: {error}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"tail: {error}", file=sys.stderr)
        return 2


def cli(argv: Sequence[str] | None = None) -> int:
    """The standalone `commerce-gateway-tail` script of the client-only distribution."""
    parser = argparse.ArgumentParser(
        prog="commerce-gateway-tail",
        description="Subscribe to the core and print items as they arrive.",
    )
    add_arguments(parser)
    return main(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
