"""The listener contract across replicas: every committed record of every replica reaches
each replica's listener once, in sequence order, with no gap."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from service.store.base import CommittedRecord, StoreRules
from service.store.postgres import PostgresEventStore
from tests.postgres.streams import batch
from tests.support.waiting import wait_for

pytestmark = pytest.mark.postgres
REPLICAS = 3
ROUNDS = 20


class Recorder:
    """A commit listener that records the sequences it is handed, batch by batch."""

    def __init__(self) -> None:
        """Starts empty."""
        self.sequences: list[int] = []

    def __call__(self, records: Sequence[CommittedRecord]) -> None:
        """Records one delivery."""
        self.sequences.extend(record.sequence for record in records)


async def test_each_replica_hears_every_commit_of_all_once_in_order(postgres_url: str) -> None:
    recorders = [Recorder() for _ in range(REPLICAS)]
    stores = [PostgresEventStore(postgres_url, StoreRules()) for _ in range(REPLICAS)]
    for store, recorder in zip(stores, recorders, strict=True):
        await store.open(recorder)
    try:

        async def publish_rounds(number: int) -> None:
            for round_ in range(ROUNDS):
                await stores[number].publish(batch(f"r{number}-{round_}", 1 + round_ % 4))

        await asyncio.gather(*(publish_rounds(number) for number in range(REPLICAS)))
        total = REPLICAS * sum(1 + round_ % 4 for round_ in range(ROUNDS))

        def everyone_heard_all() -> bool:
            return all(len(recorder.sequences) >= total for recorder in recorders)

        await wait_for(everyone_heard_all, message="every replica to hear every record")
        for recorder in recorders:
            assert recorder.sequences == list(range(1, total + 1))
    finally:
        await asyncio.gather(*(store.close() for store in stores))
