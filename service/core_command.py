"""`commerce-gateway core`: parse flags and env into CoreSettings once, then serve."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from pathlib import Path

from common.logs import configure_logging
from common.ready_file import write_ready_file
from common.serving import run_event_loop, stop_on_signals
from service.server import RunningCore, start_core
from service.settings import ENV_PREFIX, CoreSettings, SettingsError, load_core_settings

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares the core's flags; each also comes from env COMMERCE_GATEWAY_<NAME>."""
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="gRPC listen address (env COMMERCE_GATEWAY_GRPC_LISTEN, default 127.0.0.1:50051;"
        " port 0 picks a free port)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="directory of the SQLite store (env COMMERCE_GATEWAY_DATA_DIR,"
        " default ./.commerce-gateway)",
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help="store URL: empty for SQLite in the data dir, sqlite:///PATH, or postgres://..."
        " (env COMMERCE_GATEWAY_STORE)",
    )
    parser.add_argument(
        "--metrics",
        metavar="HOST:PORT",
        help="serve Prometheus metrics at http://HOST:PORT/metrics (env"
        " COMMERCE_GATEWAY_METRICS_LISTEN, default: not served; port 0 picks a free port)",
    )
    parser.add_argument(
        "--ready-file",
        metavar="PATH",
        help='once serving, write {"grpc": "HOST:PORT"} to this file (atomically), with'
        ' "metrics": "HOST:PORT" when --metrics is set',
    )
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="log level (env COMMERCE_GATEWAY_LOG_LEVEL, default info)",
    )
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = settings_help()


def settings_help() -> str:
    """Every setting with its env var and default; TOML keys are the lower-case names."""
    lines = [
        "settings (flag > env > [core] table of the TOML file named by"
        " COMMERCE_GATEWAY_CONFIG > default):"
    ]
    for name, field in CoreSettings.model_fields.items():
        default = "unset" if field.default in (None, "") else field.default
        lines.append(f"  {ENV_PREFIX}{name.upper():<28} {field.description} [{default}]")
    return "\n".join(lines)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def serve(settings: CoreSettings, ready_file: Path | None = None) -> None:
    """Runs the core until SIGTERM or SIGINT, then stops it gracefully."""
    core: RunningCore = await start_core(settings)
    loop = asyncio.get_running_loop()
    stopping: asyncio.Future[None] = loop.create_future()
    stop_on_signals(lambda: _resolve(stopping))
    if ready_file is not None:
        content = {"grpc": core.address}
        if core.metrics_address is not None:
            content["metrics"] = core.metrics_address
        write_ready_file(ready_file, content)
    await stopping
    await core.stop()


def main(args: argparse.Namespace) -> int:
    """Starts the core with flags > env > TOML > defaults; 2 on a bad setting."""
    try:
        settings = load_core_settings(
            flag_names={"grpc_listen": "--listen", "metrics_listen": "--metrics"},
            grpc_listen=args.listen,
            data_dir=args.data_dir,
            store=args.store,
            log_level=args.log_level,
            metrics_listen=args.metrics,
        )
    except SettingsError as error:
        print(f"commerce-gateway core: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    ready = Path(args.ready_file) if args.ready_file else None
    try:
        run_event_loop(serve(settings, ready))
    except SettingsError as error:
        print(f"commerce-gateway core: {error}", file=sys.stderr)
        return 2
    except (OSError, RuntimeError) as error:
        print(f"commerce-gateway core: cannot start: {error}", file=sys.stderr)
        return 1
    with contextlib.suppress(Exception):
        logging.shutdown()
    return 0
