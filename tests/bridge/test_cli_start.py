"""Bad starts of `bridge`, `core` and `run` as real processes: one line, a non-zero exit."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.data_dir import check_data_dir
from tests.support.bridge import SECRET_ENV
from tests.support.processes import cli_argv

TIMEOUT = 30.0


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Runs `commerce-gateway ARGS` to its end (it must fail at start) with a clean env."""
    return subprocess.run(
        cli_argv(*args),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env={**os.environ, **SECRET_ENV, **(env or {})},
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The only line the process wrote to stderr."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _file(tmp_path: Path) -> Path:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    return blocker


def _under_a_file(tmp_path: Path) -> Path:
    return _file(tmp_path) / "sub"


def _outbox_is_a_directory(tmp_path: Path) -> Path:
    (tmp_path / "data" / "outbox.sqlite3").mkdir(parents=True)
    return tmp_path / "data"


def _quarantine_is_not_a_database(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "quarantine.sqlite3").write_bytes(b"not a database, " * 64)
    return tmp_path / "data"


@pytest.mark.parametrize(
    ("make", "cause"),
    [
        (_file, "it is not a directory"),
        (_under_a_file, "not a directory"),
        (_outbox_is_a_directory, "outbox.sqlite3: unable to open database file"),
        (_quarantine_is_not_a_database, "quarantine.sqlite3: file is not a database"),
    ],
    ids=["a-file", "under-a-file", "outbox-is-a-directory", "quarantine-not-a-database"],
)
@pytest.mark.parametrize("command", ["bridge", "run"])
def test_unusable_data_dir_fails_at_start_with_one_line(
    tmp_path: Path, make: Callable[[Path], Path], cause: str, command: str
) -> None:
    data_dir = make(tmp_path)
    listen = ["--listen", "127.0.0.1:0"] if command == "bridge" else ["--http", "127.0.0.1:0"]
    extra = [] if command == "bridge" else ["--grpc", "127.0.0.1:0"]
    store = {"COMMERCE_GATEWAY_STORE": f"sqlite:///{tmp_path / 'events.sqlite3'}"}
    result = run_cli(command, *listen, *extra, "--data-dir", str(data_dir), env=store)
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith(f"commerce-gateway {command}: cannot start: cannot use the data dir")
    assert str(data_dir) in line
    assert line.endswith(cause)


def test_a_usable_data_dir_is_created_at_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "data"
    check_data_dir(data_dir)
    assert data_dir.is_dir()
    check_data_dir(data_dir)  # again, with the files present


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("bridge", "--listen", "http://127.0.0.1:8080"), "bridge: --listen: "),
        (("core", "--listen", "http://127.0.0.1:50051"), "core: --listen: "),
        (("run", "--http", "http://127.0.0.1:8080"), "run: --http: "),
        (("run", "--grpc", "grpc://127.0.0.1:50051"), "run: --grpc: "),
    ],
)
def test_listen_with_a_scheme_says_host_port_without_one(args: tuple[str, ...], named: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    line = one_line(result)
    assert line.startswith(f"commerce-gateway {named}expected HOST:PORT without a scheme (like ")
    assert args[-1] in line


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (("bridge", "--core", "nowhere"), {}, "--core: "),
        (("core", "--store", "mysql://db/x"), {}, "--store: "),
        (("core", "--data-dir", "d"), {"COMMERCE_GATEWAY_HEARTBEAT_SECONDS": "soon"}, ""),
    ],
    ids=["bridge-core", "core-store", "env-var"],
)
def test_an_error_about_a_flag_names_the_flag(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], named: str
) -> None:
    result = run_cli(*args, env=env)
    assert result.returncode == 2
    line = one_line(result)
    origin = named or "COMMERCE_GATEWAY_HEARTBEAT_SECONDS: "
    assert line.startswith(f"commerce-gateway {args[0]}: {origin}")


def test_an_unknown_toml_key_stops_the_process_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('[bridge]\nlisten = "127.0.0.1:0"\n')
    result = run_cli("bridge", env={"COMMERCE_GATEWAY_CONFIG": str(config)})
    assert result.returncode == 2
    assert one_line(result) == (
        f"commerce-gateway bridge: COMMERCE_GATEWAY_CONFIG: unknown key 'listen' in [bridge]"
        f" of {config} (did you mean 'http_listen'?)"
    )
