"""Erasure on the bridge's side of a Shopify privacy redaction: the quarantine's kept bodies and
the outbox's waiting or parked events of a redacted customer (or of a whole redacted shop) are
deleted before the redaction is forwarded, and the files' WAL is truncated, so that no byte of
them stays in the data dir (both files use secure_delete: bridge.sqlite_thread).

What is matched, in the quarantine (raw bodies, kept with their headers): entries of the
platform and shop (X-Shopify-Shop-Domain) whose JSON body holds, at any depth, a `customer`
object with the customer's id, a string equal to the customer's e-mail (case-insensitive) or
phone, an `order_id` of a listed order, or (an orders/* topic) a top-level `id` of one; a body
that is not JSON is matched by the e-mail, phone and customer id as text. For a shop redaction,
every entry of the shop. In the outbox (canonical events): common.redaction.concerns.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from commercegateway.v1 import events_pb2

from bridge.outbox import Outbox
from bridge.quarantine import Quarantine
from bridge.sqlite_thread import truncate_wal
from common.redaction import Subject, concerns, subject_of

logger = logging.getLogger("bridge.privacy")

MAX_WALK_NODES = 200_000
"""At most this many JSON values of one kept body are visited while matching (bodies are
bounded by the maximum body size already)."""


@dataclass(frozen=True)
class Redaction:
    """A redaction as the bridge applies it: the subject, and the customer's e-mail and phone
    as the signed body names them (never stored; used to match kept raw bodies)."""

    subject: Subject
    platform: str
    email: str = ""
    phone: str = ""


def redaction_of(
    platform: str, events: Sequence[events_pb2.Event], body: bytes
) -> Redaction | None:
    """The redaction a translated delivery carries (CustomerRedacted or ShopRedacted), or None."""
    for event in events:
        subject = subject_of(event)
        if subject is None:
            continue
        email = phone = ""
        if not subject.whole_shop:
            customer = _customer(body)
            email = str(customer.get("email") or "")
            phone = str(customer.get("phone") or "")
        return Redaction(subject, platform, email, phone)
    return None


def _customer(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        return {}
    customer = document.get("customer") if isinstance(document, dict) else None
    return customer if isinstance(customer, dict) else {}


def _same(value: Any, expected: str) -> bool:
    return bool(expected) and value is not None and str(value) == expected


def mentions(document: Any, topic: str, redaction: Redaction) -> bool:
    """Whether a kept JSON body holds data of the redacted customer (see the module
    docstring); at most MAX_WALK_NODES values are visited."""
    subject = redaction.subject
    email = redaction.email.strip().lower()
    phone = redaction.phone.strip()
    if (
        topic.startswith("orders/")
        and isinstance(document, dict)
        and str(document.get("id")) in subject.order_ids
    ):
        return True
    stack, seen = [document], 0
    while stack and seen < MAX_WALK_NODES:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            customer = node.get("customer")
            if isinstance(customer, dict) and _same(customer.get("id"), subject.customer_id):
                return True
            if str(node.get("order_id")) in subject.order_ids:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and (
            (email and node.strip().lower() == email) or (phone and node.strip() == phone)
        ):
            return True
    return False


def _kept_body_matches(headers: str, topic: str, body: bytes, redaction: Redaction) -> bool:
    try:
        shop = json.loads(headers).get("x-shopify-shop-domain", "")
    except ValueError:
        shop = ""
    if shop != redaction.subject.shop:
        return False
    if redaction.subject.whole_shop:
        return True
    try:
        document = json.loads(body)
    except ValueError:
        needles = [redaction.email, redaction.phone, redaction.subject.customer_id]
        return any(needle and needle.encode() in body for needle in needles)
    return mentions(document, topic, redaction)


def _erase_quarantine(connection: sqlite3.Connection, redaction: Redaction) -> int:
    # One row at a time (a cursor, not fetchall): kept bodies are up to the maximum body size.
    rows = connection.execute(
        "SELECT id, topic, headers, body FROM quarantine WHERE platform = ?",
        (redaction.platform,),
    )
    doomed = [
        (int(entry_id),)
        for entry_id, topic, headers, body in rows
        if _kept_body_matches(str(headers), str(topic), bytes(body), redaction)
    ]
    return _delete(connection, "quarantine", doomed)


def _delete(connection: sqlite3.Connection, table: str, doomed: list[tuple[int]]) -> int:
    """Deletes the rows of `table` with the ids in `doomed` in one transaction, then truncates
    the file's WAL (the erased bytes leave the disk); returns how many."""
    if doomed:
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(f"DELETE FROM {table} WHERE id = ?", doomed)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    _truncate(connection, table)
    return len(doomed)


def _truncate(connection: sqlite3.Connection, name: str) -> None:
    if not truncate_wal(connection):
        logger.warning(
            "WAL checkpoint after a redaction did not complete: another process held an old"
            " snapshot; the next checkpoint rewrites it",
            extra={"file": name},
        )


def _erase_outbox(connection: sqlite3.Connection, subject: Subject) -> int:
    rows = connection.execute(
        "SELECT id, event FROM outbox WHERE shop = ? OR shop IS NULL", (subject.shop,)
    )
    doomed = [
        (int(entry_id),)
        for entry_id, blob in rows
        if concerns(events_pb2.Event.FromString(bytes(blob)), subject)
    ]
    return _delete(connection, "outbox", doomed)


class LocalEraser:
    """Applies redactions to the bridge's own files (the quarantine and the outbox)."""

    def __init__(self, quarantine: Quarantine, outbox: Outbox) -> None:
        """Erases from these stores."""
        self._quarantine = quarantine
        self._outbox = outbox

    async def erase(self, redaction: Redaction) -> tuple[int, int]:
        """Deletes the matching quarantine entries and outbox events (waiting or parked) and
        truncates both files' WAL; returns (quarantine entries, outbox events) deleted."""
        kept = await self._quarantine.db.run(lambda c: _erase_quarantine(c, redaction))
        waiting = await self._outbox.db.run(lambda c: _erase_outbox(c, redaction.subject))
        logger.info(
            "redaction applied to the bridge's data",
            extra={
                "shop": redaction.subject.shop[:100],
                "whole_shop": redaction.subject.whole_shop,
                "quarantine_deleted": kept,
                "outbox_deleted": waiting,
            },
        )
        return kept, waiting
