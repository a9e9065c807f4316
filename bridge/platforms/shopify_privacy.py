"""Shopify's mandatory privacy webhooks (customers/data_request, customers/redact, shop/redact)
and app/uninstalled: payload models to canonical events, body shapes, samples, and the topics
whose failed authentication is answered 401 (Shopify's app review checks it)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from commercegateway.v1 import events_pb2

from bridge.platforms.common import PayloadRejected, header
from bridge.platforms.delivery import Envelope, make_event, validate_document
from bridge.platforms.shopify_schema import (
    CustomersDataRequest,
    CustomersRedact,
    ShopRedact,
    UninstalledShop,
)
from common.redaction import email_digest, phone_digest

DATA_REQUEST, CUSTOMER_REDACT, SHOP_REDACT, UNINSTALLED = (
    "customers/data_request",
    "customers/redact",
    "shop/redact",
    "app/uninstalled",
)
PRIVACY_TOPICS = (DATA_REQUEST, CUSTOMER_REDACT, SHOP_REDACT, UNINSTALLED)
"""The topics of this module, in the order the README lists them."""
UNAUTHORIZED_TOPICS = frozenset(PRIVACY_TOPICS)
"""Topics whose failed authentication is answered 401 rather than 403: Shopify's app review
checks it for the three privacy topics, and Shopify's own libraries answer every invalid HMAC
with 401, so app/uninstalled (the fourth webhook of an app's lifecycle) is answered alike."""


def _same_shop(envelope: Envelope, named: str) -> None:
    """The signed body's shop must be the (unsigned) header's: a privacy body re-sent with
    another X-Shopify-Shop-Domain must never erase or export another shop's data."""
    if named and named != envelope.shop:
        raise PayloadRejected(
            "schema", "schema_mismatch", ["shop_domain: does not match X-Shopify-Shop-Domain"]
        )


def _data_request(
    envelope: Envelope, document: Any, occur: datetime | None
) -> list[events_pb2.Event]:
    request = validate_document(CustomersDataRequest, document)
    _same_shop(envelope, request.shop_domain)
    payload = events_pb2.CustomerDataRequested(
        customer_id=request.customer.id,
        order_ids=request.orders_requested,
        data_request_id=request.data_request.id if request.data_request else "",
        email_sha256=email_digest(request.customer.email),
        phone_sha256=phone_digest(request.customer.phone),
    )
    event = make_event(envelope, "customer_data_requested", payload, occur_time=occur)
    event.customer_id = request.customer.id
    return [event]


def _customer_redact(
    envelope: Envelope, document: Any, occur: datetime | None
) -> list[events_pb2.Event]:
    request = validate_document(CustomersRedact, document)
    _same_shop(envelope, request.shop_domain)
    payload = events_pb2.CustomerRedacted(
        customer_id=request.customer.id,
        order_ids=request.orders_to_redact,
        email_sha256=email_digest(request.customer.email),
        phone_sha256=phone_digest(request.customer.phone),
    )
    event = make_event(envelope, "customer_redacted", payload, occur_time=occur)
    event.customer_id = request.customer.id
    return [event]


def _shop_redact(
    envelope: Envelope, document: Any, occur: datetime | None
) -> list[events_pb2.Event]:
    request = validate_document(ShopRedact, document)
    _same_shop(envelope, request.shop_domain)
    payload = events_pb2.ShopRedacted(shop_id=request.shop_id)
    return [make_event(envelope, "shop_redacted", payload, occur_time=occur)]


def _uninstalled(
    envelope: Envelope, document: Any, occur: datetime | None
) -> list[events_pb2.Event]:
    shop = validate_document(UninstalledShop, document)
    _same_shop(envelope, shop.myshopify_domain)
    payload = events_pb2.AppUninstalled(shop_id=shop.id)
    return [make_event(envelope, "app_uninstalled", payload, occur_time=occur)]


HANDLERS = {
    DATA_REQUEST: _data_request,
    CUSTOMER_REDACT: _customer_redact,
    SHOP_REDACT: _shop_redact,
    UNINSTALLED: _uninstalled,
}
"""The translation of each topic of this module (same signature as shopify.HANDLERS)."""

# Top-level keys: (required, forbidden, only) per topic, for shopify.Shape.
SHAPES: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str] | None]] = {
    DATA_REQUEST: (
        frozenset({"shop_id", "customer", "orders_requested"}),
        frozenset({"orders_to_redact", "line_items", "variants"}),
        None,
    ),
    CUSTOMER_REDACT: (
        frozenset({"shop_id", "customer", "orders_to_redact"}),
        frozenset({"orders_requested", "data_request", "line_items", "variants"}),
        None,
    ),
    SHOP_REDACT: (frozenset({"shop_id"}), frozenset(), frozenset({"shop_id", "shop_domain"})),
    # The Shop resource: an order (line_items), a product (variants) or a deleted product
    # ({"id"} only) relabelled app/uninstalled does not mark a shop uninstalled.
    UNINSTALLED: (
        frozenset({"id", "name", "myshopify_domain"}),
        frozenset({"line_items", "variants", "inventory_item_id", "customer"}),
        None,
    ),
}


def unauthorized(headers: Mapping[str, str], topic_headers: tuple[str, ...]) -> bool:
    """Whether a delivery's (normalized) headers name a topic answered 401 on a failed
    authentication; the topic header is read before verification, in either spelling
    (`customers/redact` or `CUSTOMERS_REDACT`)."""
    topic = (header(headers, *topic_headers) or "").strip()
    return topic.lower().replace("_", "/", 1) in UNAUTHORIZED_TOPICS or topic in (
        UNAUTHORIZED_TOPICS
    )


def _id() -> int:
    return 2**60 + secrets.randbelow(2**62)


def sample(topic: str, shop: str) -> dict[str, Any]:
    """A JSON document of a topic of this module naming `shop`, with fresh ids."""
    customer = {"id": _id(), "email": "buyer@example.com", "phone": "+15555550123"}
    if topic == DATA_REQUEST:
        return {
            "shop_id": _id(),
            "shop_domain": shop,
            "orders_requested": [_id()],
            "customer": customer,
            "data_request": {"id": _id()},
        }
    if topic == CUSTOMER_REDACT:
        return {
            "shop_id": _id(),
            "shop_domain": shop,
            "customer": customer,
            "orders_to_redact": [_id()],
        }
    if topic == SHOP_REDACT:
        return {"shop_id": _id(), "shop_domain": shop}
    return {"id": _id(), "name": "Example shop", "myshopify_domain": shop, "domain": shop}
