"""How the privacy events change what the core holds, written once for every engine (sans-IO
steps over Rows, as service.store.event_rules):

- CustomerRedacted: every earlier event of the shop naming the customer or one of the listed
  orders becomes a redacted entry (common.redaction.redacted_copy) at the same sequence; the
  completions derived from them are deleted, and so are the rows of those orders and their
  sessions with the sessions' bindings.
- ShopRedacted: every earlier event of the shop becomes a redacted entry, every state row and
  derived item of the shop is deleted, and the shop is recorded as redacted.
- AppUninstalled: the shop is recorded as uninstalled; its data stays.
- CustomerDataRequested: stored and streamed only (`privacy export` answers it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from commercegateway.v1 import events_pb2 as ev

from common.redaction import Subject, concerns, order_of, redacted_copy, subject_of, widened
from service.store.privacy_rows import ShopRecord
from service.store.steps import Step

MAX_EXPORT_EVENTS = 10_000
"""At most this many events in one customer export (the response says when it is cut)."""


class PrivacyRows(Protocol):
    """The row access the privacy rules need (see service.store.privacy_rows)."""

    def shop_events(
        self, shop: str, platform: int, after: int, before: int
    ) -> Step[list[tuple[int, bytes]]]:
        """A page of (sequence, data) of the shop's events between two sequences."""
        ...

    def replace_event_data(self, sequence: int, data: bytes) -> Step[None]:
        """Replaces the stored bytes of one event."""
        ...

    def delete_completions(self, sequences: Sequence[int]) -> Step[None]:
        """Deletes the completions derived from these events."""
        ...

    def erase_orders(self, shop: str, order_ids: Sequence[str]) -> Step[None]:
        """Deletes the order rows, their sessions and the sessions' bindings."""
        ...

    def erase_shop_state(self, shop: str) -> Step[None]:
        """Deletes every state row and derived item of the shop."""
        ...

    def load_shop(self, shop: str) -> Step[ShopRecord | None]:
        """The shop's recorded installation state, or None."""
        ...

    def save_shop(self, record: ShopRecord) -> Step[None]:
        """Inserts or replaces the shop's installation state."""
        ...

    def has_events(self, shop: str) -> Step[bool]:
        """Whether the log holds any event of the shop."""
        ...

    def sessions_of_orders(self, shop: str, order_ids: Sequence[str]) -> Step[list[str]]:
        """The ids of the sessions of these orders of the shop."""
        ...


def apply_privacy(rows: PrivacyRows, event: ev.Event) -> Step[None]:
    """Applies a privacy event (a no-op for any other event); see the module docstring."""
    case = event.WhichOneof("payload")
    if case == "app_uninstalled":
        previous = yield from rows.load_shop(event.shop)
        redacted_us = previous.redacted_us if previous is not None else None
        received_us = event.receive_time.ToMicroseconds()
        record = ShopRecord(event.shop, "uninstalled", received_us, redacted_us, event.sequence)
        yield from rows.save_shop(record)
        return
    subject = subject_of(event)
    if subject is None:
        return
    subject = yield from widen(rows, subject, event.sequence)
    orders = yield from redact_events(rows, subject, event.sequence)
    if subject.whole_shop:
        yield from rows.erase_shop_state(subject.shop)
        previous = yield from rows.load_shop(event.shop)
        uninstalled_us = previous.uninstalled_us if previous is not None else None
        received_us = event.receive_time.ToMicroseconds()
        record = ShopRecord(event.shop, "redacted", uninstalled_us, received_us, event.sequence)
        yield from rows.save_shop(record)
    else:
        yield from rows.erase_orders(subject.shop, sorted(orders | subject.order_ids))


def widen(rows: PrivacyRows, subject: Subject, before: int) -> Step[Subject]:
    """The subject with the orders named by its customer's events before `before` added."""
    if subject.whole_shop or not subject.customer_id:
        return subject
    after = 0
    while True:
        page = yield from rows.shop_events(subject.shop, subject.platform, after, before)
        if not page:
            return subject
        subject = widened(subject, (ev.Event.FromString(data) for _, data in page))
        after = page[-1][0]


def redact_events(rows: PrivacyRows, subject: Subject, before: int) -> Step[set[str]]:
    """Replaces every event before sequence `before` that concerns `subject` by its redacted
    entry, deletes their completions; returns the order ids those events named."""
    orders: set[str] = set()
    after = 0
    while True:
        page = yield from rows.shop_events(subject.shop, subject.platform, after, before)
        if not page:
            return orders
        erased: list[int] = []
        for sequence, data in page:
            event = ev.Event.FromString(data)
            if concerns(event, subject):
                if order := order_of(event):
                    orders.add(order)
                yield from rows.replace_event_data(
                    sequence, redacted_copy(event).SerializeToString()
                )
                erased.append(sequence)
        yield from rows.delete_completions(erased)
        after = page[-1][0]


def export_customer(
    rows: PrivacyRows, subject: Subject, before: int
) -> Step[tuple[list[ev.Event], list[str], list[str], bool]]:
    """Everything the core holds about a customer in events before sequence `before`: the
    events concerning it (at most MAX_EXPORT_EVENTS), the order ids found, the ids of those
    orders' sessions, and whether the events were cut at the maximum."""
    subject = yield from widen(rows, subject, before)
    found: list[ev.Event] = []
    orders = set(subject.order_ids)
    after = 0
    truncated = False
    while not truncated:
        page = yield from rows.shop_events(subject.shop, subject.platform, after, before)
        if not page:
            break
        for _, data in page:
            event = ev.Event.FromString(data)
            if not concerns(event, subject):
                continue
            if len(found) == MAX_EXPORT_EVENTS:
                truncated = True
                break
            found.append(event)
            if order := order_of(event):
                orders.add(order)
        after = page[-1][0]
    sessions = yield from rows.sessions_of_orders(subject.shop, sorted(orders))
    return found, sorted(orders), sessions, truncated


def shop_state(rows: PrivacyRows, shop: str) -> Step[ShopRecord | None]:
    """The shop's installation state: its record, else installed when the log holds events of
    it, else None (unknown)."""
    record = yield from rows.load_shop(shop)
    if record is not None:
        return record
    if (yield from rows.has_events(shop)):
        return ShopRecord(shop, "installed")
    return None
