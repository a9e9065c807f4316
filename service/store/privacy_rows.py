"""Row access of the privacy rules (redactions, uninstalls, exports) as sans-IO steps over
portable SQL, written once for both engines (see service.store.sql_rows for the step shape)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service.store.steps import ALL, ONE, RUN, Step

SCAN_PAGE = 500
"""Events read per statement while a redaction or an export scans a shop's log."""
MAX_IDS = 500
"""Ids per IN (...) list, below SQLite's variable limit."""

ShopStateName = str  # "installed", "uninstalled" or "redacted"


@dataclass(frozen=True, slots=True)
class ShopRecord:
    """A shop's installation state as its privacy webhooks set it (times in epoch µs)."""

    shop: str
    state: ShopStateName
    uninstalled_us: int | None = None
    redacted_us: int | None = None
    state_sequence: int = 0


def _chunks(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[start : start + MAX_IDS] for start in range(0, len(values), MAX_IDS)]


class PrivacySqlRows:
    """The privacy part of event_rules.Rows over the SQL tables of service.store.schema."""

    def shop_events(
        self, shop: str, platform: int, after: int, before: int
    ) -> Step[list[tuple[int, bytes]]]:
        """(sequence, data) of at most SCAN_PAGE stored events of the shop and platform with
        after < sequence < before, in order."""
        found = yield (
            ALL,
            "SELECT sequence, data FROM events WHERE shop = ? AND platform = ?"
            " AND sequence > ? AND sequence < ? ORDER BY sequence LIMIT ?",
            (shop, platform, after, before, SCAN_PAGE),
        )
        return [(int(row[0]), bytes(row[1])) for row in found]

    def replace_event_data(self, sequence: int, data: bytes) -> Step[None]:
        """Replaces the stored bytes of one event (its row, sequence and keys kept), and of the
        copies consumer groups hold of it (unsettled or parked; a member's nack reason may quote
        the event, so it goes too)."""
        yield (RUN, "UPDATE events SET data = ? WHERE sequence = ?", (data, sequence))
        yield (
            RUN,
            "UPDATE group_deliveries SET data = ?, last_error = '' WHERE sequence = ?",
            (data, sequence),
        )

    def delete_completions(self, sequences: Sequence[int]) -> Step[None]:
        """Deletes the completions derived from these events."""
        for sequence in sequences:
            yield (RUN, "DELETE FROM completions WHERE sequence = ?", (sequence,))

    def erase_orders(self, shop: str, order_ids: Sequence[str]) -> Step[None]:
        """Deletes what the core remembers of these orders of the shop: the order rows, the
        sessions they belong to or completed, and those sessions' bindings."""
        for chunk in _chunks(sorted(order_ids)):
            marks = ", ".join("?" * len(chunk))
            sessions = (
                f"SELECT session_id FROM orders WHERE shop = ? AND order_id IN ({marks})"
                f" UNION SELECT session_id FROM sessions WHERE shop = ? AND order_id IN ({marks})"
                f" UNION SELECT session_id FROM session_bindings WHERE kind = 'order_id'"
                f" AND value IN ({marks})"
            )
            params = (shop, *chunk, shop, *chunk, *chunk)
            yield (RUN, f"DELETE FROM session_bindings WHERE session_id IN ({sessions})", params)
            yield (RUN, f"DELETE FROM sessions WHERE session_id IN ({sessions})", params)
            yield (
                RUN,
                f"DELETE FROM orders WHERE shop = ? AND order_id IN ({marks})",
                (shop, *chunk),
            )

    def erase_shop_state(self, shop: str) -> Step[None]:
        """Deletes every state row and derived item of the shop (levels, catalog, orders,
        sessions and their bindings, alerts, completions)."""
        yield (
            RUN,
            "DELETE FROM session_bindings WHERE session_id IN"
            " (SELECT session_id FROM sessions WHERE shop = ?)",
            (shop,),
        )
        for table in ("sessions", "orders", "inventory_levels", "catalog", "alerts"):
            yield (RUN, f"DELETE FROM {table} WHERE shop = ?", (shop,))
        yield (RUN, "DELETE FROM completions WHERE shop = ?", (shop,))

    def load_shop(self, shop: str) -> Step[ShopRecord | None]:
        """The shop's recorded installation state, or None."""
        row = yield (
            ONE,
            "SELECT state, uninstalled_us, redacted_us, state_sequence FROM shops WHERE shop = ?",
            (shop,),
        )
        if row is None:
            return None
        return ShopRecord(shop, str(row[0]), row[1], row[2], int(row[3]))

    def save_shop(self, record: ShopRecord) -> Step[None]:
        """Inserts or replaces the shop's installation state."""
        yield (
            RUN,
            "INSERT INTO shops (shop, state, uninstalled_us, redacted_us, state_sequence)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (shop) DO UPDATE SET state = excluded.state,"
            " uninstalled_us = excluded.uninstalled_us, redacted_us = excluded.redacted_us,"
            " state_sequence = excluded.state_sequence",
            (
                record.shop,
                record.state,
                record.uninstalled_us,
                record.redacted_us,
                record.state_sequence,
            ),
        )

    def has_events(self, shop: str) -> Step[bool]:
        """Whether the log holds any event of the shop."""
        row: Any = yield (ONE, "SELECT 1 FROM events WHERE shop = ? LIMIT 1", (shop,))
        return row is not None

    def sessions_of_orders(self, shop: str, order_ids: Sequence[str]) -> Step[list[str]]:
        """The ids of the sessions these orders of the shop belong to or completed."""
        found: set[str] = set()
        for chunk in _chunks(sorted(order_ids)):
            marks = ", ".join("?" * len(chunk))
            rows = yield (
                ALL,
                f"SELECT session_id FROM orders WHERE shop = ? AND order_id IN ({marks})"
                f" UNION SELECT session_id FROM sessions WHERE shop = ? AND order_id IN ({marks})",
                (shop, *chunk, shop, *chunk),
            )
            found.update(str(row[0]) for row in rows if row[0])
        return sorted(found)
