"""Realistic Square sample bodies of the order lifecycle topics order.fulfillment.updated and
payment.updated, with fresh ids on every call (the envelope is square_samples')."""

from __future__ import annotations

import uuid
from typing import Any


def lifecycle_data(topic: str, object_id: str, now: str) -> dict[str, Any] | None:
    """The `data` object of a lifecycle `topic` at `now`, or None for another topic."""
    if topic == "order.fulfillment.updated":
        order = {
            "order_id": object_id,
            "version": 3,
            "location_id": "FPYCBCHYMXFK1",
            "state": "OPEN",
            "created_at": now,
            "updated_at": now,
            "fulfillment_update": [
                {
                    "fulfillment_uid": uuid.uuid4().hex[:22],
                    "old_state": "PROPOSED",
                    "new_state": "RESERVED",
                }
            ],
        }
        return {
            "id": object_id,
            "type": "order_fulfillment_updated",
            "object": {"order_fulfillment_updated": order},
        }
    if topic == "payment.updated":
        money = {"amount": 5998, "currency": "USD"}
        payment = {
            "id": uuid.uuid4().hex.upper()[:29],
            "order_id": object_id,
            "status": "COMPLETED",
            "location_id": "FPYCBCHYMXFK1",
            "amount_money": money,
            "total_money": money,
            "source_type": "CARD",
            "created_at": now,
            "updated_at": now,
        }
        return {"id": payment["id"], "type": "payment", "object": {"payment": payment}}
    return None
