"""CoreError wraps every failed call; OUT_OF_RANGE is the clear CursorExpiredError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc
import pytest
from commercegateway import CoreClient, CoreError, CursorExpiredError, Subscription
from commercegateway import errors as client_errors
from google.rpc import error_details_pb2, status_pb2

from tests.clients.conftest import FAST
from tests.clients.events import inventory_event, publish
from tests.support.core import running_core
from tests.support.waiting import wait_for

PUBLISHER = "publisher-token-for-tests"
SUBSCRIBER = "subscriber-token-for-tests"


async def first_item(subscription: Subscription[Any, Any]) -> Any:
    """The first item a subscription yields; the stream is closed afterwards."""
    async with subscription:
        return await anext(subscription)


async def test_unknown_session_raises_core_error_not_found(client: CoreClient) -> None:
    with pytest.raises(CoreError) as caught:
        await client.get_session("no-such-session")
    assert caught.value.status == grpc.StatusCode.NOT_FOUND
    assert caught.value.reason == "not_found"
    assert isinstance(caught.value.__cause__, grpc.aio.AioRpcError)


async def test_empty_publish_raises_core_error_invalid_argument(client: CoreClient) -> None:
    with pytest.raises(CoreError) as caught:
        await client.publish_events([])
    assert caught.value.reason == "invalid_argument"
    assert "events" in caught.value.details


async def test_tokens_map_to_unauthenticated_and_permission_denied(tmp_path: Path) -> None:
    async with running_core(
        tmp_path, publisher_token=PUBLISHER, subscriber_token=SUBSCRIBER
    ) as core:
        async with CoreClient(core.address, token="wrong", backoff=FAST) as stranger:
            with pytest.raises(CoreError) as unauthenticated:
                await stranger.list_inventory_levels()
            # A refused subscription is not retried: the error reaches the caller.
            with pytest.raises(CoreError) as refused_stream:
                await first_item(stranger.subscribe_events(after_sequence=0))
        async with CoreClient(core.address, token=SUBSCRIBER, backoff=FAST) as reader:
            with pytest.raises(CoreError) as denied:
                await reader.publish_events([inventory_event()])
            assert (await reader.list_inventory_levels()).sequence == 0
        async with CoreClient(core.address, token=PUBLISHER, backoff=FAST) as writer:
            results = await writer.publish_events([inventory_event()])
    assert unauthenticated.value.reason == "unauthenticated"
    assert refused_stream.value.reason == "unauthenticated"
    assert denied.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert results[0].sequence == 1


async def test_expired_cursor_raises_cursor_expired_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_prose(details: str) -> int | None:
        raise AssertionError(f"the message was parsed instead of the ErrorInfo: {details}")

    # The oldest sequence must come from the ErrorInfo detail, not from the English message.
    monkeypatch.setattr(client_errors, "parse_oldest_sequence", no_prose)
    # A retention of a few milliseconds, compacted every 20 ms: published events expire soon.
    async with running_core(
        tmp_path, retention_hours=1e-6, retention_interval_seconds=0.02
    ) as core:
        await publish(core.address, [inventory_event(), inventory_event(), inventory_event()])
        async with CoreClient(core.address, backoff=FAST) as client:

            async def expired() -> bool:
                try:
                    await first_item(client.subscribe_events(after_sequence=0))
                except CursorExpiredError:
                    return True
                return False

            await wait_for(expired, message="compaction to expire sequence 0")
            with pytest.raises(CursorExpiredError) as caught:
                await first_item(client.subscribe_inventory_alerts(after_sequence=1))
    error = caught.value
    assert error.status == grpc.StatusCode.OUT_OF_RANGE
    assert error.oldest_sequence == 4
    assert "ListInventoryLevels" in str(error)
    assert isinstance(error, CoreError)


def out_of_range(details: str, *infos: error_details_pb2.ErrorInfo) -> grpc.aio.AioRpcError:
    """An OUT_OF_RANGE error with `details` and, when given, a rich status carrying `infos`."""
    trailing = grpc.aio.Metadata()
    if infos:
        status = status_pb2.Status(code=grpc.StatusCode.OUT_OF_RANGE.value[0], message=details)
        for info in infos:
            status.details.add().Pack(info)
        trailing.add("grpc-status-details-bin", status.SerializeToString())
    return grpc.aio.AioRpcError(
        grpc.StatusCode.OUT_OF_RANGE, grpc.aio.Metadata(), trailing, details, None
    )


def cursor_expired(oldest: str, domain: str = "commercegateway.v1") -> error_details_pb2.ErrorInfo:
    """The ErrorInfo a core sends with OUT_OF_RANGE."""
    return error_details_pb2.ErrorInfo(
        reason="CURSOR_EXPIRED", domain=domain, metadata={"oldest_sequence": oldest}
    )


def test_error_info_wins_over_the_message() -> None:
    error = client_errors.from_rpc_error(
        out_of_range("the oldest available sequence is 10", cursor_expired("42"))
    )
    assert isinstance(error, CursorExpiredError)
    assert error.oldest_sequence == 42
    assert error.details == "the oldest available sequence is 10"


def test_message_is_the_fallback_of_a_core_without_error_info() -> None:
    error = client_errors.from_rpc_error(out_of_range("the oldest available sequence is 10"))
    assert isinstance(error, CursorExpiredError)
    assert error.oldest_sequence == 10


def test_error_info_of_another_domain_or_malformed_is_ignored() -> None:
    other = client_errors.from_rpc_error(
        out_of_range("oldest 7", cursor_expired("42", domain="example.com"), cursor_expired("x"))
    )
    assert isinstance(other, CursorExpiredError)
    assert other.oldest_sequence == 7
