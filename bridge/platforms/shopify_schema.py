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
