"""Schema mismatches: 422 over HTTP, kept in quarantine, inspected and re-driven by the CLI."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio

from bridge.quarantine import Quarantine
from bridge.samples import sample_body
from tests.support.bridge import (
    SECRET_ENV,
    Stack,
    post_signed,
    running_stack,
    signed,
    wait_for_event,
)
from tests.support.processes import REPO_ROOT, cli_argv

pytestmark = pytest.mark.asyncio(loop_scope="module")

BAD_LEVEL = b'{"inventory_item_id": "not-a-number", "location_id": {"nested": true}}'


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """One core and one bridge for the module."""
    async with running_stack(tmp_path_factory.mktemp("quarantine")) as running:
        yield running


async def cli(stack: Stack, *args: str) -> tuple[int, str, str]:
    """Runs `commerce-gateway quarantine --data-dir <bridge data> ARGS` as a user would."""
    argv = cli_argv("quarantine", "--data-dir", str(stack.data_dir), *args)
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=REPO_ROOT,
        env={**os.environ, **SECRET_ENV, "COMMERCE_GATEWAY_CORE": stack.core_address},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _quarantine_one(stack: Stack) -> tuple[int, dict[str, object]]:
    async with httpx.AsyncClient() as client:
        response = await post_signed(
            client, stack.url, "shopify", BAD_LEVEL, topic="inventory_levels/update"
        )
    assert response.status_code == 422, response.text
    code, out, _ = await cli(stack, "--json", "list")
    assert code == 0
    return int(json.loads(out)[-1]["id"]), response.json()


async def test_schema_mismatch_is_422_and_quarantined(stack: Stack) -> None:
    entry_id, problem = await _quarantine_one(stack)
    assert problem["type"] == "urn:commerce-gateway:problem:schema-mismatch"
    assert problem["errors"]
    assert f"entry {entry_id}" in str(problem["detail"])
    code, out, _ = await cli(stack, "list")
    assert code == 0
    assert "shopify" in out and "inventory_levels/update" in out


async def test_show_prints_reason_headers_and_body_without_signature(stack: Stack) -> None:
    entry_id, _ = await _quarantine_one(stack)
    code, out, _ = await cli(stack, "--json", "show", str(entry_id))
    assert code == 0
    shown = json.loads(out)
    assert shown["body"] == BAD_LEVEL.decode()
    assert shown["headers"]["x-shopify-topic"] == "inventory_levels/update"
    assert "x-shopify-hmac-sha256" not in shown["headers"]
    code, text, _ = await cli(stack, "show", str(entry_id))
    assert code == 0 and "x-shopify-topic: inventory_levels/update" in text


async def test_show_of_missing_entry_fails(stack: Stack) -> None:
    code, _, err = await cli(stack, "show", "999999")
    assert code == 1
    assert "no entry 999999" in err


async def test_redrive_of_still_invalid_entry_keeps_it(stack: Stack) -> None:
    entry_id, _ = await _quarantine_one(stack)
    code, out, _ = await cli(stack, "redrive", str(entry_id))
    assert code == 1
    assert "rejected" in out
    code, out, _ = await cli(stack, "--json", "list")
    assert entry_id in [entry["id"] for entry in json.loads(out)]


async def test_redrive_forwards_a_parsable_entry_and_removes_it(stack: Stack) -> None:
    body = sample_body("shopify", "orders/create")
    headers = {
        "x-shopify-topic": "orders/create",
        "x-shopify-shop-domain": "redrive.myshopify.com",
        "x-shopify-api-version": "2025-07",
        "x-shopify-webhook-id": "redrive-delivery-1",
        "content-type": "application/json",
    }
    quarantine = Quarantine(stack.data_dir)
    entry_id = await quarantine.add(
        platform="shopify",
        topic="orders/create",
        delivery_id="redrive-delivery-1",
        reason="schema_mismatch",
        errors=["from an older bridge version"],
        headers=headers,
        body=body,
        received_at=datetime.now(UTC),
    )
    quarantine.close()
    code, out, err = await cli(stack, "--json", "redrive", str(entry_id))
    assert code == 0, out + err
    outcome = json.loads(out)[0]
    assert outcome["result"] == "stored"
    event = await wait_for_event(
        stack.core_address, lambda e: e.delivery_id == "redrive-delivery-1"
    )
    assert event.shop == "redrive.myshopify.com"
    code, out, _ = await cli(stack, "--json", "list")
    assert entry_id not in [entry["id"] for entry in json.loads(out)]


async def test_redrive_needs_id_or_all(stack: Stack) -> None:
    code, _, err = await cli(stack, "redrive")
    assert code == 2
    assert "exactly one of ID or --all" in err


async def test_list_and_show_escape_terminal_controls_from_a_delivery(stack: Stack) -> None:
    url = f"{stack.url}/webhooks/shopify"
    given = signed("shopify", BAD_LEVEL, url=url, topic="inventory_levels/update")
    headers = {k.encode(): v.encode() for k, v in given.items() if "webhook-id" not in k.lower()}
    headers[b"x-shopify-webhook-id"] = b"evil\x9b2J"  # latin-1: a C1 CSI, as a terminal reads it
    async with httpx.AsyncClient() as client:
        response = await client.post(url, content=BAD_LEVEL, headers=headers)
    assert response.status_code == 422, response.text
    code, out, _ = await cli(stack, "--json", "list")
    entry_id = int(json.loads(out)[-1]["id"])
    code, text, _ = await cli(stack, "show", str(entry_id))
    assert code == 0
    assert "\x9b" not in text and "delivery_id: evil\\x9b2J" in text
    code, text, _ = await cli(stack, "list")
    assert code == 0 and "\x9b" not in text
