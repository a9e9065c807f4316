"""Consumer-group state of the SQL engines written once, as sans-IO steps (see sql_rows).

A group's matching events are copied from the log into group_deliveries as the group scans
forward (`scanned_through`), at most MAX_BACKLOG unsettled at a time. A row is an unsettled
event (ready, or leased to one member until its deadline) or a parked one; acknowledging deletes
it. A member takes a row by a conditional UPDATE on its lease_version (a compare-and-set), so
two members, on one core or on replicas sharing PostgreSQL, can never hold the same row: the
second UPDATE finds the version changed and takes nothing. Every ack_id carries the version it
was delivered with, so an ack of a delivery since handed to someone else changes nothing.

Every step runs in one write transaction of the engine's writer (SQLite's writer thread, the
PostgreSQL writer that serialises the write transactions of all replicas). These are the steps
of members (join, claim, settle, leave); the management steps are in service.store.group_admin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from commercegateway.v1 import events_pb2 as ev

from service.errors import FailedPreconditionError, ResourceExhaustedError
from service.groups.keys import delivery_key
from service.groups.limits import (
    MAX_BACKLOG,
    MAX_CLAIM_BYTES,
    MAX_GROUPS,
    MAX_MEMBERS,
    MAX_PARKED,
    SCAN_PAGE,
    backoff_us,
)
from service.store.sql_rows import ALL, COUNT, ONE, RUN, Step, positions

EXPIRED = "ack deadline expired"
DISCONNECTED = "member disconnected"
NOT_PARKED = "parked_at_us IS NULL"
# Ends a lease: no owner, deadline 0 (a row is leased exactly when its deadline is > 0), and a
# new version, so the ack_id handed out with it no longer matches.
RELEASE = "lease_owner = NULL, lease_deadline_us = 0, lease_version = lease_version + 1"


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """What a member asks of a group: its name, filter and where a new group starts."""

    name: str
    shop: str
    kinds: tuple[int, ...]
    start_after: int | None
    max_attempts: int


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """One connected member, as stored for every replica to see."""

    member_id: str
    peer: str
    replica: str
    max_unacked: int
    connect_time_us: int
    in_flight: int = 0


@dataclass(frozen=True, slots=True)
class Claimed:
    """One delivery taken by a member: the stored event, its attempt and lease version."""

    sequence: int
    version: int
    attempt: int
    data: bytes


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """What one claim took, when something next falls due (a backoff or deadline ends, in
    microseconds; None when nothing is waiting for a time), and whether more was deliverable
    than the claim's byte bound allowed (claim again at once)."""

    claimed: list[Claimed]
    next_due_us: int | None
    more: bool = False
    handoff: bool = False  # deliveries this member let expire wait for another member


@dataclass(frozen=True, slots=True)
class Settle:
    """A member's answers: acks (sequence, version), nacks (sequence, version, reason,
    delay in seconds; 0 = backoff) and extensions (sequence, version, seconds)."""

    acks: Sequence[tuple[int, int]] = ()
    nacks: Sequence[tuple[int, int, str, int]] = ()
    extensions: Sequence[tuple[int, int, int]] = ()


def kinds_text(kinds: Sequence[int]) -> str:
    """A kinds filter as stored: distinct, sorted, comma-separated ("" = every kind)."""
    return ",".join(str(kind) for kind in sorted(set(kinds)))


def kinds_of(text: str) -> tuple[int, ...]:
    """A stored kinds filter as a tuple."""
    return tuple(int(part) for part in text.split(",") if part)


def filter_sql(shop: str, kinds: Sequence[int]) -> tuple[str, list[Any]]:
    """The WHERE conditions (and parameters) of a group's filter on the events table."""
    sql, params = "", list[Any]()
    if shop:
        sql += " AND shop = ?"
        params.append(shop)
    if kinds:
        sql += f" AND kind IN ({', '.join('?' * len(kinds))})"
        params.extend(kinds)
    return sql, params


def group_row(name: str) -> Step[Any]:
    """A group's stored row (shop, kinds, scanned_through, max_attempts, create_time_us), or
    None."""
    row = yield (
        ONE,
        "SELECT shop, kinds, scanned_through, max_attempts, create_time_us FROM consumer_groups"
        " WHERE name = ?",
        (name,),
    )
    return row


