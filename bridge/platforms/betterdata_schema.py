"""The Better Data Cloud webhook body: pydantic models and the published JSON Schema.

Body: {"type": ..., "timestamp": RFC 3339, "shop_id"?: ..., "data": {...}}. `shop_id` names the
Better Data shop and selects per-shop secrets; a single-shop sender may omit it (the bridge then
names its configured default shop, COMMERCE_GATEWAY_BETTERDATA_DEFAULT_SHOP).
Run `python -m bridge.platforms.betterdata_schema` to rewrite bridge/schemas/betterdata.schema.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter, model_validator

from bridge.platforms.fields import DecimalText, Int64, Schema, Timestamp

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "betterdata.schema.json"
SCHEMA_ID = "https://schemas.betterdata.example/commerce-gateway/webhook.schema.json"

Id = Annotated[str, Field(min_length=1, max_length=255)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code.")]


class Envelope(Schema):
    """What every body has, read before routing on `type`."""

    type: str
    shop_id: Id | None = None


class Stamped(Schema):
    """The time of the event, read once the type is known to be handled."""

    timestamp: Timestamp


class InventoryData(Schema):
    """The available quantity of a product (or one of its variants) at a location."""

    product_id: Id
    variant_id: Id | None = None
    sku: Id | None = None
    location_id: Id | None = None
    available: DecimalText


class OrderData(Schema):
    """An order was placed, with its total in minor units."""

    order_id: Id
    session_id: Id | None = None
    total_minor: Int64
    currency: Currency


class ProductData(Schema):
    """A product changed, or was deleted when `deleted` is true."""

    product_id: Id
    title: str | None = None
    deleted: bool = False


class CheckoutData(Schema):
    """A conversational checkout completed; total_minor and currency come together or not at all."""

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        json_schema_extra={
            "dependentRequired": {"total_minor": ["currency"], "currency": ["total_minor"]}
        },
    )

    session_id: Id
    order_id: Id
    total_minor: Int64 | None = None
    currency: Currency | None = None

    @model_validator(mode="after")
    def _total_with_currency(self) -> CheckoutData:
        if (self.total_minor is None) != (self.currency is None):
            raise ValueError("total_minor and currency must be given together")
        return self


class _Body(Schema):
    timestamp: Timestamp = Field(description="When the change happened (RFC 3339).")
    shop_id: Id | None = Field(default=None, description="The Better Data shop.")


class InventoryUpdated(_Body):
    """Body of `inventory.updated`."""

    type: Literal["inventory.updated"]
    data: InventoryData


class OrderCreated(_Body):
    """Body of `order.created`."""

    type: Literal["order.created"]
    data: OrderData


class ProductUpdated(_Body):
    """Body of `product.updated`."""

    type: Literal["product.updated"]
    data: ProductData


class CheckoutCompleted(_Body):
    """Body of `checkout.completed`."""

    type: Literal["checkout.completed"]
    data: CheckoutData


Webhook = Annotated[
    InventoryUpdated | OrderCreated | ProductUpdated | CheckoutCompleted,
    Field(discriminator="type"),
]
"""Any Better Data webhook body of a handled type."""


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of Better Data webhook bodies, from the models."""
    document = TypeAdapter(Webhook).json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Better Data Cloud webhook body",
        **document,
    }


def render() -> str:
    """The published schema file's exact text."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(render(), encoding="utf-8")
