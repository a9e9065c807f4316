"""Square payload models, one per handled topic (untrusted input, validated from raw JSON)."""

from __future__ import annotations

from bridge.platforms.fields import DecimalText, Int64, OptionalText, PlatformId, Schema, Timestamp


class Notification(Schema):
    """The envelope of every Square webhook."""

    merchant_id: PlatformId
    type: str
    event_id: PlatformId
    created_at: Timestamp | None = None
    api_version: object = None  # a version text when present; anything else is ignored


class InventoryCount(Schema):
    """One count of an item variation at a location in one state."""

    catalog_object_id: PlatformId
    catalog_object_type: OptionalText = ""
    location_id: PlatformId | None = None
    quantity: DecimalText
    state: str
    calculated_at: Timestamp | None = None


class _Counts(Schema):
    inventory_counts: list[InventoryCount]


class _CountsData(Schema):
    object: _Counts


class InventoryCountUpdated(Schema):
    """inventory.count.updated: `data.object.inventory_counts[]`."""

    data: _CountsData


class OrderChange(Schema):
    """The thin order object of order.created / order.updated."""

    order_id: PlatformId
    version: Int64 = 0
    location_id: PlatformId | None = None
    state: OptionalText = ""
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None


class _OrderObject(Schema):
    order_created: OrderChange | None = None
    order_updated: OrderChange | None = None


class _OrderData(Schema):
    object: _OrderObject


class OrderEvent(Schema):
    """order.created / order.updated: `data.object.order_created` or `order_updated`."""

    data: _OrderData


class _CatalogVersion(Schema):
    updated_at: Timestamp


class _CatalogObject(Schema):
    catalog_version: _CatalogVersion


class _CatalogData(Schema):
    object: _CatalogObject


class CatalogVersionUpdated(Schema):
    """catalog.version.updated: `data.object.catalog_version.updated_at`."""

    data: _CatalogData
