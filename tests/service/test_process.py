"""The `commerce-gateway core` process: ready file, SIGTERM, SIGKILL durability, bad settings."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from commercegateway.v1 import core_service_pb2 as api

from tests.service.events import inventory
from tests.support.core import core_stub
from tests.support.processes import cli_argv, start_core_process


@pytest.mark.usefixtures("engine")
async def test_core_process_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    with start_core_process(tmp_path / "data") as core:
        async with core_stub(core.endpoint("grpc")) as stub:
            reply = await stub.PublishEvents(
                api.PublishEventsRequest(events=[inventory("e-1", "item", "4")])
            )
        assert reply.results[0].sequence == 1
        assert core.terminate() == 0


@pytest.mark.usefixtures("engine")
def test_bad_setting_fails_at_start_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        cli_argv("core", "--listen", "nonsense", "--data-dir", str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "commerce-gateway core: --listen: expected HOST:PORT" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.usefixtures("engine")
def test_non_loopback_listen_without_tokens_fails(tmp_path: Path) -> None:
    result = subprocess.run(
        cli_argv("core", "--listen", "0.0.0.0:0", "--data-dir", str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "COMMERCE_GATEWAY_PUBLISHER_TOKEN" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.usefixtures("engine")
def test_port_in_use_fails_with_one_line(tmp_path: Path) -> None:
    with start_core_process(tmp_path / "first") as first:
        result = subprocess.run(
            cli_argv("core", "--listen", first.endpoint("grpc"), "--data-dir", str(tmp_path)),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 1
    assert "cannot start" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unusable_data_dir_fails_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = subprocess.run(
        cli_argv("core", "--listen", "127.0.0.1:0", "--data-dir", str(blocker / "sub")),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot open the SQLite store" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
