"""Shopify payload models, one per handled topic (untrusted input, validated from raw JSON)."""

from __future__ import annotations

from pydantic import Field

from bridge.platforms.fields import DecimalText, Int64, OptionalText, PlatformId, Schema, Timestamp


class InventoryLevel(Schema):
    """inventory_levels/update: the available quantity of an inventory item at a location."""

    inventory_item_id: PlatformId
    location_id: PlatformId
    available: Int64 | None = None
    updated_at: Timestamp | None = None


class NoteAttribute(Schema):
    """A cart attribute set at checkout."""

    name: OptionalText
    value: OptionalText = ""


class OrderLine(Schema):
    """One line of an order."""

    product_id: PlatformId | None = None
    variant_id: PlatformId | None = None
    sku: OptionalText = ""
    title: OptionalText = ""
    quantity: Int64
    price: DecimalText


class CustomerRef(Schema):
    """The customer an order or a privacy request names (id; e-mail and phone when sent)."""

    id: PlatformId
    email: OptionalText = ""
    phone: OptionalText = ""


class Order(Schema):
    """orders/create, orders/paid, orders/updated and orders/cancelled: the order resource."""

    id: PlatformId
    name: OptionalText = ""
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    total_price: DecimalText
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    line_items: list[OrderLine] = []
    note_attributes: list[NoteAttribute] | None = None
    cart_token: OptionalText = ""
    checkout_token: OptionalText = ""
    customer: CustomerRef | None = None
    cancelled_at: Timestamp | None = None
    cancel_reason: OptionalText = ""
    financial_status: OptionalText = ""


class Variant(Schema):
    """One variant of a product."""

    id: PlatformId
    sku: OptionalText = ""
    title: OptionalText = ""
    price: DecimalText | None = None
    inventory_item_id: PlatformId | None = None


class Product(Schema):
    """products/create and products/update: the product resource."""

    id: PlatformId
    title: OptionalText = ""
    status: OptionalText = ""
    updated_at: Timestamp | None = None
    variants: list[Variant] = []


class DeletedProduct(Schema):
    """products/delete: only the id."""

    id: PlatformId


# Shopify's mandatory privacy (compliance) webhooks and app/uninstalled.
MAX_PRIVACY_ORDERS = 10_000
"""At most this many orders in one customers/data_request or customers/redact body."""


class DataRequestRef(Schema):
    """The id of a customers/data_request."""

    id: PlatformId


class CustomersDataRequest(Schema):
    """customers/data_request: a customer asked the shop for the data held about them."""

    shop_id: PlatformId
    shop_domain: OptionalText = ""
    customer: CustomerRef
    orders_requested: list[PlatformId] = Field(default=[], max_length=MAX_PRIVACY_ORDERS)
    data_request: DataRequestRef | None = None


class CustomersRedact(Schema):
    """customers/redact: the customer's personal data and the listed orders' must be erased."""

    shop_id: PlatformId
    shop_domain: OptionalText = ""
    customer: CustomerRef
    orders_to_redact: list[PlatformId] = Field(default=[], max_length=MAX_PRIVACY_ORDERS)


class ShopRedact(Schema):
    """shop/redact: everything held for the shop must be erased (48 h after uninstall)."""

    shop_id: PlatformId
    shop_domain: OptionalText = ""


class UninstalledShop(Schema):
    """app/uninstalled: the Shop resource; only its id and domain are read."""

    id: PlatformId
    myshopify_domain: OptionalText = ""
