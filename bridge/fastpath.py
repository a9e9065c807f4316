"""The bridge's ASGI entry: webhook requests skip Litestar's stack, the rest goes through it."""

from __future__ import annotations

from typing import Any

from litestar import Litestar

from bridge.asgi_io import Receive, Scope, Send
from bridge.webhook_endpoint import is_webhook_path

ENDPOINT_STATE_KEY = "webhook_endpoint"
HTTP_LIMITS_STATE_KEY = "http_limits"  # the HttpLimits the server holds connections to


class FastPath:
    """Sends requests to the webhook paths straight to their endpoint (which answers every
    outcome itself, problems included), and everything else (probes, metrics, OpenAPI,
    lifespan) to the Litestar app. Saves Litestar's middleware and routing per webhook."""

    def __init__(self, app: Litestar, endpoint: Any) -> None:
        """Wraps `app`; `endpoint` is the ASGI callable serving the webhook paths."""
        self.app = app
        self._endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatches one ASGI connection."""
        if scope["type"] == "http" and is_webhook_path(scope["path"]):
            await self._endpoint(scope, receive, send)
            return
        await self.app(scope, receive, send)  # type: ignore[arg-type]


def with_fast_path(app: Litestar) -> Litestar | FastPath:
    """`app` behind a FastPath when it is the bridge app (it names its webhook endpoint)."""
    endpoint = app.state.get(ENDPOINT_STATE_KEY)
    return app if endpoint is None else FastPath(app, endpoint)
