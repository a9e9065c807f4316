"""Cursor files: a process resumes where it stopped; bad files give a clear error."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from commercegateway import CoreClient, CursorFile, CursorFileError

from tests.clients.events import inventory_event, publish
from tests.support.waiting import wait_for


async def test_second_subscription_resumes_from_cursor_file(
    client: CoreClient, tmp_path: Path
) -> None:
    cursor_path = tmp_path / "events.cursor"
    first = await publish(client.target, [inventory_event(f"a{i}") for i in range(3)])
    async with client.subscribe_events(after_sequence=0, cursor_file=cursor_path) as stream:
        seen = [(await anext(stream)).sequence for _ in range(3)]
    assert seen == [result.sequence for result in first]
    assert CursorFile(cursor_path).read() == first[-1].sequence

    second = await publish(client.target, [inventory_event(f"b{i}") for i in range(2)])
    # after_sequence=0 is ignored: the cursor file says where this "process" stopped.
    async with client.subscribe_events(after_sequence=0, cursor_file=cursor_path) as stream:
        resumed = [(await anext(stream)).sequence for _ in range(2)]
    assert resumed == [result.sequence for result in second]
    assert CursorFile(cursor_path).read() == second[-1].sequence


async def test_live_subscription_records_the_head_as_its_cursor(
    client: CoreClient, tmp_path: Path
) -> None:
    before = await publish(client.target, [inventory_event("old")])
    cursor_path = tmp_path / "live.cursor"
    subscription = client.subscribe_events(cursor_file=cursor_path)
    async with subscription:
        first = asyncio.ensure_future(anext(subscription))
        # The subscription starts by recording the log's head: from then on nothing is missed,
        # even an event published before the stream itself is open.
        await wait_for(
            lambda: CursorFile(cursor_path).read() == before[0].sequence,
            message="the head cursor",
        )
        after = await publish(client.target, [inventory_event("new")])
        item = await first
    assert item.sequence == after[0].sequence
    assert CursorFile(cursor_path).read() == after[0].sequence > before[0].sequence


def test_cursor_file_round_trips_and_replaces_atomically(tmp_path: Path) -> None:
    cursor = CursorFile(tmp_path / "nested" / "c.cursor")
    assert cursor.read() is None
    cursor.write(41)
    cursor.write(42)
    assert cursor.read() == 42
    assert [p.name for p in cursor.path.parent.iterdir()] == ["c.cursor"]


def test_garbage_cursor_file_raises_cursor_file_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.cursor"
    path.write_text("not a number\n")
    with pytest.raises(CursorFileError, match="does not hold a sequence"):
        CursorFile(path).read()


def test_negative_cursor_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        CursorFile(tmp_path / "c").write(-1)
