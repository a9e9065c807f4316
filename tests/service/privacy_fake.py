"""The privacy part of the in-memory Rows of tests/service/test_event_rules.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from commercegateway.v1 import events_pb2 as ev

from service.domain import Binding, OrderRecord, Session
from service.store.privacy_rows import ShopRecord
from service.store.steps import Step

T = TypeVar("T")


def done_step(value: T) -> Step[T]:
    """A step that needs no statement."""
    yield from ()
    return value


class FakePrivacyRows:
    """privacy_rules.PrivacyRows over the dictionaries of FakeRows."""

    events: dict[int, ev.Event]
    items: list[tuple[str, int, str, bytes]]
    sessions: dict[str, Session]
    bound: dict[Binding, str]
    orders: dict[tuple[str, str], OrderRecord]
    shops: dict[str, ShopRecord]

    def shop_events(
        self, shop: str, platform: int, after: int, before: int
    ) -> Step[list[tuple[int, bytes]]]:
        """A page of at most 2 events (so that paging is exercised)."""
        found = [
            (sequence, event.SerializeToString())
            for sequence, event in sorted(self.events.items())
            if event.shop == shop and event.platform == platform and after < sequence < before
        ]
        return done_step(found[:2])

    def replace_event_data(self, sequence: int, data: bytes) -> Step[None]:
        """Replaces a stored event."""
        self.events[sequence] = ev.Event.FromString(data)
        return done_step(None)

    def delete_completions(self, sequences: Sequence[int]) -> Step[None]:
        """Drops the completions of these events."""
        self.items = [i for i in self.items if not (i[0] == "completions" and i[1] in sequences)]
        return done_step(None)

    def _drop_sessions(self, ids: set[str]) -> None:
        for session_id in ids:
            self.sessions.pop(session_id, None)
        self.bound = {key: sid for key, sid in self.bound.items() if sid not in ids}

    def erase_orders(self, shop: str, order_ids: Sequence[str]) -> Step[None]:
        """Drops the orders, their sessions and bindings."""
        ids = {
            o.session_id for (s, oid), o in self.orders.items() if s == shop and oid in order_ids
        }
        ids |= {
            sid for sid, x in self.sessions.items() if x.shop == shop and x.order_id in order_ids
        }
        ids |= {
            sid
            for key, sid in self.bound.items()
            if key.kind == "order_id" and key.value in order_ids
        }
        self._drop_sessions(ids)
        for oid in order_ids:
            self.orders.pop((shop, oid), None)
        return done_step(None)

    def erase_shop_state(self, shop: str) -> Step[None]:
        """Drops the shop's state and items."""
        self._drop_sessions({sid for sid, x in self.sessions.items() if x.shop == shop})
        self.orders = {key: o for key, o in self.orders.items() if key[0] != shop}
        self.items = [i for i in self.items if i[2] != shop]
        return done_step(None)

    def load_shop(self, shop: str) -> Step[ShopRecord | None]:
        """The shop's record, or None."""
        return done_step(self.shops.get(shop))

    def save_shop(self, record: ShopRecord) -> Step[None]:
        """Keeps the shop's record."""
        self.shops[record.shop] = record
        return done_step(None)

    def has_events(self, shop: str) -> Step[bool]:
        """Whether an event of the shop is stored."""
        return done_step(any(e.shop == shop for e in self.events.values()))

    def sessions_of_orders(self, shop: str, order_ids: Sequence[str]) -> Step[list[str]]:
        """The sessions of these orders."""
        ids = {
            o.session_id for (s, oid), o in self.orders.items() if s == shop and oid in order_ids
        }
        ids |= {
            sid for sid, x in self.sessions.items() if x.shop == shop and x.order_id in order_ids
        }
        return done_step(sorted(i for i in ids if i))
