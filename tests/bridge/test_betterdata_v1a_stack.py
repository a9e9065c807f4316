"""Better Data `v1a` (ed25519) deliveries through the real bridge and core; a malformed key
stops `commerce-gateway bridge` at start."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from commercegateway.v1 import events_pb2

from bridge.samples import sample_body
from tests.bridge.test_verify_betterdata_v1a import OTHER_PRIVATE, PRIVATE, PUBLIC, SYMMETRIC
from tests.support.bridge import SECRET_ENV, log_before_sentinel, post_signed, running_stack
from tests.support.processes import REPO_ROOT, cli_argv


async def test_v1a_delivery_reaches_the_core_and_a_forged_one_is_403(tmp_path: Path) -> None:
    rotation = f"{SYMMETRIC},{PUBLIC}"
    async with (
        running_stack(tmp_path, betterdata_webhook_secret=rotation) as stack,
        httpx.AsyncClient(timeout=5.0) as client,
    ):
        body = sample_body("betterdata", "inventory.updated", now=datetime.now(UTC))
        genuine, forged = f"msg_{uuid.uuid4().hex}", f"msg_{uuid.uuid4().hex}"
        accepted = await post_signed(
            client, stack.url, "betterdata", body, secret=PRIVATE, delivery_id=genuine
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["status"] == "accepted"
        refused = await post_signed(
            client, stack.url, "betterdata", body, secret=OTHER_PRIVATE, delivery_id=forged
        )
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["reason"] == "bad_signature"
        stored = await log_before_sentinel(stack.core_address)
        reached = [event for event in stored if event.id == accepted.json()["event_id"]]
        assert [(e.delivery_id, e.platform) for e in reached] == [
            (genuine, events_pb2.PLATFORM_BETTERDATA)
        ]
        assert forged not in {event.delivery_id for event in stored}


async def _send(secret: str, url: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *cli_argv("send", "betterdata", "--url", url),
        cwd=REPO_ROOT,
        env={**os.environ, **SECRET_ENV, "BETTERDATA_WEBHOOK_SECRET": secret},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30.0)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_send_signs_v1a_with_a_whsk_key_and_refuses_a_whpk_key(tmp_path: Path) -> None:
    async with running_stack(tmp_path, betterdata_webhook_secret=PUBLIC) as stack:
        code, out, err = await _send(f"{PRIVATE},{SYMMETRIC}", stack.url)
        assert (code, out.splitlines()[0]) == (0, "200"), err
        event_id = json.loads(out.splitlines()[1])["event_id"]
        stored = await log_before_sentinel(stack.core_address)
        assert event_id in {event.id for event in stored}
        code, out, err = await _send(f"{PUBLIC},{SYMMETRIC}", stack.url)
        assert (code, out) == (2, "")
        assert err.strip() == (
            "commerce-gateway send: a whpk_ public key cannot sign: "
            "configure a whsk_ private key or a whsec_ secret"
        )


def test_bridge_with_a_malformed_whpk_key_stops_at_start_with_one_line() -> None:
    env = {**os.environ, **SECRET_ENV, "BETTERDATA_WEBHOOK_SECRET": f"{PUBLIC},whpk_AAAA"}
    result = subprocess.run(
        cli_argv("bridge", "--listen", "127.0.0.1:0"),
        capture_output=True,
        text=True,
        timeout=30.0,
        check=False,
        env=env,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "commerce-gateway bridge: BETTERDATA_WEBHOOK_SECRET: entry 2: a whpk_ key must be "
        "whpk_ + base64 of a 32-byte ed25519 public key"
    ]
