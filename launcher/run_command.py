"""`commerce-gateway run`: core and bridge together, each in its own process (see supervisor)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bridge.data_dir import DataDirError, check_data_dir
from bridge.settings import load_bridge_settings
from common.logs import configure_logging
from launcher.supervisor import ChildPlan, supervise
from service.settings import SettingsError, load_core_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares the `run` flags."""
    parser.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="Bridge HTTP listen address "
        "(env COMMERCE_GATEWAY_HTTP_LISTEN, default 127.0.0.1:8080).",
    )
    parser.add_argument(
        "--grpc",
        metavar="HOST:PORT",
        help="Core gRPC listen address "
        "(env COMMERCE_GATEWAY_GRPC_LISTEN, default 127.0.0.1:50051).",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="Directory of the event store, outbox and quarantine (env COMMERCE_GATEWAY_DATA_DIR, "
        "default ./.commerce-gateway).",
    )
    parser.add_argument(
        "--metrics",
        metavar="HOST:PORT",
        help="Serve the core's Prometheus metrics at http://HOST:PORT/metrics "
        "(env COMMERCE_GATEWAY_METRICS_LISTEN, default: not served; the bridge's stay at "
        "/metrics of --http).",
    )
    parser.add_argument(
        "--ready-file",
        metavar="PATH",
        help='Once serving, write {"grpc": "HOST:PORT", "http": "HOST:PORT"} here (atomically),'
        ' with "metrics": "HOST:PORT" when --metrics is set.',
    )


def main(args: argparse.Namespace) -> int:
    """Runs core and bridge as two supervised processes; exit code 2 on a bad setting, 1 when
    a child cannot start or exits on its own."""
    try:
        core_settings = load_core_settings(
            flag_names={"grpc_listen": "--grpc", "metrics_listen": "--metrics"},
            grpc_listen=args.grpc,
            data_dir=args.data_dir,
            metrics_listen=args.metrics,
        )
        bridge_settings = load_bridge_settings(
            flag_names={"http_listen": "--http"}, http_listen=args.http, data_dir=args.data_dir
        )
    except SettingsError as error:
        print(f"commerce-gateway run: {error}", file=sys.stderr)
        return 2
    configure_logging(core_settings.log_level)
    try:
        check_data_dir(bridge_settings.data_dir)
    except DataDirError as error:
        print(f"commerce-gateway run: cannot start: {error}", file=sys.stderr)
        return 1
    core_flags = ["--listen", core_settings.grpc_listen, "--data-dir", str(core_settings.data_dir)]
    if core_settings.metrics_listen:
        core_flags += ["--metrics", core_settings.metrics_listen]
    bridge_flags = [
        "--listen",
        bridge_settings.http_listen,
        "--data-dir",
        str(bridge_settings.data_dir),
    ]
    ready_file = Path(args.ready_file) if args.ready_file else None
    return supervise(ChildPlan(core_flags, bridge_flags), ready_file)
