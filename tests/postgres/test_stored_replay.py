"""PostgreSQL's replay reads: each stored event's bytes with its sequence (read_stored_events)."""

from __future__ import annotations

from collections.abc import Sequence

from commercegateway.v1 import events_pb2 as ev

from service.store.base import CommittedRecord, StoreRules
from service.store.postgres import PostgresEventStore
from tests.service.events import inventory


def ignore(records: Sequence[CommittedRecord]) -> None:
    """A commit listener that drops what it gets."""


async def test_stored_events_are_the_serialized_events_with_their_sequences(
    postgres_url: str,
) -> None:
    store = PostgresEventStore(postgres_url, StoreRules())
    await store.open(ignore)
    try:
        await store.publish([inventory(f"r{n}", "item", str(n)) for n in range(5)])
        parsed = await store.read_events(1, 3)
        stored = await store.read_stored_events(1, 3)
        assert [sequence for sequence, _ in stored] == [event.sequence for event in parsed]
        assert len(stored) == 3
        assert [ev.Event.FromString(data) for _, data in stored] == parsed
    finally:
        await store.close()