def join(
    spec: GroupSpec, member: MemberInfo, now_us: int, stale_before_us: int
) -> Step[tuple[int, bool]]:
    """Creates the group when new (else checks the filter) and registers the member; returns
    the group's create time (its identity) and whether it was created now. Raises
    FailedPreconditionError on a filter mismatch, ResourceExhaustedError at the limits."""
    row = yield from group_row(spec.name)
    created = row is None
    if row is None:
        count = yield (ONE, "SELECT COUNT(*) FROM consumer_groups", ())
        if int(count[0]) >= MAX_GROUPS:
            raise ResourceExhaustedError(
                f"there are {MAX_GROUPS} consumer groups already (the limit); delete one first"
            )
        start = spec.start_after
        if start is None:
            start = (yield from positions()).last_sequence
        yield (
            RUN,
            "INSERT INTO consumer_groups (name, shop, kinds, scanned_through, max_attempts,"
            " create_time_us) VALUES (?, ?, ?, ?, ?, ?)",
            (spec.name, spec.shop, kinds_text(spec.kinds), start, spec.max_attempts, now_us),
        )
        create_time_us = now_us
    else:
        if row[0] != spec.shop or row[1] != kinds_text(spec.kinds):
            raise FailedPreconditionError(
                f"group {spec.name!r} exists with another filter (shop {row[0]!r}, kinds"
                f" [{row[1]}]); consume it with the same filter or use another group name"
            )
        create_time_us = int(row[4])
    yield (
        RUN,
        "DELETE FROM group_members WHERE group_name = ? AND seen_us < ?",
        (spec.name, stale_before_us),
    )
    members = yield (
        ONE,
        "SELECT COUNT(*) FROM group_members WHERE group_name = ?",
        (spec.name,),
    )
    if int(members[0]) >= MAX_MEMBERS:
        raise ResourceExhaustedError(
            f"group {spec.name!r} has {MAX_MEMBERS} members already (the limit)"
        )
    yield (
        RUN,
        "INSERT INTO group_members (group_name, member_id, peer, replica, max_unacked,"
        " connect_time_us, seen_us) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            spec.name,
            member.member_id,
            member.peer,
            member.replica,
            member.max_unacked,
            member.connect_time_us,
            now_us,
        ),
    )
    return create_time_us, created


def leave(group: str, member_id: str, now_us: int) -> Step[int]:
    """Unregisters a member and hands its deliveries back at once (their attempt counted;
    parked when it was the last); returns how many it held."""
    yield (
        RUN,
        "DELETE FROM group_members WHERE group_name = ? AND member_id = ?",
        (group, member_id),
    )
    row = yield from group_row(group)
    if row is None:
        return 0
    parked = yield (
        COUNT,
        f"UPDATE group_deliveries SET parked_at_us = ?, {RELEASE}, last_error = ?"
        f" WHERE group_name = ? AND lease_owner = ? AND attempts >= ? AND {NOT_PARKED}",
        (now_us, DISCONNECTED, group, member_id, int(row[3])),
    )
    released = yield (
        COUNT,
        f"UPDATE group_deliveries SET {RELEASE}, available_at_us = ?, last_error = ?"
        " WHERE group_name = ? AND lease_owner = ?",
        (now_us, DISCONNECTED, group, member_id),
    )
    return int(parked) + int(released)


