"""Issue 9 item 3: stream responses bounded in bytes, events bounded in size (real core)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from commercegateway import CoreClient
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import core_service_pb2_grpc
from commercegateway.v1 import events_pb2 as ev

from common.errors import EventTooLargeError, InvalidArgumentError
from common.event_validation import MAX_EVENT_BYTES, check_event_size
from service.settings import MAX_EVENT_BYTES_CEILING, SettingsError, load_core_settings
from service.wire import MAX_RESPONSE_BYTES
from tests.service.events import envelope, inventory
from tests.support.core import core_stub, running_core

PRODUCTS = 450
VARIANTS = 100
SHOPIFY_SHOP = "big-catalog.myshopify.com"
VARIANT_TITLE = "organic cotton, garment dyed, pre-shrunk, unisex"


def product_update(index: int) -> ev.Event:
    """A canonical Shopify products/update event as the bridge makes it from a signed
    delivery of a product with 100 variants (about 16 KB)."""
    product_id = str(8_000_000_000_000 + index)
    event = envelope(f"webhook-{index:08d}-4f2c-9a8e-products-update", shop=SHOPIFY_SHOP)
    event.topic = "products/update"
    event.delivery_id = event.source_event_id
    event.occur_time.FromSeconds(1_760_000_000 + index)
    event.receive_time.FromSeconds(1_760_000_001 + index)
    product = event.product_updated
    product.product_id = product_id
    product.title = f"Organic cotton crew-neck T-shirt, relaxed fit, style {index}"
    product.status = "active"
    product.update_time.FromSeconds(1_760_000_000 + index)
    for number in range(VARIANTS):
        product.variants.add(
            variant_id=str(44_000_000_000_000 + index * 1000 + number),
            sku=f"TSHIRT-{index:04d}-{number:03d}-ORGANIC-CREW",
            inventory_item_id=str(46_000_000_000_000 + index * 1000 + number),
            price=ev.Money(amount_minor=2999, currency_code="USD", amount_decimal="29.99"),
            title=f"Size {number % 6} / Colour {number // 6} / {VARIANT_TITLE}",
        )
    return event


async def publish_catalog(address: str) -> int:
    """Publishes the 450 product updates in batches; returns the last sequence."""
    async with core_stub(address) as stub:
        last = 0
        for start in range(0, PRODUCTS, 50):
            batch = [product_update(i) for i in range(start, min(PRODUCTS, start + 50))]
            reply = await stub.PublishEvents(api.PublishEventsRequest(events=batch))
            last = reply.results[-1].sequence
    return last


async def test_subscriber_resuming_before_big_events_reaches_the_head(tmp_path: Path) -> None:
    size = product_update(0).ByteSize()
    assert 15_000 < size < 20_000
    async with running_core(tmp_path) as core:
        head = await publish_catalog(core.address)
        assert head == PRODUCTS
        # The Python client resumes from before them and reaches the head.
        seen: list[int] = []
        async with CoreClient(core.address) as client, asyncio.timeout(60):
            async for event in client.subscribe_events(after_sequence=0):
                seen.append(event.sequence)
                if event.sequence == head:
                    break
        assert seen == list(range(1, head + 1))
        # A client with gRPC's default 4 MiB receive limit gets responses of at most ~1 MiB.
        async with grpc.aio.insecure_channel(core.address) as channel:
            stub = core_service_pb2_grpc.CoreServiceStub(channel)
            call = stub.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=0))
            received: list[int] = []
            async with asyncio.timeout(60):
                while not received or received[-1] < head:
                    response = await call.read()
                    assert isinstance(response, api.SubscribeEventsResponse)
                    assert response.ByteSize() <= MAX_RESPONSE_BYTES + 64
                    received += [event.sequence for event in response.events]
            call.cancel()
        assert received == list(range(1, head + 1))


async def test_event_over_the_limit_is_refused_and_readers_keep_working(tmp_path: Path) -> None:
    async with running_core(tmp_path) as core, core_stub(core.address) as stub:
        reader = stub.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=0))
        await stub.PublishEvents(api.PublishEventsRequest(events=[inventory("e-1", "i", "1")]))
        huge = envelope("huge-1")
        huge.product_updated.product_id = "p-huge"
        huge.product_updated.title = "x" * (MAX_EVENT_BYTES + 1)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.PublishEvents(
                api.PublishEventsRequest(events=[inventory("e-2", "i", "2"), huge])
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        details = refused.value.details() or ""
        assert "events[1]" in details
        assert huge.id in details
        assert f"{MAX_EVENT_BYTES:,} bytes" in details
        # Nothing of the refused batch was stored; the reader keeps receiving.
        await stub.PublishEvents(api.PublishEventsRequest(events=[inventory("e-3", "i", "3")]))
        received: list[str] = []
        async with asyncio.timeout(10):
            while len(received) < 2:
                response = await reader.read()
                assert isinstance(response, api.SubscribeEventsResponse)
                received += [event.source_event_id for event in response.events]
        assert received == ["e-1", "e-3"]
        reader.cancel()


async def test_max_event_bytes_setting_is_enforced(tmp_path: Path) -> None:
    async with (
        running_core(tmp_path, max_event_bytes=2048) as core,
        core_stub(core.address) as stub,
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.PublishEvents(api.PublishEventsRequest(events=[product_update(1)]))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "2,048 bytes" in (refused.value.details() or "")


def test_check_event_size_is_an_invalid_argument_naming_event_and_limit() -> None:
    event = product_update(7)
    size = check_event_size(event, "events[0]", limit=size_limit(event))
    assert size == event.ByteSize()
    with pytest.raises(EventTooLargeError) as error:
        check_event_size(event, "events[3]", limit=size - 1)
    assert isinstance(error.value, InvalidArgumentError)
    assert (error.value.size, error.value.limit, error.value.event_id) == (size, size - 1, event.id)
    assert str(error.value).startswith(f"events[3] (id '{event.id}') is {size:,} bytes")


def size_limit(event: ev.Event) -> int:
    """A limit the event exactly meets."""
    return event.ByteSize()


def test_max_event_bytes_above_the_clients_limit_is_refused_at_start() -> None:
    with pytest.raises(SettingsError) as error:
        load_core_settings(max_event_bytes=MAX_EVENT_BYTES_CEILING + 1)
    assert "max-event-bytes" in str(error.value)  # the flag or setting it came from
