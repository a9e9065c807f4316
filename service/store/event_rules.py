"""How storing an event changes state, written once for every engine: dedup (source event id
and content key), inventory, catalog, orders, sessions, and the items an event derives.

Sans-IO: every step is a generator over a Rows implementation whose methods are themselves
steps that yield statements (service.store.sql_rows); the engine's driver runs them, in a plain
loop on SQLite's writer thread and awaited on asyncpg. Why not one core for sync and async
callers otherwise: an `async` core would need an event loop on the SQLite writer thread (a
coroutine per event on the hot path, and a second loop), and a sync core cannot await asyncpg.
A generator is the one form both drivers can resume, costs about a function call per
statement, and lets a test run the rules against an in-memory Rows with no I/O at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Protocol

from commercegateway.v1 import events_pb2 as ev

from common.redaction import PRIVACY_PAYLOADS
from service import state
from service.convert import (
    alert_message,
    cancellation_facts,
    checkout_facts,
    completion_message,
    order_facts,
    payment_facts,
    retraction_message,
    to_datetime,
)
from service.domain import (
    Binding,
    CatalogEntry,
    InventoryLevel,
    InventoryUpdate,
    OrderFacts,
    OrderRecord,
    Session,
)
from service.store.base import CommittedRecord, PublishOutcome, StoreRules
from service.store.privacy_rules import PrivacyRows, apply_privacy
from service.store.sql_rows import Step


class Rows(PrivacyRows, Protocol):
    """The row access the rules need, each method a step (see service.store.sql_rows)."""

    def find_by_source_id(self, platform: int, source_event_id: str) -> Step[tuple[int, str]]:
        """The sequence and id of the stored event with this (platform, source event id)."""
        ...

    def find_by_content_key(self, platform: int, key: str) -> Step[tuple[int, str] | None]:
        """The sequence and id of the stored event with this (platform, content key), or None."""
        ...

    def insert_event(self, event: ev.Event, stored_at_us: int) -> Step[bool]:
        """Stores an event (its sequence set); False when its source event id is taken."""
        ...

    def insert_item(self, table: str, sequence: int, shop: str, data: bytes) -> Step[None]:
        """Stores an item an event derived ("alerts" or "completions")."""
        ...

    def load_level(self, shop: str, item: str, location: str) -> Step[InventoryLevel | None]:
        """One stored level, or None."""
        ...

    def save_level(self, level: InventoryLevel) -> Step[None]:
        """Inserts or replaces one level."""
        ...

    def load_catalog(self, shop: str, item: str) -> Step[CatalogEntry | None]:
        """The catalog entry of an inventory item, or None."""
        ...

    def replace_product(
        self, shop: str, product_id: str, entries: Sequence[CatalogEntry]
    ) -> Step[None]:
        """Replaces a product's catalog entries and enriches the stored levels of its items."""
        ...

    def load_session(self, session_id: str) -> Step[Session | None]:
        """One session with its bindings, or None."""
        ...

    def save_session(self, session: Session) -> Step[None]:
        """Inserts or replaces a session and binds its keys to it."""
        ...

    def find_bound_session(self, key: Binding) -> Step[str | None]:
        """The id of the session a key is bound to, or None."""
        ...

    def load_order(self, shop: str, order_id: str) -> Step[OrderRecord | None]:
        """What the core remembers of an order, or None."""
        ...

    def save_order(self, order: OrderRecord) -> Step[None]:
        """Inserts or replaces what the core remembers of an order."""
        ...

    def update_item(self, shop: str, item: str, sku: str) -> Step[None]:
        """Records an inventory item's SKU in the catalog and on the item's stored levels."""
        ...


