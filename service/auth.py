"""Bearer-token authorization of calls: publisher, session and subscriber roles, constant-time.

One table, METHOD_PERMISSIONS, says what each CoreService method needs; a server interceptor
(AuthorizationInterceptor) applies it to every call before any handler runs, so no servicer
method checks tokens itself. Health and reflection (OPEN_SERVICES) are open to anyone: load
balancers and probes check health without a token, and reflection only describes the public
API. Any other method the server serves but the table does not name is refused (fail closed).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import grpc

from service.errors import DomainError, PermissionDeniedError, UnauthenticatedError, status_of

Role = Literal["publisher", "session", "subscriber"]
Permission = Literal["read", "publish", "bind_sessions", "manage_groups"]

# What each role may do. Reading covers every Get/List call and every subscription;
# binding sessions (BindSession) writes state, so a read-only token may not do it.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    "publisher": frozenset({"read", "publish", "bind_sessions", "manage_groups"}),
    "session": frozenset({"read", "bind_sessions"}),
    "subscriber": frozenset({"read"}),
}
CORE_SERVICE = "commercegateway.v1.CoreService"
# What each CoreService method needs, by full gRPC method name: the one authorization table
# (which roles hold each permission: PERMISSIONS above).
METHOD_PERMISSIONS: dict[str, Permission] = {
    f"/{CORE_SERVICE}/PublishEvents": "publish",
    f"/{CORE_SERVICE}/BindSession": "bind_sessions",  # writes state
    f"/{CORE_SERVICE}/SubscribeEvents": "read",
    f"/{CORE_SERVICE}/SubscribeInventoryAlerts": "read",
    f"/{CORE_SERVICE}/SubscribeOrderCompletions": "read",
    f"/{CORE_SERVICE}/GetInventoryLevel": "read",
    f"/{CORE_SERVICE}/ListInventoryLevels": "read",
    f"/{CORE_SERVICE}/GetSession": "read",
    f"/{CORE_SERVICE}/GetCoreStatus": "read",
    # Consumer groups: consuming and looking need a subscriber's token; changing a group's
    # position or parked events needs the publisher token (a role that may write).
    f"/{CORE_SERVICE}/ConsumeEvents": "read",
    f"/{CORE_SERVICE}/ListGroups": "read",
    f"/{CORE_SERVICE}/GetGroup": "read",
    f"/{CORE_SERVICE}/ListParkedEvents": "read",
    f"/{CORE_SERVICE}/RedriveParkedEvents": "manage_groups",
    f"/{CORE_SERVICE}/DeleteGroup": "manage_groups",
    f"/{CORE_SERVICE}/SeekGroup": "manage_groups",
    # Privacy (issue 12): a shop's install state; a customer's data for a data request.
    f"/{CORE_SERVICE}/GetShop": "read",
    f"/{CORE_SERVICE}/ExportCustomerData": "read",
}
# Services anyone may call without a token: health (probes) and reflection (the API's shape).
OPEN_SERVICES = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    }
)
_CAN = {
    "publisher": "read, subscribe, publish, bind sessions and manage consumer groups",
    "session": "read, subscribe and bind sessions",
    "subscriber": "read and subscribe",
}
_NEEDS = {
    "read": "any token",
    "publish": "the publisher token",
    "bind_sessions": "the session or the publisher token",
    "manage_groups": "the publisher token",
}


@dataclass(frozen=True)
class Authorizer:
    """Checks `authorization: Bearer <token>` metadata against the configured tokens.

    The publisher or subscriber role whose token is unset is open (the settings allow that
    on loopback only); the session role exists only when its token is set.
    """

    publisher_token: str | None
    subscriber_token: str | None
    session_token: str | None = None

    def role_of(self, metadata: Iterable[tuple[str, str | bytes]] | None) -> Role:
        """The role a call's metadata proves; raises UnauthenticatedError otherwise."""
        token = _bearer(metadata)
        if self.publisher_token is None:
            return "publisher"
        if token is not None and _equal(token, self.publisher_token):
            return "publisher"
        if token is not None and self.session_token and _equal(token, self.session_token):
            return "session"
        if self.subscriber_token is None:
            return "subscriber"
        if token is not None and _equal(token, self.subscriber_token):
            return "subscriber"
        if token is None:
            raise UnauthenticatedError("missing authorization: Bearer token metadata")
        raise UnauthenticatedError("invalid token")

    def check(
        self, metadata: Iterable[tuple[str, str | bytes]] | None, permission: Permission
    ) -> None:
        """Allows the call when the token's role has `permission`; raises
        UnauthenticatedError or PermissionDeniedError otherwise."""
        role = self.role_of(metadata)
        if permission not in PERMISSIONS[role]:
            raise PermissionDeniedError(
                f"this token may {_CAN[role]}; {permission.replace('_', ' ')} needs"
                f" {_NEEDS[permission]}"
            )

    def check_method(self, method: str, metadata: Iterable[tuple[str, str | bytes]] | None) -> None:
        """Allows a call of `method` (a full gRPC method name) as METHOD_PERMISSIONS and
        OPEN_SERVICES say; raises UnauthenticatedError or PermissionDeniedError otherwise
        (PermissionDeniedError for a method that neither names)."""
        if method.lstrip("/").partition("/")[0] in OPEN_SERVICES:
            return
        permission = METHOD_PERMISSIONS.get(method)
        if permission is None:
            raise PermissionDeniedError(f"{method[:200]} is not in the authorization table")
        self.check(metadata, permission)


if TYPE_CHECKING:  # grpc's classes are generic in its stubs only
    Handler = grpc.RpcMethodHandler[Any, Any]
    Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[Handler]]


class AuthorizationInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Refuses every call its token does not allow (see METHOD_PERMISSIONS) before the handler
    runs, with UNAUTHENTICATED or PERMISSION_DENIED and a message safe to send."""

    def __init__(self, authorizer: Authorizer) -> None:
        """Checks tokens with `authorizer`."""
        self.authorizer = authorizer

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler:
        """The method's handler when the call is allowed, else one that only refuses it; None
        (UNIMPLEMENTED) for a method the server does not serve."""
        handler = await continuation(handler_call_details)
        if handler is None:  # no such method: grpc answers UNIMPLEMENTED (its stubs omit None)
            return handler
        try:
            self.authorizer.check_method(
                handler_call_details.method, handler_call_details.invocation_metadata
            )
        except DomainError as error:
            return _refusing(handler, status_of(error), str(error))
        return handler


def _bearer(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    for key, value in metadata or ():
        if key.lower() == "authorization":
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            scheme, _, token = text.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _refusing(handler: Handler, code: grpc.StatusCode, details: str) -> Handler:
    """A handler of the same kind as `handler` that ends every call with `code` and `details`
    without reading the request (it stays undecoded bytes)."""

    async def refuse(_request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        await context.abort(code, details)

    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(refuse)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(refuse)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(refuse)
    return grpc.unary_unary_rpc_method_handler(refuse)
