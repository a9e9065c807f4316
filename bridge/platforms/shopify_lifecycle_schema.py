"""Shopify payload models of the order lifecycle and inventory item topics (untrusted input,
validated from raw JSON); the order topics reuse shopify_schema.Order."""

from __future__ import annotations

from bridge.platforms.fields import DecimalText, Int64, OptionalText, PlatformId, Schema, Timestamp


class RefundTransaction(Schema):
    """One transaction of a refund; only successful `refund` transactions moved money."""

    kind: OptionalText = ""
    status: OptionalText = ""
    amount: DecimalText
    currency: OptionalText = ""


class RefundedOrderLine(Schema):
    """The order line a refund line refers to (the fields the canonical line needs)."""

    product_id: PlatformId | None = None
    variant_id: PlatformId | None = None
    sku: OptionalText = ""
    title: OptionalText = ""
    price: DecimalText | None = None


class RefundLine(Schema):
    """One refunded line: how many units of which order line."""

    quantity: Int64
    line_item_id: PlatformId | None = None
    line_item: RefundedOrderLine | None = None


class Refund(Schema):
    """refunds/create: the refund resource."""

    id: PlatformId
    order_id: PlatformId
    note: OptionalText = ""
    created_at: Timestamp | None = None
    refund_line_items: list[RefundLine] = []
    transactions: list[RefundTransaction] = []


class InventoryItem(Schema):
    """inventory_items/update: the inventory item resource."""

    id: PlatformId
    sku: OptionalText = ""
    tracked: bool = False
    updated_at: Timestamp | None = None


class LevelDisconnect(Schema):
    """inventory_levels/disconnect: only the item and the location."""

    inventory_item_id: PlatformId
    location_id: PlatformId