def publish(
    rows: Rows, events: Sequence[ev.Event], last: int, rules: StoreRules, stored_at_us: int
) -> Step[tuple[list[PublishOutcome], list[CommittedRecord]]]:
    """Stores events in order after sequence `last` (duplicates take no sequence); returns
    each one's outcome and the records of those stored now. `stored_at_us` (the request's
    time) is what retention compares against."""
    outcomes: list[PublishOutcome] = []
    records: list[CommittedRecord] = []
    for event in events:
        stored = yield from store_event(rows, event, last + 1, rules, stored_at_us)
        if isinstance(stored, PublishOutcome):
            outcomes.append(stored)
            continue
        last = stored.sequence
        records.append(stored)
        outcomes.append(PublishOutcome(True, last, event.id))
    return outcomes, records


def store_event(
    rows: Rows, event: ev.Event, sequence: int, rules: StoreRules, stored_at_us: int
) -> Step[PublishOutcome | CommittedRecord]:
    """Stores a new event at `sequence` with its state changes and derived items, or returns
    the first copy's outcome when a dedup key ((platform, content_key), then (platform,
    source_event_id)) is taken. Writes run one at a time, so no other write can take a key
    between the check and the insert."""
    if event.content_key:
        first = yield from rows.find_by_content_key(event.platform, event.content_key)
        if first is not None:
            return PublishOutcome(False, *first)
    stored = ev.Event()
    stored.CopyFrom(event)
    stored.sequence = sequence
    if not (yield from rows.insert_event(stored, stored_at_us)):
        first_copy = yield from rows.find_by_source_id(event.platform, event.source_event_id)
        return PublishOutcome(False, *first_copy)
    alerts, completions = yield from apply_rules(rows, stored, rules)
    for alert in alerts:
        yield from rows.insert_item("alerts", sequence, alert.shop, alert.SerializeToString())
    for done in completions:
        yield from rows.insert_item("completions", sequence, done.shop, done.SerializeToString())
    return CommittedRecord(stored, tuple(alerts), tuple(completions))


def apply_rules(
    rows: Rows, event: ev.Event, rules: StoreRules
) -> Step[tuple[list[ev.InventoryAlert], list[ev.OrderCompletion]]]:
    """Applies the state rules of one event; returns the alerts and completions it derives."""
    case = event.WhichOneof("payload")
    if case == "inventory_updated":
        return (yield from apply_inventory(rows, event, rules)), []
    if case == "product_updated":
        product = event.product_updated
        variants = [(v.variant_id, v.sku, v.inventory_item_id) for v in product.variants]
        entries = state.catalog_entries(event.shop, product.product_id, variants)
        yield from rows.replace_product(event.shop, product.product_id, entries)
    elif case == "product_deleted":
        yield from rows.replace_product(event.shop, event.product_deleted.product_id, ())
    elif case == "order_created":
        facts = order_facts(event, rules.session_attribute)
        return [], (yield from apply_order(rows, event, facts))
    elif case == "checkout_completed":
        return [], (yield from apply_order(rows, event, checkout_facts(event)))
    elif case in PRIVACY_PAYLOADS:
        yield from apply_privacy(rows, event)
    else:
        return (yield from apply_lifecycle(rows, event, rules))
    return [], []


def apply_lifecycle(
    rows: Rows, event: ev.Event, rules: StoreRules
) -> Step[tuple[list[ev.InventoryAlert], list[ev.OrderCompletion]]]:
    """The state rules of the order lifecycle events (cancellations, full refunds, inventory
    items and level connections); refunds and fulfillments change no state."""
    case = event.WhichOneof("payload")
    if case == "order_cancelled":
        return [], (yield from apply_order(rows, event, cancellation_facts(event)))
    if case == "payment_updated" and (facts := payment_facts(event)) is not None:
        return [], (yield from apply_order(rows, event, facts))
    if case == "inventory_item_updated":
        changed = event.inventory_item_updated
        yield from rows.update_item(event.shop, changed.inventory_item_id, changed.sku)
    elif case == "inventory_level_connected":
        return (yield from apply_connection(rows, event, rules)), []
    elif case == "inventory_level_disconnected":
        link = event.inventory_level_disconnected
        item, location = link.inventory_item_id, link.location_id
        previous = yield from rows.load_level(event.shop, item, location)
        level = state.disconnect(previous, event.shop, item, location, event.sequence)
        yield from rows.save_level(level)
    return [], []


