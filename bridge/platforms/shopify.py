"""Shopify: HMAC verification, payload models per topic and translation to canonical events."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from commercegateway.v1 import events_pb2

from bridge.platforms import shopify_privacy
from bridge.platforms.common import (
    PayloadRejected,
    WebhookRejected,
    any_digest_matches,
    decode_base64,
    encode_text,
    header,
    header_time,
    hmac_base64,
    require_header,
    rfc3339,
)
from bridge.platforms.delivery import (
    Envelope,
    Translation,
    event_id,
    make_event,
    parse_json,
    timestamp,
    translating,
    validate_document,
    with_content_keys,
)
from bridge.platforms.fields import Dated
from bridge.platforms.money import money_from_decimal, price_without_currency
from bridge.platforms.platform import Platform, SignRequest, VerifyOptions
from bridge.platforms.shopify_lifecycle import LIFECYCLE_HANDLERS, order_state
from bridge.platforms.shopify_samples import sample as _catalog_sample
from bridge.platforms.shopify_schema import (
    DeletedProduct,
    InventoryLevel,
    Order,
    OrderLine,
    Product,
    Variant,
)


def names(suffix: str) -> tuple[str, str]:
    """The header in both spellings Shopify uses: `X-Shopify-<suffix>` and `shopify-<suffix>`."""
    return f"x-shopify-{suffix}", f"shopify-{suffix}"


HMAC_HEADER = names("hmac-sha256")
TOPIC_HEADER = names("topic")
SHOP_HEADER = names("shop-domain")
WEBHOOK_ID_HEADER = names("webhook-id")
TRIGGERED_AT_HEADER = names("triggered-at")
EVENT_ID_HEADER = names("event-id")
API_VERSION_HEADER = names("api-version")
# Shopify's own SDK treats a delivery lacking any of these as invalid.
_REQUIRED = (TOPIC_HEADER, SHOP_HEADER, API_VERSION_HEADER, WEBHOOK_ID_HEADER)


def verify(body: bytes, headers: Mapping[Any, Any], secrets: Sequence[str]) -> None:
    """Checks X-Shopify-Hmac-Sha256 = base64(HMAC-SHA256(secret, body)) for any secret."""
    keys = [encode_text(secret) for secret in secrets if secret]
    if not keys:
        raise WebhookRejected("no_secret_configured")
    signature = require_header(headers, *HMAC_HEADER)
    for spellings in _REQUIRED:
        require_header(headers, *spellings)
    if not body:
        raise WebhookRejected("empty_body")
    digest = decode_base64(signature)
    if digest is None or len(digest) != 32:
        raise WebhookRejected("malformed_signature", "signature is not a base64 SHA-256 digest")
    if not any_digest_matches(keys, body, [digest]):
        raise WebhookRejected("bad_signature", "signature does not match any configured secret")


def _inventory(envelope: Envelope, document: Any, occur: datetime | None) -> list[events_pb2.Event]:
    level = validate_document(InventoryLevel, document)
    if level.available is None:  # the item is not tracked at this location: nothing to report
        return []
    payload = events_pb2.InventoryUpdated(
        inventory_item_id=level.inventory_item_id,
        location_id=level.location_id,
        available=str(level.available),
    )
    if level.updated_at is not None:
        payload.update_time.CopyFrom(timestamp(level.updated_at))
    return [make_event(envelope, "inventory_updated", payload, occur_time=occur)]


def _line(line: OrderLine, currency: str) -> events_pb2.LineItem:
    return events_pb2.LineItem(
        product_id=line.product_id or "",
        variant_id=line.variant_id or "",
        sku=line.sku,
        title=line.title,
        quantity=line.quantity,
        price=money_from_decimal(line.price, currency),
    )


def _order(envelope: Envelope, document: Any, occur: datetime | None) -> list[events_pb2.Event]:
    order = validate_document(Order, document)
    payload = events_pb2.OrderCreated(
        order_id=order.id,
        name=order.name,
        state=order_state(order),
        total=translating("total_price", money_from_decimal, order.total_price, order.currency),
        cart_token=order.cart_token,
        checkout_id=order.checkout_token,
    )
    for index, line in enumerate(order.line_items):
        payload.line_items.append(translating(f"line_items[{index}]", _line, line, order.currency))
    for attribute in order.note_attributes or []:
        payload.attributes[attribute.name] = attribute.value
    changed = order.updated_at or order.created_at
    if changed is not None:
        payload.update_time.CopyFrom(timestamp(changed))
    event = make_event(envelope, "order_created", payload, occur_time=occur)
    event.customer_id = order.customer.id if order.customer is not None else ""
    return [event]


def _variant(variant: Variant) -> events_pb2.ProductVariant:
    # Product payloads do not name the shop currency: the price keeps its decimal text only.
    result = events_pb2.ProductVariant(
        variant_id=variant.id,
        sku=variant.sku,
        title=variant.title,
        inventory_item_id=variant.inventory_item_id or "",
    )
    if variant.price is not None:
        result.price.CopyFrom(price_without_currency(variant.price))
    return result


def _product(envelope: Envelope, document: Any, occur: datetime | None) -> list[events_pb2.Event]:
    product = validate_document(Product, document)
    payload = events_pb2.ProductUpdated(
        product_id=product.id,
        title=product.title,
        status=product.status,
        variants=[_variant(variant) for variant in product.variants],
    )
    if product.updated_at is not None:
        payload.update_time.CopyFrom(timestamp(product.updated_at))
    return [make_event(envelope, "product_updated", payload, occur_time=occur)]


def _deleted(envelope: Envelope, document: Any, occur: datetime | None) -> list[events_pb2.Event]:
    product = validate_document(DeletedProduct, document)
    payload = events_pb2.ProductDeleted(product_id=product.id)
    return [make_event(envelope, "product_deleted", payload, occur_time=occur)]


_Handler = Callable[[Envelope, Any, datetime | None], list[events_pb2.Event]]
HANDLERS: dict[str, _Handler] = {
    "inventory_levels/update": _inventory,
    "orders/create": _order,
    "products/create": _product,
    "products/update": _product,
    "products/delete": _deleted,
    # The order lifecycle (orders/paid and orders/updated carry the order, as orders/create).
    "orders/paid": _order,
    "orders/updated": _order,
    **LIFECYCLE_HANDLERS,
}
HANDLERS.update(shopify_privacy.HANDLERS)  # the privacy webhooks and app/uninstalled
HANDLED_TOPICS: tuple[str, ...] = tuple(HANDLERS)


@dataclass(frozen=True)
class Shape:
    """The top-level keys that tell one topic's body from another's (the topic header is not
    signed): `required` must all be present; `forbidden` must be absent; `only`, when set, lists
    every key allowed."""

    required: frozenset[str] = frozenset()
    forbidden: frozenset[str] = frozenset()
    only: frozenset[str] | None = None


_PRODUCT = Shape(frozenset({"id", "title", "variants"}), frozenset({"line_items"}))
_LEVEL = Shape(
    frozenset({"inventory_item_id", "location_id", "available"}),
    frozenset({"id", "variants", "line_items"}),
)
_ORDER = Shape(frozenset({"id", "line_items"}), frozenset({"variants", "inventory_item_id"}))
SHAPES: dict[str, Shape] = {
    "inventory_levels/update": _LEVEL,
    "orders/create": _ORDER,
    "products/create": _PRODUCT,
    "products/update": _PRODUCT,
    "products/delete": Shape(frozenset({"id"}), only=frozenset({"id"})),
    # The order lifecycle.
    "orders/paid": _ORDER,
    "orders/updated": _ORDER,
    "orders/cancelled": _ORDER,
    "refunds/create": Shape(
        frozenset({"id", "order_id"}),
        frozenset({"line_items", "variants", "inventory_item_id", "title"}),
    ),
    "inventory_items/update": Shape(
        frozenset({"id", "tracked"}),
        frozenset({"variants", "line_items", "inventory_item_id", "order_id", "title"}),
    ),
    "inventory_levels/connect": _LEVEL,
    "inventory_levels/disconnect": Shape(
        frozenset({"inventory_item_id", "location_id"}),
        frozenset({"available", "id", "variants", "line_items"}),
    ),
}
SHAPES.update(
    (topic, Shape(required, forbidden, only))
    for topic, (required, forbidden, only) in shopify_privacy.SHAPES.items()
)
"""Per-topic shape discriminators. Topics sharing a shape share a resource: products/create and
products/update (the same effect); the four order topics, whose effect follows the order's own
state (cancelled_at, financial_status; orders/cancelled refuses a body without cancelled_at), so
a rewrite between them changes nothing the body does not say; inventory_levels/update and
/connect (a rewritten connect only clears a disconnection). Any rewrite of an already delivered
body is a duplicate by its content key in any case."""

# The body time that is the event's own time, per topic, held to the replay window. Product
# updates have none: products/update fires for changes that leave the product's updated_at old
# (inventory, publications, metafields), and products/delete bodies carry only the id.
_BODY_TIME: dict[str, str] = {
    "inventory_levels/update": "updated_at",
    "orders/create": "created_at",
    "products/create": "created_at",
    # The order lifecycle. orders/paid, /updated and /cancelled are not held to a body time:
    # the order's updated_at is not documented to move with every delivery of those topics.
    "refunds/create": "created_at",
    "inventory_levels/connect": "updated_at",
}


def check_shape(topic: str, document: Any) -> None:
    """PayloadRejected 422 (schema_mismatch) unless the parsed JSON `document` has the shape of
    `topic`, so that a rewritten X-Shopify-Topic cannot give a signed body another meaning."""
    shape = SHAPES.get(topic)
    if shape is None:
        return
    keys = set(document) if isinstance(document, dict) else set()
    errors = [f"{key}: required in a {topic} body" for key in sorted(shape.required - keys)]
    unexpected = keys & shape.forbidden if shape.only is None else keys - shape.only
    errors += [f"{key}: not part of a {topic} body" for key in sorted(unexpected)]
    if errors:
        raise PayloadRejected("schema", "schema_mismatch", errors)


def normalize_topic(topic: str) -> str:
    """The REST spelling of a topic: `INVENTORY_LEVELS_UPDATE` -> `inventory_levels/update`."""
    if "/" in topic or not topic.isupper():
        return topic
    for known in HANDLED_TOPICS:
        if known.replace("/", "_").upper() == topic:
            return known
    return topic


def event_key(shop: str, topic: str, shopify_event_id: str, index: int) -> str:
    """The source event id of the `index`-th event of a delivery carrying X-Shopify-Event-Id:
    "event:", the hex SHA-256 of shop, topic and event id (newline-separated), ":" and the index.

    Two-level dedup. X-Shopify-Webhook-Id is unique per delivery, but one merchant action
    delivered to several subscriptions shares one X-Shopify-Event-Id; this key makes the second
    such delivery of the same (shop, topic) a duplicate through the core's existing unique
    (platform, source_event_id), with no new column. Both checks are kept: a retry repeats the
    Event-Id (so it still meets the first key), and the content key (SHA-256 of the signed body)
    stays a separate key, so a captured body re-sent with a rewritten (unsigned) Event-Id or
    Webhook-Id is still a duplicate. The hash bounds the length whatever the headers hold.
    Without the header the source event id stays the webhook id.
    """
    material = "\n".join((shop, topic, shopify_event_id)).encode("utf-8", "surrogatepass")
    return f"event:{hashlib.sha256(material).hexdigest()}:{index}"


def with_event_keys(
    envelope: Envelope, headers: Mapping[Any, Any], events: Sequence[events_pb2.Event]
) -> tuple[events_pb2.Event, ...]:
    """The events keyed by X-Shopify-Event-Id when the delivery carries it (see `event_key`):
    source event id and canonical id derive from it; unchanged otherwise."""
    shopify_event_id = header(headers, *EVENT_ID_HEADER)
    if not shopify_event_id:
        return tuple(events)
    for index, event in enumerate(events):
        key = event_key(envelope.shop, envelope.topic, shopify_event_id, index)
        event.source_event_id = key
        event.id = event_id(envelope.platform, key)
    return tuple(events)


def parse(body: bytes, headers: Mapping[Any, Any], received_at: datetime) -> Translation:
    """Reads an authentic Shopify delivery into canonical events (PayloadRejected if invalid)."""
    topic = normalize_topic(require_header(headers, *TOPIC_HEADER))
    envelope = Envelope(
        wire=events_pb2.PLATFORM_SHOPIFY,
        platform="shopify",
        topic=topic,
        delivery_id=require_header(headers, *WEBHOOK_ID_HEADER),
        shop=require_header(headers, *SHOP_HEADER),
        received_at=received_at,
        payload_version=header(headers, *API_VERSION_HEADER) or "",
    )
    handler = HANDLERS.get(topic)
    if handler is None:
        return Translation(envelope, (), handled=False, payload_time=None)
    document = parse_json(body)  # once: every model below validates this document
    stamps = validate_document(Dated, document)
    payload_time = stamps.updated_at or stamps.created_at
    occur = payload_time or header_time(headers, *TRIGGERED_AT_HEADER)
    events = with_content_keys(
        "shopify",
        body,
        with_event_keys(envelope, headers, translating("body", handler, envelope, document, occur)),
    )
    check_shape(topic, document)  # after the topic's model named its own errors, if any
    body_field = _BODY_TIME.get(topic)
    body_time = getattr(stamps, body_field) if body_field else None
    return Translation(
        envelope, events, handled=True, payload_time=payload_time, body_time=body_time
    )


def shop_of(headers: Mapping[Any, Any]) -> str | None:
    """The shop a delivery claims to come from (X-Shopify-Shop-Domain), for per-shop secrets."""
    return header(headers, *SHOP_HEADER)


API_VERSION = "2025-07"
"""The X-Shopify-API-Version that signed samples claim."""
OLDEST_CHECKED_VERSION = "2024-01"
"""The oldest X-Shopify-API-Version the payload models were checked against."""


def _event_id_of(delivery_id: str | None) -> str:
    # A retry repeats the webhook id and the event id: the same delivery id, the same event id.
    if delivery_id is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"shopify-event:{delivery_id}"))


def sign(body: bytes, secret: str, request: SignRequest) -> dict[str, str]:
    """Every header Shopify sends with `body`, signed with `secret` (a fresh webhook id and
    event id when the request names no delivery id; else the event id derives from it, as a
    retry repeats both)."""
    prefix = "X-Shopify-"
    return {
        "Content-Type": "application/json",
        f"{prefix}Topic": request.topic,
        f"{prefix}Hmac-Sha256": hmac_base64(encode_text(secret), body),
        f"{prefix}Shop-Domain": request.shop,
        f"{prefix}API-Version": API_VERSION,
        f"{prefix}Webhook-Id": request.delivery_id or str(uuid.uuid4()),
        f"{prefix}Triggered-At": rfc3339(request.now, nanoseconds=True),
        f"{prefix}Event-Id": _event_id_of(request.delivery_id),
    }


def _verify(
    body: bytes, headers: Mapping[str, str], secrets: Sequence[str], options: VerifyOptions
) -> None:
    verify(body, headers, secrets)


def sample(topic: str, shop: str, now: str) -> dict[str, Any]:
    """A JSON document of `topic` naming `shop`, with fresh ids, at `now` (RFC 3339)."""
    if topic in shopify_privacy.PRIVACY_TOPICS:
        return shopify_privacy.sample(topic, shop)
    return _catalog_sample(topic, shop, now)


def _answers_401(headers: Mapping[str, str]) -> bool:
    return shopify_privacy.unauthorized(headers, TOPIC_HEADER)


PLATFORM = Platform(
    name="shopify",
    wire=events_pb2.PLATFORM_SHOPIFY,
    title="Shopify",
    verify=_verify,
    parse=parse,
    sign=sign,
    sample=sample,
    handled_topics=HANDLED_TOPICS,
    signature_headers=HMAC_HEADER,
    secret_variable="SHOPIFY_WEBHOOK_SECRET",
    sample_shop="example.myshopify.com",
    topic_headers=TOPIC_HEADER,
    delivery_id_headers=WEBHOOK_ID_HEADER,
    shop_headers=SHOP_HEADER,
    event_time_headers=TRIGGERED_AT_HEADER,
    signature_scheme="X-Shopify-Hmac-Sha256",
    oldest_checked_version=OLDEST_CHECKED_VERSION,
    answers_401=_answers_401,
    header_docs=tuple(
        (name, required, f"{text} Also accepted as {name.removeprefix('X-').lower()}.")
        for name, required, text in (
            ("X-Shopify-Hmac-Sha256", True, "base64 HMAC-SHA256 of the raw body (signature)."),
            ("X-Shopify-Topic", True, "The topic, e.g. orders/create."),
            ("X-Shopify-Shop-Domain", True, "The shop, e.g. example.myshopify.com."),
            ("X-Shopify-API-Version", True, "The API version of the payload."),
            ("X-Shopify-Webhook-Id", True, "The delivery id (dedup key; retries repeat it)."),
            ("X-Shopify-Triggered-At", False, "When the event happened (replay window)."),
            (
                "X-Shopify-Event-Id",
                False,
                "The merchant action's id, shared by its deliveries to several subscriptions"
                " (second dedup key, with shop and topic).",
            ),
        )
    ),
)
"""Shopify, as the bridge knows it."""
