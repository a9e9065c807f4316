"""A fourth platform added from the test suite alone: one Platform value, one register() call.

"Acme" signs the raw body with hex HMAC-SHA256 in X-Acme-Signature and names topic, delivery
and shop in headers. No bridge module knows it: the endpoint path, the signature detection on
/api/webhooks, verification, translation, signing and samples all come from the registry.
The proto knows three platforms, so Acme's events travel as PLATFORM_BETTERDATA.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from commercegateway.v1 import events_pb2

from bridge.platforms import REGISTRY, register
from bridge.platforms.common import (
    WebhookRejected,
    encode_text,
    parse_time,
    require_header,
)
from bridge.platforms.delivery import Envelope, Translation, make_event, validate_json
from bridge.platforms.fields import PlatformId, Schema, Timestamp
from bridge.platforms.platform import Platform, SignRequest, VerifyOptions
from bridge.samples import sample_body
from bridge.signing import signed_headers
from tests.support.bridge import SECRET, Stack, running_stack, wait_for_event

SIGNATURE = "x-acme-signature"
TOPIC = "x-acme-topic"
DELIVERY = "x-acme-delivery"
SHOP = "x-acme-shop"
SENT_AT = "x-acme-sent-at"


class StockChanged(Schema):
    """stock.changed: how many of an item are available now."""

    item: PlatformId
    available: int
    at: Timestamp


def _verify(
    body: bytes, headers: Mapping[str, str], secrets: Sequence[str], options: VerifyOptions
) -> None:
    keys = [encode_text(secret) for secret in secrets if secret]
    if not keys:
        raise WebhookRejected("no_secret_configured")
    given = require_header(headers, SIGNATURE)
    expected = [hmac.new(key, body, hashlib.sha256).hexdigest() for key in keys]
    if not any(hmac.compare_digest(given, digest) for digest in expected):
        raise WebhookRejected("bad_signature", "signature does not match any configured secret")


def _parse(body: bytes, headers: Mapping[str, str], received_at: datetime) -> Translation:
    envelope = Envelope(
        platform="acme",
        topic=require_header(headers, TOPIC),
        delivery_id=require_header(headers, DELIVERY),
        shop=require_header(headers, SHOP),
        received_at=received_at,
        wire=events_pb2.PLATFORM_BETTERDATA,
    )
    if envelope.topic != "stock.changed":
        return Translation(envelope, (), handled=False, payload_time=None)
    stock = validate_json(StockChanged, body)
    payload = events_pb2.InventoryUpdated(
        inventory_item_id=stock.item, available=str(stock.available)
    )
    event = make_event(envelope, "inventory_updated", payload, occur_time=stock.at)
    return Translation(envelope, (event,), handled=True, payload_time=stock.at)


def _sign(body: bytes, secret: str, request: SignRequest) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        SIGNATURE: hmac.new(encode_text(secret), body, hashlib.sha256).hexdigest(),
        TOPIC: request.topic,
        DELIVERY: request.delivery_id or uuid.uuid4().hex,
        SHOP: request.shop,
        SENT_AT: request.now.isoformat(),
    }


def _sample(topic: str, shop: str, now: str) -> dict[str, Any]:
    assert parse_time(now) is not None
    return {"item": f"item-{uuid.uuid4().hex[:8]}", "available": 7, "at": now}


ACME = Platform(
    name="acme",
    wire=events_pb2.PLATFORM_BETTERDATA,
    title="Acme",
    verify=_verify,
    parse=_parse,
    sign=_sign,
    sample=_sample,
    handled_topics=("stock.changed",),
    signature_headers=(SIGNATURE,),
    secret_variable="ACME_WEBHOOK_SECRET",
    sample_shop="acme-shop-1",
    topic_headers=(TOPIC,),
    delivery_id_headers=(DELIVERY,),
    shop_headers=(SHOP,),
    event_time_headers=(SENT_AT,),
    signature_scheme="X-Acme-Signature",
    header_docs=((SIGNATURE, True, "hex HMAC-SHA256 of the raw body."),),
)


@pytest.fixture
def acme() -> Iterator[Platform]:
    """Acme registered for one test, then removed."""
    register(ACME)
    try:
        yield ACME
    finally:
        REGISTRY.pop(ACME.name, None)


@pytest.fixture
async def acme_stack(acme: Platform, tmp_path: Path) -> AsyncIterator[Stack]:
    """A real core and bridge (uvicorn) started after Acme was registered."""
    async with running_stack(tmp_path) as stack:
        yield stack


def _item(body: bytes) -> str:
    item: str = json.loads(body)["item"]
    return item


async def test_signed_delivery_of_a_registered_platform_reaches_the_core(
    acme_stack: Stack,
) -> None:
    body = sample_body("acme", "stock.changed")
    headers = signed_headers("acme", body, SECRET, topic="stock.changed", shop="acme-shop-1")
    async with httpx.AsyncClient(timeout=10.0) as client:
        response = await client.post(
            f"{acme_stack.url}/webhooks/acme", content=body, headers=headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "accepted"
        stored = await wait_for_event(
            acme_stack.core_address,
            lambda event: event.inventory_updated.inventory_item_id == _item(body),
        )
        assert (stored.shop, stored.topic, stored.inventory_updated.available) == (
            "acme-shop-1",
            "stock.changed",
            "7",
        )
        assert stored.id == str(uuid.uuid5(uuid.NAMESPACE_URL, f"acme:{headers[DELIVERY]}"))

        detected = sample_body("acme", "stock.changed")
        signed = signed_headers("acme", detected, SECRET, topic="stock.changed", shop="s2")
        by_header = await client.post(
            f"{acme_stack.url}/api/webhooks", content=detected, headers=signed
        )
        assert by_header.status_code == 200, by_header.text
        assert by_header.json()["status"] == "accepted"


async def test_a_registered_platform_is_verified_and_validated(acme_stack: Stack) -> None:
    body = sample_body("acme", "stock.changed")
    headers = signed_headers("acme", body, "not-the-secret", topic="stock.changed", shop="s")
    bad = json.dumps({"item": "x", "available": "many", "at": "2020-01-01T00:00:00Z"}).encode()
    schema = signed_headers("acme", bad, SECRET, topic="stock.changed", shop="s")
    async with httpx.AsyncClient(timeout=10.0) as client:
        forged = await client.post(f"{acme_stack.url}/webhooks/acme", content=body, headers=headers)
        mismatch = await client.post(f"{acme_stack.url}/webhooks/acme", content=bad, headers=schema)
        docs = await client.get(f"{acme_stack.url}/schema/openapi.json")
    assert (forged.status_code, forged.json()["reason"]) == (403, "bad_signature")
    assert (mismatch.status_code, mismatch.json()["reason"]) == (422, "schema_mismatch")
    assert "/webhooks/acme" in docs.json()["paths"]
