"""Stores one event inside a PostgreSQL write transaction: dedup, state rules, derived items.

The same steps as the SQLite engine (service.store.sqlite_apply) with the pure rules of
service.state; only the row access differs (asyncpg, awaited).
"""

from __future__ import annotations

from decimal import Decimal

import asyncpg
from commercegateway.v1 import events_pb2 as ev

from service import state
from service.convert import (
    alert_message,
    checkout_facts,
    completion_message,
    event_kind,
    order_facts,
    to_datetime,
)
from service.domain import InventoryUpdate, OrderFacts, OrderRecord, Session
from service.store import postgres_rows as rows
from service.store.base import CommittedRecord, PublishOutcome, StoreRules


async def store_event(
    conn: asyncpg.Connection,
    event: ev.Event,
    sequence: int,
    rules: StoreRules,
    stored_at_us: int,
) -> PublishOutcome | CommittedRecord:
    """Stores a new event at `sequence` with its state changes and derived items, or returns
    the first copy's outcome when a dedup key ((platform, source_event_id) or (platform,
    content_key)) is taken;
    `stored_at_us` (the request's time) is what retention compares against."""
    stored = ev.Event()
    stored.CopyFrom(event)
    stored.sequence = sequence
    if event.content_key:  # writes hold LOG_LOCK, so nothing can insert the key meanwhile
        same_content = await conn.fetchrow(
            "SELECT sequence, event_id FROM events WHERE platform = $1 AND content_key = $2",
            event.platform,
            event.content_key,
        )
        if same_content is not None:
            return PublishOutcome(False, int(same_content[0]), str(same_content[1]))
    inserted = await conn.fetchval(
        "INSERT INTO events (sequence, platform, source_event_id, event_id, shop, kind,"
        " stored_at_us, data, content_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (platform, source_event_id) DO NOTHING RETURNING sequence",
        sequence,
        stored.platform,
        stored.source_event_id,
        stored.id,
        stored.shop,
        event_kind(stored),
        stored_at_us,
        stored.SerializeToString(),
        stored.content_key or None,
    )
    if inserted is None:
        first = await conn.fetchrow(
            "SELECT sequence, event_id FROM events WHERE platform = $1 AND source_event_id = $2",
            event.platform,
            event.source_event_id,
        )
        return PublishOutcome(False, int(first[0]), str(first[1]))
    alerts, completions = await apply_rules(conn, stored, rules)
    for table, items in (("alerts", alerts), ("completions", completions)):
        for item in items:
            await conn.execute(
                f"INSERT INTO {table} (sequence, shop, data) VALUES ($1, $2, $3)",
                sequence,
                item.shop,
                item.SerializeToString(),
            )
    return CommittedRecord(stored, tuple(alerts), tuple(completions))


async def apply_rules(
    conn: asyncpg.Connection, event: ev.Event, rules: StoreRules
) -> tuple[list[ev.InventoryAlert], list[ev.OrderCompletion]]:
    """Applies the state rules of one event; returns the alerts and completions it derives."""
    case = event.WhichOneof("payload")
    if case == "inventory_updated":
        return await apply_inventory(conn, event, rules), []
    if case == "product_updated":
        product = event.product_updated
        variants = [(v.variant_id, v.sku, v.inventory_item_id) for v in product.variants]
        entries = state.catalog_entries(event.shop, product.product_id, variants)
        await rows.replace_product(conn, event.shop, product.product_id, entries)
    elif case == "product_deleted":
        await rows.replace_product(conn, event.shop, event.product_deleted.product_id, ())
    elif case == "order_created":
        return [], await apply_order(conn, event, order_facts(event, rules.session_attribute))
    elif case == "checkout_completed":
        return [], await apply_order(conn, event, checkout_facts(event))
    return [], []


def inventory_update(event: ev.Event) -> InventoryUpdate:
    """The domain value of an InventoryUpdated event."""
    payload = event.inventory_updated
    return InventoryUpdate(
        shop=event.shop,
        inventory_item_id=payload.inventory_item_id,
        location_id=payload.location_id,
        available=Decimal(payload.available),
        update_time=to_datetime(payload.update_time, payload.HasField("update_time")),
        product_id=payload.product_id,
        variant_id=payload.variant_id,
        sku=payload.sku,
        receive_time=to_datetime(event.receive_time, event.HasField("receive_time")),
        future_dated=event.future_dated,
    )


async def apply_inventory(
    conn: asyncpg.Connection, event: ev.Event, rules: StoreRules
) -> list[ev.InventoryAlert]:
    """Applies an inventory update; returns its alert, if any."""
    update = inventory_update(event)
    item, location = update.inventory_item_id, update.location_id
    previous = await rows.load_level(conn, event.shop, item, location)
    catalog = await rows.load_catalog(conn, event.shop, item)
    threshold = Decimal(rules.low_stock_threshold)
    change = state.apply_inventory(previous, update, catalog, threshold, event.sequence)
    if change is None:
        return []
    await rows.save_level(conn, change.level)
    return [alert_message(event, change)] if change.alert else []


async def resolve_session(
    conn: asyncpg.Connection, facts: OrderFacts, previous: OrderRecord | None
) -> Session | None:
    """The session an order belongs to: named, else bound by a key, else remembered."""
    if facts.session_id:
        found = await rows.load_session(conn, facts.session_id)
        return found or Session(session_id=facts.session_id, shop=facts.shop)
    for key in state.session_keys(facts):
        session_id = await rows.find_bound_session(conn, key)
        if session_id is not None:
            found = await rows.load_session(conn, session_id)
            if found is not None:
                return found
    if previous is not None and previous.session_id:
        return await rows.load_session(conn, previous.session_id)
    return None


async def apply_order(
    conn: asyncpg.Connection, event: ev.Event, facts: OrderFacts
) -> list[ev.OrderCompletion]:
    """Applies an order or checkout event; returns its completion, if any."""
    previous = None
    if facts.order_id:
        previous = await rows.load_order(conn, facts.shop, facts.order_id)
    session = await resolve_session(conn, facts, previous)
    occur = to_datetime(event.occur_time, event.HasField("occur_time"))
    change = state.apply_order(facts, previous, session, event.sequence, occur)
    if change is None:
        return []
    if facts.order_id:
        await rows.save_order(conn, change.order)
    if change.session is not None:
        await rows.save_session(conn, change.session)
    if change.completion_session_id is None:
        return []
    return [completion_message(event, change.completion_session_id, facts.order_id)]
