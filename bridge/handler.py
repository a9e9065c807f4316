"""create_webhook_handler: the embeddable API (any Litestar app, or plain ASGI), no core needed."""

from __future__ import annotations

import inspect
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from commercegateway.v1 import events_pb2
from litestar import Request, Response

from bridge.asgi_io import Receive, Scope, Send, body_chunks, header_map, request_url, send_body
from bridge.intake import ClientDisconnectedError, Intake, read_limited_body
from bridge.platforms.betterdata import DEFAULT_SHOP as DEFAULT_BETTERDATA_SHOP
from bridge.platforms.platform import (
    PlatformSecrets,
    VerificationConfig,
)
from bridge.problems import PROBLEM_CONTENT_TYPE, ProblemError

logger = logging.getLogger("bridge.handler")

Callback = Callable[[events_pb2.Event], Awaitable[None] | None]

_CATALOG = frozenset({"product_updated", "product_deleted", "catalog_refresh"})
# Later deliveries about a Shopify order already created: the stateless handler calls
# on_order_complete for orders/create only (the core completes each order once, whatever comes).
_LATER_ORDER_TOPICS = frozenset({"orders/paid", "orders/updated"})
_SEEN_LIMIT = 10_000


class WebhookHandler:
    """Verifies, validates and translates deliveries, then calls the callbacks per event.

    A delivery is answered 200 only after every callback returned; a callback that raises
    makes the answer 500 so that the platform retries. Events already handled recently (same
    id, or same signed content) are answered "duplicate" without calling the callbacks again.
    """

    def __init__(
        self, config: VerificationConfig, callbacks: Mapping[str, Callback], max_body_bytes: int
    ) -> None:
        """Use `create_webhook_handler` rather than this constructor."""
        self._intake = Intake(config)
        self._callbacks = callbacks
        self._limit = max_body_bytes
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def handle(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """Handles a Litestar request (platform from a `platform` path parameter, the last
        path segment, or the signature header) and returns the response."""
        headers = {name.lower(): value for name, value in request.headers.items()}
        path_platform = request.path_params.get("platform") or request.url.path.rsplit("/", 1)[-1]
        status, body, content_type = await self._process(
            path_platform, headers, request.stream(), lambda: str(request.url)
        )
        return Response(body, status_code=status, media_type=content_type)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Plain ASGI entry point (HTTP only; lifespan events are acknowledged)."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        headers = header_map(scope)
        if scope["method"] != "POST":
            problem = ProblemError("method", "method_not_allowed", "Only POST is accepted here.")
            await send_body(send, 405, problem.body(), PROBLEM_CONTENT_TYPE, [(b"allow", b"POST")])
            return
        path_platform = scope["path"].rstrip("/").rsplit("/", 1)[-1]
        try:
            status, body, content_type = await self._process(
                path_platform, headers, body_chunks(receive), lambda: request_url(scope, headers)
            )
        except ClientDisconnectedError:
            return
        await send_body(send, status, body, content_type)

    async def _process(
        self,
        path_platform: str,
        headers: dict[str, str],
        chunks: AsyncIterator[bytes],
        url: Callable[[], str],
    ) -> tuple[int, bytes, str]:
        try:
            body = await read_limited_body(chunks, self._limit, headers.get("content-length"))
            now = datetime.now(UTC)
            delivery = self._intake.accept(path_platform, headers, body, url, now)
            if not delivery.handled or not delivery.events:
                return (
                    200,
                    orjson.dumps({"status": "ignored", "event_id": None}),
                    "application/json",
                )
            document = await self._dispatch(delivery.events)
        except ProblemError as problem:
            logger.warning(
                "webhook rejected", extra={"status": problem.status, "reason": problem.reason}
            )
            return problem.status, problem.body(), PROBLEM_CONTENT_TYPE
        return 200, orjson.dumps(document), "application/json"

    async def _dispatch(self, events: Sequence[events_pb2.Event]) -> dict[str, Any]:
        fresh = [
            event
            for event in events
            if event.id not in self._seen and (event.content_key or event.id) not in self._seen
        ]
        for event in fresh:
            for callback in self._callbacks_for(event):
                try:
                    result = callback(event)
                    if inspect.isawaitable(result):
                        await result
                except Exception as error:
                    logger.exception("webhook callback failed", extra={"event_id": event.id})
                    raise ProblemError(
                        "internal", "callback_failed", f"A callback raised {type(error).__name__}."
                    ) from error
            self._remember(event.id)
            if event.content_key:
                self._remember(event.content_key)
        document: dict[str, Any] = {
            "status": "accepted" if fresh else "duplicate",
            "event_id": events[0].id,
        }
        if len(events) > 1:
            document["event_ids"] = [event.id for event in events]
        return document

    def _callbacks_for(self, event: events_pb2.Event) -> list[Callback]:
        kind = event.WhichOneof("payload")
        wanted = ["on_event"]
        if kind == "inventory_updated":
            wanted.append("on_inventory_change")
        elif kind == "checkout_completed" or (
            kind == "order_created"
            and event.order_created.state == events_pb2.ORDER_STATE_COMPLETED
            and event.topic not in _LATER_ORDER_TOPICS
        ):
            wanted.append("on_order_complete")
        elif kind in _CATALOG:
            wanted.append("on_catalog_change")
        return [self._callbacks[name] for name in wanted if name in self._callbacks]

    def _remember(self, event_id: str) -> None:
        self._seen[event_id] = None
        if len(self._seen) > _SEEN_LIMIT:
            self._seen.popitem(last=False)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _secrets(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(item.strip() for item in items if item.strip())


def create_webhook_handler(
    secret: str | Sequence[str] | None = None,
    *,
    on_inventory_change: Callback | None = None,
    on_order_complete: Callback | None = None,
    on_catalog_change: Callback | None = None,
    on_event: Callback | None = None,
    secrets: PlatformSecrets | None = None,
    square_notification_url: str | None = None,
    square_legacy_sha1: bool = False,
    replay_window: timedelta = timedelta(hours=72),
    timestamp_tolerance: timedelta = timedelta(minutes=5),
    max_body_bytes: int = 1_048_576,
    betterdata_default_shop: str = DEFAULT_BETTERDATA_SHOP,
) -> WebhookHandler:
    """Returns a handler verifying every platform with `secret` (one, a list or a comma list),
    or with the finer `secrets`, calling the callbacks (sync or async) with canonical Events.

    `on_inventory_change` gets inventory updates, `on_order_complete` completed orders and
    checkouts, `on_catalog_change` product and catalog changes, `on_event` every event.
    Every event passes the core's own checks first (422 "invalid_event" otherwise), and a
    Better Data body without `shop_id` names `betterdata_default_shop`.
    """
    config = VerificationConfig(
        secrets=secrets or PlatformSecrets(fallback=_secrets(secret), by_platform={}, by_shop={}),
        notification_url=square_notification_url,
        legacy_sha1=square_legacy_sha1,
        replay_window=replay_window,
        timestamp_tolerance=timestamp_tolerance,
        default_shop=betterdata_default_shop,
    )
    given = {
        "on_inventory_change": on_inventory_change,
        "on_order_complete": on_order_complete,
        "on_catalog_change": on_catalog_change,
        "on_event": on_event,
    }
    callbacks = {name: callback for name, callback in given.items() if callback is not None}
    return WebhookHandler(config, callbacks, max_body_bytes)