def _scan(name: str, row: Any) -> Step[int]:
    """Copies the group's next matching events from the log into group_deliveries, while its
    backlog allows (MAX_BACKLOG unsettled, MAX_PARKED parked); returns how many."""
    scanned = int(row[2])
    head = (yield from positions()).last_sequence
    if head <= scanned:
        return 0
    total = yield (ONE, "SELECT COUNT(*) FROM group_deliveries WHERE group_name = ?", (name,))
    parked = yield (
        ONE,
        "SELECT COUNT(*) FROM group_deliveries WHERE group_name = ? AND parked_at_us > 0",
        (name,),
    )
    room = min(SCAN_PAGE, MAX_BACKLOG - (int(total[0]) - int(parked[0])))
    if room <= 0 or int(parked[0]) >= MAX_PARKED:
        return 0
    where, params = filter_sql(row[0], kinds_of(row[1]))
    found = yield (
        ALL,
        f"SELECT sequence, data FROM events WHERE sequence > ? AND sequence <= ?{where}"
        " ORDER BY sequence LIMIT ?",
        (scanned, head, *params, room),
    )
    for sequence, data in found:
        blob = bytes(data)
        key = delivery_key(ev.Event.FromString(blob))
        yield (
            RUN,
            "INSERT INTO group_deliveries (group_name, sequence, delivery_key, data, attempts,"
            " available_at_us, lease_owner, lease_version, lease_deadline_us, last_error,"
            " parked_at_us) VALUES (?, ?, ?, ?, 0, 0, NULL, 0, 0, '', NULL)"
            " ON CONFLICT (group_name, sequence) DO NOTHING",
            (name, int(sequence), key, blob),
        )
    through = int(found[-1][0]) if len(found) == room else head
    yield (
        RUN,
        "UPDATE consumer_groups SET scanned_through = ? WHERE name = ? AND scanned_through = ?",
        (through, name, scanned),
    )
    return len(found)


def _take(
    group: str, member_id: str, free: int, *, now_us: int, deadline_us: int, others: bool
) -> Step[tuple[list[Claimed], bool]]:
    """Leases up to `free` deliverable events (and about MAX_CLAIM_BYTES of them, at least one)
    to the member, each by a compare-and-set on its lease version (so no two members ever hold
    one); also returns whether it stopped at the byte bound."""
    expired = "d.lease_deadline_us BETWEEN 1 AND ?"
    params: tuple[Any, ...] = (group, now_us, now_us, free)
    if others:  # not back to the member that let its deadline pass
        expired += " AND d.lease_owner <> ?"
        params = (group, now_us, now_us, member_id, free)
    candidates = yield (
        ALL,
        "SELECT d.sequence, d.lease_version, d.attempts, LENGTH(d.data), d.lease_owner"
        " FROM group_deliveries d WHERE d.group_name = ? AND d.parked_at_us IS NULL"
        " AND ((d.lease_owner IS NULL AND d.available_at_us <= ?)"
        f" OR ({expired}))"
        " AND NOT EXISTS (SELECT 1 FROM group_deliveries p WHERE p.group_name = d.group_name"
        " AND p.delivery_key = d.delivery_key AND p.sequence < d.sequence"
        " AND p.parked_at_us IS NULL) ORDER BY d.sequence LIMIT ?",
        params,
    )
    claimed: list[Claimed] = []
    size = 0
    for sequence, version, attempts, length, owner in candidates:
        if claimed and size + int(length) > MAX_CLAIM_BYTES:
            return claimed, True  # the rest in the next claim
        error = EXPIRED if owner is not None else None
        taken = yield (
            COUNT,
            "UPDATE group_deliveries SET lease_owner = ?, lease_version = lease_version + 1,"
            " lease_deadline_us = ?, attempts = attempts + 1,"
            " last_error = COALESCE(?, last_error)"
            " WHERE group_name = ? AND sequence = ? AND lease_version = ?",
            (member_id, deadline_us, error, group, int(sequence), int(version)),
        )
        if taken:
            data = yield (
                ONE,
                "SELECT data FROM group_deliveries WHERE group_name = ? AND sequence = ?",
                (group, int(sequence)),
            )
            claimed.append(
                Claimed(int(sequence), int(version) + 1, int(attempts) + 1, bytes(data[0]))
            )
            size += int(length)
    return claimed, False


def _next_due(group: str, now_us: int) -> Step[int | None]:
    """When a backoff or a lease deadline of the group next ends (None: nothing waits)."""
    ready = yield (
        ONE,
        "SELECT MIN(available_at_us) FROM group_deliveries WHERE group_name = ?"
        f" AND available_at_us > ? AND lease_owner IS NULL AND {NOT_PARKED}",
        (group, now_us),
    )
    deadline = yield (
        ONE,
        "SELECT MIN(lease_deadline_us) FROM group_deliveries WHERE group_name = ?"
        " AND lease_deadline_us > ?",
        (group, now_us),
    )
    times = [int(found[0]) for found in (ready, deadline) if found and found[0] is not None]
    return min(times) if times else None


