"""The console over HTTP against a real bridge and core: live stream, CSRF, login, parked
outbox actions, payloads on request, and the settings that refuse an exposed console."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from bridge.outbox import Outbox
from bridge.samples import sample_body
from bridge.settings import SettingsError, load_bridge_settings
from tests.groups.helpers import group_state, publish, running
from tests.service.events import inventory
from tests.support.bridge import Stack, post_signed, running_stack, wait_for_event
from tests.support.core import core_stub
from tests.support.group_member import GroupMember
from tests.support.processes import REPO_ROOT, cli_argv
from tests.support.waiting import wait_for

BAD_LEVEL = b'{"inventory_item_id": "not-a-number", "location_id": {"nested": true}}'


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """A core and an open console bridge (loopback, no token)."""
    async with running_stack(tmp_path) as running:
        yield running


async def csrf_of(client: httpx.AsyncClient, url: str) -> str:
    """Loads a console page and returns the CSRF cookie it set."""
    page = await client.get(url)
    assert page.status_code == 200
    return str(client.cookies["cg_console_csrf"])


async def test_the_live_stream_sends_each_new_delivery(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        url = f"{stack.url}/console/events?outcome=rejected"
        async with client.stream("GET", url) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            body = b'{"id": 1}'
            order = sample_body("shopify", "orders/create")
            accepted = await post_signed(client, stack.url, "shopify", order, topic="orders/create")
            assert accepted.status_code == 200
            await post_signed(client, stack.url, "shopify", body, secret="wrong", topic="t/x")
            lines = stream.aiter_lines()
            async for line in lines:
                if line.startswith("data:") and line.strip() != "data:":
                    row = orjson.loads(line.removeprefix("data:"))
                    break
    assert (row["outcome"], row["reason"], row["topic"]) == ("rejected", "bad_signature", "t/x")
    assert row["hint"] == "Tried WEBHOOK_SECRET; none matched the signature."
    assert row["latency"].endswith(" ms")
    assert not any("hmac" in header for header in row["headers"])


async def test_posts_need_the_csrf_token_and_the_same_origin(stack: Stack) -> None:
    async with httpx.AsyncClient() as client:
        post_signed_url = f"{stack.url}/console/quarantine/1/drop"
        refused = await client.post(post_signed_url, data={"csrf": "forged"})
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["reason"] == "csrf"
        csrf = await csrf_of(client, f"{stack.url}/console/quarantine")
        foreign = await client.post(
            post_signed_url, data={"csrf": csrf}, headers={"origin": "http://evil.example"}
        )
        assert foreign.status_code == 403 and foreign.json()["reason"] == "cross_origin"
        allowed = await client.post(post_signed_url, data={"csrf": csrf})
        assert allowed.status_code == 303


async def test_payloads_of_quarantined_entries_are_shown_only_on_request(stack: Stack) -> None:
    async with httpx.AsyncClient() as client:
        kept = await post_signed(
            client, stack.url, "shopify", BAD_LEVEL, topic="inventory_levels/update"
        )
        assert kept.status_code == 422
        listing = await client.get(f"{stack.url}/console/quarantine")
        assert "inventory_levels/update" in listing.text
        assert "not-a-number" not in listing.text
        deliveries = await client.get(f"{stack.url}/console/api/deliveries?outcome=quarantined")
        (row,) = deliveries.json()["deliveries"]
        assert "quarantine as entry 1" in row["hint"]
        entry = await client.get(f"{stack.url}/console/quarantine/1")
        assert "not-a-number" in entry.text
        assert "x-shopify-hmac-sha256" not in entry.text
        assert (await client.get(f"{stack.url}/console/quarantine/99")).status_code == 404


async def test_parked_outbox_entries_are_redriven_and_dropped(tmp_path: Path) -> None:
    # Parked before the bridge starts: a running bridge's drain could deliver them first.
    outbox = Outbox(tmp_path / "bridge")
    await outbox.add([inventory("parked-1", "item-1", "4"), inventory("parked-2", "item-2", "5")])
    for entry in await outbox.peek(10):
        await outbox.park(entry.entry_id)
    outbox.close()
    async with running_stack(tmp_path) as stack, httpx.AsyncClient() as client:
        csrf = await csrf_of(client, f"{stack.url}/console/parked")
        page = await client.get(f"{stack.url}/console/parked")
        assert "2 parked" in page.text
        redriven = await client.post(f"{stack.url}/console/parked/1/redrive", data={"csrf": csrf})
        assert redriven.status_code == 303
        dropped = await client.post(f"{stack.url}/console/parked/2/drop", data={"csrf": csrf})
        assert dropped.status_code == 303
        page = await client.get(f"{stack.url}/console/parked")
        assert "No parked outbox entry." in page.text
        assert "Parked entry 2: dropped" in page.text
        event = await wait_for_event(stack.core_address, lambda e: e.source_event_id == "parked-1")
        assert event.inventory_updated.inventory_item_id == "item-1"


async def test_wrong_token_is_refused_and_the_right_one_logs_in(tmp_path: Path) -> None:
    async with (
        running_stack(tmp_path, console_token="s3cret-console") as stack,
        httpx.AsyncClient() as client,
    ):
        page = await client.get(f"{stack.url}/console", headers={"accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/console/login"
        csrf = await csrf_of(client, f"{stack.url}/console/login")
        wrong = await client.post(
            f"{stack.url}/console/login", data={"csrf": csrf, "token": "guess"}
        )
        assert wrong.status_code == 401
        right = await client.post(
            f"{stack.url}/console/login", data={"csrf": csrf, "token": "s3cret-console"}
        )
        assert right.status_code == 303
        session = right.cookies["cg_console_session"]
        assert "s3cret-console" not in session
        assert "httponly" in right.headers["set-cookie"].lower()
        listing = await client.get(f"{stack.url}/console/api/deliveries")
        assert listing.status_code == 200
        client.cookies.set("cg_console_session", session[:-2] + "00")
        assert (await client.get(f"{stack.url}/console/api/deliveries")).status_code == 401


async def test_a_console_turned_off_records_nothing_and_serves_nothing(tmp_path: Path) -> None:
    async with running_stack(tmp_path, console=False) as stack, httpx.AsyncClient() as client:
        await post_signed(client, stack.url, "shopify", b"{}", secret="wrong")
        assert (await client.get(f"{stack.url}/console")).status_code == 404


def test_an_exposed_console_without_token_is_refused_at_startup() -> None:
    with pytest.raises(SettingsError, match="COMMERCE_GATEWAY_CONSOLE_TOKEN"):
        load_bridge_settings(http_listen="0.0.0.0:8080", console_token="")
    assert load_bridge_settings(http_listen="0.0.0.0:8080", console_token="t").console_token
    assert not load_bridge_settings(http_listen="0.0.0.0:8080", console=False).console
    with pytest.raises(SettingsError, match=r"console[-_]ring[-_]size"):
        load_bridge_settings(console_ring_size=0)


def test_the_bridge_command_exits_with_one_line_naming_the_token(tmp_path: Path) -> None:
    argv = cli_argv("bridge", "--listen", "0.0.0.0:0", "--data-dir", str(tmp_path))
    env = {"PATH": "/usr/bin:/bin", "COMMERCE_GATEWAY_CONSOLE_TOKEN": "", "HOME": str(tmp_path)}
    done = subprocess.run(
        argv, check=False, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "COMMERCE_GATEWAY_CONSOLE_TOKEN" in done.stderr and "0.0.0.0" in done.stderr


async def test_what_a_sender_controls_is_shown_escaped(stack: Stack) -> None:
    async with httpx.AsyncClient() as client:
        topic = "<script>alert(1)</script>"
        await post_signed(client, stack.url, "shopify", b"{}", secret="wrong", topic=topic)
        page = await client.get(f"{stack.url}/console")
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # 'self' only
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


async def test_an_oversized_form_is_refused_as_a_problem(stack: Stack) -> None:
    async with httpx.AsyncClient() as client:
        csrf = await csrf_of(client, f"{stack.url}/console/login")
        data = {"csrf": csrf, "token": "x" * 20_000}
        refused = await client.post(f"{stack.url}/console/login", data=data)
    assert refused.status_code == 413
    assert refused.headers["content-type"] == "application/problem+json"


async def test_the_core_view_lists_consumer_groups_with_members_and_parked(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url) as client:
        empty = await client.get("/console/core")
        assert "The core has no consumer groups yet" in empty.text
        async with core_stub(stack.core_address) as stub:
            sequences = await publish(stub, "console", 3, keys=3)
            refuser = GroupMember(stub, "finalizer", lambda _d: "nack", start_after=0, nack_delay=1)
            async with running([refuser]):
                await wait_for(
                    lambda: group_state(stub, "finalizer", parked=3, lag=0),
                    timeout=60,
                    message="three parked",
                )
                page = await client.get("/console/core")
    assert page.status_code == 200
    row = page.text.split('id="consumer-groups"', 1)[1].split("</table>", 1)[0]
    assert "<td>finalizer</td>" in row
    assert "every shop; every kind" in row
    assert f'<td class="num">{sequences[-1]}</td>' in row  # acked (or parked) through the last
    assert '<td class="num">3</td>' in row  # parked
    assert "127.0.0.1" in row  # the connected member's peer
