"""Bearer tokens through a real server: roles, missing and wrong tokens, open loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api

from service.auth import Authorizer
from service.errors import PermissionDeniedError
from service.server import RunningCore
from service.settings import SettingsError, load_core_settings
from tests.service.events import inventory
from tests.support.core import bearer, core_stub, running_core

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on both engines

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


@pytest.mark.unit
def test_non_loopback_listener_without_tokens_is_refused() -> None:
    with pytest.raises(SettingsError) as error:
        load_core_settings(grpc_listen="0.0.0.0:50051", subscriber_token="s")
    assert "COMMERCE_GATEWAY_PUBLISHER_TOKEN" in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.unit
def test_bearer_scheme_is_case_insensitive() -> None:
    authorizer = Authorizer("p", "s")
    assert authorizer.role_of([("authorization", "bearer p")]) == "publisher"
    assert authorizer.role_of([("authorization", "Bearer s")]) == "subscriber"


def _bind_request(session_id: str) -> api.BindSessionRequest:
    return api.BindSessionRequest(
        session_id=session_id,
        shop="shop.example",
        bindings=[
            api.SessionBinding(kind=api.SESSION_BINDING_KIND_CART_TOKEN, value=f"cart-{session_id}")
        ],
    )


async def bind_code(address: str, token: str | None, session_id: str) -> grpc.StatusCode:
    """The status of a BindSession call with the given token."""
    async with core_stub(address, token) as stub:
        try:
            await stub.BindSession(_bind_request(session_id))
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK


async def session_exists(address: str, session_id: str) -> bool:
    """Whether the core knows the session (read with the publisher token)."""
    async with core_stub(address, "pub-secret") as stub:
        try:
            await stub.GetSession(api.GetSessionRequest(session_id=session_id))
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.NOT_FOUND
            return False
    return True


@pytest.fixture
async def sessions_core(tmp_path: Path) -> AsyncIterator[RunningCore]:
    """A core with the publisher, subscriber and session tokens set."""
    async with running_core(
        tmp_path,
        publisher_token="pub-secret",
        subscriber_token="sub-secret",
        session_token="session-secret",
    ) as core:
        yield core


async def test_subscriber_token_may_not_bind_sessions(sessions_core: RunningCore) -> None:
    address = sessions_core.address
    assert await bind_code(address, "sub-secret", "s-1") == grpc.StatusCode.PERMISSION_DENIED
    assert not await session_exists(address, "s-1")


async def test_session_and_publisher_tokens_may_bind_sessions(sessions_core: RunningCore) -> None:
    address = sessions_core.address
    assert await bind_code(address, "session-secret", "s-2") == grpc.StatusCode.OK
    assert await bind_code(address, "pub-secret", "s-3") == grpc.StatusCode.OK
    assert await session_exists(address, "s-2")
    assert await session_exists(address, "s-3")


async def test_session_token_may_read_and_subscribe_but_not_publish(
    sessions_core: RunningCore,
) -> None:
    address = sessions_core.address
    assert await subscribe_code(address, "session-secret") == grpc.StatusCode.OK
    assert await publish_code(address, "session-secret") == grpc.StatusCode.PERMISSION_DENIED


async def test_without_a_session_token_only_the_publisher_may_bind(
    guarded_core: RunningCore,
) -> None:
    address = guarded_core.address
    assert await bind_code(address, "sub-secret", "s-4") == grpc.StatusCode.PERMISSION_DENIED
    assert await bind_code(address, "pub-secret", "s-5") == grpc.StatusCode.OK


@pytest.mark.unit
def test_permission_denied_says_what_the_token_may_do_and_what_is_needed() -> None:
    authorizer = Authorizer("p", "s", "b")
    with pytest.raises(PermissionDeniedError) as error:
        authorizer.check_method("/commercegateway.v1.CoreService/BindSession", bearer("s"))
    assert str(error.value) == (
        "this token may read and subscribe; bind sessions needs the session or the publisher token"
    )
    assert authorizer.role_of(bearer("b")) == "session"


@pytest.mark.unit
def test_session_token_equal_to_the_subscriber_token_is_refused() -> None:
    with pytest.raises(SettingsError, match="SESSION_TOKEN must differ"):
        load_core_settings(subscriber_token="same", session_token="same")
