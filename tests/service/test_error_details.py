"""OUT_OF_RANGE carries the oldest available sequence as a google.rpc.ErrorInfo detail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from service.error_details import CURSOR_EXPIRED, DOMAIN, OLDEST_SEQUENCE
from tests.service.events import inventory
from tests.support.core import CoreStub, core_stub, running_core

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on both engines

STREAMS: dict[str, Any] = {
    "SubscribeEvents": api.SubscribeEventsRequest,
    "SubscribeInventoryAlerts": api.SubscribeInventoryAlertsRequest,
    "SubscribeOrderCompletions": api.SubscribeOrderCompletionsRequest,
}


async def refusal(stub: CoreStub, method: str, after: int) -> grpc.aio.AioRpcError:
    """The error a subscription of `method` from `after` ends with."""
    call = getattr(stub, method)(STREAMS[method](after_sequence=after))
    try:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call.read()
    finally:
        call.cancel()
    return caught.value


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    """The one ErrorInfo of the error's rich status (grpc-status-details-bin)."""
    status: status_pb2.Status | None = rpc_status.from_call(cast(grpc.Call, error))
    assert status is not None, "no grpc-status-details-bin trailer"
    assert len(status.details) == 1
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    return info


@pytest.mark.parametrize("method", sorted(STREAMS))
async def test_expired_cursor_names_the_oldest_sequence_in_error_info(
    tmp_path: Path, method: str
) -> None:
    async with running_core(tmp_path) as core, core_stub(core.address) as stub:
        events = [inventory(name, "item", "9") for name in ("a", "b")]
        await stub.PublishEvents(api.PublishEventsRequest(events=events))
        assert await core.retention.compact_once(datetime.now(UTC) + timedelta(days=8)) == 2
        error = await refusal(stub, method, 1)
    assert error.code() == grpc.StatusCode.OUT_OF_RANGE
    info = error_info(error)
    assert info.reason == CURSOR_EXPIRED == "CURSOR_EXPIRED"
    assert info.domain == DOMAIN == "commercegateway.v1"
    assert dict(info.metadata) == {OLDEST_SEQUENCE: "3"}
    assert "oldest available sequence is 3" in (error.details() or "")  # the prose is kept


async def test_other_refusals_carry_no_details(tmp_path: Path) -> None:
    async with running_core(tmp_path) as core, core_stub(core.address) as stub:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetSession(api.GetSessionRequest(session_id="nobody"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert rpc_status.from_call(cast(grpc.Call, caught.value)) is None
