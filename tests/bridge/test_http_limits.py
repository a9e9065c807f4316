"""HTTP resource limits of the real bridge process: bounded heads (431/414), read deadlines
(408), a cap on buffered bodies (503), and signed webhooks answered promptly under slowloris."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from bridge.body_budget import RETRY_AFTER_SECONDS
from bridge.samples import sample_body
from tests.support.bridge import post_signed, start_bridge_process
from tests.support.processes import ServerProcess, start_core_process
from tests.support.rawhttp import RawConnection, open_raw
from tests.support.waiting import wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROBLEM = "urn:commerce-gateway:problem:"
HEAD = b"POST /webhooks/betterdata HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\n"
TIMEOUT_S = 2  # the head and body deadlines of the module's bridge
SLOW_CONNECTIONS = 200
PROMPT_S = 2.0  # the product's promise for every answer


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A core process for the module; yields its address."""
    with start_core_process(tmp_path_factory.mktemp("core")) as process:
        yield process.endpoint("grpc")


@pytest.fixture(scope="module")
def bridge(core: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A bridge process with short read deadlines and the default size bounds."""
    env = {
        "COMMERCE_GATEWAY_HEADER_TIMEOUT_SECONDS": str(TIMEOUT_S),
        "COMMERCE_GATEWAY_BODY_TIMEOUT_SECONDS": str(TIMEOUT_S),
    }
    with start_bridge_process(tmp_path_factory.mktemp("bridge"), core, env) as process:
        yield process


@pytest.fixture(scope="module")
def small_bridge(core: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A bridge that holds at most 4 bodies of at most 16 KiB at once."""
    env = {
        "COMMERCE_GATEWAY_MAX_BODY_BYTES": "16384",
        "COMMERCE_GATEWAY_MAX_BUFFERED_BODY_BYTES": "65536",
    }
    with start_bridge_process(tmp_path_factory.mktemp("small"), core, env) as process:
        yield process


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the module."""
    async with httpx.AsyncClient(timeout=10.0) as http:
        yield http


async def _post_webhook(client: httpx.AsyncClient, address: str) -> httpx.Response:
    body = sample_body("betterdata", "inventory.updated")
    return await post_signed(client, f"http://{address}", "betterdata", body)


async def _refused(connection: RawConnection, status: int, reason: str) -> None:
    """The bridge answered `status` with a problem of `reason`, then closed the connection."""
    await wait_for(connection.closed.is_set, timeout=15, message="the bridge to close")
    got, headers, problem = connection.response()
    assert got == status, connection.received[:300]
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert problem["status"] == status
    assert problem["reason"] == reason
    assert problem["type"].startswith(PROBLEM)


def _peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


async def test_oversized_head_gets_431_and_a_log_line(bridge: ServerProcess) -> None:
    connection = await open_raw(bridge.endpoint("http"))
    assert await connection.write(HEAD + b"X-Big: " + b"a" * 48_000)
    await _refused(connection, 431, "headers_too_large")
    _, _, problem = connection.response()
    assert problem["type"] == PROBLEM + "headers-too-large"
    await wait_for(
        lambda: '"reason": "headers_too_large"' in bridge.stderr_tail(1_000_000),
        timeout=5,
        message="the refusal's log line",
    )


@pytest.mark.parametrize(
    ("request_head", "status", "reason"),
    [
        (HEAD + b"X-Long: " + b"a" * 9000 + b"\r\n\r\n", 431, "header_too_large"),
        (HEAD + b"X-Many: 1\r\n" * 101 + b"\r\n", 431, "too_many_headers"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: bridge\r\n\r\n", 414, "uri_too_long"),
        (b"NOT HTTP AT ALL\r\n\r\n", 400, "invalid_http"),
    ],
)
async def test_each_field_and_the_target_are_bounded(
    bridge: ServerProcess, request_head: bytes, status: int, reason: str
) -> None:
    connection = await open_raw(bridge.endpoint("http"))
    assert await connection.write(request_head)
    await _refused(connection, status, reason)


async def test_header_floods_are_cut_off_and_memory_stays_bounded(bridge: ServerProcess) -> None:
    """Five connections each try to stream a 64 MiB header: each is refused after the head
    bound (plus the bounded linger), and the bridge's peak memory barely moves."""
    before = _peak_rss_bytes(bridge.pid)
    chunk, total = b"a" * 65536, 64 * 1024 * 1024

    async def flood() -> tuple[RawConnection, int]:
        connection = await open_raw(bridge.endpoint("http"))
        sent = 0
        assert await connection.write(HEAD + b"X-Flood: ")
        while sent < total and await connection.write(chunk):
            sent += len(chunk)
        return connection, sent

    results = await asyncio.wait_for(asyncio.gather(*(flood() for _ in range(5))), 60)
    grown = _peak_rss_bytes(bridge.pid) - before
    assert grown < 48 * 1024 * 1024, f"peak RSS grew by {grown // 1048576} MiB"
    for connection, sent in results:
        assert sent < 24 * 1024 * 1024, "the bridge kept reading the flood"
        await _refused(connection, 431, "headers_too_large")


async def test_head_that_never_completes_gets_408(bridge: ServerProcess) -> None:
    connection = await open_raw(bridge.endpoint("http"))
    assert await connection.write(HEAD)
    await _refused(connection, 408, "header_timeout")


async def test_connection_that_never_sends_a_request_is_closed(bridge: ServerProcess) -> None:
    connection = await open_raw(bridge.endpoint("http"))
    await wait_for(connection.closed.is_set, timeout=15, message="the bridge to close")
    assert connection.received == b""


async def test_body_that_never_completes_gets_408(bridge: ServerProcess) -> None:
    connection = await open_raw(bridge.endpoint("http"))
    assert await connection.write(HEAD + b'Content-Length: 1000\r\n\r\n{"type": ')
    await _refused(connection, 408, "body_timeout")


async def _trickle(connection: RawConnection, data: bytes, pace: float) -> None:
    """Sends `data` one byte per `pace` seconds until it is sent or the bridge closes."""
    for index in range(len(data)):
        if not await connection.write(data[index : index + 1]):
            return
        await asyncio.sleep(pace)


async def test_slowloris_load_leaves_signed_webhooks_prompt(
    bridge: ServerProcess, client: httpx.AsyncClient
) -> None:
    """200 connections send heads or bodies one byte per 100 ms; meanwhile signed webhooks
    are answered 200 within the promise, and the bridge ends every slow connection with 408."""
    address = bridge.endpoint("http")
    slow = [await open_raw(address) for _ in range(SLOW_CONNECTIONS)]
    heads = slow[: SLOW_CONNECTIONS // 2]
    bodies = slow[SLOW_CONNECTIONS // 2 :]
    for connection in bodies:  # the head at once, then the body byte by byte
        assert await connection.write(HEAD + b"Content-Length: 4000\r\n\r\n")
    trickles = [
        *(asyncio.create_task(_trickle(c, HEAD + b"X-Pad: " + b"a" * 100, 0.1)) for c in heads),
        *(asyncio.create_task(_trickle(c, b" " * 4000, 0.1)) for c in bodies),
    ]
    answered = 0
    try:
        while not all(c.closed.is_set() for c in slow) and answered < 200:
            started = time.monotonic()
            response = await _post_webhook(client, address)
            elapsed = time.monotonic() - started
            assert response.status_code == 200, response.text
            assert elapsed < PROMPT_S, f"a signed webhook took {elapsed:.2f} s"
            answered += 1
        await wait_for(
            lambda: all(c.closed.is_set() for c in slow),
            timeout=15,
            message="the bridge to end every slow connection",
        )
    finally:
        for task in trickles:
            task.cancel()
        await asyncio.gather(*trickles, return_exceptions=True)
        for connection in slow:
            connection.close()
    assert answered >= 3  # webhooks were answered while the slow connections were open
    assert {c.response()[2]["reason"] for c in heads} == {"header_timeout"}
    assert {c.response()[2]["reason"] for c in bodies} == {"body_timeout"}


async def test_bodies_beyond_the_buffer_cap_get_503_until_one_is_released(
    small_bridge: ServerProcess, client: httpx.AsyncClient
) -> None:
    address = small_bridge.endpoint("http")
    hogs = [await open_raw(address) for _ in range(4)]
    with contextlib.ExitStack() as cleanup:
        for hog in hogs:
            cleanup.callback(hog.close)
            # Each holds all of its 16 KiB body but the last byte: 4 x 16383 of 65536.
            assert await hog.write(HEAD + b"Content-Length: 16384\r\n\r\n" + b" " * 16383)
        refused: list[httpx.Response] = []

        async def refused_now() -> bool:
            response = await _post_webhook(client, address)
            if response.status_code == 503:
                refused.append(response)
            return bool(refused)

        await wait_for(refused_now, timeout=10, message="a 503 while 4 bodies are held")
        response = refused[0]
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
        assert response.json()["type"] == PROBLEM + "overloaded"
        assert response.json()["reason"] == "body_buffer_full"
        hogs[0].close()

    async def accepted_now() -> bool:
        return (await _post_webhook(client, address)).status_code == 200

    await wait_for(accepted_now, timeout=10, message="a 200 once the held bodies are gone")
