"""Bad requests get INVALID_ARGUMENT with a message naming the problem."""

from __future__ import annotations

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from tests.service.events import inventory, order
from tests.support.core import CoreStub


async def publish_error(stub: CoreStub, events: list[ev.Event]) -> str:
    """Publishes and returns the INVALID_ARGUMENT details."""
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.PublishEvents(api.PublishEventsRequest(events=events))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return error.value.details() or ""


def without(event: ev.Event, field: str) -> ev.Event:
    """The event with one field cleared."""
    event.ClearField(field)  # type: ignore[arg-type]
    return event


async def test_empty_batch_is_rejected(stub: CoreStub) -> None:
    assert "events is empty" in await publish_error(stub, [])


async def test_batch_over_limit_is_rejected(stub: CoreStub) -> None:
    events = [inventory(f"e{n}", "item", "1") for n in range(1001)]
    assert "at most 1000" in await publish_error(stub, events)


async def test_missing_platform_is_rejected(stub: CoreStub) -> None:
    event = without(inventory("e", "item", "1"), "platform")
    assert "events[0].platform" in await publish_error(stub, [event])


async def test_missing_source_event_id_is_rejected(stub: CoreStub) -> None:
    events = [inventory("ok", "item", "1"), without(inventory("e", "item", "1"), "source_event_id")]
    assert "events[1].source_event_id" in await publish_error(stub, events)


async def test_missing_payload_is_rejected(stub: CoreStub) -> None:
    event = without(inventory("e", "item", "1"), "inventory_updated")
    assert "events[0].payload" in await publish_error(stub, [event])


async def test_non_decimal_quantity_is_rejected(stub: CoreStub) -> None:
    message = await publish_error(stub, [inventory("e", "item", "ten")])
    assert "inventory_updated.available must be a decimal" in message


async def test_order_without_id_is_rejected(stub: CoreStub) -> None:
    assert "order_created.order_id" in await publish_error(stub, [order("e", "")])


async def test_rejected_batch_stores_nothing(stub: CoreStub) -> None:
    await publish_error(stub, [inventory("good", "item", "1"), inventory("bad", "item", "x")])
    reply = await stub.PublishEvents(
        api.PublishEventsRequest(events=[inventory("good", "item", "1")])
    )
    assert reply.results[0].outcome == api.PUBLISH_OUTCOME_STORED


async def test_missing_event_id_is_filled_deterministically(stub: CoreStub) -> None:
    expected = inventory("e", "item", "1").id
    reply = await stub.PublishEvents(
        api.PublishEventsRequest(events=[without(inventory("e", "item", "1"), "id")])
    )
    assert reply.results[0].event_id == expected


async def test_negative_cursor_is_rejected(stub: CoreStub) -> None:
    call = stub.SubscribeEvents(api.SubscribeEventsRequest(after_sequence=-1))
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call.read()
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_negative_page_size_is_rejected(stub: CoreStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ListInventoryLevels(api.ListInventoryLevelsRequest(page_size=-5))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    "event",
    [
        inventory("e", "item\x00", "1"),
        order("e", "order-1", attributes={"gateway_session_id": "s\x00"}),
    ],
    ids=["item-id", "order-attribute"],
)
async def test_nul_in_an_identifier_is_rejected_by_every_engine(
    stub: CoreStub, event: ev.Event
) -> None:
    assert "NUL character" in await publish_error(stub, [event])
