"""Square: URL + body HMAC verification, event models per type and translation."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from commercegateway.v1 import events_pb2

from bridge.platforms.common import (
    PayloadRejected,
    WebhookRejected,
    any_digest_matches,
    decode_base64,
    encode_text,
    header,
    hmac_base64,
    rfc3339,
)
from bridge.platforms.delivery import (
    Envelope,
    Translation,
    make_event,
    parse_json,
    timestamp,
    translating,
    validate_document,
    validate_json,
    with_content_keys,
)
from bridge.platforms.platform import Platform, SignRequest, VerifyOptions
from bridge.platforms.square_lifecycle import LIFECYCLE_HANDLERS, STATES
from bridge.platforms.square_samples import sample
from bridge.platforms.square_schema import (
    CatalogVersionUpdated,
    InventoryCountUpdated,
    Notification,
    OrderEvent,
)

SIGNATURE_HEADER = "x-square-hmacsha256-signature"
LEGACY_SIGNATURE_HEADER = "x-square-signature"
INITIAL_DELIVERY_HEADER = "square-initial-delivery-timestamp"
_DIGEST_SIZE = {"sha256": 32, "sha1": 20}


def _signature(headers: Mapping[Any, Any], legacy_sha1: bool) -> tuple[str, str]:
    """The signature to check and its algorithm: SHA-256, else SHA-1 when legacy is enabled."""
    current = header(headers, SIGNATURE_HEADER)
    if current is not None:
        return current, "sha256"
    legacy = header(headers, LEGACY_SIGNATURE_HEADER) if legacy_sha1 else None
    if legacy is not None:
        return legacy, "sha1"
    raise WebhookRejected("missing_header", f"missing header {SIGNATURE_HEADER}")


def signed_message(notification_url: str, body: bytes) -> bytes:
    """The bytes Square signs: the subscription's notification URL, then the raw body."""
    return encode_text(notification_url) + body


def verify(
    body: bytes,
    headers: Mapping[Any, Any],
    secrets: Sequence[str],
    *,
    notification_url: str | None,
    legacy_sha1: bool = False,
) -> None:
    """Checks base64(HMAC(signature key, notification_url + body)) for any signature key.

    The header is x-square-hmacsha256-signature (HMAC-SHA256); the legacy X-Square-Signature
    (HMAC-SHA1 over the same message) is accepted only when `legacy_sha1` is true.
    """
    keys = [encode_text(secret) for secret in secrets if secret]
    if not keys:
        raise WebhookRejected("no_secret_configured")
    if not notification_url:
        raise WebhookRejected("no_notification_url")
    signature, algorithm = _signature(headers, legacy_sha1)
    if not body:
        raise WebhookRejected("empty_body")
    digest = decode_base64(signature)
    if digest is None or len(digest) != _DIGEST_SIZE[algorithm]:
        raise WebhookRejected("malformed_signature", "signature is not a base64 HMAC digest")
    message = signed_message(notification_url, body)
    if not any_digest_matches(keys, message, [digest], algorithm):
        raise WebhookRejected("bad_signature", "signature does not match any configured key")


def _inventory(envelope: Envelope, document: Any, occur: datetime | None) -> list[events_pb2.Event]:
    """One InventoryUpdated per IN_STOCK count; counts in other states (SOLD, WASTE, ...) say
    where units went, not how many are available, so they produce no event."""
    counts = validate_document(InventoryCountUpdated, document).data.object.inventory_counts
    events = []
    for index, count in enumerate(counts):
        if count.state != "IN_STOCK":
            continue
        payload = events_pb2.InventoryUpdated(
            inventory_item_id=count.catalog_object_id,
            location_id=count.location_id or "",
            available=count.quantity,
        )
        if count.calculated_at is not None:
            payload.update_time.CopyFrom(timestamp(count.calculated_at))
        source = envelope.delivery_id if len(counts) == 1 else f"{envelope.delivery_id}/{index}"
        events.append(
            make_event(
                envelope, "inventory_updated", payload, occur_time=occur, source_event_id=source
            )
        )
    return events


def _order(envelope: Envelope, document: Any, occur: datetime | None) -> list[events_pb2.Event]:
    """An OrderCreated with the state and version Square reports (no lines or totals)."""
    holder = validate_document(OrderEvent, document).data.object
    first, second = (holder.order_updated, holder.order_created)
    if envelope.topic == "order.created":
        first, second = second, first
    change = first or second
    if change is None:
        raise PayloadRejected(
            "schema", "schema_mismatch", ["data.object.order_created: Field required"]
        )
    payload = events_pb2.OrderCreated(
        order_id=change.order_id,
        state=STATES.get(change.state, events_pb2.ORDER_STATE_UNSPECIFIED),
        version=change.version,
        location_id=change.location_id or "",
    )
    changed = change.updated_at or change.created_at
    if changed is not None:
        payload.update_time.CopyFrom(timestamp(changed))
    return [make_event(envelope, "order_created", payload, occur_time=occur)]


