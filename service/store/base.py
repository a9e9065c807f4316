"""The EventStore protocol every engine (SQLite, PostgreSQL) implements."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from commercegateway.v1 import events_pb2

from common.redaction import Subject
from service.domain import Binding, InventoryLevel, Session

if TYPE_CHECKING:
    from service.store.privacy_rows import ShopRecord
    from service.store.sql_rows import Step

T = TypeVar("T")


class StoreError(RuntimeError):
    """The store cannot be opened or used; the message is one line, without secrets."""


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    """The result of storing one event: stored now, or a duplicate of an earlier one."""

    stored: bool
    sequence: int
    event_id: str


@dataclass(frozen=True, slots=True)
class CommittedRecord:
    """One stored event and what it derived, as streamed to subscribers."""

    event: events_pb2.Event
    alerts: tuple[events_pb2.InventoryAlert, ...] = ()
    completions: tuple[events_pb2.OrderCompletion, ...] = ()

    @property
    def sequence(self) -> int:
        """The event's log sequence."""
        return self.event.sequence


@dataclass(frozen=True, slots=True)
class LevelPage:
    """One page of inventory levels, with the sequence they are consistent with."""

    levels: list[InventoryLevel]
    sequence: int
    more: bool = False


@dataclass(frozen=True, slots=True)
class StoreRules:
    """Parameters of the state rules an engine applies while storing."""

    low_stock_threshold: int = 5
    session_attribute: str = "gateway_session_id"


CommitListener = Callable[[Sequence[CommittedRecord]], None]


class CommitObserver(Protocol):
    """Told, on the event loop, how each write transaction of a store ended (health, metrics)."""

    def committed(self, seconds: float, events: int) -> None:
        """A transaction committed in `seconds`, storing `events` new events."""

    def failed(self, error: BaseException, seconds: float) -> None:
        """A transaction could not commit (after `seconds`); its writes were rolled back."""


def tell_observer(
    observer: CommitObserver | None, failure: BaseException | None, seconds: float, events: int
) -> None:
    """Tells `observer` (if any) how a write transaction ended; its own failure is logged,
    never raised (health and metrics must never fail a durable publish)."""
    if observer is None:
        return
    try:
        if failure is None:
            observer.committed(seconds, events)
        else:
            observer.failed(failure, seconds)
    except Exception:
        logging.getLogger(__name__).exception("commit observer failed")


@dataclass(frozen=True, slots=True)
class CustomerExport:
    """Everything the core holds about one customer (see privacy_rules.export_customer)."""

    events: list[events_pb2.Event]
    order_ids: list[str]
    sessions: list[Session]
    truncated: bool = False


@dataclass
class StoreInfo:
    """Positions of the log: the last sequence and the newest compacted one."""

    last_sequence: int = 0
    compacted_through: int = 0


class EventStore(Protocol):
    """The core's durable event log and state; all methods are safe on the event loop."""

    async def open(self, listener: CommitListener) -> None:
        """Opens (and migrates) the store; `listener` gets every commit's records, in commit
        order, on the event loop, in the same callback that resolves the publishers' calls
        (so a publisher never sees its reply before subscribers were handed the records)."""

    async def close(self) -> None:
        """Finishes pending work and releases the store."""

    def watch_commits(self, observer: CommitObserver) -> None:
        """Reports the outcome of every later write transaction to `observer`."""

    async def probe_commit(self) -> None:
        """Commits a tiny write (no event); raises when the store cannot commit now."""

    async def publish(self, events: Sequence[events_pb2.Event]) -> list[PublishOutcome]:
        """Stores the events in order, idempotently by (platform, source_event_id), with the
        state changes and items they derive, durably, in one transaction."""

    async def info(self) -> StoreInfo:
        """The last sequence and the newest compacted sequence of the log."""

    async def read_events(
        self, after: int, limit: int, shop: str = "", kinds: Sequence[int] = ()
    ) -> list[events_pb2.Event]:
        """Stored events after a sequence, in order, optionally filtered by shop and kind."""

    async def read_stored_events(
        self, after: int, limit: int, shop: str = "", kinds: Sequence[int] = ()
    ) -> list[tuple[int, bytes]]:
        """Like read_events, each event as (its sequence, its stored serialization): the bytes
        a replay forwards without parsing them."""

    async def read_alerts(
        self, after: int, limit: int, shop: str = ""
    ) -> list[events_pb2.InventoryAlert]:
        """Stored alerts of events after a sequence, in order, optionally of one shop."""

    async def read_completions(
        self, after: int, limit: int, shop: str = ""
    ) -> list[events_pb2.OrderCompletion]:
        """Stored completions of events after a sequence, in order, optionally of one shop."""

    async def get_inventory_level(
        self, shop: str, inventory_item_id: str, location_id: str
    ) -> InventoryLevel | None:
        """One stored level, or None."""

    async def list_inventory_levels(
        self, shop: str, after: tuple[str, str, str] | None, limit: int
    ) -> LevelPage:
        """Levels ordered by (shop, item, location) after the given key."""

    async def get_session(self, session_id: str) -> Session | None:
        """One session, or None."""

    async def bind_session(
        self, session_id: str, shop: str, bindings: Sequence[Binding]
    ) -> Session:
        """Binds keys to a session (created when new) and returns it."""

    async def compact(self, older_than: datetime) -> int:
        """Deletes events stored before the time (and their items); returns how many."""

    async def write_steps(self, make: Callable[[], Step[T]]) -> T:
        """Runs the sans-IO step (service.store.sql_rows) `make()` builds in one durable write
        transaction of the store's writer (consumer-group state, service.store.group_rows);
        `make` may be called again when the engine retries the transaction."""

    async def read_steps(self, steps: Step[T]) -> T:
        """Runs a read-only sans-IO step on a reading connection."""

    async def get_shop(self, shop: str) -> ShopRecord | None:
        """The shop's installation state, or None when the core holds nothing of it."""

    async def export_customer(self, subject: Subject) -> CustomerExport:
        """Everything held about a customer of a shop: events, orders and their sessions."""
