"""The privacy RPCs of CoreService (GetShop, ExportCustomerData): proto <-> store, no rules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from common.redaction import Subject
from service import convert
from service.errors import InvalidArgumentError, NotFoundError
from service.store.base import EventStore
from service.store.privacy_rows import ShopRecord

Resp = TypeVar("Resp")
MAX_EXPORT_ORDERS = 1000
"""At most this many order ids in one ExportCustomerData request."""
_STATES = {
    "installed": api.SHOP_STATE_INSTALLED,
    "uninstalled": api.SHOP_STATE_UNINSTALLED,
    "redacted": api.SHOP_STATE_REDACTED,
}


def shop_message(record: ShopRecord) -> api.GetShopResponse:
    """The API message of a shop's installation state."""
    message = api.GetShopResponse(
        shop=record.shop,
        state=_STATES.get(record.state, api.SHOP_STATE_UNSPECIFIED),
        state_sequence=record.state_sequence,
    )
    for field, value in (
        ("uninstall_time", record.uninstalled_us),
        ("redact_time", record.redacted_us),
    ):
        if value is not None:
            getattr(message, field).FromMicroseconds(value)
    return message


class PrivacyMethods:
    """GetShop and ExportCustomerData, mixed into CoreServicer (which provides `store` and
    `_unary`)."""

    store: EventStore
    _unary: Callable[..., Awaitable[Any]]

    async def GetShop(
        self,
        request: api.GetShopRequest,
        context: grpc.aio.ServicerContext[api.GetShopRequest, Awaitable[api.GetShopResponse]],
    ) -> api.GetShopResponse:
        """Returns a shop's installation state, NOT_FOUND when the core holds nothing of it."""

        async def work() -> api.GetShopResponse:
            if not request.shop:
                raise InvalidArgumentError("shop is required")
            record = await self.store.get_shop(request.shop)
            if record is None:
                raise NotFoundError("the core holds nothing of that shop")
            return shop_message(record)

        response: api.GetShopResponse = await self._unary(context, work)
        return response

    async def ExportCustomerData(
        self,
        request: api.ExportCustomerDataRequest,
        context: grpc.aio.ServicerContext[
            api.ExportCustomerDataRequest, Awaitable[api.ExportCustomerDataResponse]
        ],
    ) -> api.ExportCustomerDataResponse:
        """Returns everything held about one customer of a shop; see the proto."""

        async def work() -> api.ExportCustomerDataResponse:
            if not request.shop:
                raise InvalidArgumentError("shop is required")
            if not request.customer_id and not request.order_ids:
                raise InvalidArgumentError("customer_id or order_ids is required")
            if len(request.order_ids) > MAX_EXPORT_ORDERS:
                raise InvalidArgumentError(f"order_ids: at most {MAX_EXPORT_ORDERS} orders")
            subject = Subject(
                ev.PLATFORM_SHOPIFY,
                request.shop,
                request.customer_id,
                frozenset(request.order_ids),
            )
            found = await self.store.export_customer(subject)
            return api.ExportCustomerDataResponse(
                events=found.events,
                sessions=[convert.session_message(session) for session in found.sessions],
                order_ids=found.order_ids,
                truncated=found.truncated,
            )

        response: api.ExportCustomerDataResponse = await self._unary(context, work)
        return response
