"""Redaction, written once for the core and the bridge: which stored events a privacy request
concerns, and the redacted entry that replaces such an event (its sequence number kept).

A redaction names a customer (its platform customer id and orders) or a whole shop. An event
is the customer's when it is of the same shop and platform and either names the customer
(`Event.customer_id`, also set on the customer's data requests) or is an order or checkout
event of one of the listed orders. Redaction and uninstall events themselves are never erased by
a customer redaction: they are the record that the request was carried out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from commercegateway.v1 import events_pb2 as ev

PRIVACY_PAYLOADS = frozenset(
    {"customer_data_requested", "customer_redacted", "shop_redacted", "app_uninstalled"}
)
"""The payload cases of Shopify's privacy and uninstall webhooks."""
KEPT_PAYLOADS = PRIVACY_PAYLOADS - {"customer_data_requested"}
"""The payload cases a customer redaction never erases (the record of what was done)."""


@dataclass(frozen=True)
class Subject:
    """Whose data a privacy request concerns: one customer (with orders) or a whole shop
    (`whole_shop`, customer and orders empty)."""

    platform: int
    shop: str
    customer_id: str = ""
    order_ids: frozenset[str] = frozenset()
    whole_shop: bool = False


def subject_of(event: ev.Event) -> Subject | None:
    """The subject of a redaction event (CustomerRedacted or ShopRedacted), or None for any
    other event."""
    case = event.WhichOneof("payload")
    if case == "customer_redacted":
        payload = event.customer_redacted
        return Subject(
            event.platform, event.shop, payload.customer_id, frozenset(payload.order_ids)
        )
    if case == "shop_redacted":
        return Subject(event.platform, event.shop, whole_shop=True)
    return None


def request_subject(event: ev.Event) -> Subject | None:
    """The customer a data request (CustomerDataRequested) or redaction concerns, or None."""
    if event.WhichOneof("payload") == "customer_data_requested":
        payload = event.customer_data_requested
        return Subject(
            event.platform, event.shop, payload.customer_id, frozenset(payload.order_ids)
        )
    return subject_of(event)


def order_of(event: ev.Event) -> str:
    """The order id the event's payload names in a field called `order_id` (order, checkout
    and any later order payload), "" for other events and privacy events."""
    case = event.WhichOneof("payload")
    if case is None or case in PRIVACY_PAYLOADS:
        return ""
    return str(getattr(getattr(event, case), "order_id", "") or "")


def widened(subject: Subject, events: Iterable[ev.Event]) -> Subject:
    """The subject with the orders that its customer's events among `events` name added (so
    that a later event of such an order is matched even when it does not name the customer)."""
    if subject.whole_shop or not subject.customer_id:
        return subject
    named = {
        order_of(event)
        for event in events
        if concerns(event, subject) and event.customer_id == subject.customer_id
    }
    named.discard("")
    if named <= subject.order_ids:
        return subject
    return Subject(
        subject.platform,
        subject.shop,
        subject.customer_id,
        subject.order_ids | named,
        subject.whole_shop,
    )


def concerns(event: ev.Event, subject: Subject) -> bool:
    """Whether the stored `event` holds data of `subject` (see the module docstring); an
    already redacted event concerns nobody."""
    if event.redacted or event.shop != subject.shop or event.platform != subject.platform:
        return False
    if subject.whole_shop:
        return True
    if event.WhichOneof("payload") in KEPT_PAYLOADS:
        return False
    if subject.customer_id and event.customer_id == subject.customer_id:
        return True
    order = order_of(event)
    return bool(order) and order in subject.order_ids


def redacted_copy(event: ev.Event) -> ev.Event:
    """The redacted entry replacing `event`: its identity, shop, times, sequence, topic and
    versions kept; its payload and customer id gone; `redacted` set."""
    return ev.Event(
        id=event.id,
        platform=event.platform,
        source_event_id=event.source_event_id,
        shop=event.shop,
        occur_time=event.occur_time,
        receive_time=event.receive_time,
        sequence=event.sequence,
        topic=event.topic,
        delivery_id=event.delivery_id,
        content_key=event.content_key,
        future_dated=event.future_dated,
        payload_version=event.payload_version,
        redacted=True,
    )


def email_digest(email: str) -> str:
    """The hex SHA-256 of an e-mail address trimmed and lower-cased ("" for none)."""
    text = email.strip().lower()
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() if text else ""


def phone_digest(phone: str) -> str:
    """The hex SHA-256 of a phone number as written, trimmed ("" for none)."""
    text = phone.strip()
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() if text else ""
