"""State rules through a real server: alerts, staleness, catalog enrichment, levels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from tests.service.events import SHOP, inventory, product
from tests.support.core import CoreStub

T0 = datetime(2026, 3, 1, tzinfo=UTC)


async def publish(stub: CoreStub, *events: ev.Event) -> list[int]:
    """Publishes events; returns their sequences."""
    reply = await stub.PublishEvents(api.PublishEventsRequest(events=events))
    return [result.sequence for result in reply.results]


async def alerts_after(stub: CoreStub, after: int, count: int) -> list[ev.InventoryAlert]:
    """Reads `count` alerts stored after a sequence."""
    call = stub.SubscribeInventoryAlerts(api.SubscribeInventoryAlertsRequest(after_sequence=after))
    found: list[ev.InventoryAlert] = []
    async for response in call:
        found.extend(response.alerts)
        if len(found) >= count:
            break
    call.cancel()
    return found


async def test_crossings_derive_one_alert_each(stub: CoreStub) -> None:
    quantities = ["10", "3", "0", "4", "7", "2"]
    events = [inventory(f"e{n}", "item", q) for n, q in enumerate(quantities)]
    sequences = await publish(stub, *events)
    alerts = await alerts_after(stub, 0, 4)
    assert [(a.kind, a.previous_quantity, a.new_quantity) for a in alerts] == [
        (ev.INVENTORY_ALERT_KIND_LOW_STOCK, "10", "3"),
        (ev.INVENTORY_ALERT_KIND_OUT_OF_STOCK, "3", "0"),
        (ev.INVENTORY_ALERT_KIND_BACK_IN_STOCK, "0", "4"),
        (ev.INVENTORY_ALERT_KIND_LOW_STOCK, "7", "2"),
    ]
    assert [a.sequence for a in alerts] == [*sequences[1:4], sequences[5]]
    assert alerts[0].event_id == events[1].id


async def test_stale_update_changes_nothing_and_derives_no_alert(stub: CoreStub) -> None:
    await publish(stub, inventory("new", "item", "8", update_time=T0))
    await publish(stub, inventory("old", "item", "0", update_time=T0 - timedelta(minutes=1)))
    await publish(stub, inventory("next", "item", "2", update_time=T0 + timedelta(minutes=1)))
    level = await stub.GetInventoryLevel(
        api.GetInventoryLevelRequest(shop=SHOP, inventory_item_id="item", location_id="loc-1")
    )
    assert level.level.available == "2"
    alerts = await alerts_after(stub, 0, 1)
    assert [(a.previous_quantity, a.new_quantity) for a in alerts] == [("8", "2")]


async def test_product_mapping_enriches_levels_and_later_alerts(stub: CoreStub) -> None:
    await publish(stub, inventory("e1", "item-9", "0"))
    request = api.GetInventoryLevelRequest(
        shop=SHOP, inventory_item_id="item-9", location_id="loc-1"
    )
    before = await stub.GetInventoryLevel(request)
    assert before.level.product_id == ""
    await publish(stub, product("p1", "prod-1", [("var-1", "SKU-1", "item-9")]))
    after = await stub.GetInventoryLevel(request)
    assert (after.level.product_id, after.level.variant_id, after.level.sku) == (
        "prod-1",
        "var-1",
        "SKU-1",
    )
    await publish(stub, inventory("e2", "item-9", "5"))
    first, second = await alerts_after(stub, 0, 2)
    assert (first.product_id, first.inventory_item_id) == ("", "item-9")
    assert (second.product_id, second.variant_id, second.sku) == ("prod-1", "var-1", "SKU-1")


async def test_deleted_product_unmaps_its_items(stub: CoreStub) -> None:
    deleted = ev.Event(id="d", platform=ev.PLATFORM_SHOPIFY, source_event_id="d", shop=SHOP)
    deleted.product_deleted.product_id = "prod-1"
    await publish(stub, product("p1", "prod-1", [("var-1", "SKU-1", "item-9")]), deleted)
    await publish(stub, inventory("e1", "item-9", "0"))
    (alert,) = await alerts_after(stub, 0, 1)
    assert alert.product_id == ""


async def test_missing_level_is_not_found(stub: CoreStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.GetInventoryLevel(
            api.GetInventoryLevelRequest(shop=SHOP, inventory_item_id="nope")
        )
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


async def test_levels_are_listed_in_pages(stub: CoreStub) -> None:
    await publish(stub, *[inventory(f"e{n}", f"item-{n:02}", str(n)) for n in range(25)])
    items: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await stub.ListInventoryLevels(
            api.ListInventoryLevelsRequest(shop=SHOP, page_size=10, page_token=token)
        )
        items.extend(level.inventory_item_id for level in page.levels)
        assert page.sequence == 25
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert pages == 3
    assert items == [f"item-{n:02}" for n in range(25)]


async def test_bad_page_token_is_invalid_argument(stub: CoreStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ListInventoryLevels(api.ListInventoryLevelsRequest(page_token="garbage!"))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in (error.value.details() or "")


async def test_live_alerts_are_filtered_by_shop(stub: CoreStub) -> None:
    call = stub.SubscribeInventoryAlerts(api.SubscribeInventoryAlertsRequest(shop="b.shop"))
    await call.initial_metadata()
    await publish(stub, inventory("a1", "item", "0", shop="a.shop"))
    (sequence,) = await publish(stub, inventory("b1", "item", "0", shop="b.shop"))
    response = await call.read()
    call.cancel()
    assert isinstance(response, api.SubscribeInventoryAlertsResponse)
    assert [(a.shop, a.sequence) for a in response.alerts] == [("b.shop", sequence)]
    assert response.sequence == sequence