def claim(
    group: str,
    create_time_us: int,
    member_id: str,
    max_unacked: int,
    *,
    now_us: int,
    deadline_us: int,
    stale_before_us: int = 0,
) -> Step[ClaimResult | None]:
    """Parks expired deliveries that had their last attempt, and leases to the member up to its
    free slots of the deliverable events (ready, or whose lease expired; the oldest unsettled
    of their key), in log order, copying new events from the log when those run short. A
    delivery whose deadline this member let pass goes to another member while one is
    connected (seen since `stale_before_us`). None when the group is gone (deleted, or deleted
    and created again)."""
    row = yield from group_row(group)
    if row is None or int(row[4]) != create_time_us:
        return None
    yield (
        RUN,
        "UPDATE group_members SET seen_us = ? WHERE group_name = ? AND member_id = ?",
        (now_us, group, member_id),
    )
    yield (
        RUN,
        f"UPDATE group_deliveries SET parked_at_us = ?, {RELEASE}, last_error = ?"
        " WHERE group_name = ? AND lease_deadline_us BETWEEN 1 AND ? AND attempts >= ?"
        f" AND {NOT_PARKED}",
        (now_us, EXPIRED, group, now_us, int(row[3])),
    )
    held = yield (
        ONE,
        "SELECT COUNT(*) FROM group_deliveries WHERE group_name = ? AND lease_owner = ?"
        " AND lease_deadline_us > ?",
        (group, member_id, now_us),
    )
    free = max_unacked - int(held[0])
    claimed: list[Claimed] = []
    more = False
    if free > 0:
        others = yield (
            ONE,
            "SELECT COUNT(*) FROM group_members WHERE group_name = ? AND member_id <> ?"
            " AND seen_us >= ?",
            (group, member_id, stale_before_us),
        )
        take = partial(_take, now_us=now_us, deadline_us=deadline_us, others=bool(int(others[0])))
        claimed, more = yield from take(group, member_id, free)
        if not more and len(claimed) < free and (yield from _scan(group, row)):
            taken, more = yield from take(group, member_id, free - len(claimed))
            claimed += taken
    handoff = yield (
        ONE,
        "SELECT COUNT(*) FROM group_deliveries WHERE group_name = ? AND lease_owner = ?"
        " AND lease_deadline_us BETWEEN 1 AND ?",
        (group, member_id, now_us),
    )
    next_due = yield from _next_due(group, now_us)
    return ClaimResult(claimed, next_due, more, handoff=bool(int(handoff[0])))


def settle(group: str, member_id: str, answers: Settle, now_us: int) -> Step[int]:
    """Applies a member's acks, nacks and extensions to the deliveries it still holds (others
    are ignored); returns how many changed. An acked delivery is deleted (durably settled); a
    nacked one is ready again after its delay, or parked when it had its last attempt."""
    changed = 0
    owned = "group_name = ? AND sequence = ? AND lease_version = ? AND lease_owner = ?"
    for sequence, version in answers.acks:
        changed += yield (
            COUNT,
            f"DELETE FROM group_deliveries WHERE {owned}",
            (group, sequence, version, member_id),
        )
    if answers.nacks:
        row = yield from group_row(group)
        max_attempts = int(row[3]) if row is not None else 1
        for sequence, version, reason, delay in answers.nacks:
            found = yield (
                ONE,
                f"SELECT attempts FROM group_deliveries WHERE {owned}",
                (group, sequence, version, member_id),
            )
            if found is None:
                continue
            attempts = int(found[0])
            if attempts >= max_attempts:
                changed += yield (
                    COUNT,
                    f"UPDATE group_deliveries SET parked_at_us = ?, {RELEASE}, last_error = ?"
                    f" WHERE {owned}",
                    (now_us, reason or "nacked", group, sequence, version, member_id),
                )
                continue
            wait_us = delay * 1_000_000 if delay else backoff_us(attempts)
            changed += yield (
                COUNT,
                f"UPDATE group_deliveries SET {RELEASE}, available_at_us = ?, last_error = ?"
                f" WHERE {owned}",
                (now_us + wait_us, reason or "nacked", group, sequence, version, member_id),
            )
    for sequence, version, seconds in answers.extensions:
        changed += yield (
            COUNT,
            f"UPDATE group_deliveries SET lease_deadline_us = ? WHERE {owned}",
            (now_us + seconds * 1_000_000, group, sequence, version, member_id),
        )
    return int(changed)
