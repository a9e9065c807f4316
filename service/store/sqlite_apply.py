"""Stores one event inside the writer's transaction: dedup, state rules, derived items."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

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
from service.store import sqlite_rows as rows
from service.store.base import CommittedRecord, PublishOutcome, StoreRules


def find_duplicate(conn: sqlite3.Connection, event: ev.Event) -> PublishOutcome | None:
    """The first copy of an event with the same dedup key (platform and source event id, or
    platform and content key when the event has one), or None."""
    row = conn.execute(
        "SELECT sequence, event_id FROM events WHERE platform = ? AND source_event_id = ?",
        (event.platform, event.source_event_id),
    ).fetchone()
    if row is None and event.content_key:
        row = conn.execute(
            "SELECT sequence, event_id FROM events WHERE platform = ? AND content_key = ?",
            (event.platform, event.content_key),
        ).fetchone()
    return PublishOutcome(False, row[0], row[1]) if row else None


def insert_event(
    conn: sqlite3.Connection,
    event: ev.Event,
    sequence: int,
    rules: StoreRules,
    stored_at_us: int,
) -> CommittedRecord:
    """Stores a new event at `sequence` with its state changes and derived items;
    `stored_at_us` (the request's time) is what retention compares against."""
    stored = ev.Event()
    stored.CopyFrom(event)
    stored.sequence = sequence
    alerts, completions = apply_rules(conn, stored, rules)
    conn.execute(
        "INSERT INTO events (sequence, platform, source_event_id, event_id, shop, kind,"
        " stored_at_us, data, content_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            sequence,
            stored.platform,
            stored.source_event_id,
            stored.id,
            stored.shop,
            event_kind(stored),
            stored_at_us,
            stored.SerializeToString(),
            stored.content_key or None,
        ),
    )
    for alert in alerts:
        conn.execute(
            "INSERT INTO alerts (sequence, shop, data) VALUES (?, ?, ?)",
            (sequence, alert.shop, alert.SerializeToString()),
        )
    for completion in completions:
        conn.execute(
            "INSERT INTO completions (sequence, shop, data) VALUES (?, ?, ?)",
            (sequence, completion.shop, completion.SerializeToString()),
        )
    return CommittedRecord(stored, tuple(alerts), tuple(completions))


def apply_rules(
    conn: sqlite3.Connection, event: ev.Event, rules: StoreRules
) -> tuple[list[ev.InventoryAlert], list[ev.OrderCompletion]]:
    """Applies the state rules of one event; returns the alerts and completions it derives."""
    case = event.WhichOneof("payload")
    if case == "inventory_updated":
        return apply_inventory(conn, event, rules), []
    if case == "product_updated":
        product = event.product_updated
        variants = [(v.variant_id, v.sku, v.inventory_item_id) for v in product.variants]
        entries = state.catalog_entries(event.shop, product.product_id, variants)
        rows.replace_product(conn, event.shop, product.product_id, entries)
    elif case == "product_deleted":
        rows.replace_product(conn, event.shop, event.product_deleted.product_id, ())
    elif case == "order_created":
        return [], apply_order(conn, event, order_facts(event, rules.session_attribute))
    elif case == "checkout_completed":
        return [], apply_order(conn, event, checkout_facts(event))
    return [], []


def apply_inventory(
    conn: sqlite3.Connection, event: ev.Event, rules: StoreRules
) -> list[ev.InventoryAlert]:
    """Applies an inventory update; returns its alert, if any."""
    payload = event.inventory_updated
    update = InventoryUpdate(
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
    previous = rows.load_level(conn, event.shop, update.inventory_item_id, update.location_id)
    catalog = rows.load_catalog(conn, event.shop, update.inventory_item_id)
    threshold = Decimal(rules.low_stock_threshold)
    change = state.apply_inventory(previous, update, catalog, threshold, event.sequence)
    if change is None:
        return []
    rows.save_level(conn, change.level)
    return [alert_message(event, change)] if change.alert else []


def resolve_session(
    conn: sqlite3.Connection, facts: OrderFacts, previous: OrderRecord | None
) -> Session | None:
    """The session an order belongs to: named, else bound by a key, else remembered."""
    if facts.session_id:
        found = rows.load_session(conn, facts.session_id)
        return found or Session(session_id=facts.session_id, shop=facts.shop)
    for key in state.session_keys(facts):
        session_id = rows.find_bound_session(conn, key)
        if session_id is not None:
            found = rows.load_session(conn, session_id)
            if found is not None:
                return found
    if previous is not None and previous.session_id:
        return rows.load_session(conn, previous.session_id)
    return None


def apply_order(
    conn: sqlite3.Connection, event: ev.Event, facts: OrderFacts
) -> list[ev.OrderCompletion]:
    """Applies an order or checkout event; returns its completion, if any."""
    previous = rows.load_order(conn, facts.shop, facts.order_id) if facts.order_id else None
    session = resolve_session(conn, facts, previous)
    occur = to_datetime(event.occur_time, event.HasField("occur_time"))
    change = state.apply_order(facts, previous, session, event.sequence, occur)
    if change is None:
        return []
    if facts.order_id:
        rows.save_order(conn, change.order)
    if change.session is not None:
        rows.save_session(conn, change.session)
    if change.completion_session_id is None:
        return []
    return [completion_message(event, change.completion_session_id, facts.order_id)]
