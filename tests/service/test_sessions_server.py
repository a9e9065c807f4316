"""Sessions through a real server: bindings, attributes, one completion per session."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from tests.service.events import SHOP, checkout, order
from tests.support.core import CoreStub, core_stub, running_core

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on both engines

CART = api.SESSION_BINDING_KIND_CART_TOKEN
ORDER = api.SESSION_BINDING_KIND_ORDER_ID


async def publish(stub: CoreStub, *events: ev.Event) -> list[int]:
    """Publishes events; returns their sequences."""
    reply = await stub.PublishEvents(api.PublishEventsRequest(events=events))
    return [result.sequence for result in reply.results]


async def completions(stub: CoreStub, through: int) -> list[ev.OrderCompletion]:
    """Every completion of events up to sequence `through`."""
    call = stub.SubscribeOrderCompletions(api.SubscribeOrderCompletionsRequest(after_sequence=0))
    found: list[ev.OrderCompletion] = []
    async for response in call:
        found.extend(response.completions)
        if response.sequence >= through:
            break
    call.cancel()
    return found


async def bind(stub: CoreStub, session_id: str, kind: int, value: str) -> api.Session:
    """Binds one key to a session."""
    reply = await stub.BindSession(
        api.BindSessionRequest(
            session_id=session_id,
            shop=SHOP,
            bindings=[api.SessionBinding(kind=kind, value=value)],  # type: ignore[arg-type]
        )
    )
    return reply.session


async def test_bound_cart_token_completes_the_session_once(stub: CoreStub) -> None:
    bound = await bind(stub, "sess-1", CART, "cart-1")
    assert bound.state == api.SESSION_STATE_ACTIVE
    first = order("o-create", "order-1", cart_token="cart-1")
    again = order("o-again", "order-1", cart_token="cart-1")
    sequences = await publish(stub, first, again)
    found = await completions(stub, sequences[-1])
    assert [(c.session_id, c.order_id, c.sequence) for c in found] == [
        ("sess-1", "order-1", sequences[0])
    ]
    session = (await stub.GetSession(api.GetSessionRequest(session_id="sess-1"))).session
    assert session.state == api.SESSION_STATE_COMPLETED
    assert (session.order_id, session.completion_sequence) == ("order-1", sequences[0])


async def test_order_attribute_names_the_session(stub: CoreStub) -> None:
    named = order("o1", "order-7", attributes={"gateway_session_id": "sess-attr"})
    (sequence,) = await publish(stub, named)
    (completion,) = await completions(stub, sequence)
    assert completion.session_id == "sess-attr"
    session = (await stub.GetSession(api.GetSessionRequest(session_id="sess-attr"))).session
    assert session.state == api.SESSION_STATE_COMPLETED


async def test_checkout_then_order_of_same_session_completes_once(stub: CoreStub) -> None:
    await bind(stub, "sess-2", ORDER, "order-2")
    sequences = await publish(
        stub,
        checkout("c1", "sess-2", "order-2"),
        order("o2", "order-2", platform=ev.PLATFORM_SQUARE),
    )
    found = await completions(stub, sequences[-1])
    assert [(c.session_id, c.sequence) for c in found] == [("sess-2", sequences[0])]


async def test_order_without_session_completes_once_with_empty_session(stub: CoreStub) -> None:
    sequences = await publish(stub, order("a", "order-3"), order("b", "order-3"))
    found = await completions(stub, sequences[-1])
    assert [(c.session_id, c.order_id) for c in found] == [("", "order-3")]


async def test_older_square_version_changes_nothing(stub: CoreStub) -> None:
    await bind(stub, "sess-4", ORDER, "sq-1")
    square = ev.PLATFORM_SQUARE
    newer_open = order("v5", "sq-1", state=ev.ORDER_STATE_OPEN, version=5, platform=square)
    older_done = order("v4", "sq-1", state=ev.ORDER_STATE_COMPLETED, version=4, platform=square)
    newest_done = order("v6", "sq-1", state=ev.ORDER_STATE_COMPLETED, version=6, platform=square)
    sequences = await publish(stub, newer_open, older_done)
    session = (await stub.GetSession(api.GetSessionRequest(session_id="sess-4"))).session
    assert session.state == api.SESSION_STATE_ACTIVE
    (last,) = await publish(stub, newest_done)
    found = await completions(stub, last)
    assert [(c.session_id, c.sequence) for c in found] == [("sess-4", last)]
    assert sequences[1] < last


async def test_unknown_session_is_not_found(stub: CoreStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.GetSession(api.GetSessionRequest(session_id="nobody"))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


async def test_binding_without_kind_is_invalid_argument(stub: CoreStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await bind(stub, "sess-5", api.SESSION_BINDING_KIND_UNSPECIFIED, "x")
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "bindings[0].kind" in (error.value.details() or "")


async def test_bindings_accumulate_and_are_returned(stub: CoreStub) -> None:
    await bind(stub, "sess-6", CART, "cart-6")
    session = await bind(stub, "sess-6", ORDER, "order-6")
    assert [(b.kind, b.value) for b in session.bindings] == [
        (CART, "cart-6"),
        (ORDER, "order-6"),
    ]
    fetched = (await stub.GetSession(api.GetSessionRequest(session_id="sess-6"))).session
    assert fetched == session


async def test_session_attribute_name_is_configurable(tmp_path: Path) -> None:
    async with (
        running_core(tmp_path, session_attribute="chat_id") as core,
        core_stub(core.address) as stub,
    ):
        (sequence,) = await publish(stub, order("o1", "order-8", attributes={"chat_id": "c-8"}))
        (completion,) = await completions(stub, sequence)
    assert completion.session_id == "c-8"