def _catalog(envelope: Envelope, document: Any, occur: datetime | None) -> list[events_pb2.Event]:
    """A CatalogRefresh: Square only says the merchant's catalog changed."""
    version = validate_document(CatalogVersionUpdated, document).data.object.catalog_version
    payload = events_pb2.CatalogRefresh(catalog_update_time=timestamp(version.updated_at))
    return [make_event(envelope, "catalog_refresh", payload, occur_time=occur)]


_Handler = Callable[[Envelope, Any, datetime | None], list[events_pb2.Event]]
HANDLERS: dict[str, _Handler] = {
    "inventory.count.updated": _inventory,
    "order.created": _order,
    "order.updated": _order,
    "catalog.version.updated": _catalog,
    **LIFECYCLE_HANDLERS,
}
HANDLED_TOPICS: tuple[str, ...] = tuple(HANDLERS)


def parse(body: bytes, headers: Mapping[Any, Any], received_at: datetime) -> Translation:
    """Reads an authentic Square delivery into canonical events, routing on the top-level type."""
    document = parse_json(body)  # once: every model below validates this document
    notification = validate_document(Notification, document)
    envelope = Envelope(
        wire=events_pb2.PLATFORM_SQUARE,
        platform="square",
        topic=notification.type,
        delivery_id=notification.event_id,
        shop=notification.merchant_id,
        received_at=received_at,
        payload_version=version if isinstance(version := notification.api_version, str) else "",
    )
    handler = HANDLERS.get(notification.type)
    if handler is None:
        return Translation(envelope, (), handled=False, payload_time=None)
    events = translating("body", handler, envelope, document, notification.created_at)
    # The envelope's created_at is when Square created the event; retries keep it, so it is
    # held to the replay window whatever square-initial-delivery-timestamp says.
    return Translation(
        envelope,
        with_content_keys("square", body, events),
        handled=True,
        payload_time=notification.created_at,
        body_time=notification.created_at,
    )


def shop_of(body: bytes) -> str | None:
    """The merchant id of an authentic body, or None when it has none."""
    try:
        return validate_json(Notification, body).merchant_id
    except PayloadRejected:
        return None


def sign(body: bytes, secret: str, request: SignRequest) -> dict[str, str]:
    """Every header Square sends with `body`, signed with `secret` over the notification URL.

    Raises:
        ValueError: without `request.notification_url`.
    """
    if not request.notification_url:
        raise ValueError("signing as Square needs the notification URL the subscription uses")
    message = signed_message(request.notification_url, body)
    key = encode_text(secret)
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: hmac_base64(key, message),
        LEGACY_SIGNATURE_HEADER: hmac_base64(key, message, "sha1"),
        "square-environment": "Production",
        INITIAL_DELIVERY_HEADER: rfc3339(request.now),
        "User-Agent": "Square Connect v2",
    }


def _verify(
    body: bytes, headers: Mapping[str, str], secrets: Sequence[str], options: VerifyOptions
) -> None:
    verify(
        body,
        headers,
        secrets,
        notification_url=options.notification_url,
        legacy_sha1=options.legacy_sha1,
    )


def _bad_signature_hint(configured_url: str, request_url: str) -> str:
    url = configured_url or request_url
    origin = "SQUARE_NOTIFICATION_URL" if configured_url else "this request's URL"
    return (
        f" Square signs URL + body: the expected URL was {url} ({origin}); it must "
        "equal the subscription's notification URL exactly."
    )


PLATFORM = Platform(
    name="square",
    wire=events_pb2.PLATFORM_SQUARE,
    title="Square",
    verify=_verify,
    parse=parse,
    sign=sign,
    sample=sample,
    handled_topics=HANDLED_TOPICS,
    body_shop=shop_of,
    signature_headers=(SIGNATURE_HEADER, LEGACY_SIGNATURE_HEADER),
    secret_variable="SQUARE_SIGNATURE_KEY",
    sample_shop="6SSW7HV8K2ST5",
    event_time_headers=(INITIAL_DELIVERY_HEADER,),
    topic_field="type",
    delivery_id_field="event_id",
    signs_url=True,
    signature_scheme=SIGNATURE_HEADER,
    header_docs=(
        (SIGNATURE_HEADER, True, "base64 HMAC-SHA256 of URL + body (signature)."),
        (
            LEGACY_SIGNATURE_HEADER,
            False,
            "Legacy base64 HMAC-SHA1 of URL + body, accepted only with "
            "COMMERCE_GATEWAY_SQUARE_LEGACY_SHA1.",
        ),
        (INITIAL_DELIVERY_HEADER, False, "First delivery attempt (replay window)."),
    ),
    bad_signature_hint=_bad_signature_hint,
)
"""Square, as the bridge knows it."""
