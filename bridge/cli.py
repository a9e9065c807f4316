"""`commerce-gateway bridge`: serve the HTTP bridge with uvicorn (one or several workers)."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys

from uvicorn.supervisors import Multiprocess

from bridge.app import create_app, create_forwarder
from bridge.data_dir import DataDirError, check_data_dir
from bridge.serving import AppServer, uvicorn_config
from bridge.settings import BridgeSettings, SettingsError, load_bridge_settings
from common.logs import configure_logging
from common.ready_file import write_ready_file
from common.serving import bind_socket, run_event_loop, socket_address, stop_on_signals

logger = logging.getLogger("bridge.cli")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares the `bridge` flags."""
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="HTTP listen address (env COMMERCE_GATEWAY_HTTP_LISTEN, default 127.0.0.1:8080).",
    )
    parser.add_argument(
        "--core",
        metavar="HOST:PORT",
        help="Core gRPC target (env COMMERCE_GATEWAY_CORE, default 127.0.0.1:50051).",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="Worker processes sharing the socket and the outbox file (default 1).",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="Directory of the outbox and quarantine (env COMMERCE_GATEWAY_DATA_DIR, "
        "default ./.commerce-gateway).",
    )
    parser.add_argument(
        "--ready-file",
        metavar="PATH",
        help='Once serving, write {"http": "HOST:PORT"} to this file (atomically).',
    )


async def serve(settings: BridgeSettings, sock: socket.socket, ready_file: str | None) -> None:
    """Serves the bridge on a bound socket in this event loop until SIGINT or SIGTERM."""
    address = socket_address(sock)
    app = create_app(settings, create_forwarder(settings))

    def started() -> None:
        logger.info("bridge serving", extra={"http": address, "core": settings.core})
        if ready_file:
            write_ready_file(ready_file, {"http": address})

    server = AppServer(uvicorn_config(app), on_started=started)
    stop_on_signals(server.stop)
    await server.serve(sockets=[sock])
    logger.info("bridge stopped")


def _serve_workers(
    settings: BridgeSettings, sock: socket.socket, workers: int, ready_file: str | None
) -> None:
    # Workers rebuild the settings from the environment: pass the flags on through it.
    os.environ["COMMERCE_GATEWAY_CORE"] = settings.core
    os.environ["COMMERCE_GATEWAY_DATA_DIR"] = str(settings.data_dir)
    config = uvicorn_config(
        "bridge.app:create_asgi_from_env",
        factory=True,
        workers=workers,
        limits=settings.http_limits(),
    )
    if ready_file:
        write_ready_file(ready_file, {"http": socket_address(sock)})
    logger.info("bridge serving", extra={"http": socket_address(sock), "workers": workers})
    Multiprocess(config, sockets=[sock]).run()


def main(args: argparse.Namespace) -> int:
    """Runs the bridge; exit code 2 on a bad setting."""
    try:
        if args.workers < 1:
            raise SettingsError("--workers must be at least 1")
        settings = load_bridge_settings(
            flag_names={"http_listen": "--listen"},
            http_listen=args.listen,
            core=args.core,
            data_dir=args.data_dir,
        )
    except SettingsError as error:
        print(f"commerce-gateway bridge: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        check_data_dir(settings.data_dir)
    except DataDirError as error:
        print(f"commerce-gateway bridge: cannot start: {error}", file=sys.stderr)
        return 1
    try:
        sock = bind_socket(settings.http_listen)
    except OSError as error:
        print(
            f"commerce-gateway bridge: cannot listen on {settings.http_listen}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    if args.workers == 1:
        run_event_loop(serve(settings, sock, args.ready_file))
    else:
        _serve_workers(settings, sock, args.workers, args.ready_file)
    return 0
