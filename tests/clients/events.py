"""Canonical test events for the client tests, published through the generated stub."""

from __future__ import annotations

import itertools
import uuid

import grpc
from commercegateway.v1 import core_service_pb2, core_service_pb2_grpc, events_pb2

SHOP = "clients-test.myshopify.com"
_counter = itertools.count()
_run = uuid.uuid4().hex[:8]


def _envelope(topic: str) -> events_pb2.Event:
    source_event_id = f"clients-{_run}-{next(_counter)}"
    return events_pb2.Event(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"shopify:{source_event_id}")),
        platform=events_pb2.PLATFORM_SHOPIFY,
        source_event_id=source_event_id,
        shop=SHOP,
        topic=topic,
        delivery_id=source_event_id,
    )


def inventory_event(item: str = "item-1", available: str = "10") -> events_pb2.Event:
    """An inventory level update of one item at one location."""
    event = _envelope("inventory_levels/update")
    event.inventory_updated.CopyFrom(
        events_pb2.InventoryUpdated(
            inventory_item_id=item, location_id="loc-1", available=available
        )
    )
    return event


def order_event(order_id: str, session_id: str = "") -> events_pb2.Event:
    """A completed order with a total."""
    event = _envelope("orders/create")
    event.order_created.CopyFrom(
        events_pb2.OrderCreated(
            order_id=order_id,
            name=f"#{order_id}",
            state=events_pb2.ORDER_STATE_COMPLETED,
            total=events_pb2.Money(amount_minor=2999, currency_code="USD", amount_decimal="29.99"),
            session_id=session_id,
        )
    )
    return event


def product_event(product_id: str) -> events_pb2.Event:
    """A product created or updated, with one variant."""
    event = _envelope("products/update")
    event.product_updated.CopyFrom(
        events_pb2.ProductUpdated(
            product_id=product_id,
            title="Test product",
            status="active",
            variants=[events_pb2.ProductVariant(variant_id="v1", sku="SKU-1")],
        )
    )
    return event


async def publish(
    target: str, events: list[events_pb2.Event], token: str | None = None
) -> list[core_service_pb2.PublishResult]:
    """Publishes through the generated stub, as the bridge does; returns the results."""
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    async with grpc.aio.insecure_channel(target) as channel:
        stub = core_service_pb2_grpc.CoreServiceStub(channel)
        request = core_service_pb2.PublishEventsRequest(events=events)
        response = await stub.PublishEvents(request, metadata=metadata, timeout=10)
    return list(response.results)