def apply_connection(
    rows: Rows, event: ev.Event, rules: StoreRules
) -> Step[list[ev.InventoryAlert]]:
    """Connects a level again: its quantity, when the event has one, applies as a fresh
    update (alerting as a first sight does); without one the level is only marked connected."""
    link = event.inventory_level_connected
    if link.available:
        update = InventoryUpdate(
            shop=event.shop,
            inventory_item_id=link.inventory_item_id,
            location_id=link.location_id,
            available=Decimal(link.available),
            update_time=to_datetime(link.update_time, link.HasField("update_time")),
            receive_time=to_datetime(event.receive_time, event.HasField("receive_time")),
            future_dated=event.future_dated,
        )
        return (yield from apply_inventory(rows, event, rules, update, reconnect=True))
    previous = yield from rows.load_level(event.shop, link.inventory_item_id, link.location_id)
    if previous is not None and previous.disconnected:
        yield from rows.save_level(replace(previous, disconnected=False, sequence=event.sequence))
    return []


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


def apply_inventory(
    rows: Rows,
    event: ev.Event,
    rules: StoreRules,
    update: InventoryUpdate | None = None,
    *,
    reconnect: bool = False,
) -> Step[list[ev.InventoryAlert]]:
    """Applies an inventory update (the event's own, unless `update` is given; `reconnect`:
    see state.apply_inventory); returns its alert, if any."""
    update = update or inventory_update(event)
    item, location = update.inventory_item_id, update.location_id
    previous = yield from rows.load_level(event.shop, item, location)
    catalog = yield from rows.load_catalog(event.shop, item)
    threshold = Decimal(rules.low_stock_threshold)
    change = state.apply_inventory(
        previous, update, catalog, threshold, event.sequence, reconnect=reconnect
    )
    if change is None:
        return []
    yield from rows.save_level(change.level)
    return [alert_message(event, change)] if change.alert else []


def resolve_session(
    rows: Rows, facts: OrderFacts, previous: OrderRecord | None
) -> Step[Session | None]:
    """The session an order belongs to: named, else bound by a key, else remembered."""
    if facts.session_id:
        found = yield from rows.load_session(facts.session_id)
        return found or Session(session_id=facts.session_id, shop=facts.shop)
    for key in state.session_keys(facts):
        session_id = yield from rows.find_bound_session(key)
        if session_id is not None:
            bound = yield from rows.load_session(session_id)
            if bound is not None:
                return bound
    if previous is not None and previous.session_id:
        return (yield from rows.load_session(previous.session_id))
    return None


def apply_order(rows: Rows, event: ev.Event, facts: OrderFacts) -> Step[list[ev.OrderCompletion]]:
    """Applies an order or checkout event; returns its completion, if any."""
    previous = None
    if facts.order_id:
        previous = yield from rows.load_order(facts.shop, facts.order_id)
    session = yield from resolve_session(rows, facts, previous)
    occur = to_datetime(event.occur_time, event.HasField("occur_time"))
    change = state.apply_order(facts, previous, session, event.sequence, occur)
    if change is None:
        return []
    if facts.order_id:
        yield from rows.save_order(change.order)
    if change.session is not None:
        yield from rows.save_session(change.session)
    if change.completion_session_id is None:
        return []
    if change.retraction is not None:
        session_id = change.completion_session_id
        return [retraction_message(event, session_id, facts.order_id, change.retraction)]
    return [completion_message(event, change.completion_session_id, facts.order_id)]


def bind_session(
    rows: Rows, session_id: str, shop: str, bindings: Sequence[Binding]
) -> Step[Session]:
    """Binds keys to a session (created when new) and returns it."""
    session = state.bind((yield from rows.load_session(session_id)), session_id, shop, bindings)
    yield from rows.save_session(session)
    return session
