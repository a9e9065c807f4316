"""Operator functions on the bridge's outbox: list, show, re-drive and drop entries.

`commerce-gateway outbox` runs them; an operator console may call them too. They are async,
bounded (listing pages by entry id, re-driving in pages of at most REDRIVE_PAGE events and
REDRIVE_PAGE_BYTES bytes) and listing reads metadata columns only, never an event's bytes.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import grpc
from commercegateway.v1 import core_service_pb2, core_service_pb2_grpc, events_pb2

from bridge.drain import Metadata, publish_batch
from bridge.outbox import Outbox
from common.event_validation import PLATFORM_NAMES

MAX_LIST = 1000
"""The most entries one `list_entries` call returns."""
REDRIVE_PAGE = 100
"""The most events re-driven in one PublishEvents call."""
REDRIVE_PAGE_BYTES = 2 * 1024 * 1024
"""The most event bytes re-driven in one PublishEvents call (a larger event goes alone)."""

_PLATFORMS = {int(value): name for value, name in PLATFORM_NAMES.items()}
OutcomeName = Literal["stored", "duplicate", "rejected", "failed", "missing", "dropped", "refused"]

_SUMMARY = (
    "SELECT id, event_id, parked, platform, topic, kind, shop,"
    " size, created_at, parked_reason, parked_at FROM outbox"
)


@dataclass(frozen=True)
class OutboxSummary:
    """One outbox entry's metadata (entries from older versions have empty topic/kind/shop)."""

    entry_id: int
    event_id: str
    state: Literal["waiting", "parked"]
    platform: str
    topic: str
    kind: str
    shop: str
    size: int
    created_at: datetime
    parked_reason: str
    parked_at: datetime | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> OutboxSummary:
        """Builds a summary from a row of the _SUMMARY query."""
        entry_id, event_id, parked, platform, topic, kind, shop, size, created = row[:9]
        reason, parked_at = row[9:]
        return cls(
            entry_id=int(entry_id),
            event_id=str(event_id),
            state="parked" if parked else "waiting",
            platform=_PLATFORMS.get(int(platform or 0), ""),
            topic=str(topic or ""),
            kind=str(kind or ""),
            shop=str(shop or ""),
            size=int(size or 0),
            created_at=datetime.fromtimestamp(float(created), UTC),
            parked_reason=str(reason or ""),
            parked_at=None if parked_at is None else datetime.fromtimestamp(parked_at, UTC),
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready document (times in ISO 8601)."""
        document = dict(vars(self))
        document["id"] = document.pop("entry_id")
        document["created_at"] = self.created_at.isoformat()
        document["parked_at"] = self.parked_at.isoformat() if self.parked_at else None
        return document


@dataclass(frozen=True)
class OutboxDetail:
    """One entry: its metadata and its canonical event."""

    summary: OutboxSummary
    event: events_pb2.Event


@dataclass(frozen=True)
class OutboxOutcome:
    """What an operation did to one entry.

    stored / duplicate: the core took it (removed); rejected: the core refused it again (kept,
    parked, reason updated); failed: the core could not be reached (kept); missing: no such
    entry; dropped: deleted; refused: not dropped because it still waits for the core.
    """

    id: int
    result: OutcomeName
    detail: str


async def list_entries(
    outbox: Outbox, *, parked_only: bool = False, after: int = 0, limit: int = 100
) -> list[OutboxSummary]:
    """Entries with an id above `after`, oldest first, at most `limit` (capped at MAX_LIST)."""
    bounded = max(1, min(limit, MAX_LIST))
    where = "WHERE id > ?" + (" AND parked = 1" if parked_only else "")
    query = f"{_SUMMARY} {where} ORDER BY id LIMIT ?"
    rows = await outbox.db.run(lambda c: c.execute(query, (after, bounded)).fetchall())
    return [OutboxSummary.from_row(tuple(row)) for row in rows]


async def get_entry(outbox: Outbox, entry_id: int) -> OutboxDetail | None:
    """One entry with its event, or None."""
    query = f"SELECT event, {_SUMMARY.removeprefix('SELECT ')} WHERE id = ?"
    row = await outbox.db.run(lambda c: c.execute(query, (entry_id,)).fetchone())
    if row is None:
        return None
    return OutboxDetail(OutboxSummary.from_row(tuple(row[1:])), events_pb2.Event.FromString(row[0]))


async def parked_count(outbox: Outbox) -> int | None:
    """How many entries are parked; None when the outbox file cannot be read."""
    try:
        return (await outbox.counts())[1]
    except (sqlite3.Error, OSError):
        return None


async def drop(outbox: Outbox, entry_id: int) -> OutboxOutcome:
    """Deletes a parked entry; an entry still waiting for the core is refused (it will be
    delivered), a missing one reported."""

    def _delete(connection: sqlite3.Connection) -> tuple[int, bool]:
        connection.execute("BEGIN IMMEDIATE")
        try:
            deleted = connection.execute(
                "DELETE FROM outbox WHERE id = ? AND parked = 1", (entry_id,)
            ).rowcount
            exists = connection.execute("SELECT 1 FROM outbox WHERE id = ?", (entry_id,))
            present = exists.fetchone() is not None
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return deleted, present

    deleted, present = await outbox.db.run(_delete)
    if deleted:
        return OutboxOutcome(entry_id, "dropped", "parked entry deleted")
    if present:
        detail = "still waiting for the core (not parked): it will be delivered; not dropped"
        return OutboxOutcome(entry_id, "refused", detail)
    return OutboxOutcome(entry_id, "missing", "no such entry")


async def _page(outbox: Outbox, after: int) -> list[tuple[int, events_pb2.Event]]:
    """The next entries after `after` to re-drive, within REDRIVE_PAGE and REDRIVE_PAGE_BYTES."""

    def _select(connection: sqlite3.Connection) -> list[tuple[int, bytes]]:
        sizes = connection.execute(
            "SELECT id, size FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
            (after, REDRIVE_PAGE),
        ).fetchall()
        chosen: list[int] = []
        total = 0
        for entry_id, size in sizes:
            if chosen and total + int(size or 0) > REDRIVE_PAGE_BYTES:
                break
            chosen.append(int(entry_id))
            total += int(size or 0)
        query = "SELECT id, event FROM outbox WHERE id = ?"
        rows = (connection.execute(query, (entry_id,)).fetchone() for entry_id in chosen)
        return [(int(row[0]), bytes(row[1])) for row in rows if row is not None]

    rows = await outbox.db.run(_select)
    return [(entry_id, events_pb2.Event.FromString(blob)) for entry_id, blob in rows]


async def _publish_one(
    outbox: Outbox,
    stub: core_service_pb2_grpc.CoreServiceAsyncStub,
    metadata: Metadata,
    entry_id: int,
    event: events_pb2.Event,
) -> OutboxOutcome:
    try:
        answer = (await publish_batch(stub, [event], metadata))[0]
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
            return OutboxOutcome(entry_id, "failed", f"core answered {error.code().name}; kept")
        await outbox.park(entry_id, error.details() or "")
        return OutboxOutcome(entry_id, "rejected", f"core refused it: {error.details()}; kept")
    await outbox.remove([entry_id])
    return _taken(entry_id, answer)


def _taken(entry_id: int, answer: core_service_pb2.PublishResult) -> OutboxOutcome:
    stored = answer.outcome == core_service_pb2.PUBLISH_OUTCOME_STORED
    detail = f"event {answer.event_id} (sequence {answer.sequence})"
    return OutboxOutcome(entry_id, "stored" if stored else "duplicate", detail)


async def redrive(
    outbox: Outbox,
    stub: core_service_pb2_grpc.CoreServiceAsyncStub,
    metadata: Metadata,
    entry_id: int | None,
) -> list[OutboxOutcome]:
    """Publishes one entry (or, with None, every entry, waiting or parked, oldest first) to the
    core now; removes what the core took, parks what it refuses; stops at the first page the
    core cannot take (the rest stays for the drain or a later re-drive)."""
    if entry_id is not None:
        found = await get_entry(outbox, entry_id)
        if found is None:
            return [OutboxOutcome(entry_id, "missing", "no such entry")]
        return [await _publish_one(outbox, stub, metadata, entry_id, found.event)]
    outcomes: list[OutboxOutcome] = []
    after = 0
    while page := await _page(outbox, after):
        after = page[-1][0]
        try:
            answers = await publish_batch(stub, [event for _, event in page], metadata)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
                detail = f"core answered {error.code().name}; kept"
                outcomes.extend(OutboxOutcome(i, "failed", detail) for i, _ in page)
                break
            for one_id, event in page:  # isolate the refused ones
                outcomes.append(await _publish_one(outbox, stub, metadata, one_id, event))
            continue
        await outbox.remove([one_id for one_id, _ in page])
        outcomes.extend(_taken(i, a) for (i, _), a in zip(page, answers, strict=True))
    return outcomes
