"""Replay reads: each stored event's bytes, as read_stored_events gives them to a catch-up."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from service.store.base import CommittedRecord, StoreRules
from service.store.sqlite import SqliteEventStore
from service.wire import frame_of
from tests.service.events import inventory


def ignore(records: Sequence[CommittedRecord]) -> None:
    """A commit listener that drops what it gets."""


async def test_stored_events_are_the_serialized_events_with_their_sequences(
    tmp_path: Path,
) -> None:
    store = SqliteEventStore(tmp_path / "events.sqlite3", StoreRules())
    await store.open(ignore)
    try:
        await store.publish([inventory(f"e{n}", f"item-{n % 3}", str(n)) for n in range(7)])
        await store.publish([inventory("other", "item-9", "1", shop="other.myshopify.com")])
        parsed = await store.read_events(2, 4)
        stored = await store.read_stored_events(2, 4)
        assert [sequence for sequence, _ in stored] == [3, 4, 5, 6]
        assert [ev.Event.FromString(data) for _, data in stored] == parsed
        assert all(
            event.sequence == sequence for (sequence, _), event in zip(stored, parsed, strict=True)
        )
        only_other = await store.read_stored_events(0, 10, "other.myshopify.com")
        assert [sequence for sequence, _ in only_other] == [8]
        kinds = [ev.EVENT_KIND_INVENTORY_UPDATED]
        assert len(await store.read_stored_events(0, 10, kinds=kinds)) == 8
        assert await store.read_stored_events(0, 10, kinds=[ev.EVENT_KIND_PRODUCT_UPDATED]) == []
    finally:
        await store.close()


async def test_framed_stored_bytes_read_back_as_a_subscribe_response(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "events.sqlite3", StoreRules())
    await store.open(ignore)
    try:
        await store.publish([inventory(f"e{n}", "item", str(n)) for n in range(3)])
        stored = await store.read_stored_events(0, 10)
        response = api.SubscribeEventsResponse.FromString(
            b"".join(frame_of(data) for _, data in stored)
        )
        assert list(response.events) == await store.read_events(0, 10)
    finally:
        await store.close()
