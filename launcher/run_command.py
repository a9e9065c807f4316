"""`commerce-gateway run`: core and bridge together in one process and one event loop."""

from __future__ import annotations

import argparse
import logging
import socket
import sys

from bridge.app import create_app, create_forwarder
from bridge.data_dir import DataDirError, check_data_dir
from bridge.serving import AppServer, uvicorn_config
from bridge.settings import BridgeSettings, load_bridge_settings
from common.logs import configure_logging
from common.ready_file import write_ready_file
from common.serving import bind_socket, run_event_loop, socket_address, stop_on_signals
from service.server import start_core
from service.settings import CoreSettings, SettingsError, load_core_settings

logger = logging.getLogger("launcher.run_command")


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


async def run(
    core_settings: CoreSettings,
    bridge_settings: BridgeSettings,
    sock: socket.socket,
    ready_file: str | None,
) -> None:
    """Starts the core, then serves the bridge against it; SIGINT/SIGTERM stop both cleanly."""
    core = await start_core(core_settings)
    try:
        settings = bridge_settings.model_copy(update={"core": core.address})
        http = socket_address(sock)

        def started() -> None:
            logger.info("commerce-gateway serving", extra={"grpc": core.address, "http": http})
            if ready_file:
                content = {"grpc": core.address, "http": http}
                if core.metrics_address is not None:
                    content["metrics"] = core.metrics_address
                write_ready_file(ready_file, content)

        server = AppServer(
            uvicorn_config(create_app(settings, create_forwarder(settings))), started
        )
        stop_on_signals(server.stop)
        await server.serve(sockets=[sock])
    finally:
        await core.stop()
        logger.info("commerce-gateway stopped")


def main(args: argparse.Namespace) -> int:
    """Runs core and bridge; exit code 2 on a bad setting, 1 when a port cannot be bound."""
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
    try:
        sock = bind_socket(bridge_settings.http_listen)
    except OSError as error:
        where = bridge_settings.http_listen
        print(f"commerce-gateway run: cannot listen on {where}: {error.strerror}", file=sys.stderr)
        return 1
    try:
        run_event_loop(run(core_settings, bridge_settings, sock, args.ready_file))
    except (OSError, RuntimeError) as error:
        print(f"commerce-gateway run: cannot start: {error}", file=sys.stderr)
        return 1
    return 0
