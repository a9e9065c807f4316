"""create_app: the bridge's Litestar application (webhooks, health, readiness, metrics)."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Litestar, Response, get
from litestar.handlers import asgi
from litestar.openapi import OpenAPIConfig

from bridge.body_budget import BodyBudget
from bridge.console.mount import Console
from bridge.fastpath import ENDPOINT_STATE_KEY, HTTP_LIMITS_STATE_KEY, FastPath, with_fast_path
from bridge.forwarder import Forwarder
from bridge.http_errors import problem_handlers
from bridge.openapi_doc import document_webhooks
from bridge.outbox import Outbox
from bridge.outbox_admin import parked_count
from bridge.quarantine import Quarantine
from bridge.routes import WEBHOOK_PATHS, WebhookEndpoint
from bridge.settings import BridgeSettings, load_bridge_settings
from common.logs import configure_logging

logger = logging.getLogger("bridge.app")


def create_forwarder(settings: BridgeSettings) -> Forwarder:
    """The forwarder the settings describe (core target, token, outbox in the data dir)."""
    return Forwarder(
        core=settings.core,
        token=settings.publisher_token,
        outbox=Outbox(settings.data_dir),
        deadline=settings.forward_deadline_ms / 1000,
        credentials=settings.core_credentials(),
    )


def _probes(forwarder: Forwarder) -> list[Any]:
    @get("/healthz", sync_to_thread=False)
    def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "alive"}

    @get("/readyz")
    async def readyz() -> Response[dict[str, Any]]:
        """Ready when a delivery can be stored now: the core reports SERVING (its store
        commits) or an outbox commit succeeds; says which, and how many entries are parked."""
        core = await forwarder.core_health()
        outbox = await forwarder.outbox.writable()
        ready = core == "reachable" or outbox
        body: dict[str, Any] = {
            "status": "ready" if ready else "unavailable",
            "core": core,
            "outbox": "writable" if outbox else "unwritable",
        }
        body["outbox_parked"] = await parked_count(forwarder.outbox)
        return Response(body, status_code=200 if ready else 503)

    @get("/metrics", media_type=forwarder.metrics.content_type)
    async def metrics() -> bytes:
        """Prometheus metrics of this process."""
        await forwarder.metrics.observe_outbox(forwarder.outbox)
        return forwarder.metrics.render()

    return [healthz, readyz, metrics]


def create_app(settings: BridgeSettings, forwarder: Forwarder) -> Litestar:
    """Builds the app; its lifespan starts and stops the forwarder."""
    quarantine = Quarantine(settings.data_dir)
    console = Console(settings, quarantine, forwarder.outbox)
    endpoint = WebhookEndpoint(
        config=settings.verification_config(),
        max_body_bytes=settings.max_body_bytes,
        forwarder=forwarder,
        quarantine=quarantine,
        metrics=forwarder.metrics,
        body_budget=BodyBudget(settings.max_buffered_body_bytes),
    )

    @asgi(path=list(WEBHOOK_PATHS), copy_scope=False)
    async def webhooks(scope: Any, receive: Any, send: Any) -> None:
        """Receives a platform webhook (raw ASGI for speed; see the README for the contract)."""
        await endpoint(scope, receive, send)

    async def startup() -> None:
        if not settings.has_any_secret():
            logger.warning(
                "no webhook secret configured: every delivery is rejected with 403 "
                "(no_secret_configured); export WEBHOOK_SECRET or a platform secret"
            )
        await forwarder.start()

    async def shutdown() -> None:
        await forwarder.stop()
        quarantine.close()

    app = Litestar(
        route_handlers=[webhooks, *_probes(forwarder)],
        on_startup=[startup],
        on_shutdown=[shutdown],
        openapi_config=OpenAPIConfig(title="commerce-gateway bridge", version="1.0.0"),
        logging_config=None,
        exception_handlers=problem_handlers(),
    )
    document_webhooks(app)
    app.state[ENDPOINT_STATE_KEY] = endpoint  # served ahead of Litestar; see bridge.fastpath
    app.state[HTTP_LIMITS_STATE_KEY] = settings.http_limits()  # see bridge.serving
    console.mount(app)  # /console; records what the endpoint in app.state answers
    return app


def create_asgi_from_env() -> Litestar | FastPath:
    """ASGI factory for uvicorn workers: the app from env behind the webhook fast path."""
    return with_fast_path(create_app_from_env())


def create_app_from_env() -> Litestar:
    """App factory for uvicorn workers: settings from env and the TOML file."""
    settings = load_bridge_settings()
    configure_logging(settings.log_level)
    return create_app(settings, create_forwarder(settings))
