"""Bearer tokens through a real server: roles, missing and wrong tokens, open loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api

from service.auth import Authorizer
from service.server import RunningCore
from service.settings import SettingsError, load_core_settings
from tests.service.events import inventory
from tests.support.core import core_stub, running_core

PUBLISH = api.PublishEventsRequest(events=[inventory("e1", "item", "3")])


@pytest.fixture
async def guarded_core(tmp_path: Path) -> AsyncIterator[RunningCore]:
    """A core with both tokens set."""
    async with running_core(
        tmp_path, publisher_token="pub-secret", subscriber_token="sub-secret"
    ) as core:
        yield core


async def publish_code(address: str, token: str | None) -> grpc.StatusCode:
    """The status of a PublishEvents call with the given token."""
    async with core_stub(address, token) as stub:
        try:
            await stub.PublishEvents(PUBLISH)
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK


async def subscribe_code(address: str, token: str | None) -> grpc.StatusCode:
    """The status of opening an event stream with the given token (OK once registered)."""
    async with core_stub(address, token) as stub:
        call = stub.SubscribeEvents(api.SubscribeEventsRequest())
        try:
            await call.initial_metadata()
            code = await call.code() if call.done() else grpc.StatusCode.OK
        finally:
            call.cancel()
    return code


async def test_publisher_token_may_publish(guarded_core: RunningCore) -> None:
    assert await publish_code(guarded_core.address, "pub-secret") == grpc.StatusCode.OK


async def test_subscriber_token_may_not_publish(guarded_core: RunningCore) -> None:
    assert (
        await publish_code(guarded_core.address, "sub-secret") == grpc.StatusCode.PERMISSION_DENIED
    )


async def test_missing_token_is_unauthenticated(guarded_core: RunningCore) -> None:
    assert await publish_code(guarded_core.address, None) == grpc.StatusCode.UNAUTHENTICATED


async def test_wrong_token_is_unauthenticated(guarded_core: RunningCore) -> None:
    assert await publish_code(guarded_core.address, "guess") == grpc.StatusCode.UNAUTHENTICATED


async def test_wrong_token_cannot_subscribe(guarded_core: RunningCore) -> None:
    async with core_stub(guarded_core.address, "guess") as stub:
        call = stub.SubscribeEvents(api.SubscribeEventsRequest())
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await call.read()
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_subscriber_token_may_subscribe_and_read(guarded_core: RunningCore) -> None:
    assert await subscribe_code(guarded_core.address, "sub-secret") == grpc.StatusCode.OK
    async with core_stub(guarded_core.address, "sub-secret") as stub:
        page = await stub.ListInventoryLevels(api.ListInventoryLevelsRequest())
    assert page.sequence == 0


async def test_unset_tokens_leave_loopback_open(tmp_path: Path) -> None:
    async with running_core(tmp_path) as core:
        assert await publish_code(core.address, None) == grpc.StatusCode.OK


def test_non_loopback_listener_without_tokens_is_refused() -> None:
    with pytest.raises(SettingsError) as error:
        load_core_settings(grpc_listen="0.0.0.0:50051", subscriber_token="s")
    assert "COMMERCE_GATEWAY_PUBLISHER_TOKEN" in str(error.value)
    assert "\n" not in str(error.value)


def test_bearer_scheme_is_case_insensitive() -> None:
    authorizer = Authorizer("p", "s")
    assert authorizer.role_of([("authorization", "bearer p")]) == "publisher"
    assert authorizer.role_of([("authorization", "Bearer s")]) == "subscriber"
