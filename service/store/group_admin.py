"""Consumer-group management written once for both engines, as sans-IO steps (see sql_rows):
the views behind ListGroups and GetGroup, parked pages, redrive, delete and seek, over the
tables service.store.group_rows keeps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from service.errors import NotFoundError
from service.groups.limits import MAX_GROUPS
from service.store.group_rows import (
    RELEASE,
    MemberInfo,
    filter_sql,
    group_row,
    kinds_of,
)
from service.store.sql_rows import ALL, COUNT, ONE, RUN, Step, positions


@dataclass(frozen=True, slots=True)
class GroupView:
    """A group's filter, position and health."""

    name: str
    shop: str
    kinds: tuple[int, ...]
    acked_through: int
    lag: int
    in_flight: int
    parked: int
    max_attempts: int
    create_time_us: int
    head: int
    members: list[MemberInfo] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ParkedRow:
    """One parked event of a group."""

    sequence: int
    data: bytes
    attempts: int
    last_error: str
    parked_at_us: int


def _view(name: str, row: Any, now_us: int, stale_before_us: int) -> Step[GroupView]:
    head = (yield from positions()).last_sequence
    scanned = int(row[2])
    counts = yield (
        ONE,
        "SELECT COALESCE(SUM(CASE WHEN parked_at_us IS NULL THEN 1 ELSE 0 END), 0),"
        " COUNT(*), MIN(CASE WHEN parked_at_us IS NULL THEN sequence END),"
        " COALESCE(SUM(CASE WHEN lease_owner IS NOT NULL AND lease_deadline_us > ?"
        " THEN 1 ELSE 0 END), 0) FROM group_deliveries WHERE group_name = ?",
        (now_us, name),
    )
    unsettled, parked = int(counts[0]), int(counts[1]) - int(counts[0])
    acked_through = int(counts[2]) - 1 if counts[2] is not None else scanned
    where, params = filter_sql(row[0], kinds_of(row[1]))
    unscanned = yield (
        ONE,
        f"SELECT COUNT(*) FROM events WHERE sequence > ? AND sequence <= ?{where}",
        (scanned, head, *params),
    )
    if counts[2] is None and int(unscanned[0]) == 0:
        acked_through = max(scanned, head)
    members = yield (
        ALL,
        "SELECT m.member_id, m.peer, m.replica, m.max_unacked, m.connect_time_us,"
        " (SELECT COUNT(*) FROM group_deliveries d WHERE d.group_name = m.group_name"
        " AND d.lease_owner = m.member_id AND d.lease_deadline_us > ?)"
        " FROM group_members m WHERE m.group_name = ? AND m.seen_us >= ?"
        " ORDER BY m.connect_time_us, m.member_id",
        (now_us, name, stale_before_us),
    )
    return GroupView(
        name=name,
        shop=row[0],
        kinds=kinds_of(row[1]),
        acked_through=acked_through,
        lag=unsettled + int(unscanned[0]),
        in_flight=int(counts[3]),
        parked=parked,
        max_attempts=int(row[3]),
        create_time_us=int(row[4]),
        head=head,
        members=[MemberInfo(m[0], m[1], m[2], int(m[3]), int(m[4]), int(m[5])) for m in members],
    )


def get_group(name: str, now_us: int, stale_before_us: int) -> Step[GroupView]:
    """One group's view; NotFoundError when it does not exist."""
    row = yield from group_row(name)
    if row is None:
        raise NotFoundError(f"no consumer group named {name!r}")
    return (yield from _view(name, row, now_us, stale_before_us))


def list_groups(now_us: int, stale_before_us: int) -> Step[list[GroupView]]:
    """Every group's view, by name (at most MAX_GROUPS exist)."""
    names = yield (ALL, "SELECT name FROM consumer_groups ORDER BY name LIMIT ?", (MAX_GROUPS,))
    views = []
    for (name,) in names:
        views.append((yield from get_group(name, now_us, stale_before_us)))
    return views


def list_parked(name: str, after: int, limit: int) -> Step[tuple[list[ParkedRow], bool]]:
    """A page of a group's parked events after a sequence, in order, and whether more follow;
    NotFoundError when the group does not exist."""
    if (yield from group_row(name)) is None:
        raise NotFoundError(f"no consumer group named {name!r}")
    found = yield (
        ALL,
        "SELECT sequence, data, attempts, last_error, parked_at_us FROM group_deliveries"
        " WHERE group_name = ? AND parked_at_us IS NOT NULL AND sequence > ?"
        " ORDER BY sequence LIMIT ?",
        (name, after, limit + 1),
    )
    rows = [ParkedRow(int(r[0]), bytes(r[1]), int(r[2]), r[3], int(r[4])) for r in found]
    return rows[:limit], len(rows) > limit


def redrive(name: str, sequences: Sequence[int], now_us: int) -> Step[int]:
    """Makes parked events of a group (the given sequences, or all) ready again with a fresh
    attempt count; returns how many. NotFoundError when the group does not exist."""
    if (yield from group_row(name)) is None:
        raise NotFoundError(f"no consumer group named {name!r}")
    sql = (
        "UPDATE group_deliveries SET parked_at_us = NULL, attempts = 0, available_at_us = ?,"
        f" {RELEASE} WHERE group_name = ? AND parked_at_us IS NOT NULL"
    )
    params: list[Any] = [now_us, name]
    if sequences:
        sql += f" AND sequence IN ({', '.join('?' * len(sequences))})"
        params.extend(sequences)
    return int((yield (COUNT, sql, tuple(params))))


def delete_group(name: str) -> Step[None]:
    """Deletes a group and everything stored for it; NotFoundError when it does not exist."""
    if (yield from group_row(name)) is None:
        raise NotFoundError(f"no consumer group named {name!r}")
    for table, column in (
        ("group_deliveries", "group_name"),
        ("group_members", "group_name"),
        ("consumer_groups", "name"),
    ):
        yield (RUN, f"DELETE FROM {table} WHERE {column} = ?", (name,))


def seek(
    name: str, sequence: int | None, time_us: int | None, now_us: int, stale_before_us: int
) -> Step[GroupView]:
    """Moves a group to after a sequence (at most the head of the log), or after the last event
    stored at or before a time: its unsettled deliveries (and parked events after the position)
    are dropped, events up to the position count as acknowledged; returns the group's view.
    NotFoundError when unknown."""
    row = yield from group_row(name)
    if row is None:
        raise NotFoundError(f"no consumer group named {name!r}")
    head = (yield from positions()).last_sequence
    if sequence is None:
        found = yield (
            ONE,
            "SELECT MIN(sequence) FROM events WHERE stored_at_us > ?",
            (time_us,),
        )
        sequence = int(found[0]) - 1 if found[0] is not None else head
    sequence = min(sequence, head)
    yield (
        RUN,
        "DELETE FROM group_deliveries WHERE group_name = ?"
        " AND (parked_at_us IS NULL OR sequence > ?)",
        (name, sequence),
    )
    yield (RUN, "UPDATE consumer_groups SET scanned_through = ? WHERE name = ?", (sequence, name))
    row = yield from group_row(name)
    return (yield from _view(name, row, now_us, stale_before_us))
