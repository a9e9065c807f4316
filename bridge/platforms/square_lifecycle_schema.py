"""Square payload models of the order lifecycle topics order.fulfillment.updated and
payment.updated (untrusted input, validated from raw JSON)."""

from __future__ import annotations

from bridge.platforms.fields import Int64, OptionalText, PlatformId, Schema, Timestamp


class FulfillmentUpdate(Schema):
    """One fulfillment's state change."""

    fulfillment_uid: PlatformId
    old_state: OptionalText = ""
    new_state: OptionalText = ""


class OrderFulfillmentChange(Schema):
    """The thin order object of order.fulfillment.updated."""

    order_id: PlatformId
    version: Int64 = 0
    location_id: PlatformId | None = None
    state: OptionalText = ""
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    fulfillment_update: list[FulfillmentUpdate] = []


class _FulfillmentObject(Schema):
    order_fulfillment_updated: OrderFulfillmentChange


class _FulfillmentData(Schema):
    object: _FulfillmentObject


class OrderFulfillmentUpdated(Schema):
    """order.fulfillment.updated: `data.object.order_fulfillment_updated`."""

    data: _FulfillmentData


class SquareMoney(Schema):
    """An amount in the currency's minor unit, as Square writes money."""

    amount: Int64
    currency: str


class Payment(Schema):
    """The payment object of payment.updated (the fields the canonical event needs)."""

    id: PlatformId
    order_id: PlatformId | None = None
    status: OptionalText = ""
    location_id: PlatformId | None = None
    amount_money: SquareMoney | None = None
    total_money: SquareMoney | None = None
    refunded_money: SquareMoney | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None


class _PaymentObject(Schema):
    payment: Payment


class _PaymentData(Schema):
    object: _PaymentObject


class PaymentUpdated(Schema):
    """payment.updated: `data.object.payment`."""

    data: _PaymentData
