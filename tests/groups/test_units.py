"""Pure parts of consumer groups: order keys, backoff, request checks, and the group steps run
against an in-memory SQLite database (no core, no network)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from commercegateway.v1 import core_service_pb2 as api

from service.errors import FailedPreconditionError, InvalidArgumentError
from service.groups import keys, limits, requests
from service.groups.member import DELIVERY_OVERHEAD, batches
from service.store import group_admin, group_rows
from service.store.group_rows import Claimed, GroupSpec, MemberInfo, Settle
from service.store.sqlite_sql import connect, migrate, run_steps
from tests.service.events import inventory, order, product

pytestmark = pytest.mark.unit


def test_order_keys_follow_the_documented_rules() -> None:
    a = inventory("1", "item", "5", location="l1")
    b = inventory("2", "item", "6", location="l1")
    c = inventory("3", "item", "6", location="l2")
    assert keys.delivery_key(a) == keys.delivery_key(b) != keys.delivery_key(c)
    assert keys.key_text(order("4", "o-1")).startswith("order")
    assert keys.key_text(product("5", "p-1", [])).startswith("product")
    first, second = inventory("6", "x", "1"), inventory("7", "x", "1")
    first.ClearField("payload")
    second.ClearField("payload")
    first.sequence, second.sequence = 1, 2
    assert keys.delivery_key(first) != keys.delivery_key(second)  # each its own key
    assert len(keys.delivery_key(a)) == 32


def test_lifecycle_events_share_the_key_of_their_order_or_level() -> None:
    created = order("1", "o-1")
    cancelled = order("2", "o-1")
    cancelled.order_cancelled.order_id = "o-1"
    payment = order("3", "o-1")
    payment.payment_updated.payment_id, payment.payment_updated.order_id = "pay-1", "o-1"
    assert keys.delivery_key(created) == keys.delivery_key(cancelled) == keys.delivery_key(payment)
    level = inventory("4", "item", "5", location="l1")
    disconnected = inventory("5", "item", "5", location="l1")
    disconnected.inventory_level_disconnected.inventory_item_id = "item"
    disconnected.inventory_level_disconnected.location_id = "l1"
    assert keys.delivery_key(level) == keys.delivery_key(disconnected)


def test_backoff_doubles_from_one_second_to_at_most_sixty() -> None:
    assert [limits.backoff_us(n) // 1_000_000 for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_request_checks() -> None:
    options = requests.check_start(api.ConsumeEventsRequest(start=api.ConsumeStart(group="g")))
    assert (options.max_unacked, options.ack_deadline_seconds) == (100, 30)
    assert requests.parse_ack_id(requests.ack_id(12, 3)) == (12, 3)
    with pytest.raises(InvalidArgumentError, match="ack_id"):
        requests.parse_ack_id("12")
    with pytest.raises(InvalidArgumentError, match="start_after_sequence"):
        requests.check_start(
            api.ConsumeEventsRequest(start=api.ConsumeStart(group="g", start_after_sequence=-1))
        )


def store(path: Path) -> sqlite3.Connection:
    """A migrated database with three stored events: two of one key, one of another."""
    conn = connect(path / "groups.db")
    migrate(conn)
    for sequence, (source, item) in enumerate((("a", "x"), ("b", "x"), ("c", "y")), start=1):
        event = inventory(source, item, "1")
        event.sequence = sequence
        conn.execute(
            "INSERT INTO events (sequence, platform, source_event_id, event_id, shop, kind,"
            " stored_at_us, data) VALUES (?, 1, ?, ?, ?, 1, 0, ?)",
            (sequence, source, event.id, event.shop, event.SerializeToString()),
        )
    return conn


def join(conn: sqlite3.Connection, member: str, kinds: tuple[int, ...] = ()) -> int:
    """Joins `member` to the group "g" (started at the log's beginning); its create time."""
    spec = GroupSpec("g", "", kinds, 0, 2)
    info = MemberInfo(member, "peer", "replica", 10, 1)
    created, _ = run_steps(group_rows.join(spec, info, 1, 0), conn)
    return created


def test_steps_lease_in_key_order_settle_and_park(tmp_path: Path) -> None:
    conn = store(tmp_path)
    created = join(conn, "m1")
    join(conn, "m2")
    with pytest.raises(FailedPreconditionError):
        join(conn, "m3", kinds=(2,))

    def claim(member: str, now: int) -> list[tuple[int, int]]:
        result = run_steps(
            group_rows.claim("g", created, member, 10, now_us=now, deadline_us=now + 100), conn
        )
        assert result is not None
        return [(c.sequence, c.attempt) for c in result.claimed]

    assert claim("m1", 10) == [(1, 1), (3, 1)]  # 2 waits for 1 (same key)
    assert claim("m2", 20) == []  # nothing free: no event is held twice
    assert claim("m1", 111) == []  # its own expired deliveries go to another member
    again = run_steps(group_rows.claim("g", created, "m1", 10, now_us=111, deadline_us=999), conn)
    assert again is not None and again.handoff  # so it wakes the others
    assert claim("m2", 111) == [(1, 2), (3, 2)]  # m1's deadline passed
    stale = Settle(acks=[(1, 1)])  # m1's ack of the first lease changes nothing
    assert run_steps(group_rows.settle("g", "m1", stale, 120), conn) == 0
    assert run_steps(group_rows.settle("g", "m2", Settle(acks=[(1, 2)]), 120), conn) == 1
    assert claim("m1", 130) == [(2, 1)]
    nack = Settle(nacks=[(3, 2, "broken", 0)])  # the second attempt of 2: parked
    assert run_steps(group_rows.settle("g", "m2", nack, 140), conn) == 1
    view = run_steps(group_admin.get_group("g", 150, 0), conn)
    assert (view.parked, view.in_flight, view.lag, view.acked_through) == (1, 1, 1, 1)
    parked, more = run_steps(group_admin.list_parked("g", 0, 10), conn)
    assert [(p.sequence, p.attempts, p.last_error) for p in parked] == [(3, 2, "broken")]
    assert not more
    assert run_steps(group_rows.leave("g", "m1", 160), conn) == 1  # its lease of 2 back
    assert claim("m2", 170) == [(2, 2)]


def test_deliveries_are_cut_into_responses_bounded_in_bytes() -> None:
    claimed = [Claimed(n, 1, 1, inventory(str(n), "x", "1").SerializeToString()) for n in range(10)]
    size = len(claimed[0].data) + DELIVERY_OVERHEAD
    runs = batches(claimed, 0, 3 * size)
    assert [len(run) for run in runs] == [3, 3, 3, 1]
    assert [len(run) for run in batches(claimed, 0, 1)] == [1] * 10  # one alone when larger
    assert runs[0][0].ack_id == "0.1" and runs[0][0].event.sequence == 0


def test_a_claim_hands_out_a_bounded_number_of_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = store(tmp_path)
    created = join(conn, "m1")
    monkeypatch.setattr(group_rows, "MAX_CLAIM_BYTES", 1)  # every event is larger
    steps = group_rows.claim("g", created, "m1", 10, now_us=10, deadline_us=100)
    result = run_steps(steps, conn)
    assert result is not None
    assert ([c.sequence for c in result.claimed], result.more) == ([1], True)
    result = run_steps(group_rows.claim("g", created, "m1", 10, now_us=11, deadline_us=100), conn)
    assert result is not None
    assert ([c.sequence for c in result.claimed], result.more) == ([3], False)  # 2 waits for 1
