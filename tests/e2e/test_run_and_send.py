"""`run` (core + bridge in one process) driven by `send`, as a user tries the product."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.bridge import FIXTURES, SECRET, SECRET_ENV, wait_for_event
from tests.support.processes import REPO_ROOT, ServerProcess, cli_argv, run_argv, start_process


def _start_run(data_dir: Path, env: dict[str, str]) -> ServerProcess:
    ready = data_dir / "run-ready.json"
    argv = run_argv(data_dir, ready)
    return start_process(argv, ready, {**SECRET_ENV, **env})


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`commerce-gateway run` with a webhook secret, for the whole module."""
    with _start_run(tmp_path_factory.mktemp("run"), {"WEBHOOK_SECRET": SECRET}) as process:
        yield process


async def send(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Runs `commerce-gateway send ARGS` and returns (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        *cli_argv("send", *args),
        cwd=REPO_ROOT,
        env={**os.environ, **SECRET_ENV, **({"WEBHOOK_SECRET": SECRET} if env is None else env)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize(
    ("platform", "topic"),
    [
        ("shopify", "orders/create"),
        ("shopify", "inventory_levels/update"),
        ("square", "inventory.count.updated"),
        ("square", "catalog.version.updated"),
        ("betterdata", "checkout.completed"),
    ],
)
async def test_send_signs_a_sample_that_run_accepts_and_stores(
    gateway: ServerProcess, platform: str, topic: str
) -> None:
    url = f"http://{gateway.endpoint('http')}"
    code, out, err = await send(platform, "--topic", topic, "--url", url)
    assert code == 0, out + err
    status, body = out.split("\n", 1)
    assert status == "200"
    event_id = httpx.Response(200, content=body.strip()).json()["event_id"]
    event = await wait_for_event(gateway.endpoint("grpc"), lambda e: e.id == event_id)
    assert event.topic == topic


async def test_send_of_a_file_posts_it_as_given(gateway: ServerProcess, tmp_path: Path) -> None:
    fixture = FIXTURES / "shopify_products_update.json"
    url = f"http://{gateway.endpoint('http')}"
    code, out, _ = await send(
        "shopify",
        "--topic",
        "products/update",
        "--file",
        str(fixture),
        "--url",
        url,
        "--shop",
        "file.myshopify.com",
    )
    assert code == 0
    assert '"status":"accepted"' in out or '"status":"duplicate"' in out


async def test_send_with_wrong_secret_exits_1_and_prints_403(gateway: ServerProcess) -> None:
    url = f"http://{gateway.endpoint('http')}"
    code, out, _ = await send("betterdata", "--url", url, env={"WEBHOOK_SECRET": "wrong"})
    assert code == 1
    assert out.startswith("403")


async def test_send_without_any_secret_fails_clearly() -> None:
    code, _, err = await send("square", env={})
    assert code == 2
    assert "SQUARE_SIGNATURE_KEY or WEBHOOK_SECRET" in err


async def test_send_to_nothing_exits_1() -> None:
    code, _, err = await send("shopify", "--url", "http://127.0.0.1:9")
    assert code == 1
    assert "cannot post" in err


def test_run_without_secret_warns_and_rejects(tmp_path: Path) -> None:
    with _start_run(tmp_path, {}) as process:
        url = f"http://{process.endpoint('http')}/webhooks/betterdata"
        response = httpx.post(url, content=b"{}", headers={"Content-Type": "application/json"})
        assert response.status_code == 403
        assert response.json()["reason"] == "no_secret_configured"
        assert process.terminate() == 0
        assert "no webhook secret configured" in process.stderr_tail()


def test_run_stops_core_and_bridge_cleanly_on_sigterm(tmp_path: Path) -> None:
    with _start_run(tmp_path, {"WEBHOOK_SECRET": SECRET}) as process:
        assert httpx.get(f"http://{process.endpoint('http')}/healthz").status_code == 200
        assert process.terminate() == 0
        log = process.stderr_tail()
        assert "core stopped" in log and "commerce-gateway stopped" in log


def test_bad_setting_exits_2_with_one_line(tmp_path: Path) -> None:
    import subprocess

    result = subprocess.run(
        cli_argv("bridge", "--listen", "no-port-here", "--data-dir", str(tmp_path)),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **SECRET_ENV},
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "HOST:PORT" in result.stderr
